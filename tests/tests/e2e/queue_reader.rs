//! The queue-reader handler with the real Orders API client against a local stand-in for the
//! API, and the pending queue, claim-check bucket and secret stores in moto.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use orderflow_e2e::fake_api::{FakeApi, Received, Reply, STAGE};
use orderflow_e2e::order_numbered as order;
use orderflow_e2e::*;
use orderflow_shared::adapters::aws::{self, AwsSecretStore, S3ObjectStore, SqsFifoQueue};
use orderflow_shared::batch::Budget;
use orderflow_shared::claim_check;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::error::{Classify, Retry};
use orderflow_shared::lifecycle::Stage;
use orderflow_shared::order::{CanonicalOrder, OrderKey};
use orderflow_shared::orders_api::OrdersApiClient;
use orderflow_shared::parking::attributes;
use orderflow_shared::secrets::{CachedSecret, Secret, SecretRef};
use queue_reader::{QueueReader, handle};
use std::collections::HashMap;
use std::time::Duration;

const API_KEY: &str = "qr-test-key-0123456789";

type Reader = QueueReader<S3ObjectStore, SqsFifoQueue, OrdersApiClient>;

struct Stack {
    sqs: aws_sdk_sqs::Client,
    api: FakeApi,
    reader: Reader,
}

/// A fresh bucket and pending queue, and an API that answers `script` (201 for other keys).
async fn stack(script: Vec<(&OrderKey, Reply)>) -> Stack {
    stack_with_timeout(script, Duration::from_secs(10)).await
}

async fn stack_with_timeout(script: Vec<(&OrderKey, Reply)>, timeout: Duration) -> Stack {
    let sdk = sdk_config().await;
    let (s3, sqs) = (aws::s3_client(&sdk), aws::sqs_client(&sdk));
    let bucket = unique("qr-claims");
    create_bucket(&s3, &bucket).await;
    let (_orders, pending) = create_fifo_with_dlq(&sqs, &unique("qr-orders"), 10).await;
    let api = FakeApi::start(script.into_iter().map(|(k, r)| (k.to_string(), r))).await;
    let client = OrdersApiClient::new(api.base_url(), Secret::new(API_KEY), timeout).expect("client builds");
    let reader = QueueReader {
        store: S3ObjectStore::new(s3, &bucket),
        pending: SqsFifoQueue::new(sqs.clone(), &pending),
        api: client,
    };
    Stack { sqs, api, reader }
}

/// A message on the pending queue, with everything an operator would see.
#[derive(Debug)]
struct Parked {
    body: String,
    group_id: String,
    dedup_id: String,
    attributes: HashMap<String, String>,
}

impl Stack {
    /// Runs one batch; returns the message ids reported as failed.
    async fn run(&self, records: Vec<SqsMessage>) -> Vec<String> {
        let mut event = SqsEvent::default();
        event.records = records;
        let response = handle(&self.reader, event, Budget::unlimited()).await;
        response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect()
    }

    async fn parked(&self) -> Vec<Parked> {
        let drained = drain(&self.sqs, self.reader.pending.url()).await;
        drained
            .into_iter()
            .map(|m| Parked {
                body: m.body,
                group_id: m.group_id,
                dedup_id: m.dedup_id,
                attributes: m.attributes.into_iter().collect(),
            })
            .collect()
    }
}

fn register(order: &CanonicalOrder) -> String {
    let source = format!("s3://orders/incoming/{}.xml", order.order_number);
    serde_json::to_string(&OrderCommand::Register { source, order: Box::new(order.clone()) }).unwrap()
}

fn stage(key: &OrderKey, stage: Stage, attempt: u32) -> String {
    serde_json::to_string(&OrderCommand::Stage { order_key: key.clone(), stage, attempt }).unwrap()
}

/// A record as Lambda delivers it from a FIFO queue.
fn record(message_id: &str, group: &OrderKey, body: String) -> SqsMessage {
    let mut r = SqsMessage::default();
    r.message_id = Some(message_id.to_owned());
    r.receipt_handle = Some(format!("handle-{message_id}"));
    r.body = Some(body);
    r.attributes.insert("MessageGroupId".into(), group.to_string());
    r.attributes.insert("ApproximateReceiveCount".into(), "3".into());
    r.event_source = Some("aws:sqs".into());
    r
}

fn paths(received: &[Received]) -> Vec<String> {
    received.iter().map(|r| r.path.clone()).collect()
}

fn orders_path() -> String {
    format!("{STAGE}/orders")
}

#[tokio::test]
async fn commands_answered_2xx_are_delivered_in_order_and_none_fails() {
    let (a, b) = (order(&unique("A")), order(&unique("B")));
    let mut stack = stack(vec![]).await;
    let records = vec![
        record("m1", &a.order_key, register(&a)),
        record("m2", &a.order_key, stage(&a.order_key, Stage::IssuanceDte, 2)),
        record("m3", &b.order_key, register(&b)),
    ];
    assert!(stack.run(records).await.is_empty());

    let received = stack.api.received();
    let issuance = format!("{STAGE}/orders/{}/issuance-dte", a.order_key);
    assert_eq!(paths(&received), [orders_path(), issuance, orders_path()]);
    assert!(received.iter().all(|r| r.method == "POST"));
    assert_eq!(received[0].body, serde_json::to_value(&a).unwrap(), "the canonical order is the body");
    assert_eq!(received[0].source.as_deref(), Some(format!("s3://orders/incoming/{}.xml", a.order_number).as_str()));
    assert_eq!(received[1].body, serde_json::json!({"attempt": 2}));
    assert_eq!(received[1].source, None);
    assert_eq!(received[2].order_key, b.order_key.as_str());
    assert!(stack.parked().await.is_empty());
}

#[tokio::test]
async fn every_request_carries_the_api_key() {
    let a = order(&unique("A"));
    let mut stack = stack(vec![]).await;
    let records = vec![
        record("m1", &a.order_key, register(&a)),
        record("m2", &a.order_key, stage(&a.order_key, Stage::BroadcastDte, 1)),
    ];
    assert!(stack.run(records).await.is_empty());
    let keys: Vec<_> = stack.api.received().into_iter().map(|r| r.api_key).collect();
    assert_eq!(keys, [Some(API_KEY.to_owned()), Some(API_KEY.to_owned())]);
}

#[tokio::test]
async fn a_5xx_fails_the_order_and_the_rest_of_its_group_while_other_groups_proceed() {
    let (a, b) = (order(&unique("A")), order(&unique("B")));
    let mut stack = stack(vec![(&a.order_key, Reply::error(500, "internal", "table unavailable"))]).await;
    let records = vec![
        record("a1", &a.order_key, register(&a)),
        record("b1", &b.order_key, register(&b)),
        record("a2", &a.order_key, stage(&a.order_key, Stage::IssuanceDte, 1)),
        record("b2", &b.order_key, stage(&b.order_key, Stage::IssuanceDte, 1)),
    ];
    assert_eq!(stack.run(records).await, ["a1", "a2"]);

    let sent: Vec<_> = stack.api.received().into_iter().map(|r| (r.order_key, r.path)).collect();
    let b_issuance = format!("{STAGE}/orders/{}/issuance-dte", b.order_key);
    assert_eq!(
        sent,
        [
            (a.order_key.to_string(), orders_path()),
            (b.order_key.to_string(), orders_path()),
            (b.order_key.to_string(), b_issuance),
        ],
        "a2 is held back without being sent"
    );
    assert!(stack.parked().await.is_empty(), "a transient failure is retried by SQS, not parked");
}

#[tokio::test]
async fn a_404_or_409_is_parked_with_its_status_and_error_and_reported_as_success() {
    let (a, b) = (order(&unique("A")), order(&unique("B")));
    let script = vec![
        (&a.order_key, Reply::error(404, "not_found", "no order with this key")),
        (&b.order_key, Reply::error(409, "conflict", "same key, different content")),
    ];
    let stack = stack(script).await;
    let a_body = stage(&a.order_key, Stage::BroadcastDte, 1);
    let records = vec![record("ma", &a.order_key, a_body.clone()), record("mb", &b.order_key, register(&b))];
    assert!(stack.run(records).await.is_empty(), "parked records are done");

    let mut parked = stack.parked().await;
    parked.sort_by(|x, y| x.attributes[attributes::STATUS].cmp(&y.attributes[attributes::STATUS]));
    assert_eq!(parked.len(), 2);
    let (p404, p409) = (&parked[0], &parked[1]);
    assert_eq!(p404.body, a_body, "the original body is parked");
    assert_eq!(p404.group_id, a.order_key.as_str());
    assert!(p404.dedup_id.contains("ma"), "dedup id derives from the message id: {}", p404.dedup_id);
    assert_eq!(p404.attributes[attributes::STATUS], "404");
    assert_eq!(p404.attributes[attributes::ERROR], "not_found: no order with this key");
    assert_eq!(p404.attributes[attributes::SOURCE_MESSAGE_ID], "ma");
    assert_eq!(p404.attributes[attributes::RECEIVE_COUNT], "3");
    let parked_at = &p404.attributes[attributes::PARKED_AT];
    assert!(parked_at.len() == 24 && parked_at.ends_with('Z') && parked_at.as_bytes()[10] == b'T', "{parked_at}");

    assert_eq!(p409.body, register(&b));
    assert_eq!(p409.attributes[attributes::STATUS], "409");
    assert_eq!(p409.attributes[attributes::ERROR], "conflict: same key, different content");
    assert_eq!(p409.attributes[attributes::SOURCE_MESSAGE_ID], "mb");
}

#[tokio::test]
async fn a_record_whose_park_fails_fails_so_nothing_is_lost() {
    let a = order(&unique("A"));
    let mut stack = stack(vec![(&a.order_key, Reply::error(422, "invalid", "bad order"))]).await;
    let missing = format!("{}/123456789012/{}.fifo", moto_endpoint(), unique("no-such-queue"));
    stack.reader.pending = SqsFifoQueue::new(stack.sqs.clone(), missing);
    assert_eq!(stack.run(vec![record("m1", &a.order_key, register(&a))]).await, ["m1"]);
}

#[tokio::test]
async fn a_timeout_fails_the_record() {
    let (a, b) = (order(&unique("A")), order(&unique("B")));
    let slow = Reply::created().after(Duration::from_secs(5));
    let mut stack = stack_with_timeout(vec![(&a.order_key, slow)], Duration::from_millis(300)).await;
    let records = vec![record("slow", &a.order_key, register(&a)), record("fast", &b.order_key, register(&b))];
    assert_eq!(stack.run(records).await, ["slow"]);
    assert_eq!(stack.api.received().len(), 2, "both were sent");
    assert!(stack.parked().await.is_empty());
}

#[tokio::test]
async fn a_duplicate_answer_counts_as_delivered() {
    let a = order(&unique("A"));
    let stack = stack(vec![(&a.order_key, Reply::duplicate())]).await;
    assert!(stack.run(vec![record("m1", &a.order_key, register(&a))]).await.is_empty());
    assert!(stack.parked().await.is_empty());
}

/// A body that is not a command never becomes one: parked in SQS at once with the parser's
/// words (not retried, which would hold its group until the redrive policy moved it).
#[tokio::test]
async fn a_body_that_is_not_an_order_command_is_parked_at_once() {
    let (a, b, c) = (order(&unique("A")), order(&unique("B")), order(&unique("C")));
    let mut stack = stack(vec![]).await;
    let records = vec![
        record("junk", &a.order_key, "not json at all".into()),
        record("unknown", &b.order_key, r#"{"command":"ship","order_key":"x"}"#.into()),
        record("good", &c.order_key, register(&c)),
    ];
    assert!(stack.run(records).await.is_empty(), "nothing comes back");
    let sent: Vec<_> = stack.api.received().into_iter().map(|r| r.order_key).collect();
    assert_eq!(sent, [c.order_key.to_string()]);
    let parked = stack.parked().await;
    let mut parked_in: Vec<(&str, &str)> = parked.iter().map(|p| (p.body.as_str(), p.group_id.as_str())).collect();
    parked_in.sort();
    let expected =
        [("not json at all", a.order_key.as_str()), (r#"{"command":"ship","order_key":"x"}"#, b.order_key.as_str())];
    assert_eq!(parked_in, expected, "each parked as it came, in its own group");
    for p in &parked {
        assert!(p.attributes[attributes::ERROR].starts_with("not_a_command: "), "{:?}", p.attributes);
        assert_eq!(p.attributes[attributes::STATUS], "none");
    }
}

/// An order whose command outgrows SQS and travels by claim check.
fn large_order() -> CanonicalOrder {
    let mut big = order(&unique("BIG"));
    big.note = Some("x".repeat(claim_check::INLINE_LIMIT).into());
    big
}

#[tokio::test]
async fn a_claim_checked_body_is_resolved_before_sending() {
    let big = large_order();
    let mut stack = stack(vec![]).await;
    let message =
        OrderCommand::Register { source: "s3://orders/incoming/big.xml".into(), order: Box::new(big.clone()) }
            .to_message();
    let pointer = claim_check::offload(&stack.reader.store, message).await.expect("offload").body;
    assert!(pointer.len() < 1024, "the message carries a pointer");

    assert!(stack.run(vec![record("m1", &big.order_key, pointer)]).await.is_empty());
    let received = stack.api.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, serde_json::to_value(&big).unwrap(), "the API gets the whole order");
}

#[tokio::test]
async fn a_refused_claim_checked_command_is_parked_as_its_pointer() {
    let big = large_order();
    let stack = stack(vec![(&big.order_key, Reply::error(400, "invalid_order", "too many notes"))]).await;
    let message =
        OrderCommand::Register { source: "s3://orders/incoming/big.xml".into(), order: Box::new(big.clone()) }
            .to_message();
    let pointer = claim_check::offload(&stack.reader.store, message).await.expect("offload").body;

    assert!(stack.run(vec![record("m1", &big.order_key, pointer.clone())]).await.is_empty());
    let parked = stack.parked().await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].body, pointer, "the pending queue gets the message as it came");
}

#[tokio::test]
async fn the_bundled_batch_event_is_delivered() {
    let path = repo_path("events/queue-reader-batch.json");
    let event: SqsEvent = serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("the event parses");
    assert!(event.records.len() >= 2);
    let mut stack = stack(vec![]).await;
    let response = handle(&stack.reader, event.clone(), Budget::unlimited()).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    assert_eq!(stack.api.received().len(), event.records.len());
}

// --- Secrets -------------------------------------------------------------------------------------

async fn secret_store() -> (aws_sdk_ssm::Client, aws_sdk_secretsmanager::Client, AwsSecretStore) {
    let sdk = sdk_config().await;
    (aws_sdk_ssm::Client::new(&sdk), aws_sdk_secretsmanager::Client::new(&sdk), AwsSecretStore::new(&sdk))
}

#[tokio::test]
async fn cached_secrets_read_ssm_parameters_and_secrets_manager_secrets() {
    let (ssm, secrets_manager, store) = secret_store().await;
    let name = format!("/{}/api-key", unique("orderflow"));
    put_parameter(&ssm, &name, "from-ssm").await;
    let secret_name = unique("orderflow-api-key");
    let arn = secrets_manager
        .create_secret()
        .name(&secret_name)
        .secret_string("from-secrets-manager")
        .send()
        .await
        .expect("create secret")
        .arn()
        .expect("secret arn")
        .to_owned();

    for (reference, expected) in [
        (format!("ssm:{name}"), "from-ssm"),
        (format!("arn:aws:ssm:us-west-2:123456789012:parameter{name}"), "from-ssm"),
        (format!("secretsmanager:{secret_name}"), "from-secrets-manager"),
        (arn, "from-secrets-manager"),
    ] {
        let reference: SecretRef = reference.parse().expect("a secret reference");
        let cached = CachedSecret::new(store.clone(), reference.clone());
        assert_eq!(cached.get().await.expect("read").expose(), expected, "{reference}");
    }
}

#[tokio::test]
async fn a_missing_secret_is_an_error_naming_the_reference() {
    let (_, _, store) = secret_store().await;
    let name = format!("/{}/absent", unique("orderflow"));
    let err = CachedSecret::new(store, SecretRef::Ssm(name.clone())).get().await.unwrap_err();
    assert!(err.to_string().contains(&name), "{err}");
    // And the kind of failure, not only the name: absent is refused again on retry.
    assert!(err.to_string().contains("ParameterNotFound"), "{err}");
    assert_eq!(err.retry(), Retry::Permanent, "{err}");
}

#[tokio::test]
async fn a_cached_secret_is_served_until_its_ttl_lapses() {
    let (ssm, _, store) = secret_store().await;
    let name = format!("/{}/api-key", unique("orderflow"));
    put_parameter(&ssm, &name, "v1").await;
    let cached = CachedSecret::new(store.clone(), SecretRef::Ssm(name.clone()));
    let uncached = CachedSecret::new(store, SecretRef::Ssm(name.clone())).with_ttl(Duration::ZERO);
    assert_eq!(cached.get().await.unwrap().expose(), "v1");
    assert_eq!(uncached.get().await.unwrap().expose(), "v1");

    put_parameter(&ssm, &name, "v2").await;
    assert_eq!(cached.get().await.unwrap().expose(), "v1", "served from the cache within the TTL");
    assert_eq!(uncached.get().await.unwrap().expose(), "v2", "a lapsed TTL reads the rotated value");
}
