//! The order poller against the shop doubles (WooCommerce, Shopify, a B2B partner) and moto
//! (the cursor table, the FIFO queues): what a scheduled run takes, what it leaves, what it
//! queues, and where its cursor stands afterwards.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use order_poller::{PollReport, Poller, RunError, handle};
use orderflow_cli::bridge::{origin_of, today};
use orderflow_e2e::fake_erp::{
    FakePartner, FakeShopify, FakeWoo, PARTNER_API_KEY, SHOPIFY_ACCESS_TOKEN, SeedOrder, ShopFault, WOO_CONSUMER_SECRET,
};
use orderflow_e2e::{create_fifo, drain, local_config, local_runtime, repo_path, sdk_config, unique};
use orderflow_shared::adapters::aws::{DynamoPollCursors, SqsFifoQueue, dynamodb_client, sqs_client};
use orderflow_shared::adapters::embedded::{ManualClock, MemoryPollCursors};
use orderflow_shared::apps::Runtime;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::erp::{ErpConnector, ErpSyncMessage, PushOutcome};
use orderflow_shared::error::PortError;
use orderflow_shared::poll::{Cursor, LocalSecrets, Pause};
use orderflow_shared::ports::{CursorSave, FifoQueue, OutgoingMessage, PollCursors, ReceivedMessage, StoredCursor};
use orderflow_shared::secrets::Secret;
use serde_json::{Value, json};
use webhook_bridge::{Receiver, sign};

use crate::webhook_bridge::{apps, erp, keys, local_secret, now};

/// 2026-03-01T10:00:00Z.
const T0: u64 = 1_772_359_200_000;

// ---- set-up ----

/// A FIFO queue that keeps every send (duplicates too, as a consumer would see them without
/// SQS's deduplication), and answers sends as scripted: `true` accepts, `false` fails; an
/// empty script accepts.
#[derive(Default)]
struct Recording {
    sent: Mutex<Vec<OutgoingMessage>>,
    script: Mutex<VecDeque<bool>>,
    /// Run once, before the first send is recorded: something changing at the platform while
    /// a run is under way.
    meanwhile: Mutex<Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>>,
}

impl Recording {
    fn sent(&self) -> Vec<OutgoingMessage> {
        self.sent.lock().unwrap().clone()
    }

    fn script(&self, outcomes: &[bool]) {
        self.script.lock().unwrap().extend(outcomes);
    }
}

impl FifoQueue for Recording {
    async fn send(&self, msg: OutgoingMessage) -> Result<String, PortError> {
        let meanwhile = self.meanwhile.lock().unwrap().take();
        if let Some(change) = meanwhile {
            change.await;
        }
        if self.script.lock().unwrap().pop_front() == Some(false) {
            return Err(PortError::transient("sqs:SendMessage", "scripted failure"));
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push(msg);
        Ok(format!("m-{}", sent.len()))
    }

    async fn receive(&self, _max: usize) -> Result<Vec<ReceivedMessage>, PortError> {
        Ok(Vec::new())
    }

    async fn delete(&self, _receipt_handle: &str) -> Result<(), PortError> {
        Ok(())
    }

    async fn release(&self, _receipt_handle: &str) -> Result<(), PortError> {
        Ok(())
    }
}

fn local_secrets() -> LocalSecrets {
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    let values: HashMap<String, String> = serde_json::from_str(&text).unwrap();
    LocalSecrets(values.into_iter().map(|(k, v)| (k, Secret::new(v))).collect())
}

/// The local connections, with connection `name`'s poll source pointed at `base_url` (its
/// origin moved to the double's) and `overrides` merged into its app's poll configuration.
fn poll_apps(name: &str, base_url: &str, overrides: &Value) -> Arc<Runtime> {
    poll_apps_with(name, base_url, overrides, &json!({}))
}

/// As [`poll_apps`], with `properties` set on the connection too.
fn poll_apps_with(name: &str, base_url: &str, overrides: &Value, properties: &Value) -> Arc<Runtime> {
    let configured = local_runtime(&[]).poll_sources.get(name).unwrap().base_url.clone();
    let (configured, actual) = (origin_of(&configured).unwrap(), origin_of(base_url).unwrap());
    let mut registry = local_config(None).registry(&[(configured, actual)]).unwrap();
    let connection = registry.connections.get_mut(name).unwrap();
    for (k, v) in properties.as_object().unwrap() {
        connection.properties.insert(k.clone(), v.clone());
    }
    let pinned = (connection.app.clone(), connection.version.unwrap());
    let definition = &mut registry.versions.get_mut(&pinned).unwrap().definition;
    let config = &mut definition.triggers.poll.as_mut().unwrap().config;
    for (k, v) in overrides.as_object().unwrap() {
        config[k] = v.clone();
    }
    let runtime = registry.runtime(today());
    assert_eq!(runtime.refusal(name).map(ToString::to_string), None);
    assert_eq!(runtime.poll_sources.get(name).unwrap().base_url, base_url);
    Arc::new(runtime)
}

/// Records each wait asked for, and moves `clock` on by it (the doubles' throttles run on it).
fn recording_pause(clock: ManualClock) -> (Pause, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let seen = waits.clone();
    let pause: Pause = Arc::new(move |d| {
        seen.lock().unwrap().push(d);
        clock.advance(d);
        Box::pin(async {})
    });
    (pause, waits)
}

type LocalPoller = Poller<Arc<Runtime>, LocalSecrets, Arc<MemoryPollCursors>, Arc<Recording>, Arc<Recording>>;

struct Harness {
    poller: LocalPoller,
    cursors: Arc<MemoryPollCursors>,
    erp_sync: Arc<Recording>,
    orders: Arc<Recording>,
    waits: Arc<Mutex<Vec<Duration>>>,
}

impl Harness {
    fn new(apps: Arc<Runtime>, clock: &ManualClock) -> Self {
        let (cursors, erp_sync, orders) = (Arc::default(), Arc::<Recording>::default(), Arc::<Recording>::default());
        Self::with(apps, clock, cursors, erp_sync, orders)
    }

    /// Another deployment (new configuration) over the same cursor table and queues.
    fn with(
        apps: Arc<Runtime>,
        clock: &ManualClock,
        cursors: Arc<MemoryPollCursors>,
        erp_sync: Arc<Recording>,
        orders: Arc<Recording>,
    ) -> Self {
        let (pause, waits) = recording_pause(clock.clone());
        let poller = Poller {
            apps,
            secrets: local_secrets(),
            cursors: cursors.clone(),
            erp_sync: erp_sync.clone(),
            orders: orders.clone(),
            clock: Arc::new(clock.clone()),
            pause,
        };
        Self { poller, cursors, erp_sync, orders, waits }
    }

    async fn poll(&self, source: &str) -> PollReport {
        handle(&self.poller, json!({"source": source})).await.unwrap()
    }

    /// The platform ids of the orders on erp-sync, in send order.
    fn erp_ids(&self) -> Vec<String> {
        self.erp_sync
            .sent()
            .iter()
            .map(|m| match serde_json::from_str(&m.body).unwrap() {
                ErpSyncMessage::Order { external_order_id, .. } => external_order_id,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn registered(&self) -> Vec<(String, orderflow_shared::order::CanonicalOrder)> {
        self.orders
            .sent()
            .iter()
            .map(|m| match serde_json::from_str(&m.body).unwrap() {
                OrderCommand::Register { source, order } => (source, *order),
                other => panic!("{other:?}"),
            })
            .collect()
    }
}

fn woo_order(id: u64, modified: &str) -> SeedOrder {
    SeedOrder::new(id, modified).customer("Ana", "Pérez", "ana@example.com").line(
        "CAF-GRANO-1KG",
        "Café en grano",
        2,
        "12990",
    )
}

async fn woo(clock: &ManualClock) -> FakeWoo {
    FakeWoo::start(clock.clone()).await
}

fn woo_sources(woo: &FakeWoo, overrides: &Value) -> Arc<Runtime> {
    poll_apps("woocommerce", &woo.base_url(), overrides)
}

// ---- WooCommerce ----

#[tokio::test]
async fn woocommerce_orders_are_queued_as_the_webhook_door_queues_them_under_a_poll_origin() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(1041, "2026-03-01T09:00:00Z"), "processing");
    woo.seed_order(&woo_order(1042, "2026-03-01T09:05:00Z"), "processing");
    let h = Harness::new(woo_sources(&woo, &json!({})), &clock);

    let report = h.poll("woocommerce").await;

    assert_eq!((report.queued, report.outcome), (2, "caught_up"));
    let erp = h.erp_sync.sent();
    assert_eq!(erp.len(), 2);
    assert_eq!(erp[0].group_id, "woocommerce/1041");
    assert_eq!(erp[0].dedup_id, "poll:woocommerce/order/1041");
    let registered = h.registered();
    assert_eq!(registered.len(), 2);
    assert_eq!(registered[1].0, "poll:woocommerce/order/1042");
    assert_eq!(registered[1].1.order_number, "1042");
    assert_eq!(registered[1].1.totals.payable.as_str(), "25980");
    let stored = h.cursors.load("woocommerce").await.unwrap();
    assert_eq!((stored.version, stored.cursor.high_water_ms), (1, 1_772_355_900_000));
    let queries: Vec<_> = woo.log().into_iter().map(|l| l.path).collect();
    assert_eq!(queries, ["/wp-json/wc/v3/orders"], "one page, one request");
}

#[tokio::test]
async fn two_orders_with_the_same_modified_time_split_across_two_polls_are_each_taken_once() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(1, "2026-03-01T09:00:00Z"), "processing");
    let h = Harness::new(woo_sources(&woo, &json!({"lookback_seconds": 0})), &clock);
    assert_eq!(h.poll("woocommerce").await.queued, 1);

    // Committed after the first poll read, with the same modified time.
    woo.seed_order(&woo_order(2, "2026-03-01T09:00:00Z"), "processing");
    let second = h.poll("woocommerce").await;
    let third = h.poll("woocommerce").await;

    assert_eq!((second.listed, second.queued, second.already_taken), (2, 1, 1));
    assert_eq!((third.queued, third.already_taken), (0, 2));
    assert_eq!(h.erp_ids(), ["1", "2"]);
}

#[tokio::test]
async fn a_late_order_inside_the_lookback_is_taken_and_one_before_it_is_not() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(1, "2026-03-01T09:00:00Z"), "processing");
    let h = Harness::new(woo_sources(&woo, &json!({"lookback_seconds": 300})), &clock);
    h.poll("woocommerce").await;

    // Both show up late, stamped before the high water: one inside the 5 minutes, one before.
    woo.seed_order(&woo_order(2, "2026-03-01T08:57:00Z"), "processing");
    woo.seed_order(&woo_order(3, "2026-03-01T08:54:00Z"), "processing");
    let report = h.poll("woocommerce").await;

    assert_eq!((report.queued, report.already_taken), (1, 1));
    assert_eq!(h.erp_ids(), ["1", "2"]);
}

#[tokio::test]
async fn a_failed_queue_send_leaves_the_order_for_the_next_poll() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(1, "2026-03-01T09:00:00Z"), "processing");
    woo.seed_order(&woo_order(2, "2026-03-01T09:01:00Z"), "processing");
    let h = Harness::new(woo_sources(&woo, &json!({"lookback_seconds": 0})), &clock);
    // Order 1 goes through; order 2's Register is refused after its ERP message was sent.
    h.orders.script(&[true, false]);

    let run = handle(&h.poller, json!({"source": "woocommerce"})).await;

    let err = run.unwrap_err();
    assert!(matches!(err, RunError::Queue { ref order_id, .. } if order_id == "2"), "{err}");
    let after_failure = h.cursors.load("woocommerce").await.unwrap();
    assert_eq!(after_failure.cursor.seen.keys().collect::<Vec<_>>(), ["1"], "only order 1 is covered");

    let retry = h.poll("woocommerce").await;

    assert_eq!((retry.queued, retry.already_taken), (1, 1));
    assert_eq!(h.erp_ids(), ["1", "2", "2"], "order 2's ERP message again, under the same dedup id");
    let dedup: Vec<_> = h.erp_sync.sent().iter().map(|m| m.dedup_id.clone()).collect();
    assert_eq!(dedup[1], dedup[2]);
    assert_eq!(h.registered().len(), 2, "each order registered once");
}

#[tokio::test]
async fn the_filter_leaves_out_orders_in_other_statuses() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(1, "2026-03-01T09:00:00Z"), "pending");
    woo.seed_order(&woo_order(2, "2026-03-01T09:01:00Z"), "processing");
    woo.seed_order(&woo_order(3, "2026-03-01T09:02:00Z"), "on-hold");
    let h = Harness::new(woo_sources(&woo, &json!({})), &clock);

    let report = h.poll("woocommerce").await;

    assert_eq!((report.listed, report.queued, report.filtered), (3, 1, 2));
    assert_eq!(h.erp_ids(), ["2"]);
    assert_eq!(report.high_water_ms, 1_772_355_720_000, "filtered orders are read past");
}

#[tokio::test]
async fn the_cursor_survives_a_change_to_the_source_configuration() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(1, "2026-03-01T09:00:00Z"), "processing");
    woo.seed_order(&woo_order(2, "2026-03-01T09:01:00Z"), "processing");
    let first = Harness::new(woo_sources(&woo, &json!({})), &clock);
    assert_eq!(first.poll("woocommerce").await.queued, 2);
    let before = first.cursors.load("woocommerce").await.unwrap();

    // Redeployed with another page size, filter and window: same source name.
    let changed = json!({"platform": {"kind": "woocommerce", "per_page": 1}, "lookback_seconds": 120,
                         "filter": {"field": "status", "any_of": ["processing", "on-hold"]}});
    let second = Harness::with(
        woo_sources(&woo, &changed),
        &clock,
        first.cursors.clone(),
        first.erp_sync.clone(),
        first.orders.clone(),
    );
    woo.seed_order(&woo_order(3, "2026-03-01T09:02:00Z"), "on-hold");
    let report = second.poll("woocommerce").await;

    // Pages of one: each next page starts at the last time read, reading its order again.
    assert_eq!((report.queued, report.already_taken, report.pages), (1, 4, 5));
    assert_eq!(second.erp_ids(), ["1", "2", "3"]);
    let after = second.cursors.load("woocommerce").await.unwrap();
    assert!(after.cursor.high_water_ms > before.cursor.high_water_ms);
}

#[tokio::test]
async fn paging_runs_across_several_pages_oldest_first_and_saves_after_each() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    for (id, minute) in [(5, 4), (1, 0), (4, 3), (2, 1), (3, 2)] {
        woo.seed_order(&woo_order(id, &format!("2026-03-01T09:0{minute}:00Z")), "processing");
    }
    let h = Harness::new(woo_sources(&woo, &json!({"platform": {"kind": "woocommerce", "per_page": 2}})), &clock);

    let report = h.poll("woocommerce").await;

    // Each next page is asked from the last modified time read (WooCommerce pages by offset,
    // which an order modified meanwhile would shift), so each starts with the order before it.
    assert_eq!((report.pages, report.queued, report.already_taken, report.outcome), (4, 5, 3, "caught_up"));
    assert_eq!(h.erp_ids(), ["1", "2", "3", "4", "5"]);
    assert_eq!(h.cursors.load("woocommerce").await.unwrap().version, 4, "one save per page");
    let pages: Vec<_> = woo.log().into_iter().map(|l| l.status).collect();
    assert_eq!(pages.len(), 4);
}

#[tokio::test]
async fn an_order_modified_while_a_run_pages_shifts_no_other_order_out_of_the_run() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    for id in 1..=4 {
        woo.seed_order(&woo_order(id, &format!("2026-03-01T09:0{id}:00Z")), "processing");
    }
    let overrides = json!({"platform": {"kind": "woocommerce", "per_page": 2}, "lookback_seconds": 0,
                           "filter": {"field": "status", "any_of": ["processing", "on-hold"]}});
    let h = Harness::new(woo_sources(&woo, &overrides), &clock);
    // While order 1 is being queued, the shop puts it on hold: it moves to the end of the sort,
    // and by offset the second page would start at order 4, passing order 3 by.
    let url = format!("{}/orders/1", woo.base_url());
    *h.erp_sync.meanwhile.lock().unwrap() = Some(Box::pin(async move {
        let answer = orderflow_e2e::http()
            .put(url)
            .basic_auth(orderflow_e2e::fake_erp::WOO_CONSUMER_KEY, Some(WOO_CONSUMER_SECRET))
            .json(&json!({"status": "on-hold"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
    }));

    let report = h.poll("woocommerce").await;

    let mut ids = h.erp_ids();
    ids.dedup();
    assert_eq!(ids, ["1", "2", "3", "4", "1"], "order 3 is taken; order 1 again at its new time");
    assert_eq!(report.outcome, "caught_up");
}

#[tokio::test]
async fn of_two_overlapping_runs_the_one_that_saves_second_stops_without_moving_the_cursor_back() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(1, "2026-03-01T09:00:00Z"), "processing");
    let h = Harness::new(woo_sources(&woo, &json!({})), &clock);
    // Another run saves further ahead while this one is queueing.
    let mut ahead = Cursor::default();
    ahead.taken("9", 1_772_359_000_000);
    let cursors = h.cursors.clone();
    let other = ahead.clone();
    *h.erp_sync.meanwhile.lock().unwrap() = Some(Box::pin(async move {
        assert_eq!(cursors.save("woocommerce", &other, 0).await.unwrap(), CursorSave::Saved);
    }));

    let report = h.poll("woocommerce").await;

    assert_eq!((report.queued, report.outcome), (1, "superseded"));
    let stored = h.cursors.load("woocommerce").await.unwrap();
    assert_eq!((stored.version, stored.cursor), (1, ahead), "the other run's cursor stands");
}

#[tokio::test]
async fn a_run_stops_at_its_page_limit_and_the_next_goes_on() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    for id in 1..=3 {
        woo.seed_order(&woo_order(id, &format!("2026-03-01T09:0{id}:00Z")), "processing");
    }
    // Pages of one order: a page at an order's time reads that order again, then moves on by number.
    let overrides = json!({"platform": {"kind": "woocommerce", "per_page": 1}, "max_pages": 3, "lookback_seconds": 0});
    let h = Harness::new(woo_sources(&woo, &overrides), &clock);

    let first = h.poll("woocommerce").await;
    let second = h.poll("woocommerce").await;

    assert_eq!((first.queued, first.outcome), (2, "more"));
    assert_eq!((second.queued, second.outcome), (1, "caught_up"));
    assert_eq!(h.erp_ids(), ["1", "2", "3"]);
}

#[tokio::test]
async fn a_5xx_and_a_429_with_retry_after_are_retried_within_the_run() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(1, "2026-03-01T09:00:00Z"), "processing");
    woo.script(ShopFault::Reply(503, json!({"code": "unavailable"})));
    woo.script(ShopFault::TooManyRequests { retry_after_secs: 7 });
    let h = Harness::new(woo_sources(&woo, &json!({})), &clock);

    let report = h.poll("woocommerce").await;

    assert_eq!(report.queued, 1);
    let statuses: Vec<_> = woo.log().into_iter().map(|l| l.status).collect();
    assert_eq!(statuses, [Some(503), Some(429), Some(200)]);
    let waits = h.waits.lock().unwrap().clone();
    assert_eq!(waits.len(), 2);
    assert_eq!(waits[1], Duration::from_secs(7), "Retry-After is honoured");
}

#[tokio::test]
async fn a_retry_after_beyond_the_runs_patience_ends_the_run_with_the_cursor_unmoved() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(1, "2026-03-01T09:00:00Z"), "processing");
    woo.script(ShopFault::TooManyRequests { retry_after_secs: 3_600 });
    let h = Harness::new(woo_sources(&woo, &json!({})), &clock);

    let err = handle(&h.poller, json!({"source": "woocommerce"})).await.unwrap_err();

    assert!(err.to_string().contains("longer than a run waits"), "{err}");
    assert_eq!(h.cursors.load("woocommerce").await.unwrap().version, 0);
    assert!(h.erp_sync.sent().is_empty());
    assert_eq!(h.poll("woocommerce").await.queued, 1, "the next run takes it");
}

#[tokio::test]
async fn a_bad_payload_or_an_unknown_source_is_refused_with_a_clear_error() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    let h = Harness::new(woo_sources(&woo, &json!({})), &clock);

    let bad = handle(&h.poller, json!({"sauce": "woocommerce"})).await.unwrap_err();
    let unknown = handle(&h.poller, json!({"source": "magento"})).await.unwrap_err();

    assert!(bad.to_string().contains("{\"source\": \"<name>\"}"), "{bad}");
    // Runtime::missing's wording (no quotes since the connections run from the apps).
    assert_eq!(unknown.to_string(), "no poll source named magento");
    assert!(woo.log().is_empty());
}

// ---- one order, whichever door ----

#[tokio::test]
async fn an_order_by_webhook_and_by_poll_is_one_order_with_one_erp_record() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    let seed = SeedOrder::new(2001, "2026-03-01T09:00:00Z").customer("Ana", "Pérez", "ana@example.com").line(
        orderflow_e2e::fake_erp::KNOWN_ITEMS[0],
        "Café",
        1,
        "9990",
    );
    woo.seed_order(&seed, "processing");
    let h = Harness::new(woo_sources(&woo, &json!({})), &clock);

    // The shop's order.created webhook carries the order as GET /orders/{id} reads it.
    let body = serde_json::to_vec(&woo.orders()[0]).unwrap();
    let signature = sign::body_base64(&local_secret("woocommerce"), &body);
    let headers: Vec<(String, String)> = [
        ("X-WC-Webhook-Topic", "order.created"),
        ("X-WC-Webhook-Signature", signature.as_str()),
        ("X-WC-Webhook-Delivery-ID", "41"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let receiver = Receiver {
        apps: apps(),
        keys: keys(),
        guard: orderflow_shared::adapters::embedded::MemoryReplayGuard::new(),
        erp_sync: h.erp_sync.clone(),
        orders: h.orders.clone(),
        retention: Duration::from_secs(3_600),
    };
    let reply = receiver.receive("woocommerce", &headers, &body, now()).await;
    assert_eq!(reply.status.as_u16(), 202, "{:?}", reply.body);
    h.poll("woocommerce").await;

    let registered = h.registered();
    assert_eq!(registered.len(), 2, "one Register per door");
    assert_eq!(registered[0].0, "webhook:woocommerce/order/2001");
    assert_eq!(registered[1].0, "poll:woocommerce/order/2001");
    assert_eq!(registered[0].1, registered[1].1, "same key, same content: the second is a duplicate");
    let register_dedup: Vec<_> = h.orders.sent().iter().map(|m| m.dedup_id.clone()).collect();
    assert_eq!(register_dedup[0], register_dedup[1], "SQS drops the second within its window");

    let erp = erp().await;
    let mut outcomes = Vec::new();
    for message in h.erp_sync.sent() {
        let ErpSyncMessage::Order { order, .. } = serde_json::from_str(&message.body).unwrap() else { panic!() };
        outcomes.push(erp.worker.connector.push(&order).await.unwrap());
    }
    assert_eq!(outcomes.len(), 2);
    assert!(matches!(outcomes[0], PushOutcome::Created { .. }), "{outcomes:?}");
    assert!(matches!(outcomes[1], PushOutcome::AlreadyExists { .. }), "{outcomes:?}");
    assert_eq!(erp.fake.orders().len(), 1, "one ERP record");
}

// ---- Shopify ----

fn shopify_sources(shop: &FakeShopify, overrides: &Value) -> Arc<Runtime> {
    poll_apps("shopify", &shop.graphql_url(), overrides)
}

#[tokio::test]
async fn shopify_orders_are_cursor_paged_and_keyed_as_their_webhooks_are() {
    let clock = ManualClock::new(T0);
    let shop = FakeShopify::start(clock.clone()).await;
    for (id, minute) in [(5_001, 0), (5_002, 0), (5_003, 1)] {
        let seed = SeedOrder::new(id, &format!("2026-03-01T09:0{minute}:00Z"))
            .number(id - 4_000)
            .customer("Ana", "Pérez", "Ana@Example.com")
            .line("CAF-GRANO-1KG", "Café en grano", 2, "12990.00");
        shop.seed_order(&seed);
    }
    let overrides = json!({"platform": {"kind": "shopify", "first": 2, "line_items": 10}});
    let h = Harness::new(shopify_sources(&shop, &overrides), &clock);

    let report = h.poll("shopify").await;

    assert_eq!((report.pages, report.queued), (2, 3));
    assert_eq!(h.erp_ids(), ["5001", "5002", "5003"], "the numeric id, as the webhook's");
    let (origin, order) = &h.registered()[0];
    assert_eq!(origin, "poll:shopify/order/5001");
    assert_eq!(order.order_number, "#1001");
    assert_eq!(order.lines[0].line_total.as_str(), "25980.00");
    // The REST webhook of the same order, as Shopify sends it, maps to the same key.
    let webhook = json!({
        "id": 5001, "name": "#1001", "created_at": "2026-03-01T09:00:00Z", "currency": "CLP",
        "email": "Ana@Example.com",
        "customer": {"id": 1, "email": "Ana@Example.com", "first_name": "Ana", "last_name": "Pérez"},
        "line_items": [{"id": 1, "sku": "CAF-GRANO-1KG", "title": "Café en grano", "quantity": 2, "price": "12990.00"}],
        "total_price": "25980.00"
    });
    let seller = shopify_sources(&shop, &overrides).poll_sources.get("shopify").unwrap().seller();
    let webhook = orderflow_shared::webhook::parse_platform_json(webhook.to_string().as_bytes()).unwrap();
    let by_webhook = orderflow_shared::webhook::shopify_order(&seller, &webhook).unwrap();
    assert_eq!(by_webhook.order.order_key, order.order_key);
    let operations: Vec<_> = shop.log().into_iter().filter_map(|l| l.operation).collect();
    assert_eq!(
        operations,
        ["orders", "order,order", "orders", "order"],
        "per page: the list, then its details in one batch"
    );
}

#[tokio::test]
async fn a_throttled_shopify_query_waits_for_the_bucket_and_runs() {
    let clock = ManualClock::new(T0);
    let shop = FakeShopify::start(clock.clone()).await;
    shop.seed_order(&SeedOrder::new(7, "2026-03-01T09:00:00Z").customer("A", "B", "a@b.cl").line("X", "X", 1, "10"));
    shop.empty_bucket();
    let h = Harness::new(shopify_sources(&shop, &json!({})), &clock);

    let report = h.poll("shopify").await;

    assert_eq!(report.queued, 1);
    let waits = h.waits.lock().unwrap().clone();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(waits[0] > Duration::ZERO && waits[0] <= Duration::from_secs(10), "{waits:?}");
}

#[tokio::test]
async fn a_shopify_order_deleted_between_listing_and_reading_is_passed_over_not_blocking() {
    let clock = ManualClock::new(T0);
    let shop = FakeShopify::start(clock.clone()).await;
    shop.seed_order(&SeedOrder::new(8, "2026-03-01T09:05:00Z").customer("A", "B", "a@b.cl").line("X", "X", 1, "10"));
    // The listing still names order 7, which the shop no longer has when its details are read.
    let node = |id: &str, at: &str| json!({"cursor": id, "node": {"legacyResourceId": id, "updatedAt": at, "displayFinancialStatus": "PAID"}});
    let listed = json!({"data": {"orders": {
        "edges": [node("7", "2026-03-01T09:00:00Z"), node("8", "2026-03-01T09:05:00Z")],
        "pageInfo": {"hasNextPage": false, "endCursor": "8"}}}});
    shop.script(ShopFault::Reply(200, listed));
    let h = Harness::new(shopify_sources(&shop, &json!({})), &clock);

    let report = h.poll("shopify").await;

    assert_eq!((report.queued, report.gone, report.outcome), (1, 1, "caught_up"));
    assert_eq!(h.erp_ids(), ["8"]);
}

// ---- a B2B partner ----

#[tokio::test]
async fn a_partners_confirmed_orders_are_paged_by_cursor_and_mapped_by_configuration() {
    let clock = ManualClock::new(T0);
    let partner = FakePartner::start(clock.clone()).await;
    for (id, status) in [(71, "confirmed"), (72, "draft"), (73, "confirmed"), (74, "confirmed")] {
        let seed = SeedOrder::new(id, &format!("2026-03-01T09:0{}:00Z", id - 70))
            .customer("Compras", "Ltda", "compras@cliente.cl")
            .line("PN-TE-07", "Té negro", 3, "4500.50");
        partner.seed_order(&seed, status);
    }
    let apps = poll_apps_with("acme-partner", &partner.base_url(), &json!({}), &json!({"page_size": 2}));
    let h = Harness::new(apps, &clock);

    let report = h.poll("acme-partner").await;

    assert_eq!((report.pages, report.listed, report.queued, report.filtered), (2, 4, 3, 1));
    assert_eq!(h.erp_ids(), ["71", "73", "74"]);
    let (origin, order) = &h.registered()[0];
    assert_eq!(origin, "poll:acme-partner/order/71");
    assert_eq!((order.order_number.as_str(), order.issue_date.as_str()), ("PO-71", "2026-03-01"));
    assert_eq!(order.lines[0].quantity.as_str(), "3");
    assert_eq!(order.lines[0].line_total.as_str(), "13501.50");
    assert_eq!(order.totals.payable.as_str(), "13501.50");
    assert_eq!(order.buyer.identity(), "EM:compras@cliente.cl");
    assert!(partner.log().iter().all(|l| l.status == Some(200)));
    assert_eq!(PARTNER_API_KEY, local_secret("acme-partner-api-key"));
}

// ---- the cursor port: one contract, both adapters ----

async fn cursor_contract(cursors: &impl PollCursors, source: &str) {
    let empty = cursors.load(source).await.unwrap();
    assert_eq!(empty, StoredCursor { cursor: Cursor::default(), version: 0 });
    let mut cursor = Cursor::default();
    cursor.taken("1041", 5_000);
    assert_eq!(cursors.save(source, &cursor, 0).await.unwrap(), CursorSave::Saved);
    assert_eq!(cursors.save(source, &cursor, 0).await.unwrap(), CursorSave::Superseded, "an overlapping first run");
    let mut behind = Cursor::default();
    behind.taken("9", 4_000);
    assert_eq!(cursors.save(source, &behind, 1).await.unwrap(), CursorSave::Superseded, "never backwards");
    cursor.taken("1042", 6_000);
    assert_eq!(cursors.save(source, &cursor, 1).await.unwrap(), CursorSave::Saved);
    assert_eq!(cursors.save(source, &cursor, 1).await.unwrap(), CursorSave::Superseded, "a stale version");
    let stored = cursors.load(source).await.unwrap();
    assert_eq!((stored.version, stored.cursor), (2, cursor));
    assert_eq!(cursors.load(&format!("{source}-other")).await.unwrap().version, 0, "keyed by source");
}

async fn cursor_table() -> (aws_sdk_dynamodb::Client, String) {
    let dynamo = dynamodb_client(&sdk_config().await);
    let table = unique("poll-cursors");
    orderflow_e2e::dynamo::create_keyed_table(&dynamo, &table).await;
    (dynamo, table)
}

#[tokio::test]
async fn the_cursor_contract_holds_in_memory() {
    cursor_contract(&MemoryPollCursors::new(), "woocommerce").await;
}

#[tokio::test]
async fn the_cursor_contract_holds_on_dynamodb() {
    let (dynamo, table) = cursor_table().await;
    cursor_contract(&DynamoPollCursors::new(dynamo, table), "woocommerce").await;
}

#[tokio::test]
async fn a_poll_against_moto_queues_on_sqs_and_keeps_its_cursor_in_dynamodb() {
    let clock = ManualClock::new(T0);
    let woo = woo(&clock).await;
    woo.seed_order(&woo_order(3001, "2026-03-01T09:00:00Z"), "processing");
    let sdk = sdk_config().await;
    let sqs = sqs_client(&sdk);
    let erp_sync_url = create_fifo(&sqs, &unique("erp-sync"), &[]).await;
    let orders_url = create_fifo(&sqs, &unique("orders"), &[]).await;
    let (dynamo, table) = cursor_table().await;
    let (pause, _) = recording_pause(clock.clone());
    let poller = Poller {
        apps: woo_sources(&woo, &json!({})),
        secrets: local_secrets(),
        cursors: DynamoPollCursors::new(dynamo.clone(), &table),
        erp_sync: SqsFifoQueue::new(sqs.clone(), &erp_sync_url),
        orders: SqsFifoQueue::new(sqs.clone(), &orders_url),
        clock: Arc::new(clock.clone()),
        pause,
    };

    let first = handle(&poller, json!({"source": "woocommerce"})).await.unwrap();
    let second = handle(&poller, json!({"source": "woocommerce"})).await.unwrap();

    assert_eq!((first.queued, second.queued, second.already_taken), (1, 0, 1));
    let erp = drain(&sqs, &erp_sync_url).await;
    assert_eq!(erp.len(), 1);
    assert_eq!(
        (erp[0].group_id.as_str(), erp[0].dedup_id.as_str()),
        ("woocommerce/3001", "poll:woocommerce/order/3001")
    );
    assert_eq!(drain(&sqs, &orders_url).await.len(), 1);
    let stored = DynamoPollCursors::new(dynamo, &table).load("woocommerce").await.unwrap();
    assert_eq!(stored.cursor.seen.keys().collect::<Vec<_>>(), ["3001"]);
    assert_eq!(WOO_CONSUMER_SECRET, local_secret("woocommerce-consumer-secret"));
    assert_eq!(SHOPIFY_ACCESS_TOKEN, local_secret("shopify-access-token"));
}
