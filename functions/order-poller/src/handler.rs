//! One scheduled run for one source.
//!
//! The run, in order:
//! 1. load the source's cursor (version and all) and fix the window for the whole run:
//!    `high_water - lookback` (the configured start for a new source);
//! 2. page through the orders changed since then, oldest first; per page, in order:
//!    - skip an order already taken at this `updated_at` (the boundary tie, the lookback);
//!    - leave out what the filter does not admit (read, not taken);
//!    - map the rest as the webhook door maps them, and queue each exactly as it does
//!      (`shared::intake::queue_order`, origin `poll:<source>/order/<id>`), noting each one in
//!      the cursor only once both queues took it;
//! 3. after each page, save the cursor conditionally on the version loaded (another run that
//!    saved meanwhile wins; this one stops, and what it queued is deduplicated downstream).
//!
//! Never lost, never doubled: the cursor only ever covers orders that are on both queues. A
//! failed send, a refused mapping or a failed call stops the run after saving what was done
//! before it, and the run fails (the schedule's retry policy runs it again; the function's
//! error alarm tells an operator about a refusal, which stops the source until fixed rather
//! than skipping an order). An order queued twice (a run that failed after queueing, two
//! overlapping runs) has the same origin and content: the FIFO dedup ids drop it within five
//! minutes, and both consumers are idempotent beyond that.
//!
//! Secrets and order bodies are never logged.

use std::sync::Arc;

use lambda_runtime::Diagnostic;
use orderflow_shared::apps::Apps;
use orderflow_shared::error::{Classify, PortError, Retry};
use orderflow_shared::intake::{Door, queue_order};
use orderflow_shared::poll::{Cursor, Listed, Pause, PollError, PollSecrets, Source};
use orderflow_shared::ports::{Clock, CursorSave, FifoQueue, PollCursors};
use orderflow_shared::telemetry::Metrics;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument, warn};

pub const FUNCTION: &str = "order-poller";

/// Everything a run needs, built once per cold start.
pub struct Poller<A, S, C, E, O> {
    /// The connections: a schedule names a connection whose app has a poll trigger.
    pub apps: A,
    pub secrets: S,
    pub cursors: C,
    /// The erp-sync FIFO queue the worker consumes.
    pub erp_sync: E,
    /// The orders FIFO queue the queue reader consumes.
    pub orders: O,
    /// Times OAuth2 tokens and sessions, for sources using them.
    pub clock: Arc<dyn Clock>,
    /// How the run waits on `Retry-After` and throttles.
    pub pause: Pause,
}

/// The scheduler's payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollRequest {
    pub source: String,
}

/// What one run did; also the function's result, for the scheduler's and operators' logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PollReport {
    pub source: String,
    pub pages: u32,
    /// Orders the platform listed.
    pub listed: u32,
    /// Queued on both queues this run.
    pub queued: u32,
    /// Left out by the filter.
    pub filtered: u32,
    /// Already taken at the same `updated_at` (boundary ties, the lookback window).
    pub already_taken: u32,
    /// Listed, then gone when its details were read (deleted on the platform meanwhile).
    pub gone: u32,
    pub high_water_ms: i64,
    /// `caught_up`, `more` (the page limit was reached; the next run goes on) or
    /// `superseded` (another run saved the cursor first).
    pub outcome: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the payload must be {{\"source\": \"<name>\"}}: {0}")]
    BadRequest(String),
    #[error("{0}")]
    UnknownSource(String),
    #[error("apps: {0}")]
    Apps(PortError),
    #[error(transparent)]
    Poll(#[from] PollError),
    #[error("poll source {source_name}: cursor: {error}")]
    Cursor { source_name: String, error: PortError },
    #[error("poll source {source_name}: queueing order {order_id}: {error}")]
    Queue { source_name: String, order_id: String, error: PortError },
}

impl Classify for RunError {
    fn retry(&self) -> Retry {
        match self {
            Self::BadRequest(_) | Self::UnknownSource(_) => Retry::Permanent,
            Self::Poll(e) => e.retry(),
            Self::Cursor { error, .. } | Self::Queue { error, .. } | Self::Apps(error) => error.retry,
        }
    }
}

impl From<RunError> for Diagnostic {
    fn from(error: RunError) -> Self {
        let error_type = match error.retry() {
            Retry::Transient => "PollTransient",
            Retry::Permanent => "PollPermanent",
            Retry::Auth => "PollAuth",
        };
        Diagnostic { error_type: error_type.into(), error_message: error.to_string() }
    }
}

/// The Lambda entry point: the scheduler's JSON payload in, the run's report out.
pub async fn handle<A: Apps, S: PollSecrets, C: PollCursors, E: FifoQueue, O: FifoQueue>(
    poller: &Poller<A, S, C, E, O>,
    payload: serde_json::Value,
) -> Result<PollReport, RunError> {
    let request: PollRequest = serde_json::from_value(payload).map_err(|e| RunError::BadRequest(e.to_string()))?;
    poller.poll(&request.source).await
}

impl<A: Apps, S: PollSecrets, C: PollCursors, E: FifoQueue, O: FifoQueue> Poller<A, S, C, E, O> {
    #[instrument(skip(self))]
    pub async fn poll(&self, source_name: &str) -> Result<PollReport, RunError> {
        let mut metrics = Metrics::new(FUNCTION);
        let result = self.run(source_name, &mut metrics).await;
        match &result {
            Ok(report) => info!(?report, "polled"),
            Err(e) => {
                metrics.count("PollFailures", 1);
                warn!(error = %e, "poll failed");
            }
        }
        metrics.flush();
        result
    }

    async fn run(&self, name: &str, metrics: &mut Metrics) -> Result<PollReport, RunError> {
        let runtime = self.apps.runtime().await.map_err(RunError::Apps)?;
        // A deprecated or unknown connection fails the run with the reason (the schedule's
        // retries and DLQ keep the event; the errors alarm fires).
        let config = runtime
            .poll_sources
            .get(name)
            .ok_or_else(|| RunError::UnknownSource(runtime.missing("poll source", name)))?;
        let secrets = self.secrets.resolve(&config.auth.secret_refs()).await?;
        let source = Source::new(config, &secrets, self.clock.clone(), self.pause.clone())?;
        let cursor_error = |error| RunError::Cursor { source_name: name.to_owned(), error };
        let stored = self.cursors.load(name).await.map_err(cursor_error)?;
        let (mut cursor, mut version) = (stored.cursor, stored.version);
        let lookback = config.lookback_ms();
        let window_start = cursor.window_start(lookback, config.start_ms());
        let mut report = PollReport { source: name.to_owned(), outcome: "more", ..PollReport::default() };
        let mut next: Option<String> = None;

        for _ in 0..config.max_pages {
            let page = source.page(window_start, next.as_deref()).await?;
            report.pages += 1;
            report.listed += u32::try_from(page.listed.len()).unwrap_or(u32::MAX);
            let before = report.queued;
            let taken = self.take_page(&source, &page.listed, window_start, &mut cursor, &mut report).await;
            metrics.count("OrdersPolled", u64::from(report.queued - before));
            cursor.prune(lookback);
            report.high_water_ms = cursor.high_water_ms;
            match self.cursors.save(name, &cursor, version).await {
                Ok(CursorSave::Saved) => version += 1,
                Ok(CursorSave::Superseded) => {
                    info!("another run saved the cursor first; stopping");
                    report.outcome = "superseded";
                    return taken.map(|()| report);
                }
                // The orders are queued; the next run reads them again and the FIFO dedup and
                // the consumers' idempotency absorb them.
                Err(error) => {
                    // The page's own failure is the run's error; the save's is said here, so a
                    // cursor table that keeps failing does not hide behind it.
                    warn!(error = %error, "saving the cursor failed");
                    return Err(taken.err().unwrap_or_else(|| cursor_error(error)));
                }
            }
            taken?;
            next = page.next;
            if next.is_none() {
                report.outcome = "caught_up";
                break;
            }
        }
        Ok(report)
    }

    /// Takes what a page holds for this run, in order, noting each queued order in `cursor`.
    /// Stops at the first order that cannot be mapped or queued: the cursor then covers only
    /// what came before it.
    async fn take_page(
        &self,
        source: &Source<'_>,
        listed: &[Listed],
        window_start: i64,
        cursor: &mut Cursor,
        report: &mut PollReport,
    ) -> Result<(), RunError> {
        let config = source.config();
        let mut wanted = Vec::new();
        // Filtered orders before the first wanted one can move the high water at once; those
        // after it only once everything before them is queued.
        for item in listed {
            if !cursor.wants(&item.id, item.updated_ms, window_start)
                || wanted.iter().any(|w: &Listed| w.id == item.id && w.updated_ms >= item.updated_ms)
            {
                report.already_taken += 1;
                continue;
            }
            if config.filter.as_ref().is_some_and(|f| !f.admits(&item.record)) {
                report.filtered += 1;
                if wanted.is_empty() {
                    cursor.read(item.updated_ms);
                }
                continue;
            }
            wanted.push(item.clone());
        }
        let mapped = source.orders(&wanted).await?;
        for (item, order) in wanted.iter().zip(mapped) {
            let Some(order) = order? else {
                warn!(order_id = %item.id, "listed, then gone from the platform; nothing to take");
                report.gone += 1;
                cursor.taken(&item.id, item.updated_ms);
                continue;
            };
            let origin = Door::Poll.origin(&config.name, &order.effect_key());
            queue_order(&self.erp_sync, &self.orders, &config.name, &origin, &order).await.map_err(|error| {
                RunError::Queue { source_name: config.name.clone(), order_id: item.id.clone(), error }
            })?;
            cursor.taken(&item.id, item.updated_ms);
            report.queued += 1;
        }
        // Everything on the page is now covered, the filtered orders after the first wanted
        // one too.
        if let Some(last) = listed.last() {
            cursor.read(last.updated_ms);
        }
        Ok(())
    }
}
