//! The recovery workflow's Lambda tasks. Each takes the JSON the state machine passes and
//! answers the JSON its Choice states read; a failure becomes a Lambda error whose type
//! (`Transient` / `Permanent`) the definition's Retry matches on.

use lambda_runtime::Diagnostic;
use orderflow_shared::email::Email;
use orderflow_shared::error::{Classify, Retry};
use orderflow_shared::lifecycle::State;
use orderflow_shared::order::OrderKey;
use orderflow_shared::order_service::{OrderService, ReportedError, ServiceError};
use orderflow_shared::ports::{DteProvider, FifoQueue, MailError, Mailer, OrderStore, RecoveryStarter};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{info, instrument, warn};

use crate::backoff::{Backoff, Decision};
use crate::config::AlertConfig;

const BY: &str = "broadcast-recovery";

/// What the error handler's function is asked to do inside the workflow.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case", deny_unknown_fields)]
pub enum ErrorTask {
    /// Task 1: record the failure on the order and decide whether and when to retry.
    RecordFailure { error: ReportedError },
    /// The failure path: the order becomes `broadcast_failed` and operations are alerted.
    GiveUp { error: ReportedError },
}

/// Task 2's input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryInput {
    pub order_key: OrderKey,
    pub attempt: u32,
}

/// Task 2's answer: on failure, the next failure for Task 1 to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    Broadcast { state: State, track_id: Option<String> },
    Failed(ReportedError),
}

impl RetryOutcome {
    /// The shape the definition's `Broadcasted` Choice and `NextFailure` Pass read.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Broadcast { state, track_id } => json!({"succeeded": true, "state": state, "track_id": track_id}),
            Self::Failed(error) => json!({"succeeded": false, "error": error}),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("operator alert not sent: {0}")]
    Alert(#[from] MailError),
    #[error("task input is invalid: {0}")]
    Input(#[from] serde_json::Error),
}

impl Classify for TaskError {
    fn retry(&self) -> Retry {
        match self {
            Self::Service(e) => e.retry(),
            Self::Alert(e) => e.retry(),
            Self::Input(_) => Retry::Permanent,
        }
    }
}

impl From<TaskError> for Diagnostic {
    fn from(e: TaskError) -> Self {
        let error_type = if e.is_transient() { "Transient" } else { "Permanent" };
        Diagnostic { error_type: error_type.into(), error_message: e.to_string() }
    }
}

/// Runs the error handler's task named in `input`; `unit` is the jitter draw in [0, 1).
pub async fn run_error_task<S, Q, D, R, M>(
    service: &OrderService<S, Q, D, R>,
    backoff: &Backoff,
    alert: (&M, &AlertConfig),
    input: Value,
    unit: f64,
) -> Result<Value, TaskError>
where
    S: OrderStore,
    Q: FifoQueue,
    D: DteProvider,
    R: RecoveryStarter,
    M: Mailer,
{
    Ok(match serde_json::from_value(input)? {
        ErrorTask::RecordFailure { error } => json!(record_failure(service, backoff, &error, unit).await?),
        ErrorTask::GiveUp { error } => give_up(service, alert.0, alert.1, &error).await?,
    })
}

#[instrument(skip(service, backoff, error), fields(order_key = %error.order_key, attempt = error.attempt))]
pub async fn record_failure<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    backoff: &Backoff,
    error: &ReportedError,
    unit: f64,
) -> Result<Decision, TaskError> {
    service.record_error(&error.order_key, error.stage_error(), BY).await?;
    let decision = backoff.decide(&error.stage_error(), unit);
    info!(retryable = decision.retryable, wait_seconds = decision.wait_seconds, "failure classified");
    Ok(decision)
}

#[instrument(skip(service, mailer, alert, error), fields(order_key = %error.order_key))]
pub async fn give_up<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter, M: Mailer>(
    service: &OrderService<S, Q, D, R>,
    mailer: &M,
    alert: &AlertConfig,
    error: &ReportedError,
) -> Result<Value, TaskError> {
    let detail = format!("recovery gave up after attempt {}: {} ({})", error.attempt, error.message, error.code);
    let applied = service.give_up_broadcast(&error.order_key, &detail, BY).await?;
    // Sent again on a retried task: a duplicate alert is better than a lost one.
    let message_id = mailer.send(&alert_email(alert, error)).await?;
    warn!(%message_id, "order is broadcast_failed; operations alerted");
    Ok(json!({"state": applied.record().state, "alert_message_id": message_id}))
}

fn alert_email(alert: &AlertConfig, error: &ReportedError) -> Email {
    let text = format!(
        "The DTE broadcast of order {key} failed and recovery stopped after attempt {attempt}.\n\
         Last error: {code}: {message} (retryable: {retryable}).\n\
         The order is now broadcast_failed. Once the cause is fixed, replay it with\n\
         POST /orders/{key}/broadcast-dte.\n",
        key = error.order_key,
        attempt = error.attempt,
        code = error.code,
        message = error.message,
        retryable = error.retryable,
    );
    Email {
        from: alert.from.clone(),
        to: alert.to.clone(),
        subject: format!("[orderflow] DTE broadcast failed for order {}", error.order_key),
        html: format!("<pre>{}</pre>", escape(&text)),
        text,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Task 2: the router's stage code once more. A DTE failure is an answer, not an error, so
/// the workflow loops back to record it; anything else fails the task for Retry/Catch.
#[instrument(skip(service), fields(order_key = %input.order_key, attempt = input.attempt))]
pub async fn retry_broadcast<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    input: RetryInput,
) -> Result<RetryOutcome, TaskError> {
    match service.retry_broadcast(&input.order_key, BY).await {
        Ok(applied) => {
            let record = applied.record();
            info!("broadcast recovered");
            Ok(RetryOutcome::Broadcast { state: record.state, track_id: record.dte.track_id.clone() })
        }
        Err(ServiceError::Dte(cause)) => Ok(RetryOutcome::Failed(ReportedError {
            order_key: input.order_key,
            stage: State::BroadcastDte,
            code: cause.code,
            message: cause.message,
            // Refused credentials may be fixed by an operator while the workflow waits.
            retryable: cause.retry != Retry::Permanent,
            attempt: input.attempt,
        })),
        Err(other) => Err(other.into()),
    }
}
