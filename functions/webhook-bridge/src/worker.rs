//! The erp-sync worker: one SQS batch of [`ErpSyncMessage`]s in, one ERP push per order out.
//!
//! - Created, or AlreadyExists (a duplicate delivery, a retry after a lost answer): done.
//! - A transient failure (5xx, 408, 429, timeout, no connection): the record fails and SQS
//!   delivers it again; after the queue's `maxReceiveCount` SQS moves it to the ERP DLQ.
//! - A permanent failure (a business 4xx, an order the mapping cannot map): the original
//!   message goes to the ERP DLQ now, with `orderflow.status`, `orderflow.error` and
//!   `orderflow.erp_answer` attached, and the record counts as done. If that send fails, the
//!   record fails: nothing is dropped.
//! - Refunds become credit memos ([`ErpConnector::refund`]) under a reference derived from the
//!   webhook ([`refund_reference`]), with the same outcomes. A connector whose profile has no
//!   refunds section refuses them permanently (`refund_unsupported`), so they are parked for
//!   `orderflow replay`, never acknowledged unprocessed. The lifecycle side (`refunded`) goes
//!   through the orders queue, not here.
//! - A body that is not an erp-sync message fails (and ends in the DLQ through redrive).
//!
//! Ordering within an external order (one message group) is kept by [`process_batch`].

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use std::time::Duration;

use orderflow_shared::batch::{Budget, process_batch};
use orderflow_shared::erp::{ErpConnector, ErpError, PushOutcome, refund_reference};
use orderflow_shared::error::{Classify, PortError};
use orderflow_shared::parking::{Refusal, attributes, parking_message};
use orderflow_shared::ports::{FifoQueue, OutgoingMessage};
use tracing::{info, instrument, warn};

use crate::message::ErpSyncMessage;

pub const FUNCTION: &str = "erp-sync-worker";

/// Message attributes on a message parked in the ERP DLQ.
pub struct Worker<C, Q> {
    pub connector: C,
    /// Where permanently refused messages go, with the ERP's answer.
    pub dlq: Q,
}

/// What became of a record SQS may now delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pushed(PushOutcome),
    Parked { status: Option<u16>, code: String },
}

/// Why a record must come back.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the record has no body")]
    NoBody,
    #[error("the body is not an erp-sync message: {0}")]
    NotAMessage(#[source] serde_json::Error),
    #[error("ERP push failed, may pass on retry: {0}")]
    Erp(ErpError),
    #[error("parking in the ERP DLQ after \"{failure}\" failed: {source}")]
    Park { failure: ErpError, source: PortError },
}

/// The ERP calls one record may make: a token (or session) request, the lookup by reference,
/// the create. A credentials refresh can double them; that rare overrun is what the queue's
/// visibility timeout of six function timeouts absorbs.
pub const ERP_CALLS_PER_RECORD: u32 = 3;

/// One record's worst case: every ERP call at the connector's timeout, and the parking send at
/// the AWS SDK's operation timeout.
pub fn worst_case_per_record(erp_timeout: Duration, aws_operation_timeout: Duration) -> Duration {
    ERP_CALLS_PER_RECORD * erp_timeout + aws_operation_timeout
}

#[instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle<C: ErpConnector, Q: FifoQueue>(
    worker: &Worker<C, Q>,
    event: SqsEvent,
    budget: Budget<'_>,
) -> SqsBatchResponse {
    let report = process_batch(&event.records, budget, |record| process(worker, record)).await;
    let done = |outcome: &Outcome| match outcome {
        Outcome::Pushed(PushOutcome::Created { .. }) => "ErpCreated",
        Outcome::Pushed(PushOutcome::AlreadyExists { .. }) => "ErpAlreadyExists",
        Outcome::Parked { .. } => "ErpParked",
    };
    report.counted(FUNCTION, done, |e| matches!(e, RecordError::NoBody | RecordError::NotAMessage(_)))
}

async fn process<C: ErpConnector, Q: FifoQueue>(
    worker: &Worker<C, Q>,
    record: &SqsMessage,
) -> Result<Outcome, RecordError> {
    let raw = record.body.as_deref().ok_or(RecordError::NoBody)?;
    let message: ErpSyncMessage = serde_json::from_str(raw).map_err(RecordError::NotAMessage)?;
    let (reference, pushed) = match message {
        ErpSyncMessage::Order { order, .. } => (order.order_key.to_string(), worker.connector.push(&order).await),
        ErpSyncMessage::Refund { source, refund } => {
            let reference = refund_reference(&source);
            let pushed = worker.connector.refund(&refund, &reference).await;
            (reference, pushed)
        }
    };
    match pushed {
        Ok(outcome) => {
            info!(%reference, ?outcome, "pushed");
            Ok(Outcome::Pushed(outcome))
        }
        Err(failure) if failure.is_transient() => Err(RecordError::Erp(failure)),
        Err(failure) => match worker.dlq.send(erp_parking_message(record, raw, &failure)).await {
            Ok(dlq_id) => {
                warn!(%reference, status = ?failure.status, code = %failure.code, %dlq_id,
                    "parked in the ERP DLQ: {failure}");
                Ok(Outcome::Parked { status: failure.status, code: failure.code })
            }
            Err(source) => Err(RecordError::Park { failure, source }),
        },
    }
}

/// The shared parking message, with the ERP's answer attached for the operator.
fn erp_parking_message(record: &SqsMessage, raw: &str, failure: &ErpError) -> OutgoingMessage {
    let refusal =
        Refusal { status: failure.status, retry: failure.retry, code: &failure.code, message: &failure.message };
    // SQS refuses empty attribute values.
    let answer = failure.erp_answer.clone().filter(|a| !a.is_empty()).unwrap_or_else(|| "none".to_owned());
    parking_message(record, raw, "erp-sync", refusal).with_attribute(attributes::ERP_ANSWER, answer)
}
