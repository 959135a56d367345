//! The demo's webhook part: signed Standard Webhooks deliveries (valid, tampered, replayed,
//! refund) through the bridge, then the erp-sync worker against a local Business Central
//! test server.

use orderflow_doubles::FakeBc;
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::order::OrderKey;
use serde_json::Value;
use webhook_bridge::sign;

use super::samples;
use crate::bridge::{Bridge, LocalConfig};
use crate::pipeline::Pipeline;

const SOURCE: &str = "standard";
const CONNECTOR: &str = "business-central";

/// What the webhook run left behind, for the orders table.
pub struct WebhookRun {
    pub order_key: Option<OrderKey>,
}

/// Reads what [`run`] will need, so that a configuration directory without it stops the demo
/// before it starts instead of at this step.
pub fn check(config: &LocalConfig) -> Result<(), String> {
    config.connector(CONNECTOR, None)?;
    local_secret(config, SOURCE)?;
    config.webhook_sources().map(drop)
}

pub async fn run(pipeline: &Pipeline, clock: &ManualClock, config: &LocalConfig) -> Result<WebhookRun, String> {
    let erp = FakeBc::start_on(0, clock.clone()).await.map_err(|e| format!("local ERP test server: {e}"))?;
    let origin = erp.token_url().trim_end_matches("/token").to_owned();
    let connector = config.connector(CONNECTOR, Some(&origin))?;
    let bridge =
        Bridge::new(config, config.apps(None, &[])?, pipeline.orders.clone(), Some(connector), pipeline.time())?;
    let secret = local_secret(config, SOURCE)?;
    let (created, refunded) = (samples::ORDER_CREATED, samples::ORDER_REFUNDED);

    let tampered = tampered(created);
    // (what is shown, webhook id, body signed, body sent): the tampered one is signed over the
    // original and delivered with one value changed on the way.
    let deliveries = [
        ("valid order.created", "msg_demo_created", created, created),
        ("tampered body", "msg_demo_tampered", created, tampered.as_slice()),
        ("replayed delivery", "msg_demo_created", created, created),
    ];
    for (label, id, signed, sent) in deliveries {
        let reply = deliver(&bridge, &secret, id, signed, sent).await;
        println!("   {label:<22} {reply}");
    }
    // The lifecycle registers the order before it can be refunded.
    pipeline.drain().await?;
    let reply = deliver(&bridge, &secret, "msg_demo_refunded", refunded, refunded).await;
    println!("   {:<22} {}", "order.refunded", reply);
    pipeline.drain().await?;

    println!();
    println!("   erp-sync.fifo -> erp-sync-worker -> {CONNECTOR} (local ERP test server at {origin})");
    let polled = bridge.drain_erp().await?;
    println!(
        "   {} messages pushed, {} retried, {} parked in erp-dlq.fifo",
        polled.deleted,
        polled.failed,
        bridge.erp_dlq.len()
    );
    for order in erp.orders() {
        println!(
            "   sales order  {} externalDocumentNumber={} lines={}",
            text(&order["number"]),
            text(&order["externalDocumentNumber"]),
            order["salesOrderLines"].as_array().map_or(0, Vec::len)
        );
    }
    for memo in erp.credit_memos() {
        println!(
            "   credit memo  {} externalDocumentNumber={} yourReference={} amount={} {}",
            text(&memo["number"]),
            text(&memo["externalDocumentNumber"]),
            text(&memo["yourReference"]),
            memo["totalAmountIncludingTax"],
            text(&memo["currencyCode"])
        );
    }
    let order_key = erp.orders().first().and_then(|o| OrderKey::parse(text(&o["externalDocumentNumber"])).ok());
    Ok(WebhookRun { order_key })
}

/// One delivery signed over `signed` as the platform would, carrying `sent`.
async fn deliver(bridge: &Bridge, secret: &str, id: &str, signed: &[u8], sent: &[u8]) -> String {
    let timestamp = bridge.now().unix_timestamp();
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("webhook-id".to_owned(), id.to_owned()),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        ("webhook-signature".to_owned(), sign::standard_webhooks(secret, id, timestamp, signed)),
    ];
    let reply = bridge.receive(SOURCE, &headers, sent).await;
    let detail = match (&reply.body["status"], &reply.body["error"]["code"]) {
        (Value::String(status), _) => status.clone(),
        (_, Value::String(code)) => format!("{code}: {}", text(&reply.body["error"]["message"])),
        _ => reply.body.to_string(),
    };
    format!("{} {detail}", reply.status.as_u16())
}

fn tampered(body: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(body).replacen("\"3\"", "\"30\"", 1).into_bytes()
}

fn local_secret(config: &LocalConfig, name: &str) -> Result<String, String> {
    config.secret_values()?.remove(name).ok_or_else(|| format!("no local secret {name}"))
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("-")
}
