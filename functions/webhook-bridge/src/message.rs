//! Messages on the erp-sync FIFO queue: defined in the shared crate, which the order poller
//! also builds them from; re-exported here for the worker and existing callers.

pub use orderflow_shared::erp::ErpSyncMessage;
