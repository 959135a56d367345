//! Signing keys of the configured sources: read by reference, never from the environment.
//!
//! - [`StoreKeys`] reads `ssm:` / `secretsmanager:` references through a [`SecretStore`],
//!   each cached for [`orderflow_shared::secrets::DEFAULT_TTL`] (Lambda), from the first
//!   delivery of each connection on (a connection added later needs no cold start).
//! - [`StaticKeys`] resolves `local:<name>` references from `config/local-secrets.json`
//!   (`orderflow serve`, the demo, tests).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use orderflow_shared::error::{Classify, Retry};
use orderflow_shared::secrets::{CachedSecret, SecretError, SecretRef, SecretStore};
use orderflow_shared::webhook::{InvalidSecret, SigningKey, SourceConfig};

/// Why no key is available for a source. No variant carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("webhook source {0}: no secret is available for its secret_ref")]
    Missing(String),
    #[error("webhook source {0}: secret_ref is not an ssm:, secretsmanager: or ARN reference")]
    BadRef(String),
    #[error("webhook source {source_name}: {cause}")]
    Invalid { source_name: String, cause: InvalidSecret },
    #[error(transparent)]
    Fetch(#[from] SecretError),
}

impl Classify for KeyError {
    fn retry(&self) -> Retry {
        match self {
            Self::Fetch(e) => e.retry(),
            _ => Retry::Permanent,
        }
    }
}

/// The current signing key of a source.
pub trait KeySource: Send + Sync {
    fn key(&self, source: &SourceConfig) -> impl Future<Output = Result<SigningKey, KeyError>> + Send;
}

/// Keys of `local:<name>` references, resolved against a flat `{name: secret}` object
/// (`config/local-secrets.json`) at each delivery, so a connection added while `serve` runs
/// is served. Other references, or a name missing from the object, are refused.
#[derive(Debug, Clone, Default)]
pub struct StaticKeys(HashMap<String, String>);

impl StaticKeys {
    pub fn from_local_secrets(values: &HashMap<String, String>) -> Self {
        Self(values.clone())
    }
}

impl KeySource for StaticKeys {
    async fn key(&self, source: &SourceConfig) -> Result<SigningKey, KeyError> {
        let secret = source
            .secret_ref
            .strip_prefix("local:")
            .and_then(|name| self.0.get(name))
            .ok_or_else(|| KeyError::Missing(source.name.clone()))?;
        SigningKey::from_secret(&source.scheme, secret)
            .map_err(|cause| KeyError::Invalid { source_name: source.name.clone(), cause })
    }
}

/// One cached secret per source and reference, read through a secret store.
pub struct StoreKeys<S> {
    store: S,
    secrets: Mutex<HashMap<Slot, Arc<CachedSecret<S>>>>,
}

/// A source's name and its secret reference: a connection moved to another secret reads the
/// new one.
type Slot = (String, String);

impl<S: SecretStore + Clone> StoreKeys<S> {
    pub fn new(store: S) -> Self {
        Self { store, secrets: Mutex::new(HashMap::new()) }
    }

    fn cached(&self, source: &SourceConfig) -> Result<Arc<CachedSecret<S>>, KeyError> {
        let mut secrets = self.secrets.lock().expect("keys lock");
        let slot = (source.name.clone(), source.secret_ref.clone());
        if let Some(cached) = secrets.get(&slot) {
            return Ok(cached.clone());
        }
        let reference: SecretRef = source.secret_ref.parse().map_err(|_| KeyError::BadRef(source.name.clone()))?;
        let cached = Arc::new(CachedSecret::new(self.store.clone(), reference));
        secrets.insert(slot, cached.clone());
        Ok(cached)
    }
}

impl<S: SecretStore + Clone> KeySource for StoreKeys<S> {
    async fn key(&self, source: &SourceConfig) -> Result<SigningKey, KeyError> {
        let secret = self.cached(source)?.get().await?;
        SigningKey::from_secret(&source.scheme, secret.expose())
            .map_err(|cause| KeyError::Invalid { source_name: source.name.clone(), cause })
    }
}
