//! One S3 notification in, one outcome per object out.
//!
//! A document that can never convert is copied to the rejected prefix with a sidecar that says
//! why, and the invocation succeeds. A failure that may pass (S3 or SQS trouble) fails the
//! invocation so Lambda retries it; the content-hash deduplication id makes the retry harmless
//! for objects that were already queued. The original under the incoming prefix is never touched.

use std::time::{SystemTime, UNIX_EPOCH};

use orderflow_shared::claim_check;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::config::ConverterConfig;
use orderflow_shared::error::{Classify, PortError, Retry};
use orderflow_shared::ports::{FifoQueue, ObjectStore};
use orderflow_shared::s3_event::{ObjectRef, S3EventError, S3Notification};
use orderflow_shared::telemetry::Metrics;
use orderflow_shared::ubl::{self, ConvertError};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::{info, instrument, warn};

pub struct Converter<S, Q> {
    pub store: S,
    pub queue: Q,
    pub config: ConverterConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConverterError {
    #[error(transparent)]
    Event(#[from] S3EventError),
    #[error(transparent)]
    Port(#[from] PortError),
}

impl Classify for ConverterError {
    fn retry(&self) -> Retry {
        match self {
            // The same event fails the same way; retries then the on-failure DLQ keep it for an operator.
            Self::Event(_) => Retry::Permanent,
            Self::Port(e) => e.retry(),
        }
    }
}

impl From<ConverterError> for lambda_runtime::Diagnostic {
    fn from(e: ConverterError) -> Self {
        let error_type = match e.retry() {
            Retry::Transient => "Converter.Transient",
            Retry::Permanent | Retry::Auth => "Converter.Permanent",
        };
        Self { error_type: error_type.into(), error_message: e.to_string() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Queued { key: String, order_key: String, message_id: String, lines: usize },
    Rejected { key: String, code: String, reason: String, rejected_key: String },
    Skipped { key: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
}

#[instrument(skip_all)]
pub async fn handle<S: ObjectStore, Q: FifoQueue>(
    deps: &Converter<S, Q>,
    event: Value,
) -> Result<Report, ConverterError> {
    let objects = match S3Notification::parse(event)? {
        S3Notification::Test => {
            info!("ignoring s3:TestEvent");
            return Ok(Report { outcomes: Vec::new() });
        }
        S3Notification::Objects(objects) => objects,
    };
    let mut metrics = Metrics::new("xml-order-converter");
    let mut outcomes = Vec::with_capacity(objects.len());
    for object in &objects {
        match convert_object(deps, object).await {
            Ok(outcome) => {
                metrics.count(outcome.metric(), 1);
                outcomes.push(outcome);
            }
            Err(e) => {
                metrics.flush();
                return Err(e);
            }
        }
    }
    metrics.flush();
    Ok(Report { outcomes })
}

impl Outcome {
    fn metric(&self) -> &'static str {
        match self {
            Self::Queued { .. } => "OrdersReceived",
            Self::Rejected { .. } => "ConversionFailures",
            Self::Skipped { .. } => "ObjectsSkipped",
        }
    }
}

#[instrument(skip(deps), fields(key = %object.key))]
async fn convert_object<S: ObjectStore, Q: FifoQueue>(
    deps: &Converter<S, Q>,
    object: &ObjectRef,
) -> Result<Outcome, ConverterError> {
    let cfg = &deps.config;
    let key = object.key.clone();
    if object.bucket != cfg.bucket || !key.starts_with(&cfg.incoming_prefix) {
        warn!(bucket = %object.bucket, "object outside s3://{}/{}", cfg.bucket, cfg.incoming_prefix);
        let reason = format!("not under s3://{}/{}", cfg.bucket, cfg.incoming_prefix);
        return Ok(Outcome::Skipped { key, reason });
    }
    let bytes = match deps.store.get(&key).await {
        Ok(bytes) => bytes,
        // Deleted before we read it: nothing to keep, but the sidecar records that it arrived.
        Err(e) if e.not_found => return reject(deps, &key, "object_missing", &e.to_string(), false).await,
        Err(e) => return Err(e.into()),
    };
    let order = match ubl::parse_order(&bytes, &cfg.limits) {
        Ok(order) => order,
        Err(e) => return reject_unconvertible(deps, &key, &e).await,
    };
    let (order_key, lines) = (order.order_key.to_string(), order.lines.len());
    let command = OrderCommand::Register { source: format!("s3://{}/{key}", cfg.bucket), order: Box::new(order) };
    let message = claim_check::offload(&deps.store, command.to_message()).await?;
    let message_id = deps.queue.send(message).await?;
    info!(%order_key, %message_id, "queued");
    Ok(Outcome::Queued { key, order_key, message_id, lines })
}

async fn reject_unconvertible<S: ObjectStore, Q: FifoQueue>(
    deps: &Converter<S, Q>,
    key: &str,
    err: &ConvertError,
) -> Result<Outcome, ConverterError> {
    reject(deps, key, err.code(), &err.to_string(), true).await
}

/// Keeps a copy of the original beside a sidecar naming the reason, for operators to fix and resend.
async fn reject<S: ObjectStore, Q: FifoQueue>(
    deps: &Converter<S, Q>,
    key: &str,
    code: &str,
    reason: &str,
    copy_original: bool,
) -> Result<Outcome, ConverterError> {
    let cfg = &deps.config;
    let relative = key.strip_prefix(&cfg.incoming_prefix).unwrap_or(key);
    let rejected_key = format!("{}{relative}", cfg.rejected_prefix);
    warn!(code, reason, %rejected_key, "rejected");
    if copy_original {
        deps.store.copy(key, &rejected_key).await?;
    }
    let sidecar = json!({
        "source_key": key,
        "bucket": cfg.bucket,
        "code": code,
        "reason": reason,
        "rejected_at_ms": SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64,
    });
    let body = serde_json::to_vec_pretty(&sidecar).expect("sidecar serialises");
    deps.store.put(&format!("{rejected_key}.error.json"), body, "application/json").await?;
    Ok(Outcome::Rejected { key: key.to_owned(), code: code.to_owned(), reason: reason.to_owned(), rejected_key })
}
