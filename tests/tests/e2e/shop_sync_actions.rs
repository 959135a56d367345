//! shop-sync against the Shopify and WooCommerce doubles, on the embedded store and queues:
//! each action once, whatever is delivered twice, crashes or is refused. (Here rather than in
//! the function's crate: the workspace has no dev-dependencies; see tests/Cargo.toml.)

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use orderflow_cli::bridge::origin_of;
use orderflow_doubles::{FakeShopify, FakeWoo, SeedOrder, ShopFault};
use orderflow_e2e::{local_runtime, order_suffixed, repo_path};
use orderflow_shared::adapters::embedded::event_source::poll_once;
use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, EmbeddedOrderStore, ManualClock};
use orderflow_shared::batch::Budget;
use orderflow_shared::lifecycle::{HistoryKind, OrderRecord, State, Tracking};
use orderflow_shared::mapping::{FileSource, MappingRef};
use orderflow_shared::operator::{self, Selection};
use orderflow_shared::ports::{Expected, FifoQueue, OrderStore, SystemClock};
use orderflow_shared::secrets::Secret;
use orderflow_shared::shop::{BuiltShops, ShopsFile};
use shop_sync::stream::forward_changes;
use shop_sync::worker::{Outcome, RecordError, handle, sync};
use shop_sync::{ShopSync, ShopSyncMessage};

const NOW: &str = "2026-03-02T12:00:00.000Z";
const SHOPIFY_ORDER: u64 = 5_500_000_001;

type Deps = ShopSync<EmbeddedOrderStore, BuiltShops<FileSource>, EmbeddedFifoQueue>;

struct Setup {
    shopify: FakeShopify,
    woo: FakeWoo,
    deps: Deps,
    queue: EmbeddedFifoQueue,
}

/// The local connections' shops, pointed at the doubles, with a short timeout so that a hung
/// answer fails fast.
fn shops(shopify: &FakeShopify, woo: &FakeWoo) -> ShopsFile {
    let mut file = local_runtime(&[
        ("http://127.0.0.1:18090", origin_of(&shopify.graphql_url()).unwrap()),
        ("http://127.0.0.1:18091", origin_of(&woo.base_url()).unwrap()),
    ])
    .shops;
    let shop = file.shops.get_mut("shopify").unwrap();
    assert_eq!(shop.base_url, shopify.graphql_url().trim_end_matches("/graphql.json"));
    shop.timeout_ms = 500;
    let shop = file.shops.get_mut("woocommerce").unwrap();
    assert_eq!(shop.base_url, woo.base_url());
    shop.timeout_ms = 500;
    file
}

fn local_secrets() -> HashMap<String, Secret> {
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    let values: HashMap<String, String> = serde_json::from_str(&text).unwrap();
    values.into_iter().map(|(k, v)| (format!("local:{k}"), Secret::new(v))).collect()
}

fn file_mapping(reference: &MappingRef) -> Result<FileSource, String> {
    match reference {
        MappingRef::File(path) => Ok(FileSource::new(path.clone())),
        other => Err(format!("tests map from files, not {other:?}")),
    }
}

async fn setup() -> Setup {
    let clock = ManualClock::new(1_772_359_200_000);
    let shopify = FakeShopify::start(clock.clone()).await;
    let woo = FakeWoo::start(clock).await;
    let built = BuiltShops::new(&shops(&shopify, &woo), &local_secrets(), file_mapping, Arc::new(SystemClock)).unwrap();
    let deps = ShopSync {
        store: EmbeddedOrderStore::new(),
        shops: built,
        dlq: EmbeddedFifoQueue::new("shop-sync-dlq.fifo"),
        claim_timeout: Duration::from_secs(300),
    };
    Setup { shopify, woo, deps, queue: EmbeddedFifoQueue::new("shop-sync.fifo") }
}

fn tracking() -> Tracking {
    Tracking {
        number: Some("1Z999AA10123456784".into()),
        url: Some("https://track.example/1Z999AA10123456784".into()),
        company: Some("Chilexpress".into()),
    }
}

/// Stores the order from `source` (its number suffixed with the shop's order id, so each
/// shop order is its own) and walks it to each of `states` in turn, as the router does.
async fn stored_at(deps: &Deps, source: &str, states: &[State]) -> OrderRecord {
    let order = order_suffixed(source.rsplit('/').next().unwrap_or_default());
    let mut record = OrderRecord::register(order, source, "test", NOW);
    deps.store.put(&record, None).await.unwrap();
    for state in [State::IssuanceDte, State::BroadcastDte].iter().chain(states) {
        let expected = Expected::of(&record);
        if *state == State::Dispatched {
            record.tracking = Some(tracking());
        }
        record.transition(*state, "test", "", NOW).unwrap();
        deps.store.put(&record, Some(expected)).await.unwrap();
    }
    record
}

async fn moved_to(deps: &Deps, record: &OrderRecord, state: State) -> OrderRecord {
    let mut record = deps.store.get(&record.key).await.unwrap().unwrap();
    let expected = Expected::of(&record);
    record.transition(state, "test", "", NOW).unwrap();
    deps.store.put(&record, Some(expected)).await.unwrap();
    record
}

fn message(record: &OrderRecord, state: State) -> ShopSyncMessage {
    ShopSyncMessage { order_key: record.key.clone(), state }
}

fn seed_shopify(s: &Setup) {
    s.shopify.seed_order(
        &SeedOrder::new(SHOPIFY_ORDER, "2026-03-01T09:00:00Z")
            .number(1001)
            .customer("Ana", "Rojas", "ana@example.com")
            .line("CAF-GRANO-1KG", "Café en grano 1 kg", 2, "12990"),
    );
}

fn shopify_source() -> String {
    format!("webhook:shopify/order/{SHOPIFY_ORDER}")
}

fn calls(s: &Setup, operation: &str) -> usize {
    s.shopify.log().iter().filter(|l| l.operation.as_deref() == Some(operation)).count()
}

async fn shop_notes(s: &Setup, record: &OrderRecord) -> Vec<String> {
    let stored = s.deps.store.get(&record.key).await.unwrap().unwrap();
    stored.history.iter().filter(|h| h.kind == HistoryKind::ShopAction).map(|h| h.detail.clone()).collect()
}

/// Runs the worker on whatever waits on `queue`, as the SQS event source would.
async fn drain(s: &Setup, queue: &EmbeddedFifoQueue) -> usize {
    let polled = poll_once(queue, 10, "arn:aws:sqs:local:0:shop-sync.fifo", |event| async {
        Ok::<_, std::convert::Infallible>(handle(&s.deps, event, Budget::unlimited()).await)
    });
    polled.await.unwrap().received
}

#[tokio::test]
async fn a_dispatched_shopify_order_gets_one_fulfilment_with_its_tracking_and_delivered_adds_none() {
    let s = setup().await;
    seed_shopify(&s);
    let record = stored_at(&s.deps, &shopify_source(), &[State::Dispatched]).await;
    let outcome = sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap();
    let Outcome::Acted(done) = outcome else { panic!("expected an action, got {outcome:?}") };
    assert!(done.platform_id.as_deref().is_some_and(|id| id.starts_with("gid://shopify/Fulfillment/")), "{done:?}");
    let fulfillments = s.shopify.fulfillments();
    assert_eq!(fulfillments.len(), 1);
    let sent = fulfillments[0].tracking.clone().expect("tracking sent");
    assert_eq!(sent.number.as_deref(), Some("1Z999AA10123456784"));
    assert_eq!(sent.company.as_deref(), Some("Chilexpress"));
    assert!(fulfillments[0].notify_customer, "dispatched notifies, as configured");

    // Delivered maps to fulfil too: every fulfillment order is closed now, so nothing is sent.
    let record = moved_to(&s.deps, &record, State::Delivered).await;
    let outcome = sync(&s.deps, &message(&record, State::Delivered)).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Acted(d) if d.platform_id.is_none() && d.sent.contains("closed")),
        "{outcome:?}"
    );
    assert_eq!(s.shopify.fulfillments().len(), 1);
    assert_eq!(calls(&s, "fulfillmentCreate"), 1);
    let notes = shop_notes(&s, &record).await;
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("fulfillmentCreate") && notes[0].contains("1Z999AA10123456784"), "{notes:?}");
    assert!(!notes.iter().any(|n| n.contains("shpat_")), "no credential on the history");
}

#[tokio::test]
async fn a_message_delivered_twice_acts_once() {
    let s = setup().await;
    seed_shopify(&s);
    let record = stored_at(&s.deps, &shopify_source(), &[State::Dispatched]).await;
    assert!(matches!(sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap(), Outcome::Acted(_)));
    let before = s.shopify.log().len();
    assert_eq!(sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap(), Outcome::AlreadyDone);
    assert_eq!(s.shopify.log().len(), before, "a repeat makes no call at all");
    assert_eq!(s.shopify.fulfillments().len(), 1);
}

#[tokio::test]
async fn a_fulfilment_whose_answer_was_lost_is_not_made_again() {
    let s = setup().await;
    seed_shopify(&s);
    let record = stored_at(&s.deps, &shopify_source(), &[State::Dispatched]).await;
    // The read of the fulfillment orders answers; the fulfilment lands and its answer never comes.
    s.shopify.script(ShopFault::Pass);
    s.shopify.script(ShopFault::HangAfterWork);
    let first = sync(&s.deps, &message(&record, State::Dispatched)).await;
    assert!(matches!(first, Err(RecordError::Shop(ref e)) if e.code == "timeout"), "{first:?}");
    assert_eq!(s.shopify.fulfillments().len(), 1, "the hung call's fulfilment landed");
    let stored = s.deps.store.get(&record.key).await.unwrap().unwrap();
    assert!(stored.shop_sync.get(&State::Dispatched).is_none_or(|slot| slot.claim.is_none()), "claim released");
    let second = sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap();
    assert!(matches!(&second, Outcome::Acted(d) if d.sent.contains("closed")), "{second:?}");
    assert_eq!(s.shopify.fulfillments().len(), 1, "the retry found it and made no second one");
    assert_eq!(calls(&s, "fulfillmentCreate"), 1);
}

#[tokio::test]
async fn a_crash_after_the_call_and_before_the_settle_is_taken_over_without_a_second_effect() {
    let s = setup().await;
    seed_shopify(&s);
    let record = stored_at(&s.deps, &shopify_source(), &[State::Dispatched]).await;
    assert!(matches!(sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap(), Outcome::Acted(_)));
    // As if the process died after the shop's answer: the slot holds a stale claim, not done.
    let mut crashed = s.deps.store.get(&record.key).await.unwrap().unwrap();
    let expected = Expected::of(&crashed);
    let slot = crashed.shop_sync.get_mut(&State::Dispatched).unwrap();
    slot.done_at = None;
    slot.claim = Some(orderflow_shared::lifecycle::EffectClaim {
        claimed_at: "2026-03-02T11:00:00.000Z".into(),
        attempt: 1,
        token: "dead-invocation".into(),
    });
    crashed.version += 1;
    s.deps.store.put(&crashed, Some(expected)).await.unwrap();

    let outcome = sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap();
    assert!(matches!(&outcome, Outcome::Acted(d) if d.sent.contains("closed")), "{outcome:?}");
    assert_eq!(s.shopify.fulfillments().len(), 1);
    assert_eq!(calls(&s, "fulfillmentCreate"), 1);
    let stored = s.deps.store.get(&record.key).await.unwrap().unwrap();
    assert!(
        stored.shop_sync[&State::Dispatched].done_at.is_some() && stored.shop_sync[&State::Dispatched].claim.is_none()
    );
}

#[tokio::test]
async fn an_order_already_fulfilled_in_the_shop_is_done_without_a_call_to_fulfil() {
    let s = setup().await;
    seed_shopify(&s);
    fulfil_by_hand(&s.shopify).await;
    assert_eq!(s.shopify.fulfillments().len(), 1);
    let record = stored_at(&s.deps, &shopify_source(), &[State::Dispatched]).await;
    let outcome = sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap();
    assert!(matches!(&outcome, Outcome::Acted(d) if d.sent.starts_with("nothing")), "{outcome:?}");
    assert_eq!(calls(&s, "fulfillmentCreate"), 1, "only the merchant's own");
    assert_eq!(s.shopify.fulfillments().len(), 1);
}

/// As a merchant does in the Shopify admin: fulfils the order's fulfillment order.
async fn fulfil_by_hand(shopify: &FakeShopify) {
    let client = orderflow_e2e::http();
    let gql = |query: &str, variables: serde_json::Value| {
        client
            .post(shopify.graphql_url())
            .header("X-Shopify-Access-Token", orderflow_doubles::SHOPIFY_ACCESS_TOKEN)
            .json(&serde_json::json!({"query": query, "variables": variables}))
            .send()
    };
    let read = "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id } } } }";
    let answer: serde_json::Value =
        gql(read, serde_json::json!({"id": format!("gid://shopify/Order/{SHOPIFY_ORDER}")}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let id = answer["data"]["order"]["fulfillmentOrders"]["nodes"][0]["id"].as_str().unwrap().to_owned();
    let fulfil = "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { userErrors { message } } }";
    let f = serde_json::json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": id}]}});
    let answer: serde_json::Value = gql(fulfil, f).await.unwrap().json().await.unwrap();
    assert_eq!(answer["data"]["fulfillmentCreate"]["userErrors"], serde_json::json!([]));
}

#[tokio::test]
async fn a_woocommerce_order_is_completed_with_one_note_even_when_the_settle_was_lost() {
    let s = setup().await;
    let woo_id = s.woo.seed_order(
        &SeedOrder::new(1, "2026-03-01T09:00:00Z").customer("Ana", "Rojas", "ana@example.com"),
        "processing",
    );
    let record = stored_at(&s.deps, &format!("webhook:woocommerce/order/{woo_id}"), &[State::Dispatched]).await;
    let outcome = sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap();
    assert!(matches!(&outcome, Outcome::Acted(d) if d.sent.contains("completed")), "{outcome:?}");
    let changes = s.woo.status_changes();
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].from.as_str(), changes[0].to.as_str()), ("processing", "completed"));
    // WooCommerce notes the status change itself; ours is the one its API user added.
    let ours = |s: &Setup| s.woo.notes().into_iter().filter(|n| n.added_by_user).collect::<Vec<_>>();
    let notes = ours(&s);
    assert_eq!(notes.len(), 1, "{:?}", s.woo.notes());
    assert!(notes[0].note.contains("1Z999AA10123456784") && !notes[0].customer_note, "{:?}", notes[0]);

    // The settle never landed (a crash): the slot is empty again and the action runs again.
    let mut lost = s.deps.store.get(&record.key).await.unwrap().unwrap();
    let expected = Expected::of(&lost);
    lost.shop_sync.clear();
    lost.version += 1;
    s.deps.store.put(&lost, Some(expected)).await.unwrap();
    sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap();
    assert_eq!(ours(&s).len(), 1, "the note was found by its idempotency key, not added twice");
}

#[tokio::test]
async fn a_refusal_is_parked_with_the_shops_answer_and_a_redrive_after_the_fix_acts() {
    let s = setup().await;
    // The order is not (yet) in the shop: Shopify answers `order: null`.
    let record = stored_at(&s.deps, &shopify_source(), &[State::Dispatched]).await;
    s.queue.send(message(&record, State::Dispatched).to_message()).await.unwrap();
    assert_eq!(drain(&s, &s.queue).await, 1);
    assert!(s.queue.is_empty(), "a refusal is done for the source queue");
    let parked = operator::list(&s.deps.dlq, u64::MAX).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].class, "refused");
    assert!(parked[0].reason.contains("order_not_found"), "{}", parked[0].reason);
    let answer = parked[0].attributes.iter().find(|(k, _)| k == "orderflow.shop_answer");
    assert!(answer.is_some(), "{:?}", parked[0].attributes);
    assert!(shop_notes(&s, &record).await.iter().any(|n| n.contains("parked for replay")));

    seed_shopify(&s);
    let report = operator::redrive(&s.deps.dlq, &s.queue, &Selection::All, 1).await.unwrap();
    assert_eq!(report.moved.len(), 1);
    assert_eq!(drain(&s, &s.queue).await, 1);
    assert_eq!(s.shopify.fulfillments().len(), 1);
    assert!(s.deps.dlq.is_empty());
}

#[tokio::test]
async fn a_429_is_waited_out_once_and_a_5xx_fails_the_record_for_sqs_to_retry() {
    let s = setup().await;
    seed_shopify(&s);
    let record = stored_at(&s.deps, &shopify_source(), &[State::Dispatched]).await;
    s.shopify.script(ShopFault::TooManyRequests { retry_after_secs: 1 });
    let outcome = sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap();
    assert!(matches!(outcome, Outcome::Acted(_)), "{outcome:?}");

    let woo_id = s.woo.seed_order(&SeedOrder::new(2, "2026-03-01T09:00:00Z"), "processing");
    let other = stored_at(&s.deps, &format!("webhook:woocommerce/order/{woo_id}"), &[State::Dispatched]).await;
    s.woo.script(ShopFault::Reply(503, serde_json::json!({"code": "unavailable", "message": "down"})));
    let failed = sync(&s.deps, &message(&other, State::Dispatched)).await;
    assert!(matches!(failed, Err(RecordError::Shop(ref e)) if e.status == Some(503)), "{failed:?}");
    let stored = s.deps.store.get(&other.key).await.unwrap().unwrap();
    assert!(stored.shop_sync.get(&State::Dispatched).is_none_or(|slot| slot.claim.is_none()), "claim released");
    assert!(matches!(sync(&s.deps, &message(&other, State::Dispatched)).await.unwrap(), Outcome::Acted(_)));
    assert_eq!(s.woo.status_changes().len(), 1);
}

#[tokio::test]
async fn orders_from_a_ubl_document_are_skipped_with_the_reason() {
    let s = setup().await;
    let record = stored_at(&s.deps, "s3://orders/incoming/po-1.xml", &[State::Dispatched]).await;
    let outcome = sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap();
    assert!(matches!(&outcome, Outcome::Skipped(why) if why.contains("not from a shop")), "{outcome:?}");
    assert!(s.shopify.log().is_empty() && s.woo.log().is_empty());
}

#[tokio::test]
async fn a_status_replaced_by_a_later_transition_is_not_sent_late() {
    let s = setup().await;
    let woo_id = s.woo.seed_order(&SeedOrder::new(3, "2026-03-01T09:00:00Z"), "processing");
    let record = stored_at(&s.deps, &format!("webhook:woocommerce/order/{woo_id}"), &[State::Dispatched]).await;
    let refunded = moved_to(&s.deps, &record, State::Refunded).await;
    // The refund's action ran first (dispatched's was held back by a shop outage).
    sync(&s.deps, &message(&refunded, State::Refunded)).await.unwrap();
    let late = sync(&s.deps, &message(&record, State::Dispatched)).await.unwrap();
    assert_eq!(late, Outcome::Superseded { by: State::Refunded });
    let changes = s.woo.status_changes();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].to, "refunded", "the shop ends in the order's status");
}

#[tokio::test]
async fn the_embedded_changes_queue_one_message_per_action_state_entered() {
    let s = setup().await;
    seed_shopify(&s);
    let record = stored_at(&s.deps, &shopify_source(), &[State::Dispatched, State::Delivered]).await;
    let changes = s.deps.store.changes_since(0);
    assert!(changes.len() >= 5, "register, two DTE stages, dispatch, deliver");
    assert_eq!(forward_changes(&s.queue, &changes).await.unwrap(), 2);
    assert_eq!(forward_changes(&s.queue, &changes).await.unwrap(), 2, "sent again…");
    assert_eq!(s.queue.len(), 2, "…and deduplicated by order and state");
    while drain(&s, &s.queue).await > 0 {}
    assert_eq!(s.shopify.fulfillments().len(), 1);
    assert_eq!(shop_notes(&s, &record).await.len(), 2);
}

/// What a generic shop received: method, path, `Idempotency-Key`, body.
type Received = Arc<std::sync::Mutex<Vec<(String, String, Option<String>, serde_json::Value)>>>;

/// A partner's order-status endpoint: records each request; the first answer is `first`.
async fn generic_shop(first: u16) -> (String, Received) {
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    let received: Received = Arc::default();
    let seen = received.clone();
    let app =
        axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let body = serde_json::from_slice(&body).unwrap_or_default();
                let mut seen = seen.lock().unwrap();
                seen.push((method.to_string(), uri.path().to_owned(), key, body));
                let status = if seen.len() == 1 { first } else { 200 };
                (
                    StatusCode::from_u16(status).unwrap(),
                    axum::Json(serde_json::json!({"id": format!("st-{}", seen.len())})),
                )
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn a_generic_shop_gets_the_mapped_body_with_the_state_tracking_and_one_idempotency_key() {
    let (url, received) = generic_shop(503).await;
    let text = format!(
        r#"{{"shops": {{"partner": {{"platform": "generic", "base_url": "{url}/api",
            "auth": {{"type": "api_key", "in": "header", "name": "X-Api-Key", "key_ref": "local:partner"}},
            "timeout_ms": 2000,
            "on": {{"dispatched": {{"action": "http", "method": "PUT", "path": "/orders/{{order_id}}/status",
                     "mapping_ref": "file:{}"}}}}}}}}}}"#,
        repo_path("config/mappings/shop-status.json").display()
    );
    let file = ShopsFile::from_json(&text).unwrap();
    let secrets: HashMap<String, Secret> = [("local:partner".to_owned(), Secret::new("partner-key"))].into();
    let deps = ShopSync {
        store: EmbeddedOrderStore::new(),
        shops: BuiltShops::new(&file, &secrets, file_mapping, Arc::new(SystemClock)).unwrap(),
        dlq: EmbeddedFifoQueue::new("shop-sync-dlq.fifo"),
        claim_timeout: Duration::from_secs(300),
    };
    let record = stored_at(&deps, "poll:partner/order/PO 77/A", &[State::Dispatched]).await;
    // The origin's id holds a slash: not a shop order id this system can name in a path.
    assert!(matches!(sync(&deps, &message(&record, State::Dispatched)).await.unwrap(), Outcome::Skipped(_)));

    let record = stored_at(&deps, "poll:partner/order/PO 77", &[State::Dispatched]).await;
    let first = sync(&deps, &message(&record, State::Dispatched)).await;
    assert!(matches!(first, Err(RecordError::Shop(ref e)) if e.status == Some(503)), "{first:?}");
    let done = sync(&deps, &message(&record, State::Dispatched)).await.unwrap();
    assert!(matches!(&done, Outcome::Acted(d) if d.platform_id.as_deref() == Some("st-2")), "{done:?}");
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    let (method, path, key, body) = &received[1];
    assert_eq!((method.as_str(), path.as_str()), ("PUT", "/api/orders/PO%2077/status"));
    assert_eq!(key.as_deref(), Some(format!("orderflow-{}-dispatched", record.key).as_str()));
    assert_eq!(received[0].2, received[1].2, "the retry sends the same key");
    assert_eq!(body["reference"], record.order.order_number.as_str());
    assert_eq!(body["state"], "dispatched");
    assert_eq!(body["tracking"]["number"], "1Z999AA10123456784");
    assert!(body["total"].as_str().is_some_and(|t| t.contains('.')), "money as a decimal string: {body}");
}
