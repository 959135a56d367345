//! Where mappings live (a local file, an S3 object) and the store that reloads them on a TTL,
//! so a mapping change ships without a redeploy.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::Mapping;
use super::spec::SpecError;
use crate::error::PortError;
use crate::ports::Clock;
use crate::ports::ObjectStore;

/// Somewhere a mapping document can be read from.
pub trait MappingSource: Send + Sync {
    /// Names the source in messages, e.g. `file config/mappings/sap-b1.json`.
    fn describe(&self) -> String;

    fn fetch(&self) -> impl Future<Output = Result<String, PortError>> + Send;
}

/// A mapping file on local disk, for development.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl MappingSource for FileSource {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    async fn fetch(&self) -> Result<String, PortError> {
        tokio::fs::read_to_string(&self.path).await.map_err(|e| {
            let message = format!("{}: {e}", self.path.display());
            match e.kind() {
                std::io::ErrorKind::NotFound => PortError::not_found("read mapping file", message),
                _ => PortError::transient("read mapping file", message),
            }
        })
    }
}

/// A mapping stored as an object (S3 in AWS), read through the [`ObjectStore`] port.
#[derive(Debug, Clone)]
pub struct ObjectSource<O> {
    store: O,
    key: String,
}

impl<O: ObjectStore> ObjectSource<O> {
    pub fn new(store: O, key: impl Into<String>) -> Self {
        Self { store, key: key.into() }
    }
}

impl<O: ObjectStore> MappingSource for ObjectSource<O> {
    fn describe(&self) -> String {
        format!("object {}", self.key)
    }

    async fn fetch(&self) -> Result<String, PortError> {
        let bytes = self.store.get(&self.key).await?;
        String::from_utf8(bytes)
            .map_err(|_| PortError::permanent("read mapping object", format!("{} is not UTF-8 text", self.key)))
    }
}

/// Where a connector's mapping lives, as written in its configuration:
/// `file:config/mappings/business-central.json` or `s3://bucket/mappings/business-central.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum MappingRef {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a mapping reference: expected `file:<path>` or `s3://<bucket>/<key>`")]
pub struct NotAMappingRef(String);

impl FromStr for MappingRef {
    type Err = NotAMappingRef;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refused = || NotAMappingRef(text.to_owned());
        if let Some(path) = text.strip_prefix("file:") {
            return (!path.is_empty()).then(|| Self::File(path.into())).ok_or_else(refused);
        }
        let (bucket, key) = text.strip_prefix("s3://").and_then(|rest| rest.split_once('/')).ok_or_else(refused)?;
        if bucket.is_empty() || key.is_empty() {
            return Err(refused());
        }
        Ok(Self::S3 { bucket: bucket.to_owned(), key: key.to_owned() })
    }
}

impl fmt::Display for MappingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file:{}", path.display()),
            Self::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

impl TryFrom<String> for MappingRef {
    type Error = NotAMappingRef;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// The source a [`MappingRef`] names, as one type, so a connector's wiring need not branch.
#[derive(Debug, Clone)]
pub enum ConfiguredSource<O> {
    File(FileSource),
    Object(ObjectSource<O>),
}

impl<O: ObjectStore> ConfiguredSource<O> {
    /// `object_store` opens the named bucket; it is called only for an `s3://` reference.
    pub fn new(reference: &MappingRef, object_store: impl FnOnce(&str) -> O) -> Self {
        match reference {
            MappingRef::File(path) => Self::File(FileSource::new(path.clone())),
            MappingRef::S3 { bucket, key } => Self::Object(ObjectSource::new(object_store(bucket), key.clone())),
        }
    }
}

impl<O: ObjectStore> MappingSource for ConfiguredSource<O> {
    fn describe(&self) -> String {
        match self {
            Self::File(s) => s.describe(),
            Self::Object(s) => s.describe(),
        }
    }

    async fn fetch(&self) -> Result<String, PortError> {
        match self {
            Self::File(s) => s.fetch().await,
            Self::Object(s) => s.fetch().await,
        }
    }
}

/// Why a mapping could not be (re)loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("reading the mapping from {origin}: {message}")]
    Fetch { origin: String, message: String },
    #[error("the mapping from {origin} is refused: {error}")]
    Invalid { origin: String, error: SpecError },
}

/// The mapping in force, read from its source when first needed and again whenever `ttl` has
/// passed. A reload that fails (unreadable, or refused by validation) leaves the previous
/// mapping in force, is logged, and is kept for [`MappingStore::last_reload_error`]; the next
/// attempt waits another TTL, so a broken file does not cost a read per order.
pub struct MappingStore<S> {
    source: S,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    // Async lock held across the fetch: concurrent callers wait for one read.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    current: Option<Arc<Mapping>>,
    checked_at_ms: u64,
    last_error: Option<LoadError>,
}

impl<S: MappingSource> MappingStore<S> {
    pub fn new(source: S, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self { source, ttl, clock, state: Mutex::new(State::default()) }
    }

    /// The mapping to use now. Fails only while no valid mapping has ever loaded.
    pub async fn current(&self) -> Result<Arc<Mapping>, LoadError> {
        let mut state = self.state.lock().await;
        let now = self.clock.now_ms();
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        if let Some(mapping) = &state.current
            && now.saturating_sub(state.checked_at_ms) < ttl_ms
        {
            return Ok(mapping.clone());
        }
        let loaded = self.load().await;
        state.checked_at_ms = now;
        match (loaded, &state.current) {
            (Ok(mapping), _) => {
                state.current = Some(mapping.clone());
                state.last_error = None;
                Ok(mapping)
            }
            (Err(error), Some(previous)) => {
                tracing::warn!(%error, "mapping reload failed; the previous mapping stays in force");
                let previous = previous.clone();
                state.last_error = Some(error);
                Ok(previous)
            }
            (Err(error), None) => {
                state.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// The failure of the latest load attempt, cleared by the next success.
    pub async fn last_reload_error(&self) -> Option<LoadError> {
        self.state.lock().await.last_error.clone()
    }

    async fn load(&self) -> Result<Arc<Mapping>, LoadError> {
        let origin = self.source.describe();
        let text = self
            .source
            .fetch()
            .await
            .map_err(|e| LoadError::Fetch { origin: origin.clone(), message: e.to_string() })?;
        Mapping::from_json(&text).map(Arc::new).map_err(|error| LoadError::Invalid { origin, error })
    }
}

impl<S: MappingSource> fmt::Debug for MappingStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MappingStore").field("source", &self.source.describe()).field("ttl", &self.ttl).finish()
    }
}
