//! The webhook bridge: `POST /webhooks/{source}` ([`receiver`]) and the erp-sync worker
//! ([`worker`]), with the webhook signing keys ([`keys`]) and the queue message between them
//! ([`message`]). The replay claims are a port of the shared crate (`ports::ReplayGuard`).

pub mod keys;
pub mod message;
pub mod receiver;
pub mod sign;
pub mod worker;

pub use keys::{KeyError, KeySource, StaticKeys, StoreKeys};
pub use message::ErpSyncMessage;
pub use receiver::{Receiver, Reply, handle};
/// The clock type [`Receiver::receive`] takes, re-exported for callers.
pub use time::OffsetDateTime;
pub use worker::Worker;
