//! The replay guard: one claim per webhook delivery, so a redelivered or replayed webhook is
//! acknowledged without being queued twice.
//!
//! A claim goes `in_progress` → `completed`, like an idempotency record:
//! - [`ReplayGuard::claim`] writes `in_progress` with a short lease, conditionally: only when
//!   no live record exists for the key (or the one there has expired, or is an `in_progress`
//!   claim whose lease lapsed because its holder crashed).
//! - After both queues accepted the messages, [`ReplayGuard::complete`] marks it `completed`;
//!   it then answers [`Claim::Duplicate`] until the retention window ends (DynamoDB's TTL
//!   deletes it some time after `expires_at`; the condition ignores expired records anyway).
//! - When queueing fails, [`ReplayGuard::release`] deletes the claim, so the platform's retry
//!   is processed.
//!
//! A delivery that finds a live `in_progress` claim gets [`Claim::InProgress`]: the receiver
//! answers 409 so the platform retries later, rather than 200, which could lose the event if
//! the first holder then fails.

use std::future::Future;

use crate::error::PortError;

/// How long an `in_progress` claim holds before another delivery may take it over. Above the
/// receiver's Lambda timeout, so a live holder is never overtaken.
pub const IN_PROGRESS_LEASE_SECONDS: i64 = 60;

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This delivery holds the claim: queue it, then complete or release.
    Claimed,
    /// Already processed within the retention window.
    Duplicate,
    /// Another delivery of the same event is being processed right now.
    InProgress,
}

/// Conditional claims on webhook dedup ids. `key` is `<source>#<dedup id>`; times are unix
/// seconds.
pub trait ReplayGuard: Send + Sync {
    fn claim(&self, key: &str, now: i64, expires_at: i64) -> impl Future<Output = Result<Claim, PortError>> + Send;

    fn complete(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send;

    fn release(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

impl<T: ReplayGuard> ReplayGuard for std::sync::Arc<T> {
    fn claim(&self, key: &str, now: i64, expires_at: i64) -> impl Future<Output = Result<Claim, PortError>> + Send {
        (**self).claim(key, now, expires_at)
    }

    fn complete(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send {
        (**self).complete(key)
    }

    fn release(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send {
        (**self).release(key)
    }
}
