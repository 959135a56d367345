//! The webhook bridge: `POST /webhooks/{source}` ([`receiver`]) and the erp-sync worker
//! ([`worker`]), with their ports ([`replay_guard`], [`keys`]) and the queue message between
//! them ([`message`]).

pub mod keys;
pub mod message;
pub mod receiver;
pub mod replay_guard;
pub mod sign;
pub mod worker;

pub use keys::{KeyError, KeySource, StaticKeys, StoreKeys};
pub use message::ErpSyncMessage;
pub use receiver::{Receiver, Reply, handle};
pub use replay_guard::{Claim, DynamoReplayGuard, MemoryReplayGuard, ReplayGuard};
/// The clock type [`Receiver::receive`] takes, re-exported for callers.
pub use time::OffsetDateTime;
pub use worker::Worker;
