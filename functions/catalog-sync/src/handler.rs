//! The handler, generic over the staging table, the request log and the secret store.
//!
//! Event: `{"phase": "pull" | "push" | "both"}` (EventBridge Scheduler sends it as the
//! target's input; a missing phase is `both`). Each invocation reads the catalogue
//! configuration (an SSM parameter) and the connectors' secrets afresh, then runs.
//!
//! Outcome policy: a run that completed answers its summary. A run that stopped (ERP down,
//! shop down, staging failing) is recorded and counted, and answers an error so that the
//! invocation counts as failed (the alarm) and the Scheduler's retry policy tries again; the
//! SKUs left dirty go with the retry or the next schedule. A bad event or configuration is an
//! error a retry cannot cure, said so in its type.

use std::sync::Arc;

use lambda_runtime::Diagnostic;
use orderflow_shared::apps::Apps;
use orderflow_shared::catalog::assemble::{build, fetch_secrets, named, secret_refs};
use orderflow_shared::catalog::{AuditLog, CatalogConfig, CatalogSync, Phase, RunSummary, StagingStore, SyncError};
use orderflow_shared::ports::Clock;
use orderflow_shared::secrets::{SecretRef, SecretStore};
use serde::Deserialize;
use serde_json::Value;

/// What the handler needs, built once per cold start.
pub struct Deps<S, A, K, P> {
    pub store: S,
    pub log: A,
    pub secrets: K,
    /// Where the catalogue configuration is read at each invocation.
    pub catalog_ref: SecretRef,
    /// The connections the configuration names (its ERP and its shop).
    pub apps: P,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncEvent {
    #[serde(default = "both")]
    phase: Phase,
}

fn both() -> Phase {
    Phase::Both
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("the event is not {{\"phase\": \"pull\"|\"push\"|\"both\"}}: {0}")]
    BadEvent(String),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("apps: {0}")]
    Apps(String),
    #[error("run {run_id} stopped: {reason}")]
    Stopped { run_id: String, reason: String },
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::BadEvent(_) | HandlerError::Sync(SyncError::Config(_)) => "Permanent",
            HandlerError::Sync(_) | HandlerError::Stopped { .. } | HandlerError::Apps(_) => "Transient",
        };
        Diagnostic { error_type: error_type.into(), error_message: e.to_string() }
    }
}

/// How long before the invocation's deadline the push takes no new chunk: a chunk of 50 SKUs
/// takes seconds normally and this margin covers a slow one; the rest waits for the next run.
pub const DEADLINE_MARGIN_MS: u64 = 120_000;

/// `deadline_ms`: the invocation's deadline (epoch ms), when there is one.
pub async fn handle<S, A, K, P>(
    deps: &Deps<S, A, K, P>,
    event: Value,
    deadline_ms: Option<u64>,
) -> Result<RunSummary, HandlerError>
where
    S: StagingStore + Clone,
    A: AuditLog + Clone,
    K: SecretStore,
    P: Apps,
{
    let event: SyncEvent = serde_json::from_value(event).map_err(|e| HandlerError::BadEvent(e.to_string()))?;
    let text = deps.secrets.fetch(&deps.catalog_ref).await.map_err(SyncError::from)?;
    let config = CatalogConfig::from_json(text.expose()).map_err(SyncError::Config)?;
    let runtime = deps.apps.runtime().await.map_err(|e| HandlerError::Apps(e.to_string()))?;
    let (erp, shop) = named(&config, &runtime)?;
    let secrets = fetch_secrets(&deps.secrets, &secret_refs(erp, shop)).await?;
    let mut built = build(&config, &runtime, &secrets, deps.clock.clone())?;
    built.settings.stop_at_ms = deadline_ms.map(|d| d.saturating_sub(DEADLINE_MARGIN_MS));
    let sync = CatalogSync {
        store: deps.store.clone(),
        log: deps.log.clone(),
        erp: built.erp,
        shop: built.shop,
        clock: deps.clock.clone(),
    };
    let summary = sync.run(event.phase, &built.settings, &|_, _| {}).await?;
    tracing::info!(run_id = %summary.run_id, read = summary.read, changed = summary.changed, pushed = summary.pushed, refused = summary.refused, failed = summary.failed, "catalogue sync run");
    match &summary.error {
        Some(reason) => Err(HandlerError::Stopped { run_id: summary.run_id.clone(), reason: reason.clone() }),
        None => Ok(summary),
    }
}
