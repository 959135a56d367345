//! The demo's polling part: a WooCommerce shop that sends no webhooks, polled by the order
//! poller as EventBridge Scheduler would run it. The local WooCommerce test server holds two
//! orders; the source's filter takes the one in `processing`, queues it as the webhook door
//! would, and a second run finds nothing new.

use std::sync::Arc;

use orderflow_doubles::{FakeWoo, SeedOrder};
use orderflow_shared::adapters::embedded::{ManualClock, MemoryPollCursors};
use orderflow_shared::command::OrderCommand;
use orderflow_shared::order::OrderKey;
use serde_json::Value;

use crate::bridge::{LocalConfig, origin_of};
use crate::pipeline::Pipeline;
use crate::polling::{describe, poll, poller};

const SOURCE: &str = "woocommerce";
/// The local connection's address for the shop; the demo's server takes a free port.
const CONFIGURED_ORIGIN: &str = "http://127.0.0.1:18091";

/// Reads what [`run`] will need, so that a configuration directory without it stops the demo
/// before it starts instead of at this step.
pub fn check(config: &LocalConfig) -> Result<(), String> {
    let runtime = config.runtime(&[])?;
    runtime.poll_sources.get(SOURCE).map(drop).ok_or_else(|| runtime.missing("poll source", SOURCE))
}

/// Polls the local shop into `pipeline`'s orders queue; returns the order key it registered.
pub async fn run(pipeline: &Pipeline, clock: &ManualClock, config: &LocalConfig) -> Result<Option<OrderKey>, String> {
    let woo = FakeWoo::start_on(0, clock.clone()).await.map_err(|e| format!("local WooCommerce test server: {e}"))?;
    let order = |id, number, at| {
        SeedOrder::new(id, at).number(number).customer("Camila", "Rojas", "camila.rojas@example.cl").line(
            "CAF-GRANO-1KG",
            "Café de grano 1 kg",
            2,
            "12990",
        )
    };
    woo.seed_order(&order(1201, 1201, "2026-03-01T09:00:00Z"), "processing");
    woo.seed_order(&order(1202, 1202, "2026-03-01T09:02:00Z"), "pending");
    let apps = config.apps(None, &[(CONFIGURED_ORIGIN, origin_of(&woo.base_url())?)])?;
    let erp_sync = Arc::new(pipeline.time().queue("erp-sync-polled"));
    let queues = (erp_sync.clone(), pipeline.orders.clone());
    let poller = poller(config, apps, MemoryPollCursors::new(), queues, Arc::new(clock.clone()))?;
    println!("   local WooCommerce test server at {}: order 1201 processing, 1202 pending", woo.base_url());
    let first = poll(&poller, SOURCE).await?;
    println!("   first run   {}", describe(&first));
    let second = poll(&poller, SOURCE).await?;
    println!("   second run  {}", describe(&second));
    let key = erp_sync.peek_all().first().and_then(|m| match serde_json::from_str::<Value>(&m.body) {
        Ok(body) => body["order"]["order_key"].as_str().and_then(|k| OrderKey::parse(k).ok()),
        Err(_) => None,
    });
    let registers = pipeline
        .orders
        .peek_all()
        .iter()
        .filter(|m| matches!(serde_json::from_str(&m.body), Ok(OrderCommand::Register { source, .. }) if source.starts_with("poll:")))
        .count();
    println!(
        "   queued: {} on erp-sync.fifo, {registers} Register on orders.fifo (origin poll:{SOURCE}/order/1201)",
        erp_sync.len()
    );
    pipeline.drain().await?;
    Ok(key)
}
