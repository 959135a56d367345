//! In-process stand-ins for the AWS services, for `orderflow demo`, `serve` and tests: no
//! network, no emulator. They keep the semantics the handlers rely on (see DESIGN.md
//! "Local and test stack"), and the contract tests hold them to the same behaviour as moto.
//!
//! - [`DirObjectStore`]: S3 as a directory, with atomic writes.
//! - [`EmbeddedFifoQueue`]: SQS FIFO in memory, with dedup, visibility, redrive.
//! - [`EmbeddedOrderStore`]: the DynamoDB orders table in memory, with its change stream.
//! - [`OutboxMailer`]: SES as a folder of `.eml` files.
//! - [`MemoryReplayGuard`]: the webhook claims table in memory.
//! - [`EmbeddedRecovery`]: Step Functions running the recovery ASL file in process.
//! - [`MemoryStaging`], [`MemoryAuditLog`]: the catalogue staging table and request log.
//! - [`MemoryAppStore`]: the apps table (definitions, versions, connections), optionally in a file.
//! - [`ManualClock`]: the `Clock` port moved by hand; tests advance it instead of sleeping.
//!
//! The order store and the recovery can keep a [`journal::Journal`], so `serve` picks up where
//! a stopped process left off.

mod app_store;
mod clock;
pub mod event_source;
mod fifo_queue;
mod journal;
mod object_store;
pub mod order_store;
mod outbox;
mod poll_cursors;
pub mod recovery;
mod replay_guard;
mod staging;

pub use app_store::MemoryAppStore;
pub use clock::ManualClock;
pub use fifo_queue::{DEDUP_WINDOW, DEFAULT_VISIBILITY_TIMEOUT, EmbeddedFifoQueue, MAX_RECEIVE_BATCH, QueuedMessage};
pub use object_store::DirObjectStore;
pub use order_store::{Change, EmbeddedOrderStore};
pub use outbox::OutboxMailer;
pub use poll_cursors::MemoryPollCursors;
pub use recovery::EmbeddedRecovery;
pub use replay_guard::MemoryReplayGuard;
pub use staging::{MemoryAuditLog, MemoryStaging};
