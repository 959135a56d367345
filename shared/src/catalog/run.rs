//! One sync run: pull, push or both, under one run id, leaving a summary record and metrics.
//! A push resumes an unfinished one (the checkpoint's run id, so its idempotency keys match
//! what was sent before the crash). When the pull of a `both` run fails, nothing is pushed:
//! the last good staging stays as it was.

use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;

use super::SyncError;
use super::audit::{AuditLog, Recorder};
use super::pull::pull;
use super::push::{Options, push};
use super::source::{ErpItems, ItemFields};
use super::staging::{Checkpoint, RunSummary, StagingStore};
use crate::mapping::MappingSource;
use crate::ports::Clock;
use crate::shop::ShopConnector;
use crate::telemetry::Metrics;

/// Which phases a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Pull,
    Push,
    Both,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Push => "push",
            Self::Both => "both",
        }
    }
}

/// What a run reads afresh each time, so a change needs no redeploy.
#[derive(Debug, Clone)]
pub struct Settings {
    pub fields: ItemFields,
    pub options: Options,
    pub retention_days: u64,
    /// Wall-clock time (epoch ms) after which the push takes no new chunk: the Lambda's
    /// deadline less a margin. The SKUs left stay dirty and the checkpoint carries the run on.
    pub stop_at_ms: Option<u64>,
}

/// Progress of a long run: the phase and how many items it has handled.
pub type Progress = dyn Fn(&str, u64) + Sync;

/// The ports and connectors a run uses.
pub struct CatalogSync<S, A, M> {
    pub store: S,
    pub log: A,
    pub erp: ErpItems,
    pub shop: ShopConnector<M>,
    pub clock: Arc<dyn Clock>,
}

impl<S: StagingStore, A: AuditLog, M: MappingSource> CatalogSync<S, A, M> {
    /// Runs `phase`; the summary is recorded and counted whatever happened, and says why the
    /// run stopped when it did. `Err` only when staging itself failed.
    pub async fn run(&self, phase: Phase, settings: &Settings, progress: &Progress) -> Result<RunSummary, SyncError> {
        let started = Instant::now();
        let started_ms = self.clock.now_ms();
        let resumed = if phase == Phase::Pull { None } else { self.store.checkpoint().await? };
        let run_id = resumed.as_ref().map_or_else(|| new_run_id(started_ms), |c| c.run_id.clone());
        let audit = Recorder::new(&run_id, settings.retention_days);
        let mut summary =
            RunSummary { run_id: run_id.clone(), phase: phase.as_str().into(), started_ms, ..RunSummary::default() };
        let mut pulled_ok = true;
        if phase != Phase::Push {
            match pull(&self.store, &self.erp, &settings.fields, &audit, self.clock.as_ref(), &|n| progress("pull", n))
                .await
            {
                Ok(pulled) => {
                    summary.read = pulled.read;
                    summary.changed = pulled.changed;
                    summary.invalid = pulled.invalid.len() as u64;
                    summary.erp_calls = pulled.erp_calls;
                    summary.items_written += pulled.items_written;
                    for invalid in &pulled.invalid {
                        tracing::warn!(row = %invalid.row, why = %invalid.why, "an ERP item cannot be staged");
                    }
                }
                Err(SyncError::Erp(e)) => {
                    pulled_ok = false;
                    // At least the call that failed; the pages before it are in the request log.
                    summary.erp_calls = 1;
                    summary.error = Some(format!("pull: {e}"));
                }
                Err(e) => return Err(e),
            }
        }
        if phase != Phase::Pull && pulled_ok {
            let checkpoint =
                resumed.unwrap_or(Checkpoint { run_id: run_id.clone(), started_ms, last_sku: None, pushed: 0 });
            let done =
                push(&self.store, &self.log, &self.shop, settings, &audit, self.clock.as_ref(), checkpoint, &|n| {
                    progress("push", n)
                })
                .await?;
            summary.pushed = done.pushed;
            summary.refused = done.refused;
            summary.failed = done.failed;
            summary.deferred = done.deferred;
            summary.shop_calls = done.shop_calls;
            summary.items_written += done.items_written;
            if let Some(error) = done.error {
                summary.error = Some(format!("push: {error}"));
            }
        }
        audit.flush(&self.log).await?;
        summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.store.record_run(&summary).await?;
        metrics(&summary).flush();
        Ok(summary)
    }
}

/// A run id no other run shares: the start time, then bits of the wall clock's nanoseconds,
/// the process and a counter (two runs in one millisecond of a test clock still differ, and
/// so do the idempotency keys derived from them).
fn new_run_id(started_ms: u64) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let mixed = u64::from(nanos)
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("run-{started_ms}-{mixed:016x}")
}

/// The summary as EMF counters.
pub fn metrics(summary: &RunSummary) -> Metrics {
    let mut metrics = Metrics::new("catalog-sync");
    metrics
        .count("CatalogItemsRead", summary.read)
        .count("CatalogItemsChanged", summary.changed)
        .count("CatalogItemsPushed", summary.pushed)
        .count("CatalogItemsRefused", summary.refused)
        .count("CatalogItemsFailed", summary.failed)
        .count("CatalogShopCalls", summary.shop_calls)
        .count("CatalogRunsFailed", u64::from(summary.error.is_some()));
    metrics
}
