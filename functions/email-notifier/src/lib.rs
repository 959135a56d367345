//! email-notifier: tells the buyer their order is being processed once it reaches
//! `issuance_dte`, exactly once per order, from the orders table's stream (or, locally, the
//! embedded store's changes).

pub mod handler;

pub use handler::{FUNCTION, Notified, Notifier, NotifyError, handle, notify, notify_changes};
