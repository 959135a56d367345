//! The webhook bridge against moto (FIFO queues, the DynamoDB dedup table) and the fake
//! Business Central: signed webhooks in, one queued message per event, one ERP record per order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use orderflow_e2e::fake_erp::{self, FakeBc, Scripted};
use orderflow_e2e::{create_fifo, drain, local_runtime, repo_path, sdk_config, unique};
use orderflow_shared::adapters::aws::{DynamoReplayGuard, SqsFifoQueue, dynamodb_client, sqs_client};
use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, ManualClock, MemoryReplayGuard};
use orderflow_shared::apps::Runtime;
use orderflow_shared::batch::Budget;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::erp::{ErpConnector, ErpError, HttpConnector, PushOutcome, refund_reference};
use orderflow_shared::mapping::FileSource;
use orderflow_shared::order::CanonicalOrder;
use orderflow_shared::parking::attributes;
use orderflow_shared::ports::{Clock, FifoQueue};
use orderflow_shared::secrets::Secret;
use orderflow_shared::webhook::Refund;
use serde_json::{Value, json};
use webhook_bridge::worker::{self, Worker};
use webhook_bridge::{ErpSyncMessage, OffsetDateTime, Receiver, StaticKeys, sign};

const SHOPIFY_ORDER_ID: &str = "5792384213048";

type MotoReceiver = Receiver<Arc<Runtime>, StaticKeys, DynamoReplayGuard, SqsFifoQueue, SqsFifoQueue>;

struct Bridge {
    sqs: aws_sdk_sqs::Client,
    erp_sync_url: String,
    orders_url: String,
    receiver: MotoReceiver,
}

/// The local connections, as the receiver reads them.
pub(crate) fn apps() -> Arc<Runtime> {
    Arc::new(local_runtime(&[]))
}

pub(crate) fn local_secret(name: &str) -> String {
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    let secrets: HashMap<String, String> = serde_json::from_str(&text).unwrap();
    secrets[name].clone()
}

pub(crate) fn keys() -> StaticKeys {
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    StaticKeys::from_local_secrets(&serde_json::from_str(&text).unwrap())
}

async fn bridge() -> Bridge {
    let sdk = sdk_config().await;
    let sqs = sqs_client(&sdk);
    let erp_sync_url = create_fifo(&sqs, &unique("erp-sync"), &[]).await;
    let orders_url = create_fifo(&sqs, &unique("orders"), &[]).await;
    let dynamo = dynamodb_client(&sdk);
    let table = unique("webhook-dedup");
    orderflow_e2e::dynamo::create_keyed_table(&dynamo, &table).await;
    let receiver = Receiver {
        apps: apps(),
        keys: keys(),
        guard: DynamoReplayGuard::new(dynamo, table),
        erp_sync: SqsFifoQueue::new(sqs.clone(), &erp_sync_url),
        orders: SqsFifoQueue::new(sqs.clone(), &orders_url),
        retention: Duration::from_secs(72 * 3600),
    };
    Bridge { sqs, erp_sync_url, orders_url, receiver }
}

fn shopify_order_body() -> String {
    std::fs::read_to_string(repo_path("events/webhooks/shopify-order-created.json")).unwrap()
}

pub(crate) fn shopify_headers(body: &[u8], event_id: &str, topic: &str) -> Vec<(String, String)> {
    let signature = sign::body_base64(&local_secret("shopify"), body);
    [
        ("content-type", "application/json".to_owned()),
        ("X-Shopify-Topic", topic.to_owned()),
        ("X-Shopify-Hmac-Sha256", signature),
        ("X-Shopify-Event-Id", event_id.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub(crate) fn standard_headers(body: &[u8], id: &str, timestamp: i64) -> Vec<(String, String)> {
    let signature = sign::standard_webhooks(&local_secret("standard"), id, timestamp, body);
    vec![
        ("webhook-id".to_owned(), id.to_owned()),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        ("webhook-signature".to_owned(), signature),
    ]
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Bridge {
    async fn post(&self, source: &str, headers: &[(String, String)], body: &[u8]) -> (u16, Value) {
        let reply = self.receiver.receive(source, headers, body, now()).await;
        (reply.status.as_u16(), reply.body)
    }

    async fn nothing_queued(&self) {
        assert_eq!(drain(&self.sqs, &self.erp_sync_url).await, vec![]);
        assert_eq!(drain(&self.sqs, &self.orders_url).await, vec![]);
    }
}

#[tokio::test]
async fn a_signed_shopify_order_is_queued_for_the_erp_and_the_lifecycle_exactly_once() {
    let bridge = bridge().await;
    let body = shopify_order_body();
    let event_id = unique("evt");
    let headers = shopify_headers(body.as_bytes(), &event_id, "orders/create");

    let (status, answer) = bridge.post("shopify", &headers, body.as_bytes()).await;
    assert_eq!((status, answer), (202, json!({"status": "queued"})));

    let erp = drain(&bridge.sqs, &bridge.erp_sync_url).await;
    assert_eq!(erp.len(), 1, "{erp:?}");
    assert_eq!(erp[0].group_id, format!("shopify/{SHOPIFY_ORDER_ID}"));
    assert_eq!(erp[0].dedup_id, format!("webhook:shopify/order/{SHOPIFY_ORDER_ID}"));
    let ErpSyncMessage::Order { external_order_id, order, .. } = serde_json::from_str(&erp[0].body).unwrap() else {
        panic!("not an order: {}", erp[0].body)
    };
    assert_eq!(external_order_id, SHOPIFY_ORDER_ID);

    let orders = drain(&bridge.sqs, &bridge.orders_url).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    let OrderCommand::Register { source, order: registered } = serde_json::from_str(&orders[0].body).unwrap() else {
        panic!("not a register command: {}", orders[0].body)
    };
    assert_eq!(source, format!("webhook:shopify/order/{SHOPIFY_ORDER_ID}"), "from the body, not the event id");
    assert_eq!(registered, order);
    assert_eq!(orders[0].group_id, order.order_key.as_str());

    let (status, answer) = bridge.post("shopify", &headers, body.as_bytes()).await;
    assert_eq!((status, answer), (200, json!({"status": "duplicate"})));
    bridge.nothing_queued().await;
}

#[tokio::test]
async fn a_tampered_body_is_refused_with_401_and_nothing_is_queued() {
    let bridge = bridge().await;
    let body = shopify_order_body();
    let headers = shopify_headers(body.as_bytes(), &unique("evt"), "orders/create");
    let tampered = body.replace("\"52.84\"", "\"0.01\"");
    assert_ne!(tampered, body);
    let (status, answer) = bridge.post("shopify", &headers, tampered.as_bytes()).await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"]["code"], "bad_signature");
    bridge.nothing_queued().await;
}

#[tokio::test]
async fn an_oversized_badly_signed_body_is_refused_with_413_before_its_signature_is_checked() {
    let bridge = bridge().await;
    let limit = apps().webhook_sources.get("shopify").unwrap().max_body_bytes;
    let body = vec![b' '; limit + 1];
    let mut headers = shopify_headers(b"something else", &unique("evt"), "orders/create");
    headers.retain(|(k, _)| k != "X-Shopify-Hmac-Sha256");
    headers.push(("X-Shopify-Hmac-Sha256".into(), "bm90IGEgc2lnbmF0dXJl".into()));
    let (status, answer) = bridge.post("shopify", &headers, &body).await;
    assert_eq!(status, 413);
    assert_eq!(answer["error"]["code"], "body_too_large");
    bridge.nothing_queued().await;
}

#[tokio::test]
async fn an_unknown_source_is_404() {
    let bridge = bridge().await;
    let body = shopify_order_body();
    let headers = shopify_headers(body.as_bytes(), &unique("evt"), "orders/create");
    let (status, answer) = bridge.post("magento", &headers, body.as_bytes()).await;
    assert_eq!(status, 404);
    assert_eq!(answer["error"]["code"], "unknown_source");
}

#[tokio::test]
async fn an_unhandled_topic_is_acknowledged_as_ignored() {
    let bridge = bridge().await;
    let body = br#"{"id": 42, "title": "Tee"}"#;
    let headers = shopify_headers(body, &unique("evt"), "products/update");
    let (status, answer) = bridge.post("shopify", &headers, body).await;
    assert_eq!((status, answer), (200, json!({"status": "ignored"})));
    bridge.nothing_queued().await;
}

#[tokio::test]
async fn a_validly_signed_payload_that_cannot_be_mapped_is_400() {
    let bridge = bridge().await;
    let body = br#"{"id": 42}"#;
    let headers = shopify_headers(body, &unique("evt"), "orders/create");
    let (status, answer) = bridge.post("shopify", &headers, body).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]["code"].is_string(), "{answer}");
    bridge.nothing_queued().await;
}

#[tokio::test]
async fn a_standard_webhook_with_an_old_timestamp_is_401() {
    let bridge = bridge().await;
    let body = std::fs::read_to_string(repo_path("events/webhooks/standard-order-created.json")).unwrap();
    let old = now().unix_timestamp() - 3600;
    let headers = standard_headers(body.as_bytes(), &unique("msg"), old);
    let (status, answer) = bridge.post("standard", &headers, body.as_bytes()).await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"]["code"], "timestamp_out_of_tolerance");
    bridge.nothing_queued().await;
}

#[tokio::test]
async fn a_failed_send_releases_the_claim_so_the_retry_is_processed() {
    let apps = apps();
    let orders = Arc::new(EmbeddedFifoQueue::new("orders"));
    let erp_sync = Arc::new(EmbeddedFifoQueue::new("erp-sync"));
    let body = shopify_order_body();
    let headers = shopify_headers(body.as_bytes(), "evt-retry", "orders/create");
    let guard = Arc::new(MemoryReplayGuard::new());
    let broken = Receiver {
        apps: apps.clone(),
        keys: keys(),
        guard: guard.clone(),
        erp_sync: erp_sync.clone(),
        orders: Broken,
        retention: Duration::from_secs(3600),
    };
    let reply = broken.receive("shopify", &headers, body.as_bytes(), now()).await;
    assert_eq!(reply.status.as_u16(), 503, "{}", reply.body);
    let working = Receiver {
        apps,
        keys: keys(),
        guard,
        erp_sync: erp_sync.clone(),
        orders: orders.clone(),
        retention: Duration::from_secs(3600),
    };
    let reply = working.receive("shopify", &headers, body.as_bytes(), now()).await;
    assert_eq!(reply.status.as_u16(), 202, "{}", reply.body);
    // The first attempt's erp-sync message and the retry's share a dedup id: one message.
    assert_eq!(erp_sync.receive(10).await.unwrap().len(), 1);
    assert_eq!(orders.receive(10).await.unwrap().len(), 1);
}

/// A queue that is down.
struct Broken;

impl FifoQueue for Broken {
    async fn send(
        &self,
        _: orderflow_shared::ports::OutgoingMessage,
    ) -> Result<String, orderflow_shared::error::PortError> {
        Err(orderflow_shared::error::PortError::transient("sqs:SendMessage", "unavailable"))
    }
    async fn receive(
        &self,
        _: usize,
    ) -> Result<Vec<orderflow_shared::ports::ReceivedMessage>, orderflow_shared::error::PortError> {
        Ok(vec![])
    }
    async fn delete(&self, _: &str) -> Result<(), orderflow_shared::error::PortError> {
        Ok(())
    }
    async fn release(&self, _: &str) -> Result<(), orderflow_shared::error::PortError> {
        Ok(())
    }
}

#[tokio::test]
async fn the_sample_events_pass_through_receiver_and_worker_and_stay_in_step() {
    let apps = apps();
    let erp_sync = Arc::new(EmbeddedFifoQueue::new("erp-sync"));
    let receiver = Receiver {
        apps,
        keys: keys(),
        guard: MemoryReplayGuard::new(),
        erp_sync: erp_sync.clone(),
        orders: EmbeddedFifoQueue::new("orders"),
        retention: Duration::from_secs(3600),
    };
    let event = std::fs::read_to_string(repo_path("events/webhook-bridge-shopify-order-created.json")).unwrap();
    let request = lambda_http::request::from_str(&event).expect("a REST proxy event");
    let response = webhook_bridge::handle(&receiver, request).await.unwrap();
    let (status, answer) = orderflow_e2e::apigw::parts(response);
    assert_eq!((status, answer), (202, json!({"status": "queued"})));
    let queued = erp_sync.receive(10).await.unwrap();
    assert_eq!(queued.len(), 1);

    let path = repo_path("events/erp-sync-worker-batch.json");
    if std::env::var_os("REGENERATE_EVENTS").is_some() {
        let batch = sqs_event(&[("059f36b4-87a3-44ab-83d2-661975830a7d", &queued[0].group_id, &queued[0].body)]);
        let text = serde_json::to_string_pretty(&batch).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    let batch: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(batch.records[0].body.as_deref(), Some(queued[0].body.as_str()));
    let message: ErpSyncMessage = serde_json::from_str(&queued[0].body).unwrap();
    assert!(matches!(message, ErpSyncMessage::Order { .. }));
}

/// An SQS FIFO event from (message id, group, body) triples.
fn sqs_event(records: &[(&str, &str, &str)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, (id, group, body))| {
            json!({
                "messageId": id,
                "receiptHandle": format!("AQEB-receipt-{i}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1773494801000",
                    "SequenceNumber": format!("1880000000000000000{i}"),
                    "MessageGroupId": group,
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "MessageDeduplicationId": format!("dedup-{i}"),
                    "ApproximateFirstReceiveTimestamp": "1773494801010"
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:orderflow-dev-erp-sync.fifo",
                "awsRegion": "us-west-2"
            })
        })
        .collect();
    json!({ "Records": records })
}

pub(crate) fn sqs_records(records: &[(&str, &str, &str)]) -> SqsEvent {
    serde_json::from_value(sqs_event(records)).unwrap()
}

// ---- the worker, against the fake Business Central ----

pub(crate) struct Erp {
    pub(crate) fake: FakeBc,
    pub(crate) worker: Worker<HttpConnector<FileSource>, SqsFifoQueue>,
    sqs: aws_sdk_sqs::Client,
    dlq_url: String,
    clock: ManualClock,
}

pub(crate) async fn erp() -> Erp {
    let clock = ManualClock::new(1_772_409_600_000);
    let fake = FakeBc::start(clock.clone()).await;
    let origin = fake.token_url().trim_end_matches("/token").to_owned();
    let mut connectors = local_runtime(&[("http://127.0.0.1:18080", &origin)]).connectors;
    let config = connectors.connectors.remove("business-central").unwrap();
    let secrets: HashMap<String, Secret> =
        [("local:bc-client-secret".to_owned(), Secret::new(fake_erp::BC_CLIENT_SECRET))].into();
    let mapping = FileSource::new(repo_path("config/mappings/business-central.json"));
    let connector =
        HttpConnector::new("business-central", &config, &secrets, mapping, Arc::new(clock.clone())).unwrap();
    let sqs = sqs_client(&sdk_config().await);
    let dlq_url = create_fifo(&sqs, &unique("erp-dlq"), &[]).await;
    let dlq = SqsFifoQueue::new(sqs.clone(), &dlq_url);
    Erp { fake, worker: Worker { connector, dlq }, sqs, dlq_url, clock }
}

/// A signed Standard Webhooks order whose items the fake ERP knows.
fn standard_order(order_number: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(repo_path("events/webhooks/standard-order-created.json")).unwrap();
    text.replace("CAF-GRANO-1KG", fake_erp::KNOWN_ITEMS[0])
        .replace("FILT-102", fake_erp::KNOWN_ITEMS[1])
        .replace("SO-2026-0042", order_number)
        .replace("ord_01HQ7Z4K2M9V8T6R5P3N1B0C", &format!("ord_{order_number}"))
        .into_bytes()
}

/// The erp-sync message the receiver queues for `body`, without a queue in between.
async fn erp_sync_body(body: &[u8]) -> (String, String) {
    let apps = apps();
    let erp_sync = Arc::new(EmbeddedFifoQueue::new("erp-sync"));
    let receiver = Receiver {
        apps,
        keys: keys(),
        guard: MemoryReplayGuard::new(),
        erp_sync: erp_sync.clone(),
        orders: EmbeddedFifoQueue::new("orders"),
        retention: Duration::from_secs(3600),
    };
    let id = unique("msg");
    let headers = standard_headers(body, &id, now().unix_timestamp());
    let reply = receiver.receive("standard", &headers, body, now()).await;
    assert_eq!(reply.status.as_u16(), 202, "{}", reply.body);
    let queued = erp_sync.receive(1).await.unwrap().remove(0);
    (queued.group_id, queued.body)
}

#[tokio::test]
async fn the_worker_fails_the_record_on_an_erp_5xx_so_sqs_retries_it() {
    let erp = erp().await;
    let (group, body) = erp_sync_body(&standard_order(&unique("SO"))).await;
    erp.fake.script(Scripted::Reply(503, json!({"error": {"code": "Unavailable", "message": "busy"}})));
    let response = worker::handle(&erp.worker, sqs_records(&[("m-1", &group, &body)]), Budget::unlimited()).await;
    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, ["m-1"]);
    assert!(erp.fake.orders().is_empty());
    assert!(drain(&erp.sqs, &erp.dlq_url).await.is_empty());
}

#[tokio::test]
async fn the_worker_parks_a_business_refusal_in_the_erp_dlq_with_the_answer_attached() {
    let erp = erp().await;
    let body = String::from_utf8(standard_order(&unique("SO"))).unwrap().replace(fake_erp::KNOWN_ITEMS[1], "NOPE-404");
    let (group, message) = erp_sync_body(body.as_bytes()).await;
    let response = worker::handle(&erp.worker, sqs_records(&[("m-2", &group, &message)]), Budget::unlimited()).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(erp.fake.orders().is_empty());

    let received = erp
        .sqs
        .receive_message()
        .queue_url(&erp.dlq_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let parked = received.messages();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].body(), Some(message.as_str()));
    let attribute = |name: &str| {
        parked[0]
            .message_attributes()
            .and_then(|a| a.get(name))
            .and_then(|v| v.string_value())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(attribute(attributes::STATUS).starts_with('4'), "{}", attribute(attributes::STATUS));
    assert!(!attribute(attributes::ERROR).is_empty());
    let answer = attribute(attributes::ERP_ANSWER);
    assert!(answer.contains("NOPE-404"), "{answer}");
}

#[tokio::test]
async fn a_signed_webhook_reaches_the_erp_as_exactly_one_record_even_when_delivered_twice() {
    let bridge = bridge().await;
    let erp = erp().await;
    let number = unique("SO");
    let body = standard_order(&number);
    let headers = standard_headers(&body, &unique("msg"), now().unix_timestamp());
    assert_eq!(bridge.post("standard", &headers, &body).await.0, 202);
    assert_eq!(bridge.post("standard", &headers, &body).await.0, 200);

    let queued = drain(&bridge.sqs, &bridge.erp_sync_url).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].dedup_id, format!("webhook:standard/order/ord_{number}"));
    let (group, message) = (&queued[0].group_id, &queued[0].body);
    // SQS delivers at least once: the same message twice, in two batches.
    for attempt in ["m-a", "m-b"] {
        let response =
            worker::handle(&erp.worker, sqs_records(&[(attempt, group, message)]), Budget::unlimited()).await;
        assert!(response.batch_item_failures.is_empty(), "{attempt}");
    }
    assert_eq!(erp.fake.orders().len(), 1, "{:?}", erp.fake.orders());
}

#[tokio::test]
async fn a_refund_reaches_the_erp_as_one_credit_memo_even_when_delivered_twice() {
    let erp = erp().await;
    let refund = orderflow_shared::webhook::Refund {
        order_key: None,
        external_order_id: "5792384213048".into(),
        refund_id: "929361462584".into(),
        amount: orderflow_shared::order::Decimal::parse("19.90").unwrap(),
        currency: "CLP".into(),
        reason: Some("damaged".into()),
    };
    let message = serde_json::to_string(&webhook_bridge::message::ErpSyncMessage::Refund {
        source: "webhook:shopify/evt-1".into(),
        refund,
    })
    .unwrap();
    for attempt in ["m-3", "m-4"] {
        let response =
            worker::handle(&erp.worker, sqs_records(&[(attempt, "5792384213048", &message)]), Budget::unlimited())
                .await;
        assert!(response.batch_item_failures.is_empty(), "{attempt}");
    }
    let memos = erp.fake.credit_memos();
    assert_eq!(memos.len(), 1, "{memos:?}");
    assert_eq!(memos[0]["externalDocumentNumber"], refund_reference("webhook:shopify/evt-1").as_str());
    assert!(erp.fake.orders().is_empty());
    assert!(drain(&erp.sqs, &erp.dlq_url).await.is_empty(), "nothing parked");
}

// ---- the worker against the clock ----

/// An ERP that takes `per_push` of the clock over every push, as a slow one does.
struct Slow<C> {
    inner: C,
    clock: ManualClock,
    per_push: Duration,
}

impl<C: ErpConnector> ErpConnector for Slow<C> {
    async fn push(&self, order: &CanonicalOrder) -> Result<PushOutcome, ErpError> {
        self.clock.advance(self.per_push);
        self.inner.push(order).await
    }

    async fn refund(&self, refund: &Refund, reference: &str) -> Result<PushOutcome, ErpError> {
        self.clock.advance(self.per_push);
        self.inner.refund(refund, reference).await
    }
}

#[tokio::test]
async fn a_batch_against_a_slow_erp_stops_in_time_and_its_untouched_records_come_back_once() {
    let Erp { fake, worker, clock, .. } = erp().await;
    let slow = Worker {
        connector: Slow { inner: worker.connector, clock: clock.clone(), per_push: Duration::from_secs(6) },
        dlq: worker.dlq,
    };
    let mut messages = Vec::new();
    for _ in 0..10 {
        messages.push(erp_sync_body(&standard_order(&unique("SO"))).await);
    }
    let records: Vec<(String, String, String)> =
        messages.iter().enumerate().map(|(i, (group, body))| (format!("m-{i}"), group.clone(), body.clone())).collect();
    let triples: Vec<(&str, &str, &str)> =
        records.iter().map(|(i, g, b)| (i.as_str(), g.as_str(), b.as_str())).collect();

    // 60 s left; one record may take 20 s (three ERP calls at 5 s, a parking send at 5 s).
    let per_record = worker::worst_case_per_record(Duration::from_secs(5), Duration::from_secs(5));
    assert_eq!(per_record, Duration::from_secs(20));
    let deadline = clock.now_ms() + 60_000;
    let response = worker::handle(&slow, sqs_records(&triples), Budget::new(&clock, deadline, per_record)).await;
    let deferred: Vec<String> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    // Records start at 0, 6, … 36 s; at 42 s, 20 more would pass the deadline.
    assert_eq!(deferred, ["m-7", "m-8", "m-9"]);
    assert!(clock.now_ms() <= deadline, "the invocation ended before its deadline");
    assert_eq!(fake.orders().len(), 7, "a deferred record was not pushed");

    // SQS delivers the deferred records again, to a fresh invocation.
    let again: Vec<(&str, &str, &str)> =
        triples.iter().copied().filter(|(id, _, _)| deferred.iter().any(|d| d == id)).collect();
    let deadline = clock.now_ms() + 60_000;
    let response = worker::handle(&slow, sqs_records(&again), Budget::new(&clock, deadline, per_record)).await;
    assert!(response.batch_item_failures.is_empty());
    let mut numbers: Vec<String> = fake.orders().iter().map(|o| o["externalDocumentNumber"].to_string()).collect();
    assert_eq!(numbers.len(), 10, "every order once");
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 10, "none twice");
}

#[tokio::test]
async fn a_refused_replay_claim_is_answered_from_the_refusal_without_a_read() {
    use orderflow_e2e::chaos::aws::AwsChaosProxy;
    use orderflow_shared::ports::{Claim, ReplayGuard};

    let proxy = AwsChaosProxy::recording(&orderflow_e2e::moto_endpoint()).await;
    let dynamo = dynamodb_client(&orderflow_e2e::sdk_config_via(proxy.url()).await);
    let table = unique("webhook-dedup");
    orderflow_e2e::dynamo::create_keyed_table(&dynamo, &table).await;
    let guard = DynamoReplayGuard::new(dynamo, table);
    let (now, expires) = (OffsetDateTime::now_utc().unix_timestamp(), i64::MAX / 2);
    assert_eq!(guard.claim("shopify#order/1", now, expires).await.unwrap(), Claim::Claimed);
    proxy.take_exchanges();
    assert_eq!(guard.claim("shopify#order/1", now, expires).await.unwrap(), Claim::InProgress);
    guard.complete("shopify#order/1").await.unwrap();
    assert_eq!(guard.claim("shopify#order/1", now, expires).await.unwrap(), Claim::Duplicate);
    let calls: Vec<String> = proxy.take_exchanges().into_iter().filter_map(|call| call.target).collect();
    let calls: Vec<&str> = calls.iter().map(|target| target.trim_start_matches("DynamoDB_20120810.")).collect();
    assert_eq!(calls, ["PutItem", "UpdateItem", "PutItem"], "no GetItem after a refused claim");
}
