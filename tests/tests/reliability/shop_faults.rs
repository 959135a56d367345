//! The shop fault run (issue 17): 30 % of shop-sync's calls to the Shopify and WooCommerce
//! doubles fail through the chaos proxy (5xx, refusals, timeouts after the shop did the work),
//! seeded. Every order must end told exactly once: one Shopify fulfilment, one WooCommerce
//! status change and one note, after redrives of what was parked; nothing lost, nothing twice.
//! It prints the calls each shop double took per order, for docs/RELIABILITY.md.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use orderflow_doubles::{FakeShopify, FakeWoo, SeedOrder};
use orderflow_e2e::chaos::{ChaosProxy, Faults};
use orderflow_e2e::{local_runtime, order_numbered, repo_path};
use orderflow_shared::adapters::embedded::event_source::poll_once;
use orderflow_shared::adapters::embedded::{
    DEFAULT_VISIBILITY_TIMEOUT, EmbeddedFifoQueue, EmbeddedOrderStore, ManualClock,
};
use orderflow_shared::batch::Budget;
use orderflow_shared::lifecycle::{OrderRecord, State, Tracking};
use orderflow_shared::mapping::{FileSource, MappingRef};
use orderflow_shared::operator::{self, Selection};
use orderflow_shared::ports::{Clock, Expected, OrderStore, SystemClock};
use orderflow_shared::secrets::Secret;
use orderflow_shared::shop::{BuiltShops, ShopsFile};
use shop_sync::ShopSync;
use shop_sync::stream::forward_changes;
use shop_sync::worker::handle;

const FAULTS: Faults = Faults { share: 0.3, seed: 0x5109_2026 };
const ORDERS_PER_SHOP: u64 = 40;
/// The shops' client timeout in the run; the proxy holds a timed-out answer past it.
const SHOP_TIMEOUT_MS: u64 = 300;
const HOLD: Duration = Duration::from_millis(700);
/// Redrives of the parked refusals before the run counts what is left as lost.
const REDRIVES: usize = 20;

type Deps = ShopSync<Arc<EmbeddedOrderStore>, BuiltShops<FileSource>, Arc<EmbeddedFifoQueue>>;

/// The local connections' shops, each pointed at its proxy, with the run's timeout.
fn shops(shopify: &ChaosProxy, woo: &ChaosProxy) -> ShopsFile {
    let mut file =
        local_runtime(&[("http://127.0.0.1:18090", shopify.url()), ("http://127.0.0.1:18091", woo.url())]).shops;
    for (name, proxy, path) in [("shopify", shopify, "/admin/api/2026-01"), ("woocommerce", woo, "/wp-json/wc/v3")] {
        let shop = file.shops.get_mut(name).unwrap();
        assert_eq!(shop.base_url, format!("{}{path}", proxy.url()));
        shop.timeout_ms = SHOP_TIMEOUT_MS;
    }
    file
}

fn secrets() -> HashMap<String, Secret> {
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    let values: HashMap<String, String> = serde_json::from_str(&text).unwrap();
    values.into_iter().map(|(k, v)| (format!("local:{k}"), Secret::new(v))).collect()
}

/// A shop order stored, then walked to dispatched (with tracking) and delivered.
async fn shipped(store: &EmbeddedOrderStore, source: &str, number: &str) -> OrderRecord {
    let now = "2026-03-02T12:00:00.000Z";
    let mut record = OrderRecord::register(order_numbered(number), source, "test", now);
    store.put(&record, None).await.unwrap();
    for state in [State::IssuanceDte, State::BroadcastDte, State::Dispatched, State::Delivered] {
        let expected = Expected::of(&record);
        if state == State::Dispatched {
            record.tracking = Some(Tracking { number: Some(format!("TRK-{number}")), ..Tracking::default() });
        }
        record.transition(state, "test", "", now).unwrap();
        store.put(&record, Some(expected)).await.unwrap();
    }
    record
}

/// Runs the worker until the queue is empty, waiting out visibility timeouts on the clock.
async fn drain(deps: &Deps, queue: &EmbeddedFifoQueue, clock: &ManualClock) {
    for _ in 0..10_000 {
        let polled = poll_once(queue, 10, "arn:aws:sqs:local:0:shop-sync.fifo", |event| async {
            Ok::<_, std::convert::Infallible>(handle(deps, event, Budget::unlimited()).await)
        })
        .await
        .unwrap();
        if polled.received == 0 {
            if queue.is_empty() {
                return;
            }
            clock.advance(DEFAULT_VISIBILITY_TIMEOUT);
        }
    }
    panic!("the shop-sync queue did not drain");
}

#[tokio::test]
async fn with_30_percent_of_shop_calls_failing_every_order_is_told_once() {
    let clock = ManualClock::new(1_772_359_200_000);
    let (shopify, woo) = (FakeShopify::start(clock.clone()).await, FakeWoo::start(clock.clone()).await);
    let shopify_proxy = ChaosProxy::start(shopify.url(), FAULTS, HOLD).await;
    let woo_proxy = ChaosProxy::start(woo.url(), FAULTS, HOLD).await;
    let store = Arc::new(EmbeddedOrderStore::new());
    let mut woo_ids = Vec::new();
    for n in 0..ORDERS_PER_SHOP {
        let shopify_id = 7_000_000_000 + n;
        shopify
            .seed_order(&SeedOrder::new(shopify_id, "2026-03-01T09:00:00Z").number(2000 + n).line("A-1", "A", 1, "10"));
        shipped(&store, &format!("webhook:shopify/order/{shopify_id}"), &format!("SF-{n}")).await;
        let woo_id = woo.seed_order(&SeedOrder::new(n + 1, "2026-03-01T09:00:00Z"), "processing");
        shipped(&store, &format!("webhook:woocommerce/order/{woo_id}"), &format!("WF-{n}")).await;
        woo_ids.push(woo_id);
    }
    let dlq = Arc::new(EmbeddedFifoQueue::new("shop-sync-dlq.fifo").with_clock(clock.clone()));
    let queue =
        Arc::new(EmbeddedFifoQueue::new("shop-sync.fifo").with_clock(clock.clone()).with_redrive(dlq.clone(), 10));
    let mapping = |r: &MappingRef| match r {
        MappingRef::File(path) => Ok(FileSource::new(path.clone())),
        other => Err(format!("{other:?}")),
    };
    let deps = ShopSync {
        store: store.clone(),
        shops: BuiltShops::new(&shops(&shopify_proxy, &woo_proxy), &secrets(), mapping, Arc::new(SystemClock)).unwrap(),
        dlq: dlq.clone(),
        claim_timeout: Duration::from_secs(300),
    };

    // The stream delivers every change twice (a retried batch), as Lambda may.
    let changes = store.changes_since(0);
    let queued = forward_changes(&*queue, &changes).await.unwrap() + forward_changes(&*queue, &changes).await.unwrap();
    assert_eq!(queued as u64, 2 * 2 * 2 * ORDERS_PER_SHOP, "dispatched and delivered, per order, twice");
    assert_eq!(queue.len() as u64, 2 * 2 * ORDERS_PER_SHOP, "the FIFO dedup kept one of each");
    drain(&deps, &queue, &clock).await;
    let mut redrives = 0;
    while !dlq.is_empty() && redrives < REDRIVES {
        let parked = operator::list(&*dlq, u64::MAX).await.unwrap();
        assert!(parked.iter().all(|p| !p.reason.is_empty()), "every parked action says why");
        operator::redrive(&*dlq, &*queue, &Selection::All, clock.now_ms()).await.unwrap();
        drain(&deps, &queue, &clock).await;
        redrives += 1;
    }
    assert!(dlq.is_empty(), "after {REDRIVES} redrives, {} actions are still parked", dlq.len());

    let injected: u32 = shopify_proxy.injected().values().chain(woo_proxy.injected().values()).sum();
    assert!(injected > 0, "faults were injected");
    let n = usize::try_from(ORDERS_PER_SHOP).unwrap();
    let fulfilments = shopify.fulfillments();
    let mut per_order: HashMap<&str, usize> = HashMap::new();
    for f in &fulfilments {
        *per_order.entry(f.order_id.as_str()).or_default() += 1;
    }
    assert_eq!(per_order.len(), n, "every Shopify order was fulfilled");
    assert!(per_order.values().all(|&count| count == 1), "no Shopify order was fulfilled twice: {per_order:?}");
    let ours: Vec<_> = woo.notes().into_iter().filter(|note| note.added_by_user).collect();
    assert!(!ours.is_empty());
    for id in &woo_ids {
        assert_eq!(ours.iter().filter(|note| note.order_id == *id).count(), 1, "one note on order {id}");
        let completed = woo.status_changes().into_iter().filter(|c| c.order_id == *id && c.to == "completed").count();
        assert_eq!(completed, 1, "order {id} completed once");
    }
    let keys: std::collections::BTreeSet<_> = store.changes_since(0).into_iter().map(|c| c.new.key.clone()).collect();
    assert_eq!(keys.len(), 2 * n);
    for key in keys {
        let record = store.get(&key).await.unwrap().unwrap();
        for state in [State::Dispatched, State::Delivered] {
            let slot = record.shop_sync.get(&state);
            // WooCommerce takes no action on delivered (the woocommerce app definition): nothing to settle.
            let expected = !(state == State::Delivered && record.source.starts_with("webhook:woocommerce/"));
            assert_eq!(slot.is_some_and(|s| s.done_at.is_some() && s.claim.is_none()), expected, "{key} {state}");
        }
    }
    let per = |calls: usize| calls as f64 / n as f64;
    println!(
        "shop fault run: {injected} faults injected; Shopify {} calls ({:.2}/order), WooCommerce {} calls ({:.2}/order); {} redrives; duplicates: 0",
        shopify_proxy.requests(),
        per(shopify_proxy.requests() as usize),
        woo_proxy.requests(),
        per(woo_proxy.requests() as usize),
        redrives
    );
}
