//! shop-sync: actions back on the shop an order came from, once per state entered.
//!
//! Two steps, one function:
//! - [`stream`]: the orders table's stream (filtered in the template to entries into
//!   `dispatched`, `delivered`, `cancelled`, `refunded`) puts one [`ShopSyncMessage`] per
//!   transition on the shop-sync FIFO queue, grouped by order: an order's actions run in the
//!   order of its transitions, and a shop that is down holds back only its own orders, never
//!   the stream's shard.
//! - [`worker`]: each message runs the shop's action under a claim on the order record, and
//!   parks a refusal in the shop-sync DLQ with the shop's answer, for `orderflow replay`.
//!
//! `main.rs` tells the two event kinds apart by their records' `eventSource`.

pub mod message;
pub mod stream;
pub mod worker;

pub use message::ShopSyncMessage;
pub use worker::{Outcome, ShopSync};
