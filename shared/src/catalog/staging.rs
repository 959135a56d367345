//! The staging port: the buffer between the ERP and the shop. One item per SKU, a way to list
//! the dirty and the refused SKUs without reading every item (a sparse index on DynamoDB), the
//! push checkpoint, and the run summaries.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::item::{Sku, StagedItem};
use crate::error::PortError;

/// An unfinished push: a push that starts while one is here resumes it under the same run id,
/// so the idempotency keys it sends match the ones sent before the crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub run_id: String,
    pub started_ms: u64,
    /// The last SKU whose push was recorded in staging, for progress and `sync status`.
    pub last_sku: Option<Sku>,
    /// SKUs pushed under this run so far.
    pub pushed: u64,
}

/// What one run did, kept as a record and sent as metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: String,
    /// `pull`, `push` or `both`.
    pub phase: String,
    pub started_ms: u64,
    pub duration_ms: u64,
    /// Items read from the ERP.
    pub read: u64,
    /// Items whose content hash changed (or that are new or gone), written to staging.
    pub changed: u64,
    pub pushed: u64,
    pub refused: u64,
    /// SKUs that stayed dirty because the shop failed or the run stopped.
    pub failed: u64,
    /// Dirty SKUs left for the next run because this one's time was up (not a failure).
    #[serde(default)]
    pub deferred: u64,
    /// ERP rows that could not be staged (no SKU, a price that is not a number).
    pub invalid: u64,
    pub shop_calls: u64,
    pub erp_calls: u64,
    /// Staging items written (the DynamoDB write count of the run, checkpoint and summary apart).
    pub items_written: u64,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
}

/// The staging table.
pub trait StagingStore: Send + Sync {
    /// Every staged item (the pull compares the whole ERP catalogue with it).
    fn all(&self) -> impl Future<Output = Result<Vec<StagedItem>, PortError>> + Send;

    /// Writes these items whole.
    fn put(&self, items: &[StagedItem]) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Dirty items in SKU order, after `after`, at most `limit`: read through the sparse index.
    fn dirty(
        &self,
        after: Option<&Sku>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StagedItem>, PortError>> + Send;

    /// Refused items, with their reasons.
    fn refused(&self) -> impl Future<Output = Result<Vec<StagedItem>, PortError>> + Send;

    fn checkpoint(&self) -> impl Future<Output = Result<Option<Checkpoint>, PortError>> + Send;

    /// Sets (`Some`) or clears (`None`) the push checkpoint.
    fn set_checkpoint(&self, checkpoint: Option<&Checkpoint>) -> impl Future<Output = Result<(), PortError>> + Send;

    fn record_run(&self, summary: &RunSummary) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The latest runs, newest first.
    fn runs(&self, limit: usize) -> impl Future<Output = Result<Vec<RunSummary>, PortError>> + Send;
}
