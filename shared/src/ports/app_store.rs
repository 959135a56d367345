//! Where app definitions, their versions' state and the connections are kept.

use std::future::Future;

use crate::apps::{Record, Registry};
use crate::error::PortError;

pub trait AppStore: Send + Sync {
    /// Everything stored: a few hundred small records even for fifty clients.
    fn load(&self) -> impl Future<Output = Result<Registry, PortError>> + Send;

    /// Saves `records` all or nothing, each only if the store still holds the revision it
    /// was read at ([`Record::revision`]; 0: nothing stored). A lost race is a permanent
    /// error whose message says to read again.
    fn save(&self, records: &[Record]) -> impl Future<Output = Result<(), PortError>> + Send;
}

impl<T: AppStore> AppStore for std::sync::Arc<T> {
    fn load(&self) -> impl Future<Output = Result<Registry, PortError>> + Send {
        (**self).load()
    }

    fn save(&self, records: &[Record]) -> impl Future<Output = Result<(), PortError>> + Send {
        (**self).save(records)
    }
}

/// The message of a save that lost a race.
pub const CHANGED_SINCE_READ: &str = "changed by someone else since it was read; read it again and repeat";
