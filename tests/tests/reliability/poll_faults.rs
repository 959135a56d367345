//! The poll fault run (issue 17): 30 % of the order poller's calls to the WooCommerce, Shopify
//! and B2B partner doubles fail through the chaos proxy (5xx, refusals, answers held past the
//! timeout), seeded. The schedule runs each source again after a failed run, as EventBridge
//! Scheduler's retries and next rate do. Every order the filter admits must end on both queues
//! exactly once, and nothing it leaves out may come in; it prints the runs and calls each
//! source took, for docs/RELIABILITY.md.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use order_poller::{Poller, handle};
use orderflow_cli::bridge::today;
use orderflow_doubles::{FakePartner, FakeShopify, FakeWoo, SeedOrder};
use orderflow_e2e::chaos::{ChaosProxy, Faults};
use orderflow_e2e::{local_config, repo_path};
use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, ManualClock, MemoryPollCursors};
use orderflow_shared::apps::Runtime;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::erp::ErpSyncMessage;
use orderflow_shared::error::PortError;
use orderflow_shared::poll::{LocalSecrets, Pause};
use orderflow_shared::ports::{FifoQueue, OutgoingMessage, ReceivedMessage};
use orderflow_shared::secrets::Secret;
use serde_json::json;

const FAULTS: Faults = Faults { share: 0.3, seed: 0x9011_2026 };
/// The sources' client timeout in the run; the proxy holds a timed-out answer past it.
const TIMEOUT_MS: u64 = 300;
const HOLD: Duration = Duration::from_millis(700);
/// Scheduled runs per source before the run counts what is not in as lost.
const RUNS: usize = 200;
/// Per platform: orders the local source's filter admits, and orders it leaves out.
const ADMITTED: u64 = 40;
const LEFT_OUT: u64 = 10;

/// A FIFO queue that counts the sends made to it, then sends them on (the FIFO dedup of the
/// queue behind absorbs the repeats of a run that failed after queueing).
struct Counting {
    queue: EmbeddedFifoQueue,
    sends: Mutex<u32>,
}

impl FifoQueue for Counting {
    async fn send(&self, msg: OutgoingMessage) -> Result<String, PortError> {
        *self.sends.lock().unwrap() += 1;
        self.queue.send(msg).await
    }

    async fn receive(&self, max: usize) -> Result<Vec<ReceivedMessage>, PortError> {
        self.queue.receive(max).await
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), PortError> {
        self.queue.delete(receipt_handle).await
    }

    async fn release(&self, receipt_handle: &str) -> Result<(), PortError> {
        self.queue.release(receipt_handle).await
    }
}

fn counting(name: &str, clock: &ManualClock) -> Arc<Counting> {
    Arc::new(Counting { queue: EmbeddedFifoQueue::new(name).with_clock(clock.clone()), sends: Mutex::new(0) })
}

/// The local poll sources, each pointed at its proxy (`origins`: the connection's configured
/// origin and the proxy's), with small pages so a run reads many, and the run's timeout.
fn sources(origins: &[(&str, &str)], urls: &[(&str, String)]) -> Arc<Runtime> {
    let mut registry = local_config(None).registry(origins).unwrap();
    for version in registry.versions.values_mut() {
        let Some(poll) = version.definition.triggers.poll.as_mut() else { continue };
        let config = &mut poll.config;
        config["timeout_ms"] = json!(TIMEOUT_MS);
        match config["platform"]["kind"].as_str().unwrap() {
            "woocommerce" => config["platform"]["per_page"] = json!(10),
            "shopify" => config["platform"]["first"] = json!(10),
            _ => config["platform"]["page_size"] = json!(10),
        }
    }
    let runtime = registry.runtime(today());
    let mut names = Vec::new();
    for source in runtime.poll_sources.iter() {
        let url = &urls.iter().find(|(n, _)| *n == source.name).unwrap().1;
        assert_eq!(&source.base_url, url);
        assert_eq!(source.timeout_ms, TIMEOUT_MS);
        names.push(source.name.as_str());
    }
    names.sort_unstable();
    assert_eq!(names, ["acme-partner", "shopify", "woocommerce"]);
    Arc::new(runtime)
}

fn secrets() -> LocalSecrets {
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    let values: BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
    LocalSecrets(values.into_iter().map(|(k, v)| (k, Secret::new(v))).collect())
}

/// The n-th order's update time: pairs of orders share one, so page boundaries split ties.
fn updated_at(n: u64) -> String {
    format!("2026-03-01T09:{:02}:{:02}Z", n / 2 / 60, n / 2 % 60)
}

fn order(id: u64, n: u64) -> SeedOrder {
    SeedOrder::new(id, &updated_at(n)).number(id).customer("Camila", "Rojas", "camila.rojas@example.cl").line(
        "CAF-GRANO-1KG",
        "Café de grano 1 kg",
        1,
        "12990",
    )
}

/// The source name and platform id of an origin `poll:<source>/order/<id>`.
fn polled(origin: &str) -> (String, String) {
    let (name, id) = origin.strip_prefix("poll:").and_then(|o| o.split_once("/order/")).expect(origin);
    (name.to_owned(), id.to_owned())
}

#[tokio::test]
async fn with_30_percent_of_poll_calls_failing_every_admitted_order_comes_in_once() {
    let clock = ManualClock::new(1_772_359_200_000);
    let (woo, shopify, partner) = (
        FakeWoo::start(clock.clone()).await,
        FakeShopify::start(clock.clone()).await,
        FakePartner::start(clock.clone()).await,
    );
    // The cost bucket refills on the double's clock, which the run does not move: a bucket this
    // large stands in for the refill between scheduled runs.
    shopify.set_rate_limit(10_000_000.0, 1_000.0);
    let mut expected: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for n in 0..ADMITTED + LEFT_OUT {
        let admitted = n % 5 != 4;
        let (woo_status, partner_status) = if admitted { ("processing", "confirmed") } else { ("pending", "draft") };
        let woo_id = woo.seed_order(&order(3_000 + n, n), woo_status);
        partner.seed_order(&order(9_000 + n, n), partner_status);
        if admitted {
            expected.entry("woocommerce").or_default().insert(woo_id.to_string());
            expected.entry("acme-partner").or_default().insert((9_000 + n).to_string());
        }
        // Every order in the Shopify double is paid: all of them are admitted.
        if n < ADMITTED {
            let gid = shopify.seed_order(&order(5_000_000 + n, n));
            expected.entry("shopify").or_default().insert(gid.rsplit('/').next().unwrap().to_owned());
        }
    }
    assert!(expected.values().all(|ids| ids.len() as u64 == ADMITTED), "{expected:?}");
    let proxies = [
        ("woocommerce", ChaosProxy::start(woo.url(), FAULTS, HOLD).await),
        ("shopify", ChaosProxy::start(shopify.url(), FAULTS, HOLD).await),
        ("acme-partner", ChaosProxy::start(partner.url(), FAULTS, HOLD).await),
    ];
    let urls: Vec<(&str, String)> = vec![
        ("woocommerce", format!("{}/wp-json/wc/v3", proxies[0].1.url())),
        ("shopify", shopify.graphql_url().replace(shopify.url(), proxies[1].1.url())),
        ("acme-partner", proxies[2].1.url().to_owned()),
    ];
    let (erp_sync, orders) = (counting("erp-sync.fifo", &clock), counting("orders.fifo", &clock));
    // Waits between tries are not slept: the proxy's held answers already take real time.
    let pause: Pause = Arc::new(|_| Box::pin(async {}));
    let poller = Poller {
        apps: sources(
            &[
                ("http://127.0.0.1:18091", proxies[0].1.url()),
                ("http://127.0.0.1:18090", proxies[1].1.url()),
                ("http://127.0.0.1:18092", proxies[2].1.url()),
            ],
            &urls,
        ),
        secrets: secrets(),
        cursors: MemoryPollCursors::new(),
        erp_sync: erp_sync.clone(),
        orders: orders.clone(),
        clock: Arc::new(clock.clone()),
        pause,
    };

    let mut runs: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (name, _) in &proxies {
        let (total, failed) = runs.entry(name).or_default();
        loop {
            assert!(*total < RUNS, "{name}: not caught up after {RUNS} runs");
            *total += 1;
            match handle(&poller, json!({ "source": name })).await {
                Ok(report) if report.outcome == "caught_up" => break,
                Ok(_) => {}
                Err(_) => *failed += 1,
            }
        }
    }

    let injected: u32 = proxies.iter().flat_map(|(_, p)| p.injected().into_values()).sum();
    assert!(injected > 0, "faults were injected");
    let failed_runs: usize = runs.values().map(|(_, failed)| failed).sum();
    assert!(failed_runs > 0, "some runs failed: {runs:?}");
    let mut on_erp_sync: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for message in erp_sync.queue.peek_all() {
        match serde_json::from_str(&message.body).unwrap() {
            ErpSyncMessage::Order { source, external_order_id, .. } => {
                let (name, id) = polled(&source);
                assert_eq!(id, external_order_id);
                on_erp_sync.entry(name).or_default().push(id)
            }
            other => panic!("{other:?}"),
        }
    }
    let mut registered: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for message in orders.queue.peek_all() {
        match serde_json::from_str(&message.body).unwrap() {
            OrderCommand::Register { source, .. } => {
                let (name, id) = polled(&source);
                registered.entry(name).or_default().push(id)
            }
            other => panic!("{other:?}"),
        }
    }
    for (name, ids) in &expected {
        for (queue, held) in [("erp-sync", &on_erp_sync), ("orders", &registered)] {
            let mut got = held.get(*name).cloned().unwrap_or_default();
            got.sort();
            let want: Vec<String> = ids.iter().cloned().collect();
            assert_eq!(got, want, "{name} on {queue}: each admitted order once, nothing else");
        }
    }
    let sends = (*erp_sync.sends.lock().unwrap(), *orders.sends.lock().unwrap());
    let held = erp_sync.queue.len() + orders.queue.len();
    let line: Vec<String> = proxies
        .iter()
        .map(|(name, proxy)| {
            let (total, failed) = runs[name];
            format!("{name} {total} runs ({failed} failed), {} calls", proxy.requests())
        })
        .collect();
    println!(
        "poll fault run: {injected} faults injected; {}; {} sends for {held} messages held (repeats absorbed by the FIFO dedup); duplicates: 0",
        line.join("; "),
        sends.0 + sends.1
    );
}
