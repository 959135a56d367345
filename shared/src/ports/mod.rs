//! Narrow traits at the I/O boundary. Handlers are generic over these; `adapters::aws` and
//! `adapters::embedded` implement each one.

use std::future::Future;

use crate::error::PortError;

mod app_store;
mod clock;
mod poll_cursor;
mod replay_guard;
mod state_change;

pub use app_store::{AppStore, CHANGED_SINCE_READ};
pub use clock::{Clock, SystemClock, duration_ms};
pub use poll_cursor::{CursorSave, PollCursors, StoredCursor};
pub use replay_guard::{Claim, IN_PROGRESS_LEASE_SECONDS, ReplayGuard};
pub use state_change::StateChange;

/// Object storage (S3 in AWS).
pub trait ObjectStore: Send + Sync {
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, PortError>> + Send;

    fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Server-side copy, so an original is never re-encoded on its way to `rejected/`.
    fn copy(&self, from: &str, to: &str) -> impl Future<Output = Result<(), PortError>> + Send;

    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
}

/// A message to put on a FIFO queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub body: String,
    /// Messages of one group are delivered in order, one at a time.
    pub group_id: String,
    /// Two sends with the same id inside the deduplication window yield one message.
    pub dedup_id: String,
    /// String message attributes (reason, status, …) for operators.
    pub attributes: Vec<(String, String)>,
}

impl OutgoingMessage {
    /// Both ids pass through [`fifo_id`], so any text (an id from a webhook body, an order key)
    /// is a valid one.
    pub fn new(body: String, group_id: impl AsRef<str>, dedup_id: impl AsRef<str>) -> Self {
        Self {
            body,
            group_id: fifo_id(group_id.as_ref()),
            dedup_id: fifo_id(dedup_id.as_ref()),
            attributes: Vec::new(),
        }
    }

    pub fn with_attribute(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.push((name.to_owned(), value.into()));
        self
    }
}

/// SQS takes 1-128 characters of ASCII letters, digits and punctuation as a group or
/// deduplication id. Text that is one already is kept, so ids stay readable; anything else
/// (longer, spaces, non-ASCII) becomes `h-` and its SHA-256 in hex: distinct texts stay
/// distinct, where cutting at 128 would have merged two long ids into one.
pub fn fifo_id(text: &str) -> String {
    if is_fifo_id(text) {
        text.to_owned()
    } else {
        use sha2::Digest;
        format!("h-{}", hex::encode(sha2::Sha256::digest(text.as_bytes())))
    }
}

/// Whether SQS takes `text` as a group or deduplication id as it is.
pub fn is_fifo_id(text: &str) -> bool {
    (1..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic())
}

/// A message received from a FIFO queue, invisible to others until deleted or its timeout lapses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub group_id: String,
    pub receive_count: u32,
    /// Epoch milliseconds of the first send.
    pub sent_at_ms: u64,
    pub attributes: Vec<(String, String)>,
}

impl ReceivedMessage {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A FIFO queue (SQS FIFO in AWS).
pub trait FifoQueue: Send + Sync {
    /// Returns the message id; a duplicate inside the dedup window returns the first id.
    fn send(&self, msg: OutgoingMessage) -> impl Future<Output = Result<String, PortError>> + Send;

    fn receive(&self, max: usize) -> impl Future<Output = Result<Vec<ReceivedMessage>, PortError>> + Send;

    fn delete(&self, receipt_handle: &str) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Makes a received message visible again at once (SQS `ChangeMessageVisibility` to 0), for
    /// operators who look at a queue without taking anything from it.
    fn release(&self, receipt_handle: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Why a conditional write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The record changed (or appeared) since it was read: re-read and decide again.
    #[error("the record changed since it was read")]
    VersionConflict,
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a listing failed: the caller's cursor (their mistake, a 400), or the store (a fault).
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// One page of orders in a state, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub orders: Vec<crate::lifecycle::OrderRecord>,
    /// Opaque; pass back to get the next page. `None` on the last page.
    pub cursor: Option<String>,
}

/// Count and oldest entry of one state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StateStats {
    pub state: crate::lifecycle::State,
    pub count: u64,
    /// Key and `state_at` of the order longest in this state.
    pub oldest: Option<(crate::order::OrderKey, String)>,
}

/// What a conditional write replaces: the version read, and the state the order had then, so
/// that the store moves the order between its per-state counts in the same write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub version: u64,
    pub state: crate::lifecycle::State,
}

impl Expected {
    /// The stored record as read, before the caller changes it.
    pub fn of(record: &crate::lifecycle::OrderRecord) -> Self {
        Self { version: record.version, state: record.state }
    }
}

/// The orders table (DynamoDB in AWS).
pub trait OrderStore: Send + Sync {
    fn get(
        &self,
        key: &crate::order::OrderKey,
    ) -> impl Future<Output = Result<Option<crate::lifecycle::OrderRecord>, PortError>> + Send;

    /// Writes `record` only if the stored version is `expected` (`None`: only if absent).
    /// The caller has already set `record.version` to the new value.
    fn put(
        &self,
        record: &crate::lifecycle::OrderRecord,
        expected: Option<Expected>,
    ) -> impl Future<Output = Result<(), WriteError>> + Send;

    fn list_by_state(
        &self,
        state: crate::lifecycle::State,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<OrderPage, ListError>> + Send;

    /// Count and oldest order per state, reading a bounded number of items whatever the
    /// table's size.
    fn stats(&self) -> impl Future<Output = Result<Vec<StateStats>, PortError>> + Send;

    /// Up to `limit` orders that entered `state` before `before` (RFC 3339), oldest first: the
    /// portal's early warnings, read from the state index rather than by scanning.
    fn oldest_in_state(
        &self,
        state: crate::lifecycle::State,
        before: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<crate::lifecycle::OrderRecord>, PortError>> + Send;

    /// The day counters ([`crate::day_counts`]) of the days `from..=to` (`YYYY-MM-DD`), at most
    /// [`MAX_DAYS`] of them, one item per day whatever the table's size. Days without writes
    /// come back with no counts.
    fn days(
        &self,
        from: &str,
        to: &str,
    ) -> impl Future<Output = Result<Vec<crate::day_counts::DayCounts>, PortError>> + Send;
}

/// The most days one [`OrderStore::days`] call reads.
pub const MAX_DAYS: usize = 62;

/// A failure reported by the DTE provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DTE provider {operation}: {code}: {message}")]
pub struct DteError {
    pub operation: &'static str,
    /// The provider's code, or `timeout` / `http_<status>` when it gave none.
    pub code: String,
    pub message: String,
    pub retry: crate::error::Retry,
}

impl crate::error::Classify for DteError {
    fn retry(&self) -> crate::error::Retry {
        self.retry
    }
}

/// The electronic tax document service: issue a folio, then broadcast to the tax authority.
/// Both calls are idempotent per order key, so a retry after a lost answer returns the same id.
pub trait DteProvider: Send + Sync {
    fn issue(&self, record: &crate::lifecycle::OrderRecord) -> impl Future<Output = Result<String, DteError>> + Send;

    fn broadcast(
        &self,
        record: &crate::lifecycle::OrderRecord,
    ) -> impl Future<Output = Result<String, DteError>> + Send;
}

/// Shared ownership: one embedded queue or store serves several handlers in one process.
mod shared_impls {
    use std::sync::Arc;

    use super::*;
    use crate::lifecycle::{OrderRecord, State};
    use crate::order::OrderKey;

    impl<T: ObjectStore> ObjectStore for Arc<T> {
        fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, PortError>> + Send {
            (**self).get(key)
        }
        fn put(
            &self,
            key: &str,
            body: Vec<u8>,
            content_type: &str,
        ) -> impl Future<Output = Result<(), PortError>> + Send {
            (**self).put(key, body, content_type)
        }
        fn copy(&self, from: &str, to: &str) -> impl Future<Output = Result<(), PortError>> + Send {
            (**self).copy(from, to)
        }
        fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send {
            (**self).list(prefix)
        }
    }

    impl<T: FifoQueue> FifoQueue for Arc<T> {
        fn send(&self, msg: OutgoingMessage) -> impl Future<Output = Result<String, PortError>> + Send {
            (**self).send(msg)
        }
        fn receive(&self, max: usize) -> impl Future<Output = Result<Vec<ReceivedMessage>, PortError>> + Send {
            (**self).receive(max)
        }
        fn delete(&self, receipt_handle: &str) -> impl Future<Output = Result<(), PortError>> + Send {
            (**self).delete(receipt_handle)
        }
        fn release(&self, receipt_handle: &str) -> impl Future<Output = Result<(), PortError>> + Send {
            (**self).release(receipt_handle)
        }
    }

    impl<T: OrderStore> OrderStore for Arc<T> {
        fn get(&self, key: &OrderKey) -> impl Future<Output = Result<Option<OrderRecord>, PortError>> + Send {
            (**self).get(key)
        }
        fn put(
            &self,
            record: &OrderRecord,
            expected: Option<Expected>,
        ) -> impl Future<Output = Result<(), WriteError>> + Send {
            (**self).put(record, expected)
        }
        fn list_by_state(
            &self,
            state: State,
            limit: usize,
            cursor: Option<&str>,
        ) -> impl Future<Output = Result<OrderPage, ListError>> + Send {
            (**self).list_by_state(state, limit, cursor)
        }
        fn stats(&self) -> impl Future<Output = Result<Vec<StateStats>, PortError>> + Send {
            (**self).stats()
        }
        fn oldest_in_state(
            &self,
            state: State,
            before: &str,
            limit: usize,
        ) -> impl Future<Output = Result<Vec<OrderRecord>, PortError>> + Send {
            (**self).oldest_in_state(state, before, limit)
        }
        fn days(
            &self,
            from: &str,
            to: &str,
        ) -> impl Future<Output = Result<Vec<crate::day_counts::DayCounts>, PortError>> + Send {
            (**self).days(from, to)
        }
    }

    impl<T: DteProvider> DteProvider for Arc<T> {
        fn issue(&self, record: &OrderRecord) -> impl Future<Output = Result<String, DteError>> + Send {
            (**self).issue(record)
        }
        fn broadcast(&self, record: &OrderRecord) -> impl Future<Output = Result<String, DteError>> + Send {
            (**self).broadcast(record)
        }
    }
}

/// Why an email was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The service refused the recipient: sending again cannot help.
    #[error("recipient refused: {0}")]
    InvalidRecipient(String),
    /// Anything else, classified: throttling and 5xx are transient.
    #[error(transparent)]
    Port(#[from] PortError),
}

impl crate::error::Classify for MailError {
    fn retry(&self) -> crate::error::Retry {
        match self {
            MailError::InvalidRecipient(_) => crate::error::Retry::Permanent,
            MailError::Port(e) => e.retry,
        }
    }
}

/// Outgoing email (SES v2 in AWS, `.eml` files in an outbox folder locally).
pub trait Mailer: Send + Sync {
    /// Returns the message id the service assigned.
    fn send(&self, email: &crate::email::Email) -> impl Future<Output = Result<String, MailError>> + Send;
}

/// Hands a failed DTE broadcast to the recovery workflow (Step Functions in AWS).
///
/// Starting is idempotent: the execution is named after the order key and attempt, so a
/// repeated start of the same attempt is a no-op rather than a second workflow.
pub trait RecoveryStarter: Send + Sync {
    fn start(
        &self,
        key: &crate::order::OrderKey,
        attempt: u32,
        input: serde_json::Value,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

impl<T: RecoveryStarter> RecoveryStarter for std::sync::Arc<T> {
    fn start(
        &self,
        key: &crate::order::OrderKey,
        attempt: u32,
        input: serde_json::Value,
    ) -> impl Future<Output = Result<(), PortError>> + Send {
        (**self).start(key, attempt, input)
    }
}

/// The execution name for one recovery attempt. Order keys are at most 57 characters of
/// `[A-Za-z0-9_-]`, so the name stays within Step Functions' 80 allowed characters.
pub fn recovery_execution_name(key: &crate::order::OrderKey, attempt: u32) -> String {
    format!("{key}-a{attempt}")
}

#[cfg(test)]
mod tests {
    use super::{fifo_id, is_fifo_id};

    #[test]
    fn sqs_ids_are_1_to_128_printable_ascii_without_spaces() {
        for good in ["k", "order-entry-7f3a", "a+b&c=d%e", &"x".repeat(128)] {
            assert!(is_fifo_id(good), "{good}");
        }
        for bad in ["", "a b", "ünï", &"x".repeat(129), "tab\t"] {
            assert!(!is_fifo_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn valid_sqs_ids_are_kept_and_anything_else_becomes_a_distinct_digest() {
        for kept in ["k", "register-7f3a", "a+b&c=d%e#/", &"x".repeat(128)] {
            assert_eq!(fifo_id(kept), kept);
        }
        let long_a = format!("{}a", "x".repeat(128));
        let long_b = format!("{}b", "x".repeat(128));
        let digests: Vec<String> =
            [long_a.as_str(), &long_b, "", "with space", "pedido-ñandú"].iter().map(|t| fifo_id(t)).collect();
        for digest in &digests {
            assert!(digest.starts_with("h-") && digest.len() == 66, "{digest}");
            assert!(digest.bytes().all(|b| b.is_ascii_graphic()), "{digest}");
        }
        assert_ne!(digests[0], digests[1], "two long ids that share 128 characters stay apart");
    }
}
