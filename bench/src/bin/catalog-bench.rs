//! Catalogue sync at scale, against the in-process doubles (a report, never a timed test):
//! SKUS items in the Business Central double, a full first sync to the Shopify (or
//! WooCommerce) double, then an incremental run with PERCENT % of the stock levels changed,
//! then a run over an unchanged catalogue. For each: wall time, ERP and shop calls, and the
//! staging items written (what the DynamoDB table would be billed; the checkpoint and the run
//! record are one or a few writes more, listed apart).
//!
//! usage: catalog-bench SKUS [PERCENT] [shopify|woocommerce]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use orderflow_cli::bridge::{LocalConfig, origin_of};
use orderflow_cli::config_dir::ConfigDir;
use orderflow_doubles::{BC_CLIENT_SECRET, ErpItem, FakeBc, FakeShopify, FakeWoo, SHOPIFY_ACCESS_TOKEN};
use orderflow_shared::adapters::embedded::{ManualClock, MemoryStaging};
use orderflow_shared::catalog::assemble::build;
use orderflow_shared::catalog::{AuditLog, CatalogConfig, CatalogSync, Exchange, Phase, RunSummary};
use orderflow_shared::error::PortError;
use orderflow_shared::ports::{Clock, SystemClock};
use orderflow_shared::secrets::Secret;

const SECRETS: &str = include_str!("../../../config/local-secrets.json");

/// Counts exchanges and keeps none: at 50,000 SKUs the log would hold ~100,000 bodies.
#[derive(Clone, Default)]
struct CountingLog(Arc<AtomicU64>);

impl AuditLog for CountingLog {
    async fn record(&self, exchanges: &[Exchange]) -> Result<(), PortError> {
        self.0.fetch_add(exchanges.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

fn stock(n: u32, round: u32) -> String {
    ((n * 7 + round) % 40).to_string()
}

fn report(label: &str, s: &RunSummary, wall_ms: u128) {
    println!(
        "{label:<12} {wall_ms:>8} ms  read {:>6}  changed {:>6}  pushed {:>6}  refused {}  failed {}  erp calls {:>4}  shop calls {:>6}  staging items written {:>6}{}",
        s.read,
        s.changed,
        s.pushed,
        s.refused,
        s.failed,
        s.erp_calls,
        s.shop_calls,
        s.items_written,
        s.error.as_deref().map(|e| format!("  STOPPED: {e}")).unwrap_or_default()
    );
}

#[tokio::main]
async fn main() -> Result<(), String> {
    // The report is the table below; the runs' EMF lines would drown it.
    orderflow_shared::telemetry::silence_metrics();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: catalog-bench SKUS [PERCENT] [shopify|woocommerce]";
    let skus: u32 = args.first().ok_or(usage)?.parse().map_err(|e| format!("SKUS: {e}"))?;
    let percent: u32 = args.get(1).map_or(Ok(1), |p| p.parse()).map_err(|e| format!("PERCENT: {e}"))?;
    let platform = args.get(2).map_or("shopify", String::as_str);

    let clock = ManualClock::new(SystemClock.now_ms());
    let bc = FakeBc::start(clock.clone()).await;
    bc.set_page_size(1_000);
    let shopify = FakeShopify::start(clock.clone()).await;
    // The bucket refills on a clock nobody advances; a large one stands in for the refill.
    shopify.set_rate_limit(1e12, 1e6);
    let woo = FakeWoo::start(clock.clone()).await;
    for n in 0..skus {
        bc.put_item(ErpItem::new(
            &format!("SKU-{n:06}"),
            &format!("Item {n}"),
            &format!("{}.90", n % 100),
            &stock(n, 0),
        ));
    }
    let origin = bc.token_url().trim_end_matches("/token").to_owned();
    // The local connections on the shipped app definitions, as built into the CLI.
    let local = LocalConfig { dir: ConfigDir::BuiltIn, connections: None, secrets: None };
    let runtime = local.runtime(&[
        ("http://127.0.0.1:18080", &origin),
        ("http://127.0.0.1:18090", origin_of(&shopify.graphql_url())?),
        ("http://127.0.0.1:18091", origin_of(&woo.base_url())?),
    ])?;
    let values: HashMap<String, String> = serde_json::from_str(SECRETS).map_err(|e| e.to_string())?;
    let mut secrets: HashMap<String, Secret> =
        values.into_iter().map(|(k, v)| (format!("local:{k}"), Secret::new(v))).collect();
    secrets.insert("local:bc-client-secret".into(), Secret::new(BC_CLIENT_SECRET));
    secrets.insert("local:shopify-access-token".into(), Secret::new(SHOPIFY_ACCESS_TOKEN));
    let config = CatalogConfig::from_json(&format!(r#"{{"erp": "business-central", "shop": "{platform}"}}"#))?;
    let built = build(&config, &runtime, &secrets, Arc::new(clock.clone())).map_err(|e| e.to_string())?;
    let staging = MemoryStaging::default();
    let log = CountingLog::default();
    let sync = CatalogSync {
        store: staging.clone(),
        log: log.clone(),
        erp: built.erp,
        shop: built.shop,
        clock: Arc::new(clock),
    };

    println!(
        "catalog-bench: {skus} SKUs, Business Central double → staging (embedded) → {platform} double; debug build"
    );
    let run = |label: &'static str| {
        let (sync, settings) = (&sync, &built.settings);
        async move {
            let started = Instant::now();
            let summary = sync.run(Phase::Both, settings, &|_, _| {}).await.map_err(|e| e.to_string())?;
            report(label, &summary, started.elapsed().as_millis());
            Ok::<_, String>(summary)
        }
    };
    run("first sync").await?;
    let changed = skus * percent / 100;
    // Every (100 / PERCENT)-th SKU's stock moves.
    let step = (skus / changed.max(1)).max(1);
    for n in (0..skus).step_by(step as usize).take(changed as usize) {
        bc.put_item(ErpItem::new(
            &format!("SKU-{n:06}"),
            &format!("Item {n}"),
            &format!("{}.90", n % 100),
            &stock(n, 1),
        ));
    }
    let incremental = run("incremental").await?;
    let unchanged = run("unchanged").await?;
    println!(
        "{changed} SKUs changed ({percent} %): {} shop calls in the incremental run; {} in the unchanged run",
        incremental.shop_calls, unchanged.shop_calls
    );
    println!(
        "request log: {} exchanges kept; run records: 3; checkpoint writes: one per chunk pushed, plus one to clear",
        log.0.load(Ordering::Relaxed)
    );
    if unchanged.shop_calls != 0 {
        return Err("an unchanged catalogue made shop calls".into());
    }
    Ok(())
}
