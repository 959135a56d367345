//! The demo's shop part: a Shopify order arrives by webhook, ships with a tracking number and
//! is delivered; shop-sync tells the local Shopify double, which ends with one fulfilment.

use orderflow_doubles::{FakeShopify, SeedOrder};
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::OrderStore;
use webhook_bridge::sign;

use super::samples;
use crate::bridge::{Bridge, LocalConfig};
use crate::pipeline::Pipeline;
use crate::shops::Shops;

const SOURCE: &str = "shopify";
/// The order id of `events/webhooks/shopify-order-created.json`.
const SHOPIFY_ORDER_ID: u64 = 5_792_384_213_048;
const TRACKING: &str = "1Z999AA10123456784";

pub async fn run(pipeline: &Pipeline, clock: &ManualClock, config: &LocalConfig) -> Result<Option<OrderKey>, String> {
    let shopify = FakeShopify::start_on(0, clock.clone()).await.map_err(|e| format!("local Shopify double: {e}"))?;
    // The shop holds the order the webhook announces (the sample's first line).
    shopify.seed_order(
        &SeedOrder::new(SHOPIFY_ORDER_ID, "2026-03-14T13:26:41Z")
            .number(1001)
            .currency("USD")
            .customer("Jane", "Doe", "Jane.Doe@example.com")
            .line("OCT-BLK-M", "Octopus T-Shirt - Black / M", 2, "19.95"),
    );
    let bridge = Bridge::new(config, config.apps(None, &[])?, pipeline.orders.clone(), None, pipeline.time())?;
    let secret = config.secret_values()?.remove(SOURCE).ok_or("no local secret shopify")?;
    let body = samples::SHOPIFY_ORDER_CREATED;
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("X-Shopify-Topic".to_owned(), "orders/create".to_owned()),
        ("X-Shopify-Event-Id".to_owned(), "demo-shopify-event-1".to_owned()),
        ("X-Shopify-Hmac-Sha256".to_owned(), sign::body_base64(&secret, body)),
    ];
    let reply = bridge.receive(SOURCE, &headers, body).await;
    println!("   Shopify orders/create    {} {}", reply.status.as_u16(), reply.body["status"].as_str().unwrap_or("-"));
    pipeline.drain().await?;

    let origin = format!("webhook:{SOURCE}/order/{SHOPIFY_ORDER_ID}");
    let Some(key) = find_by_origin(pipeline, &origin).await? else {
        println!("   the Shopify order was not registered; nothing to ship");
        return Ok(None);
    };
    let tracking = format!(
        r#"{{"tracking": {{"number": "{TRACKING}", "url": "https://track.example/{TRACKING}", "company": "UPS"}}}}"#
    );
    for (stage, body) in [("dispatch", tracking.as_str()), ("deliver", "")] {
        let status = post(pipeline, &key, stage, body).await;
        println!("   POST /orders/{{key}}/{stage:<9}  {status}");
    }

    let file = config.shops(&[(SOURCE, shopify.url().to_owned())])?;
    let shops = Shops::new(config, &file, pipeline.store.clone(), pipeline.time())?;
    let queued = shops.forward(&pipeline.store.changes_since(0)).await?;
    let polled = shops.drain().await?;
    println!(
        "   orders stream -> shop-sync.fifo: {queued} actions queued, {} done, {} parked in shop-sync-dlq.fifo",
        polled.deleted,
        shops.dlq.len()
    );
    for fulfilment in shopify.fulfillments() {
        let tracking = fulfilment.tracking.and_then(|t| t.number).unwrap_or_else(|| "-".into());
        println!("   Shopify fulfilment {} of order {SHOPIFY_ORDER_ID}: tracking {tracking}", fulfilment.id);
    }
    let record = pipeline.store.get(&key).await.map_err(|e| e.to_string())?.ok_or("the order disappeared")?;
    for entry in record.history.iter().filter(|h| h.by == shop_sync::worker::FUNCTION) {
        println!("   history: {}", entry.detail);
    }
    Ok(Some(key))
}

async fn find_by_origin(pipeline: &Pipeline, origin: &str) -> Result<Option<OrderKey>, String> {
    for change in pipeline.store.changes_since(0) {
        let state = orderflow_shared::ports::StateChange::from(&change);
        let Some(key) = state.key.as_deref().and_then(|k| OrderKey::parse(k).ok()) else { continue };
        let record = pipeline.store.get(&key).await.map_err(|e| e.to_string())?;
        if record.is_some_and(|r| r.source == origin) {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

async fn post(pipeline: &Pipeline, key: &OrderKey, stage: &str, body: &str) -> u16 {
    let path = format!("/orders/{key}/{stage}");
    let req = lambda_http::http::Request::builder()
        .method("POST")
        .uri(path.as_str())
        .header("content-type", "application/json")
        .body(lambda_http::Body::Text(body.to_owned()))
        .expect("a valid request");
    let req = lambda_http::RequestExt::with_raw_http_path(req, path);
    pipeline.api(req).await.status().as_u16()
}
