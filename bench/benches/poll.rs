//! The order poller's time per page of 250 orders, end to end against the local shop doubles
//! over loopback HTTP: list, filter, map as the webhook door maps, queue on both (in-process)
//! FIFO queues, save the cursor. Shopify: one `orders(first: 250)` page, then the details in
//! batches under the single-query cost limit (the double's bucket is made large enough not to
//! throttle, so this is the poller's own cost; a real Standard-plan store adds the wait the
//! cost throttle imposes). WooCommerce: 250 orders in its pages of 100. A report, never a
//! timed assertion: bench/poll.sh runs it.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use order_poller::{Poller, handle};
use orderflow_cli::bridge::{LocalConfig, origin_of, today};
use orderflow_cli::config_dir::ConfigDir;
use orderflow_doubles::{FakeShopify, FakeWoo, SeedOrder};
use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, ManualClock, MemoryPollCursors};
use orderflow_shared::apps::Runtime;
use orderflow_shared::poll::{LocalSecrets, real_pause};
use orderflow_shared::secrets::Secret;
use serde_json::{Value, json};

const ORDERS: u64 = 250;

fn seed(id: u64) -> SeedOrder {
    let minute = id % 60;
    SeedOrder::new(id, &format!("2026-03-01T09:{minute:02}:00Z"))
        .customer("Ana", "Pérez", &format!("buyer{id}@example.com"))
        .line("CAF-GRANO-1KG", "Café en grano", 2, "12990.00")
        .line("FILT-102", "Filtros", 1, "3490.00")
        .line("PN-TE-07", "Té negro", 3, "4500.50")
}

/// The local connections (the shipped app definitions and `config/connections.local.json`),
/// with connection `name`'s poll source pointed at `base_url` (its origin moved to the
/// double's), on `platform`'s paging and without a filter.
fn sources(name: &str, base_url: &str, platform: Value) -> Arc<Runtime> {
    let config = LocalConfig {
        dir: ConfigDir::Dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../config").into()),
        connections: None,
        secrets: None,
    };
    let local = config.runtime(&[]).expect("the local connections");
    let configured =
        origin_of(&local.poll_sources.get(name).expect("the local poll source").base_url).unwrap().to_owned();
    let mut registry = config.registry(&[(&configured, origin_of(base_url).unwrap())]).expect("the local connections");
    let connection = &registry.connections[name];
    let pinned = (connection.app.clone(), connection.version.expect("a pinned version"));
    let definition = &mut registry.versions.get_mut(&pinned).expect("the pinned version").definition;
    let poll = definition.triggers.poll.as_mut().expect("a poll trigger");
    poll.config["platform"] = platform;
    poll.config.as_object_mut().unwrap().remove("filter");
    let runtime = registry.runtime(today());
    let source = runtime.poll_sources.get(name).expect("valid sources");
    assert_eq!(source.base_url, base_url);
    assert!(source.filter.is_none());
    Arc::new(runtime)
}

fn secrets() -> LocalSecrets {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/local-secrets.json");
    let values: std::collections::HashMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    LocalSecrets(values.into_iter().map(|(k, v)| (k, Secret::new(v))).collect())
}

/// One run from an empty cursor: every order taken and queued.
async fn poll_once(sources: &str, name: &str, base_url: &str, platform: &Value, clock: &ManualClock) -> u32 {
    let poller = Poller {
        apps: self::sources(sources, base_url, platform.clone()),
        secrets: secrets(),
        cursors: MemoryPollCursors::new(),
        erp_sync: EmbeddedFifoQueue::new("erp-sync"),
        orders: EmbeddedFifoQueue::new("orders"),
        clock: Arc::new(clock.clone()),
        pause: real_pause(),
    };
    let report = handle(&poller, json!({"source": name})).await.expect("the poll runs");
    assert_eq!(u64::from(report.queued), ORDERS, "every order taken");
    report.queued
}

fn poll(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let clock = ManualClock::new(1_772_409_600_000);
    let (shop, woo) = runtime.block_on(async {
        let shop = FakeShopify::start(clock.clone()).await;
        // Large enough that no run is throttled: the poller's own time, not the plan's.
        shop.set_rate_limit(1.0e9, 1.0e9);
        let woo = FakeWoo::start(clock.clone()).await;
        for id in 1..=ORDERS {
            shop.seed_order(&seed(id));
            woo.seed_order(&seed(id), "processing");
        }
        (shop, woo)
    });
    let mut group = c.benchmark_group("poll_250_orders");
    group.throughput(Throughput::Elements(ORDERS));
    let shopify = json!({"kind": "shopify", "first": 250, "line_items": 10});
    group.bench_function("shopify_one_page_of_250", |b| {
        b.iter(|| black_box(runtime.block_on(poll_once("shopify", "shopify", &shop.graphql_url(), &shopify, &clock))))
    });
    // The double's own share: the same list query and one detail batch, sent bare, so the
    // report can tell the poller's time from the time the double takes to answer.
    let client = orderflow_shared::http_client::builder().build().unwrap();
    let list = json!({"query": "query { orders(first: 250, query: \"updated_at:>=2026-01-01T00:00:00Z\", sortKey: UPDATED_AT) { edges { cursor node { id legacyResourceId updatedAt displayFinancialStatus displayFulfillmentStatus closed cancelledAt } } pageInfo { hasNextPage endCursor } } }"});
    group.bench_function("shopify_double_answers_the_list_query", |b| {
        b.iter(|| black_box(runtime.block_on(graphql(&client, &shop.graphql_url(), &list))))
    });
    group.finish();

    let woocommerce = json!({"kind": "woocommerce", "per_page": 100});
    let mut group = c.benchmark_group("poll_250_orders");
    group.throughput(Throughput::Elements(ORDERS));
    group.bench_function("woocommerce_250_in_pages_of_100", |b| {
        b.iter(|| {
            black_box(runtime.block_on(poll_once("woocommerce", "woocommerce", &woo.base_url(), &woocommerce, &clock)))
        })
    });
    group.finish();
}

async fn graphql(client: &reqwest::Client, url: &str, body: &Value) -> usize {
    let request = client.post(url).header("x-shopify-access-token", orderflow_doubles::SHOPIFY_ACCESS_TOKEN);
    let answer = request.body(body.to_string()).header("content-type", "application/json").send().await.unwrap();
    answer.text().await.unwrap().len()
}

criterion_group!(benches, poll);
criterion_main!(benches);
