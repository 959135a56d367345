//! One SQS batch of order commands in, one Orders API call per command out.
//!
//! - 2xx (a duplicate is a 200): delivered, SQS deletes the record.
//! - Timeout, connection trouble, 429, 5xx: the record fails and SQS delivers it again, up to
//!   the queue's `maxReceiveCount`, after which SQS moves it to the pending queue itself.
//! - Any other 4xx: retrying repeats the refusal, so the original message goes to the pending
//!   queue now, with the answer attached for the operator, and the record counts as done.
//!   If parking fails, the record fails: a command is never dropped.
//!
//! Ordering within an order (one message group) is kept by [`process_batch`].

use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use orderflow_shared::batch::{RecordOutcome, process_batch};
use orderflow_shared::claim_check;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::error::{Classify, PortError};
use orderflow_shared::orders_api::{ApiFailure, Delivered, OrdersApiClient};
use orderflow_shared::parking::{Refusal, parking_message};
use orderflow_shared::ports::{FifoQueue, ObjectStore};
use orderflow_shared::secrets::SecretSource;
use orderflow_shared::telemetry::Metrics;
use tracing::{info, instrument, warn};

pub const FUNCTION: &str = "queue-reader";

/// Message attributes on a parked command, for operators and replay tools.
/// The Orders API as the handler needs it; [`OrdersApiClient`] in production and tests,
/// a scripted stand-in in unit tests.
pub trait OrdersApi: Send + Sync {
    fn deliver(&self, command: &OrderCommand) -> impl Future<Output = Result<Delivered, ApiFailure>> + Send;
}

impl<K: SecretSource> OrdersApi for OrdersApiClient<K> {
    fn deliver(&self, command: &OrderCommand) -> impl Future<Output = Result<Delivered, ApiFailure>> + Send {
        OrdersApiClient::deliver(self, command)
    }
}

pub struct QueueReader<S, Q, A> {
    /// Where claim-checked bodies live.
    pub store: S,
    /// Where permanently refused commands are parked.
    pub pending: Q,
    pub api: A,
}

/// What became of a command that SQS may now delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(Delivered),
    Parked { status: Option<u16>, code: String },
}

/// Why a record must come back.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the record has no body")]
    NoBody,
    #[error("resolving the claim check: {0}")]
    ClaimCheck(#[source] PortError),
    #[error("the body is not an order command: {0}")]
    NotACommand(#[source] serde_json::Error),
    #[error(transparent)]
    Api(ApiFailure),
    #[error("parking in the pending queue after \"{failure}\" failed: {source}")]
    Park { failure: ApiFailure, source: PortError },
}

#[instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle<S: ObjectStore, Q: FifoQueue, A: OrdersApi>(
    deps: &QueueReader<S, Q, A>,
    event: SqsEvent,
) -> SqsBatchResponse {
    let report = process_batch(&event.records, |record| process(deps, record)).await;
    let mut metrics = Metrics::new(FUNCTION);
    for outcome in &report.outcomes {
        let metric = match outcome {
            RecordOutcome::Done(Outcome::Delivered(_)) => "Delivered",
            RecordOutcome::Done(Outcome::Parked { .. }) => "Parked",
            RecordOutcome::Failed(RecordError::NoBody | RecordError::NotACommand(_)) => "Malformed",
            RecordOutcome::Failed(_) | RecordOutcome::Skipped => "Retried",
        };
        metrics.count(metric, 1);
    }
    metrics.flush();
    report.response
}

async fn process<S: ObjectStore, Q: FifoQueue, A: OrdersApi>(
    deps: &QueueReader<S, Q, A>,
    record: &SqsMessage,
) -> Result<Outcome, RecordError> {
    let raw = record.body.as_deref().ok_or(RecordError::NoBody)?;
    let body = claim_check::resolve(&deps.store, raw.to_owned()).await.map_err(RecordError::ClaimCheck)?;
    let command: OrderCommand = serde_json::from_str(&body).map_err(RecordError::NotACommand)?;
    let order_key = command.order_key();
    match deps.api.deliver(&command).await {
        Ok(delivered) => {
            info!(%order_key, status = delivered.status, "delivered");
            Ok(Outcome::Delivered(delivered))
        }
        Err(failure) if failure.is_transient() => Err(RecordError::Api(failure)),
        Err(failure) => {
            let refusal = Refusal { status: failure.status, code: &failure.code, message: &failure.message };
            let parked = parking_message(record, raw, order_key.as_str(), refusal);
            match deps.pending.send(parked).await {
                Ok(pending_id) => {
                    warn!(%order_key, status = failure.status, code = %failure.code, %pending_id, "parked: {failure}");
                    Ok(Outcome::Parked { status: failure.status, code: failure.code })
                }
                Err(source) => Err(RecordError::Park { failure, source }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use orderflow_shared::adapters::embedded::{DirObjectStore, EmbeddedFifoQueue};
    use orderflow_shared::batch::MESSAGE_GROUP_ID;
    use orderflow_shared::error::Retry;
    use orderflow_shared::lifecycle::Stage;
    use orderflow_shared::order::OrderKey;
    use orderflow_shared::parking::attributes;

    use super::*;

    /// Answers 201 unless the order key has a scripted failure.
    struct Scripted(HashMap<String, ApiFailure>);

    impl OrdersApi for Scripted {
        async fn deliver(&self, command: &OrderCommand) -> Result<Delivered, ApiFailure> {
            match self.0.get(command.order_key().as_str()) {
                Some(failure) => Err(failure.clone()),
                None => Ok(Delivered { status: 201 }),
            }
        }
    }

    fn failure(status: u16, code: &str, retry: Retry) -> ApiFailure {
        ApiFailure { status: Some(status), code: code.into(), message: format!("{code} happened"), retry }
    }

    fn key(n: u8) -> String {
        format!("PO-{n}-{n:016x}")
    }

    fn stage_body(n: u8) -> String {
        let order_key = OrderKey::parse(&key(n)).unwrap();
        serde_json::to_string(&OrderCommand::Stage { order_key, stage: Stage::IssuanceDte, attempt: 1 }).unwrap()
    }

    fn record(id: &str, group: &str, body: &str) -> SqsMessage {
        let mut r = SqsMessage::default();
        r.message_id = Some(id.into());
        r.body = Some(body.into());
        r.attributes.insert(MESSAGE_GROUP_ID.into(), group.into());
        r.attributes.insert("ApproximateReceiveCount".into(), "2".into());
        r
    }

    fn reader(script: &[(u8, ApiFailure)]) -> QueueReader<DirObjectStore, EmbeddedFifoQueue, Scripted> {
        let dir = std::env::temp_dir().join(format!("queue-reader-unit-{}", std::process::id()));
        QueueReader {
            store: DirObjectStore::new(dir),
            pending: EmbeddedFifoQueue::new("orders-pending.fifo"),
            api: Scripted(script.iter().map(|(n, f)| (key(*n), f.clone())).collect()),
        }
    }

    async fn run(
        deps: &QueueReader<DirObjectStore, EmbeddedFifoQueue, Scripted>,
        records: Vec<SqsMessage>,
    ) -> Vec<String> {
        let mut event = SqsEvent::default();
        event.records = records;
        handle(deps, event).await.batch_item_failures.into_iter().map(|f| f.item_identifier).collect()
    }

    #[tokio::test]
    async fn a_refusal_is_parked_with_the_original_body_and_reported_as_success() {
        let deps = reader(&[(1, failure(409, "conflict", Retry::Permanent))]);
        let failed = run(&deps, vec![record("m1", "g1", &stage_body(1)), record("m2", "g1", &stage_body(2))]).await;
        assert!(failed.is_empty(), "{failed:?}");
        let parked = deps.pending.peek_all();
        assert_eq!(parked.len(), 1);
        assert_eq!((parked[0].body.as_str(), parked[0].group_id.as_str()), (stage_body(1).as_str(), "g1"));
        let attr = |name| parked[0].attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(attr(attributes::STATUS), Some("409"));
        assert_eq!(attr(attributes::ERROR), Some("conflict: conflict happened"));
        assert_eq!(attr(attributes::SOURCE_MESSAGE_ID), Some("m1"));
        assert_eq!(attr(attributes::RECEIVE_COUNT), Some("2"));
        assert!(attr(attributes::PARKED_AT).is_some_and(|t| t.ends_with('Z')));
    }

    #[tokio::test]
    async fn a_transient_failure_holds_back_the_rest_of_its_group_only() {
        let deps = reader(&[(1, failure(503, "unavailable", Retry::Transient))]);
        let records = vec![
            record("a1", "a", &stage_body(1)),
            record("b1", "b", &stage_body(2)),
            record("a2", "a", &stage_body(3)),
        ];
        assert_eq!(run(&deps, records).await, ["a1", "a2"]);
        assert!(deps.pending.is_empty(), "transient failures are not parked");
    }

    #[tokio::test]
    async fn a_body_that_is_not_a_command_fails() {
        let deps = reader(&[]);
        let records = vec![record("x", "a", "{\"command\":\"ship\"}"), record("y", "b", "not json")];
        assert_eq!(run(&deps, records).await, ["x", "y"]);
    }
}
