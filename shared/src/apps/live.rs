//! The apps as the functions see them: read from the store at most every `ttl`, so a new
//! version or connection takes effect within that time without a redeploy.

use std::sync::Arc;

use time::{Date, OffsetDateTime};
use tokio::sync::Mutex;
use tracing::warn;

use super::bind::Runtime;
use crate::error::PortError;
use crate::ports::{AppStore, Clock};

/// How long a read of the store is used: short, so an operator's change is live in seconds.
pub const DEFAULT_TTL_MS: u64 = 30_000;

pub struct LiveApps<S> {
    store: S,
    clock: Arc<dyn Clock>,
    ttl_ms: u64,
    // Held across a read, so concurrent events wait for one read of the store.
    current: Mutex<Option<(u64, Date, Arc<Runtime>)>>,
}

impl<S: AppStore> LiveApps<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>, ttl_ms: u64) -> Self {
        Self { store, clock, ttl_ms, current: Mutex::new(None) }
    }

    /// The connections as they run now. A failed read keeps the last good one in use (an
    /// outage of the store must not stop orders) and is logged; with none, it is the error.
    pub async fn runtime(&self) -> Result<Arc<Runtime>, PortError> {
        let now = self.clock.now_ms();
        let today = date_of(now);
        let mut current = self.current.lock().await;
        if let Some((read_at, day, runtime)) = current.as_ref()
            && now.saturating_sub(*read_at) < self.ttl_ms
            && *day == today
        {
            return Ok(runtime.clone());
        }
        match self.store.load().await {
            Ok(registry) => {
                let runtime = Arc::new(registry.runtime(today));
                for (id, why) in runtime.refusals() {
                    warn!(connection = %id, error = %why, "connection does not run");
                }
                *current = Some((now, today, runtime.clone()));
                Ok(runtime)
            }
            Err(e) => match current.as_ref() {
                Some((_, _, runtime)) => {
                    warn!(error = %e, "apps store unreadable; the last read stays in use");
                    Ok(runtime.clone())
                }
                None => Err(e),
            },
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }
}

/// The UTC day of an epoch-milliseconds instant.
pub fn date_of(epoch_ms: u64) -> Date {
    let nanos = i128::from(epoch_ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).map_or(OffsetDateTime::UNIX_EPOCH.date(), |t| t.date())
}

/// Where a handler reads the connections as they run now: [`LiveApps`] on AWS and in
/// `orderflow serve`, a fixed [`Runtime`] in tests and one-shot runs.
pub trait Apps: Send + Sync {
    fn runtime(&self) -> impl std::future::Future<Output = Result<Arc<Runtime>, PortError>> + Send;
}

impl<S: AppStore> Apps for LiveApps<S> {
    fn runtime(&self) -> impl std::future::Future<Output = Result<Arc<Runtime>, PortError>> + Send {
        LiveApps::runtime(self)
    }
}

impl<S: AppStore> Apps for Arc<LiveApps<S>> {
    fn runtime(&self) -> impl std::future::Future<Output = Result<Arc<Runtime>, PortError>> + Send {
        LiveApps::runtime(self)
    }
}

impl Apps for Arc<Runtime> {
    async fn runtime(&self) -> Result<Arc<Runtime>, PortError> {
        Ok(self.clone())
    }
}

impl<T: Apps> Apps for &T {
    fn runtime(&self) -> impl std::future::Future<Output = Result<Arc<Runtime>, PortError>> + Send {
        (**self).runtime()
    }
}

/// Something built from a part of the runtime (a shop's clients, an ERP connector), built
/// again only when that part changes, so its token and secret caches live as long as its
/// configuration does, not just the 30 s of one read of the store.
pub struct Rebuilt<K, T> {
    current: Mutex<Option<(K, Arc<T>)>>,
}

impl<K, T> Default for Rebuilt<K, T> {
    fn default() -> Self {
        Self { current: Mutex::new(None) }
    }
}

impl<K: PartialEq, T> Rebuilt<K, T> {
    /// The value built from `part`: the one built before if `part` is unchanged.
    pub async fn get<E>(&self, part: K, build: impl FnOnce(&K) -> Result<T, E>) -> Result<Arc<T>, E> {
        let mut current = self.current.lock().await;
        if let Some((built_from, value)) = current.as_ref()
            && *built_from == part
        {
            return Ok(value.clone());
        }
        let value = Arc::new(build(&part)?);
        *current = Some((part, value.clone()));
        Ok(value)
    }
}
