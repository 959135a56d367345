//! One SQS batch of order commands in, one Orders API call per command out.
//!
//! - 2xx (a duplicate is a 200): delivered, SQS deletes the record.
//! - Timeout, connection trouble, 429, 5xx: the record fails and SQS delivers it again, up to
//!   the queue's `maxReceiveCount`, after which SQS moves it to the pending queue itself.
//! - Any other 4xx: retrying repeats the refusal, so the original message goes to the pending
//!   queue now, with the answer attached for the operator, and the record counts as done.
//!   If parking fails, the record fails: a command is never dropped.
//! - A body that is not a command (e.g. an order with a field given twice, which API Gateway's
//!   `POST /orders/queue` lets through) never becomes one: it is parked now too, with the
//!   parser's words. Retried, it would hold its message group (for that route, every order of
//!   the buyer) for the whole redrive policy.
//!
//! Ordering within an order (one message group) is kept by [`process_batch`].

use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use std::time::Duration;

use orderflow_shared::batch::{Budget, process_batch};
use orderflow_shared::claim_check;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::error::{Classify, PortError, Retry};
use orderflow_shared::orders_api::{ApiFailure, Delivered, OrdersApiClient};
use orderflow_shared::parking::{Refusal, parking_message};
use orderflow_shared::ports::{FifoQueue, ObjectStore};
use orderflow_shared::secrets::SecretSource;
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
    #[error(transparent)]
    Api(ApiFailure),
    #[error("parking in the pending queue after \"{reason}\" failed: {source}")]
    Park { reason: String, source: PortError },
}

/// One record's worst case: the claim-check read and the parking send at the AWS SDK's
/// operation timeout each, and the Orders API call at its own.
pub fn worst_case_per_record(api_timeout: Duration, aws_operation_timeout: Duration) -> Duration {
    api_timeout + 2 * aws_operation_timeout
}

#[instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle<S: ObjectStore, Q: FifoQueue, A: OrdersApi>(
    deps: &QueueReader<S, Q, A>,
    event: SqsEvent,
    budget: Budget<'_>,
) -> SqsBatchResponse {
    let report = process_batch(&event.records, budget, |record| process(deps, record)).await;
    let done = |outcome: &Outcome| match outcome {
        Outcome::Delivered(_) => "Delivered",
        Outcome::Parked { .. } => "Parked",
    };
    report.counted(FUNCTION, done, |e| matches!(e, RecordError::NoBody))
}

async fn process<S: ObjectStore, Q: FifoQueue, A: OrdersApi>(
    deps: &QueueReader<S, Q, A>,
    record: &SqsMessage,
) -> Result<Outcome, RecordError> {
    let raw = record.body.as_deref().ok_or(RecordError::NoBody)?;
    let body = claim_check::resolve(&deps.store, raw.to_owned()).await.map_err(RecordError::ClaimCheck)?;
    let command: OrderCommand = match serde_json::from_str(&body) {
        Ok(command) => command,
        Err(e) => {
            let message = e.to_string();
            let refusal = Refusal { status: None, retry: Retry::Permanent, code: "not_a_command", message: &message };
            return park(deps, record, raw, NOT_A_COMMAND_GROUP, refusal).await;
        }
    };
    let order_key = command.order_key();
    match deps.api.deliver(&command).await {
        Ok(delivered) => {
            info!(%order_key, status = delivered.status, "delivered");
            Ok(Outcome::Delivered(delivered))
        }
        Err(failure) if failure.is_transient() => Err(RecordError::Api(failure)),
        Err(failure) => {
            let refusal = Refusal {
                status: failure.status,
                retry: failure.retry,
                code: &failure.code,
                message: &failure.message,
            };
            park(deps, record, raw, order_key.as_str(), refusal).await
        }
    }
}

/// The group of a parked body that names no order, when its record has no group of its own.
const NOT_A_COMMAND_GROUP: &str = "not-a-command";

/// Parks the original message in the pending queue with why; fails the record if that fails.
async fn park<S: ObjectStore, Q: FifoQueue, A: OrdersApi>(
    deps: &QueueReader<S, Q, A>,
    record: &SqsMessage,
    raw: &str,
    group: &str,
    refusal: Refusal<'_>,
) -> Result<Outcome, RecordError> {
    let (status, code, reason) =
        (refusal.status, refusal.code.to_owned(), format!("{}: {}", refusal.code, refusal.message));
    match deps.pending.send(parking_message(record, raw, group, refusal)).await {
        Ok(pending_id) => {
            warn!(order_key = group, status, %code, %pending_id, "parked: {reason}");
            Ok(Outcome::Parked { status, code })
        }
        Err(source) => Err(RecordError::Park { reason, source }),
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
        handle(deps, event, Budget::unlimited())
            .await
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
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

    /// The DTE provider refused credentials read afresh: no retry can help until an operator
    /// fixes the secret, so the command waits in the pending queue under the class `auth`.
    #[tokio::test]
    async fn a_refusal_of_credentials_is_parked_at_once_with_the_class_auth() {
        let deps = reader(&[(1, failure(502, "credentials_refused", Retry::Auth))]);
        let failed = run(&deps, vec![record("m1", "g1", &stage_body(1))]).await;
        assert!(failed.is_empty(), "not left for SQS to redeliver: {failed:?}");
        let parked = deps.pending.peek_all();
        assert_eq!(parked.len(), 1);
        let class = parked[0].attributes.iter().find(|(k, _)| k == attributes::CLASS).map(|(_, v)| v.as_str());
        assert_eq!(class, Some("auth"));
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

    /// Retried, a body that is not a command would hold back its whole group until SQS
    /// redrives it; it is parked at once instead, and the group goes on.
    #[tokio::test]
    async fn a_body_that_is_not_a_command_is_parked_at_once_and_its_group_goes_on() {
        let deps = reader(&[]);
        let twice = stage_body(1).replacen('{', "{\"attempt\":2,", 1);
        let records = vec![
            record("x", "a", "{\"command\":\"ship\"}"),
            record("y", "b", "not json"),
            record("z", "a", &twice),
            record("a2", "a", &stage_body(2)),
        ];
        assert_eq!(run(&deps, records).await, Vec::<String>::new(), "nothing comes back");
        let parked = deps.pending.peek_all();
        let bodies: Vec<&str> = parked.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["{\"command\":\"ship\"}", "not json", twice.as_str()]);
        for message in &parked {
            let error = message.attributes.iter().find(|(k, _)| k == attributes::ERROR).map(|(_, v)| v.as_str());
            assert!(error.is_some_and(|e| e.starts_with("not_a_command: ")), "{error:?}");
        }
        assert!(parked[2].attributes.iter().any(|(_, v)| v.contains("duplicate field `attempt`")), "{:?}", parked[2]);
    }
}
