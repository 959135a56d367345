//! Hostile requests, table-driven, each with its exact answer: JSON bodies against the Orders
//! API (state router) and the error API, and every way a webhook can fail verification against
//! the receiver. A refused request stores nothing and queues nothing; a refused webhook holds
//! no replay claim, so the same event correctly signed is accepted afterwards.

use std::sync::Arc;
use std::time::Duration;

use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt};
use orderflow_cli::orders_queue::OrdersQueueRoute;
use orderflow_cli::pipeline::{Pipeline, Time};
use orderflow_e2e::apigw::parts;
use orderflow_e2e::sample_order;
use orderflow_shared::adapters::embedded::MemoryReplayGuard;
use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, EmbeddedOrderStore, EmbeddedRecovery};
use orderflow_shared::apps::Runtime;
use orderflow_shared::dte::SimulatedDteProvider;
use orderflow_shared::order::CanonicalOrder;
use orderflow_shared::order_service::OrderService;
use orderflow_shared::ports::{FifoQueue, OrderStore};
use serde_json::{Value, json};
use webhook_bridge::{OffsetDateTime, Receiver, StaticKeys};

use crate::stack::{local_apps, webhook_keys};
use crate::workload::{self, Webhook};

/// One request may take this long; a hang fails the test.
const CASE_TIMEOUT: Duration = Duration::from_secs(30);

type Service = OrderService<Arc<EmbeddedOrderStore>, Arc<EmbeddedFifoQueue>, SimulatedDteProvider, EmbeddedRecovery>;

fn service() -> Service {
    OrderService {
        store: Arc::new(EmbeddedOrderStore::new()),
        queue: Arc::new(EmbeddedFifoQueue::new("orders.fifo")),
        dte: SimulatedDteProvider::default(),
        recovery: EmbeddedRecovery::new().unwrap(),
    }
}

fn request(method: Method, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Request {
    let mut builder = lambda_http::http::Request::builder().method(method).uri(path);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Body::Binary(body)).unwrap().with_raw_http_path(path)
}

/// The sample order as JSON with one change applied.
fn order_with(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value = serde_json::to_value(sample_order()).unwrap();
    change(&mut value);
    value.to_string().into_bytes()
}

/// A JSON case: body, content type, then the status, error code and a text the message must
/// contain (naming the field, when there is one).
struct JsonCase {
    name: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    names: &'static str,
}

fn case(name: &'static str, body: Vec<u8>, status: u16, code: &'static str, names: &'static str) -> JsonCase {
    JsonCase { name, content_type: Some("application/json"), body, status, code, names }
}

fn deep_json(depth: usize) -> Vec<u8> {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

fn order_cases() -> Vec<JsonCase> {
    let valid = order_with(|_| {});
    let mut trailing = valid.clone();
    trailing.extend_from_slice(b" {}");
    let duplicate_key =
        String::from_utf8(valid.clone()).unwrap().replacen("{", "{\"currency\":\"USD\",", 1).into_bytes();
    let over = lambda_body_limit(state_router::api::MAX_BODY_BYTES);
    vec![
        case(
            "order number as a number",
            order_with(|v| v["order_number"] = json!(417)),
            400,
            "invalid_body",
            "order_number",
        ),
        case("lines as an object", order_with(|v| v["lines"] = json!({"1": {}})), 400, "invalid_body", "lines"),
        case(
            "payable as a float",
            order_with(|v| v["totals"]["payable"] = json!(12.5)),
            400,
            "invalid_body",
            "totals.payable:",
        ),
        case(
            "quantity as words",
            order_with(|v| v["lines"][0]["quantity"] = json!("four")),
            400,
            "invalid_body",
            "lines[0].quantity",
        ),
        case("unknown top-level field", order_with(|v| v["colour"] = json!("blue")), 400, "invalid_body", "colour"),
        case(
            "unknown line field",
            order_with(|v| v["lines"][0]["discount"] = json!("1")),
            400,
            "invalid_body",
            "discount",
        ),
        case(
            "missing totals",
            order_with(|v| drop(v.as_object_mut().unwrap().remove("totals"))),
            400,
            "invalid_body",
            "totals",
        ),
        case("a field given twice", duplicate_key, 400, "invalid_body", "duplicate field"),
        case("truncated JSON", b"{\"order_number\": ".to_vec(), 400, "invalid_body", ""),
        case("trailing garbage", trailing, 400, "invalid_body", "trailing"),
        case("an array", b"[]".to_vec(), 400, "invalid_body", ""),
        case("the fields as an array, in order", fields_in_order(), 400, "invalid_body", "expected a JSON object"),
        case("null", b"null".to_vec(), 400, "invalid_body", ""),
        case("empty body", Vec::new(), 400, "invalid_body", ""),
        // Refused at the first bracket, where an object is due: depth never builds up.
        case("100 000 nested arrays", deep_json(100_000), 400, "invalid_body", "expected"),
        case("invalid UTF-8", b"{\"order_number\": \"\xff\"}".to_vec(), 400, "invalid_body", ""),
        case(
            "forged order key",
            order_with(|v| v["order_number"] = json!("PO-OTHER")),
            400,
            "invalid_order",
            "order_key",
        ),
        case("zero quantity", order_with(|v| v["lines"][0]["quantity"] = json!("0")), 400, "invalid_order", "quantity"),
        case("one byte over the limit", over, 413, "body_too_large", "limit"),
        JsonCase {
            content_type: Some("text/plain"),
            ..case("text/plain", valid.clone(), 415, "unsupported_media_type", "text/plain")
        },
        JsonCase {
            content_type: Some("application/xml"),
            ..case("XML content type", valid.clone(), 415, "unsupported_media_type", "xml")
        },
        JsonCase { content_type: None, ..case("no content type", valid, 415, "unsupported_media_type", "") },
    ]
}

/// The sample's field values as a JSON array, in the order of the struct's fields: what serde
/// would read as the struct if nothing refused it.
fn fields_in_order() -> Vec<u8> {
    let o = sample_order();
    let fields = json!([
        o.order_key,
        o.order_number,
        o.issue_date,
        o.currency,
        o.language,
        o.note,
        o.origin,
        o.buyer,
        o.seller,
        o.delivery,
        o.lines,
        o.totals
    ]);
    // The control: serde itself takes this array as the order.
    assert_eq!(serde_json::from_value::<CanonicalOrder>(fields.clone()).unwrap(), o);
    fields.to_string().into_bytes()
}

/// A JSON string body exactly one byte longer than `limit`.
fn lambda_body_limit(limit: usize) -> Vec<u8> {
    let mut body = br#"{"note":""#.to_vec();
    body.resize(limit - 1, b'x');
    body.extend_from_slice(b"\"}");
    assert_eq!(body.len(), limit + 1);
    body
}

async fn answer(service: &Service, path: &str, case: &JsonCase) -> (u16, Value) {
    let req = request(Method::POST, path, case.content_type, case.body.clone());
    let handled = async {
        match path {
            "/errors" => error_handler::api::handle(service, req).await,
            _ => state_router::handle(service, req).await.expect("the router answers"),
        }
    };
    let resp = tokio::time::timeout(CASE_TIMEOUT, handled).await.unwrap_or_else(|_| panic!("{}: no answer", case.name));
    parts(resp)
}

fn check(path: &str, case: &JsonCase, (status, body): (u16, Value)) {
    let name = case.name;
    assert_eq!((status, body["error"]["code"].as_str()), (case.status, Some(case.code)), "{path} {name}: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(case.names), "{path} {name}: {message:?} should name {:?}", case.names);
    assert!(message.len() < 1024, "{path} {name}: the message quotes at most an excerpt ({} bytes)", message.len());
}

#[tokio::test]
async fn every_hostile_order_body_gets_its_status_and_code_and_stores_nothing() {
    let service = service();
    let cases = order_cases();
    for case in &cases {
        check("/orders", case, answer(&service, "/orders", case).await);
    }
    assert!(service.store.stats().await.unwrap().iter().all(|s| s.count == 0), "nothing stored");
    assert!(service.queue.is_empty(), "nothing queued");
    // The control: the same sample, well formed, is accepted.
    let valid = case("valid", order_with(|_| {}), 201, "", "");
    let (status, _) = answer(&service, "/orders", &valid).await;
    assert_eq!(status, 201);
}

async fn post(service: &Service, path: &str, body: Vec<u8>) -> (u16, Value) {
    let req = request(Method::POST, path, Some("application/json"), body);
    parts(state_router::handle(service, req).await.expect("the router answers"))
}

/// A late copy of a stage command the order has already passed (a redelivery after the
/// order moved on) is a duplicate: 200, nothing changes, nothing is queued, so the queue
/// reader does not park it. A transition the order never made is still a 409.
#[tokio::test]
async fn a_late_duplicate_stage_command_is_a_duplicate_and_an_illegal_one_a_409() {
    let service = service();
    let key = sample_order().order_key;
    assert_eq!(post(&service, "/orders", order_with(|_| {})).await.0, 201);
    for stage in ["issuance-dte", "broadcast-dte"] {
        assert_eq!(post(&service, &format!("/orders/{key}/{stage}"), Vec::new()).await.0, 200, "{stage}");
    }
    let record = service.store.get(&key).await.unwrap().unwrap();
    assert_eq!(record.state.as_str(), "broadcast_dte");
    while !service.queue.is_empty() {
        let received = service.queue.receive(10).await.unwrap();
        for message in received {
            service.queue.delete(&message.receipt_handle).await.unwrap();
        }
    }

    let (status, body) = post(&service, &format!("/orders/{key}/issuance-dte"), Vec::new()).await;
    assert_eq!((status, &body["duplicate"]), (200, &json!(true)), "{body}");
    let after = service.store.get(&key).await.unwrap().unwrap();
    assert_eq!((after.version, after.state), (record.version, record.state), "nothing changed");
    assert!(service.queue.is_empty(), "nothing queued again");

    let (status, body) = post(&service, &format!("/orders/{key}/deliver"), Vec::new()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("illegal_transition")), "{body}");
}

/// A source header that decodes to control characters would forge lines in the order's
/// history: refused, nothing stored. The same order with a plain source is taken.
#[tokio::test]
async fn a_source_header_with_control_characters_is_refused() {
    let service = service();
    for forged in ["s3://b/a.xml%0A2026-01-01 forged line", "api%1B[2J", "x%00y"] {
        let mut req = request(Method::POST, "/orders", Some("application/json"), order_with(|_| {}));
        req.headers_mut().insert("x-orderflow-source", forged.parse().unwrap());
        let (status, body) = parts(state_router::handle(&service, req).await.expect("the router answers"));
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_header")), "{forged}: {body}");
    }
    assert!(service.store.stats().await.unwrap().iter().all(|s| s.count == 0), "nothing stored");
    let mut req = request(Method::POST, "/orders", Some("application/json"), order_with(|_| {}));
    req.headers_mut().insert("x-orderflow-source", "s3://b/incoming/a%20b.xml".parse().unwrap());
    assert_eq!(parts(state_router::handle(&service, req).await.unwrap()).0, 201);
}

/// The same hostile bodies on `POST /orders/queue`, API Gateway's validator and SQS as
/// `orderflow serve` plays them. Each is refused before anything is queued, except three: a
/// request without a Content-Type, which API Gateway takes as JSON (a valid order), and the two
/// malformed orders a model cannot see (a JSON parser keeps the last of two equal keys, API
/// Gateway's too; an order key is a hash). Those are queued; the queue reader parks the first
/// (not a command, to its strict parser) and the Orders API refuses the second, which is
/// parked with that answer. The valid one is registered.
#[tokio::test]
async fn every_hostile_order_body_is_refused_by_the_queue_route_or_parked_after_it() {
    let dir = orderflow_shared::test_dir::TestDir::new("hostile-queue");
    let pipeline = Pipeline::new(&dir, Time::Real);
    let route = OrdersQueueRoute::default();
    let cases = order_cases();
    assert!(!cases.is_empty());
    let past_the_model = ["no content type", "a field given twice", "forged order key"];
    for (i, case) in cases.iter().enumerate() {
        let mut req = request(Method::POST, "/orders/queue", case.content_type, case.body.clone());
        req.headers_mut().insert("idempotency-key", format!("hostile-{i}").parse().unwrap());
        let (status, body) = parts(route.handle(&*pipeline.orders, &req, "hostile").await);
        if past_the_model.contains(&case.name) {
            assert_eq!(status, 202, "{}: {body}", case.name);
        } else {
            let code = body["error"]["code"].as_str();
            assert!(
                matches!((status, code), (400, Some("invalid_body")) | (415, Some("unsupported_media_type"))),
                "{}: {status} {body}",
                case.name
            );
        }
    }
    assert_eq!(pipeline.orders.len(), past_the_model.len(), "only those were queued");

    pipeline.drain().await.unwrap();
    let parked: Vec<String> = pipeline
        .pending
        .peek_all()
        .iter()
        .flat_map(|m| {
            m.attributes
                .iter()
                .filter(|(k, _)| k == orderflow_shared::parking::attributes::ERROR)
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(parked.len(), 2, "the field given twice and the forged key are parked: {parked:?}");
    assert!(parked[0].starts_with("not_a_command: duplicate field `currency`"), "{parked:?}");
    assert!(parked[1].starts_with("invalid_order: "), "{parked:?}");
    let stats = pipeline.store.stats().await.unwrap();
    assert_eq!(stats.iter().map(|s| s.count).sum::<u64>(), 1, "the valid order is registered: {stats:?}");
}

fn error_report(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let key = sample_order().order_key;
    let mut report = json!({"order_key": key, "stage": "broadcast_dte", "code": "timeout", "message": "m",
                            "retryable": true, "attempt": 1});
    change(&mut report);
    report.to_string().into_bytes()
}

#[tokio::test]
async fn every_hostile_error_report_gets_its_status_and_code_and_changes_nothing() {
    let service = service();
    let over = lambda_body_limit(error_handler::api::MAX_BODY_BYTES);
    let cases = [
        case("truncated JSON", b"{".to_vec(), 400, "invalid_body", ""),
        case("empty object", b"{}".to_vec(), 400, "invalid_body", "missing field"),
        case("unknown field", error_report(|r| r["colour"] = json!("blue")), 400, "invalid_body", "colour"),
        case("unknown stage", error_report(|r| r["stage"] = json!("shipping")), 400, "invalid_body", "shipping"),
        case("bad order key", error_report(|r| r["order_key"] = json!("not a key")), 400, "invalid_body", ""),
        case("attempt as text", error_report(|r| r["attempt"] = json!("one")), 400, "invalid_body", "invalid type"),
        case(
            "retryable as a string",
            error_report(|r| r["retryable"] = json!("yes")),
            400,
            "invalid_body",
            "invalid type",
        ),
        case("20 000 nested arrays", deep_json(20_000), 400, "invalid_body", "expected"),
        case("one byte over the limit", over, 413, "body_too_large", "limit"),
        JsonCase {
            content_type: Some("text/plain"),
            ..case("text/plain", error_report(|_| {}), 415, "unsupported_media_type", "")
        },
        // Well formed, about an order that does not exist: refused without creating one.
        case("unknown order", error_report(|_| {}), 404, "not_found", "does not exist"),
    ];
    for case in &cases {
        check("/errors", case, answer(&service, "/errors", case).await);
    }
    assert!(service.store.stats().await.unwrap().iter().all(|s| s.count == 0), "nothing stored");
}

// ---- webhooks ----

struct Bridge {
    receiver: Receiver<Arc<Runtime>, StaticKeys, MemoryReplayGuard, Arc<EmbeddedFifoQueue>, Arc<EmbeddedFifoQueue>>,
    erp_sync: Arc<EmbeddedFifoQueue>,
    orders: Arc<EmbeddedFifoQueue>,
}

fn bridge() -> Bridge {
    let (erp_sync, orders) = (Arc::new(EmbeddedFifoQueue::new("erp-sync")), Arc::new(EmbeddedFifoQueue::new("orders")));
    let receiver = Receiver {
        apps: local_apps(),
        keys: webhook_keys(),
        guard: MemoryReplayGuard::new(),
        erp_sync: erp_sync.clone(),
        orders: orders.clone(),
        retention: Duration::from_secs(3600),
    };
    Bridge { receiver, erp_sync, orders }
}

const NOW: i64 = 1_780_000_000;

/// How a case spoils a correctly signed delivery.
enum Spoil {
    Drop(&'static str),
    Set(&'static str, &'static str),
    /// Replaces the value of the header with what the function makes of it.
    Edit(&'static str, fn(&str) -> String),
    /// Signed at this offset from now.
    SignedAt(i64),
    /// Signed over these bytes, sent with the original body.
    SignedOver(&'static [u8]),
    /// Signed with a secret that is not the source's.
    SignedWith(&'static str),
}

struct WebhookCase {
    source: &'static str,
    spoil: Spoil,
    status: u16,
    code: &'static str,
}

fn w(source: &'static str, spoil: Spoil, status: u16, code: &'static str) -> WebhookCase {
    WebhookCase { source, spoil, status, code }
}

fn half(value: &str) -> String {
    value[..value.len() / 2].to_owned()
}

fn webhook_cases() -> Vec<WebhookCase> {
    use Spoil::*;
    vec![
        w("standard", Drop("webhook-id"), 401, "missing_header"),
        w("standard", Drop("webhook-timestamp"), 401, "missing_header"),
        w("standard", Drop("webhook-signature"), 401, "missing_header"),
        w("standard", Set("webhook-signature", "v1,not*base64"), 401, "malformed_signature"),
        w("standard", Set("webhook-signature", "nonsense"), 401, "malformed_signature"),
        w("standard", Set("webhook-signature", "v2,c2lnbmF0dXJl"), 401, "no_supported_signature"),
        w("standard", Edit("webhook-signature", half), 401, "bad_signature"),
        w("standard", Set("webhook-timestamp", "yesterday"), 401, "malformed_timestamp"),
        w("standard", SignedAt(-301), 401, "timestamp_out_of_tolerance"),
        w("standard", SignedAt(301), 401, "timestamp_out_of_tolerance"),
        w("standard", SignedOver(b"{\"type\":\"order.created\"}"), 401, "bad_signature"),
        w("standard", SignedWith("whsec_c29tZW9uZS1lbHNl"), 401, "bad_signature"),
        w("standard", Set("webhook-id", "msg_someone_else"), 401, "bad_signature"),
        w("shopify", Drop("X-Shopify-Hmac-Sha256"), 401, "missing_header"),
        w("shopify", Set("X-Shopify-Hmac-Sha256", "%%%"), 401, "malformed_signature"),
        w("shopify", Edit("X-Shopify-Hmac-Sha256", |v| format!("{}AAAA", &v[..v.len() - 4])), 401, "bad_signature"),
        w("shopify", SignedOver(b"{}"), 401, "bad_signature"),
        w("shopify", SignedWith("local-dev-only-woocommerce-secret"), 401, "bad_signature"),
        w("shopify", Drop("X-Shopify-Event-Id"), 401, "missing_dedup_id"),
        w("shopify", Drop("X-Shopify-Topic"), 401, "missing_header"),
        w("woocommerce", Drop("X-WC-Webhook-Signature"), 401, "missing_header"),
        w("woocommerce", Set("X-WC-Webhook-Signature", ""), 401, "missing_header"),
        w("woocommerce", SignedOver(b"[]"), 401, "bad_signature"),
        w("woocommerce", Drop("X-WC-Webhook-Delivery-ID"), 401, "missing_dedup_id"),
        w("woocommerce", Drop("X-WC-Webhook-Topic"), 401, "missing_header"),
        w("zephyrcart", Edit("x-zephyrcart-signature", |v| v.replacen("sha256=", "", 1)), 401, "malformed_signature"),
        w(
            "zephyrcart",
            Edit("x-zephyrcart-signature", |v| v.replacen("sha256=", "sha256=zz", 1)),
            401,
            "malformed_signature",
        ),
        w("zephyrcart", Drop("x-zephyrcart-timestamp"), 401, "missing_header"),
        w("zephyrcart", SignedAt(-3600), 401, "timestamp_out_of_tolerance"),
        w(
            "zephyrcart",
            Edit("x-zephyrcart-timestamp", |v| (v.parse::<i64>().unwrap() + 1).to_string()),
            401,
            "bad_signature",
        ),
        w("zephyrcart", Drop("x-zephyrcart-delivery-id"), 401, "missing_dedup_id"),
    ]
}

/// The delivery of `webhook` spoilt as `spoil` says: headers and body.
fn spoilt(webhook: &Webhook, spoil: &Spoil) -> (Vec<(String, String)>, Vec<u8>) {
    let headers = |at: i64| webhook.signed_headers(at);
    let set = |mut headers: Vec<(String, String)>, name: &str, value: String| {
        let slot = headers.iter_mut().find(|(k, _)| k == name).unwrap_or_else(|| panic!("{name} not sent"));
        slot.1 = value;
        headers
    };
    match spoil {
        Spoil::Drop(name) => (headers(NOW).into_iter().filter(|(k, _)| k != name).collect(), webhook.body.clone()),
        Spoil::Set(name, value) => (set(headers(NOW), name, (*value).to_owned()), webhook.body.clone()),
        Spoil::Edit(name, edit) => {
            let old = headers(NOW).into_iter().find(|(k, _)| k == name).unwrap().1;
            (set(headers(NOW), name, edit(&old)), webhook.body.clone())
        }
        Spoil::SignedAt(offset) => (headers(NOW + offset), webhook.body.clone()),
        Spoil::SignedOver(other) => {
            (Webhook { body: other.to_vec(), ..webhook.clone() }.signed_headers(NOW), webhook.body.clone())
        }
        Spoil::SignedWith(secret) => (webhook.signed_headers_with(secret, NOW), webhook.body.clone()),
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap()
}

#[tokio::test]
async fn every_webhook_signature_failure_is_refused_with_its_code_and_holds_no_claim() {
    let bridge = bridge();
    let cases = webhook_cases();
    for (n, case) in cases.iter().enumerate() {
        let index =
            ["standard", "shopify", "woocommerce", "zephyrcart"].iter().position(|s| *s == case.source).unwrap();
        let webhook = workload::order_webhook("sig", n * 4 + index);
        assert_eq!(webhook.source, case.source);
        let (headers, body) = spoilt(&webhook, &case.spoil);
        let reply = tokio::time::timeout(CASE_TIMEOUT, bridge.receiver.receive(case.source, &headers, &body, now()))
            .await
            .unwrap();
        let what = format!("{} case {n}", case.source);
        assert_eq!(
            (reply.status.as_u16(), reply.body["error"]["code"].as_str()),
            (case.status, Some(case.code)),
            "{what}: {}",
            reply.body
        );
        assert!(bridge.erp_sync.is_empty() && bridge.orders.is_empty(), "{what}: nothing queued");
        // No claim was taken: the genuine delivery of the same event goes through.
        let genuine = bridge.receiver.receive(case.source, &webhook.signed_headers(NOW), &webhook.body, now()).await;
        assert_eq!(genuine.status.as_u16(), 202, "{what}: {}", genuine.body);
        assert_eq!((bridge.erp_sync.len(), bridge.orders.len()), (1, 1), "{what}");
        drain(&bridge.erp_sync).await;
        drain(&bridge.orders).await;
    }
}

async fn drain(queue: &EmbeddedFifoQueue) {
    use orderflow_shared::ports::FifoQueue;
    for m in queue.receive(10).await.unwrap() {
        queue.delete(&m.receipt_handle).await.unwrap();
    }
    assert!(queue.is_empty());
}

#[tokio::test]
async fn oversized_unknown_unmappable_and_replayed_webhooks_get_their_answers() {
    let bridge = bridge();
    let apps = local_apps();
    let webhook = workload::order_webhook("edge", 0);
    let limit = apps.webhook_sources.get("standard").unwrap().max_body_bytes;
    let oversized = vec![b' '; limit + 1];
    let reply = bridge.receiver.receive("standard", &webhook.signed_headers(NOW), &oversized, now()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.body["error"]["code"].as_str()),
        (413, Some("body_too_large")),
        "before the signature"
    );
    let reply = bridge.receiver.receive("nobody", &webhook.signed_headers(NOW), &webhook.body, now()).await;
    assert_eq!(reply.status.as_u16(), 404);
    for (body, code) in
        [(&b"{\"type\":\"order.created\",\"data\":{}}"[..], "invalid_payload"), (b"{}", "missing_event_type")]
    {
        let unmappable = Webhook { body: body.to_vec(), ..webhook.clone() };
        let reply = bridge.receiver.receive("standard", &unmappable.signed_headers(NOW), body, now()).await;
        assert_eq!((reply.status.as_u16(), reply.body["error"]["code"].as_str()), (400, Some(code)), "{}", reply.body);
    }
    assert!(bridge.erp_sync.is_empty() && bridge.orders.is_empty(), "nothing queued");
    let first = bridge.receiver.receive("standard", &webhook.signed_headers(NOW), &webhook.body, now()).await;
    let again = bridge.receiver.receive("standard", &webhook.signed_headers(NOW + 5), &webhook.body, now()).await;
    assert_eq!(
        (first.status.as_u16(), again.status.as_u16(), &again.body),
        (202, 200, &json!({"status": "duplicate"}))
    );
    assert_eq!((bridge.erp_sync.len(), bridge.orders.len()), (1, 1), "queued once");
}
