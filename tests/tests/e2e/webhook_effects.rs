//! What decides a webhook's effects is signed content, never a delivery-id header: Shopify and
//! WooCommerce sign only the body, generic sources may too, and WooCommerce derives its
//! `X-WC-Webhook-Delivery-ID` from the webhook id and the current second. For every scheme: the
//! same signed body re-sent under a fresh id is one order and one credit memo; two orders under
//! one WooCommerce delivery id are two orders; a refund WooCommerce lists again in a later
//! `order.updated` is still one credit memo.

use std::sync::Arc;
use std::time::Duration;

use orderflow_e2e::repo_path;
use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, MemoryReplayGuard};
use orderflow_shared::apps::Runtime;
use orderflow_shared::batch::Budget;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::lifecycle::Stage;
use orderflow_shared::order::Text;
use orderflow_shared::ports::{FifoQueue, ReceivedMessage};
use serde_json::{Value, json};
use webhook_bridge::worker;
use webhook_bridge::{Receiver, StaticKeys, sign};

use crate::webhook_bridge::{apps, erp, keys, local_secret, now, shopify_headers, sqs_records, standard_headers};

type LocalReceiver =
    Receiver<Arc<Runtime>, StaticKeys, Arc<MemoryReplayGuard>, Arc<EmbeddedFifoQueue>, Arc<EmbeddedFifoQueue>>;

/// A receiver on embedded queues. Give two receivers the same `guard` to share replay claims,
/// or a fresh one to stand for claims that have lapsed after their retention.
fn receiver(
    guard: &Arc<MemoryReplayGuard>,
    erp_sync: &Arc<EmbeddedFifoQueue>,
    orders: &Arc<EmbeddedFifoQueue>,
) -> LocalReceiver {
    Receiver {
        apps: apps(),
        keys: keys(),
        guard: guard.clone(),
        erp_sync: erp_sync.clone(),
        orders: orders.clone(),
        retention: Duration::from_secs(72 * 3600),
    }
}

/// The headers `source` sends for `body` under delivery id `id`, signed as that platform signs.
fn headers(source: &str, topic: &str, body: &[u8], id: &str) -> Vec<(String, String)> {
    let ts = now().unix_timestamp();
    let pairs: Vec<(&str, String)> = match source {
        "shopify" => return shopify_headers(body, id, topic),
        "standard" => return standard_headers(body, id, ts),
        // WooCommerce's real header set (Hookshot): topic, resource, event, ids, signature.
        "woocommerce" => vec![
            ("X-WC-Webhook-Source", "https://shop.example/".into()),
            ("X-WC-Webhook-Topic", topic.into()),
            ("X-WC-Webhook-Resource", "order".into()),
            ("X-WC-Webhook-Event", topic.trim_start_matches("order.").into()),
            ("X-WC-Webhook-ID", "3".into()),
            ("X-WC-Webhook-Delivery-ID", id.into()),
            ("X-WC-Webhook-Signature", sign::body_base64(&local_secret("woocommerce"), body)),
        ],
        "zephyrcart" => vec![
            ("x-zephyrcart-signature", sign::generic_hex(&local_secret("zephyrcart"), "sha256=", Some(ts), body)),
            ("x-zephyrcart-timestamp", ts.to_string()),
            ("x-zephyrcart-delivery-id", id.into()),
        ],
        other => panic!("no headers for {other}"),
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(repo_path(&format!("events/webhooks/{name}"))).unwrap()
}

/// A WooCommerce order as `order.updated` sends it, listing `refunds` (newest first).
fn woo_with_refunds(refunds: &[(u64, &str)]) -> Vec<u8> {
    let mut order: Value = serde_json::from_str(&sample("woocommerce-order-created.json")).unwrap();
    order["refunds"] = refunds.iter().map(|(id, total)| json!({"id": id, "reason": "", "total": total})).collect();
    serde_json::to_vec(&order).unwrap()
}

/// One scheme's order and refund, each as the platform sends it.
struct Case {
    source: &'static str,
    order: (&'static str, Vec<u8>),
    refund: (&'static str, Vec<u8>),
}

fn cases() -> Vec<Case> {
    // The generic source's refund names no refund id: it is known by its signed body.
    let zephyr_refund = json!({"type": "order.refunded", "data": {
        "order_id": "zc_5f3a9e21", "order_number": "ZC-100482",
        "buyer": {"name": "Camille Laurent", "email": "camille.laurent@example.fr"},
        "amount": "9.95", "currency": "EUR", "reason": "Mug chipped"}});
    vec![
        Case {
            source: "shopify",
            order: ("orders/create", sample("shopify-order-created.json").into_bytes()),
            refund: ("refunds/create", sample("shopify-refund-created.json").into_bytes()),
        },
        Case {
            source: "woocommerce",
            order: ("order.created", sample("woocommerce-order-created.json").into_bytes()),
            refund: ("order.updated", woo_with_refunds(&[(731, "-24.95")])),
        },
        Case {
            source: "standard",
            order: ("order.created", sample("standard-order-created.json").into_bytes()),
            refund: ("order.refunded", sample("standard-order-refunded.json").into_bytes()),
        },
        Case {
            source: "zephyrcart",
            order: ("order.created", sample("zephyrcart-order-created.json").into_bytes()),
            refund: ("order.refunded", zephyr_refund.to_string().into_bytes()),
        },
    ]
}

async fn everything(queue: &EmbeddedFifoQueue) -> Vec<ReceivedMessage> {
    let mut all = Vec::new();
    loop {
        let batch = queue.receive(10).await.unwrap();
        if batch.is_empty() {
            return all;
        }
        for message in &batch {
            queue.delete(&message.receipt_handle).await.unwrap();
        }
        all.extend(batch);
    }
}

async fn post(receiver: &LocalReceiver, source: &str, topic: &str, body: &[u8], id: &str) -> (u16, Value) {
    let reply = receiver.receive(source, &headers(source, topic, body, id), body, now()).await;
    (reply.status.as_u16(), reply.body)
}

#[tokio::test]
async fn the_same_signed_body_under_a_fresh_delivery_id_is_one_order_and_one_credit_memo_in_every_scheme() {
    let erp = erp().await;
    let cases = cases();
    assert_eq!(cases.len(), 4);
    for case in &cases {
        let source = case.source;
        let guard = Arc::new(MemoryReplayGuard::new());
        let erp_sync = Arc::new(EmbeddedFifoQueue::new("erp-sync"));
        let orders = Arc::new(EmbeddedFifoQueue::new("orders"));
        let first = receiver(&guard, &erp_sync, &orders);
        let (topic, body) = &case.order;
        assert_eq!(post(&first, source, topic, body, "delivery-1").await.0, 202, "{source} order");
        let again = post(&first, source, topic, body, "delivery-2").await;
        assert_eq!(again, (200, json!({"status": "duplicate"})), "{source}: order under a fresh id");
        let (topic, body) = &case.refund;
        assert_eq!(post(&first, source, topic, body, "delivery-3").await.0, 202, "{source} refund");
        let again = post(&first, source, topic, body, "delivery-4").await;
        assert_eq!(again, (200, json!({"status": "duplicate"})), "{source}: refund under a fresh id");

        // Long after: the claim has lapsed and the queue's deduplication window has passed.
        // Only the ERP's reference, derived from the same signed content, stands between the
        // replay and a second credit memo.
        let later_sync = Arc::new(EmbeddedFifoQueue::new("erp-sync"));
        let later = receiver(&Arc::new(MemoryReplayGuard::new()), &later_sync, &orders);
        assert_eq!(post(&later, source, topic, body, "delivery-5").await.0, 202, "{source} replay");

        let commands: Vec<OrderCommand> =
            everything(&orders).await.iter().map(|m| serde_json::from_str(&m.body).unwrap()).collect();
        let registers = commands.iter().filter(|c| matches!(c, OrderCommand::Register { .. })).count();
        assert_eq!(registers, 1, "{source}: {commands:?}");
        let refunds: Vec<_> =
            commands.iter().filter(|c| matches!(c, OrderCommand::Stage { stage: Stage::Refund, .. })).collect();
        // Shopify's refund names no parties, so it reaches the ERP only (see the receiver).
        let expected = usize::from(source != "shopify");
        assert_eq!(refunds.len(), expected, "{source}: the orders queue keeps one per content: {commands:?}");

        let mut synced = everything(&erp_sync).await;
        assert_eq!(synced.len(), 2, "{source}: one order and one refund for the ERP");
        synced.extend(everything(&later_sync).await);
        let records: Vec<(String, String, String)> = synced
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("{source}-{i}"), m.group_id.clone(), m.body.clone()))
            .collect();
        for (id, group, body) in &records {
            let response = worker::handle(&erp.worker, sqs_records(&[(id, group, body)]), Budget::unlimited()).await;
            assert!(response.batch_item_failures.is_empty(), "{source}: {id}");
        }
    }
    let memos = erp.fake.credit_memos();
    let mut references: Vec<&str> = memos.iter().filter_map(|m| m["externalDocumentNumber"].as_str()).collect();
    assert_eq!(memos.len(), cases.len(), "one credit memo per scheme: {memos:?}");
    references.sort_unstable();
    references.dedup();
    assert_eq!(references.len(), cases.len(), "{references:?}");
}

#[tokio::test]
async fn woocommerce_orders_sharing_a_delivery_id_are_each_taken_and_a_redelivery_under_a_new_id_is_not() {
    let guard = Arc::new(MemoryReplayGuard::new());
    let erp_sync = Arc::new(EmbeddedFifoQueue::new("erp-sync"));
    let orders = Arc::new(EmbeddedFifoQueue::new("orders"));
    let receiver = receiver(&guard, &erp_sync, &orders);
    let first = sample("woocommerce-order-created.json");
    let mut second: Value = serde_json::from_str(&first).unwrap();
    second["id"] = json!(728);
    second["number"] = json!("728");
    let second = serde_json::to_vec(&second).unwrap();

    // One webhook, one second: WooCommerce gives both deliveries the same id.
    let same_second = "b61c1d3a61b6a7a9d0f7e5c3a1f2e4d6";
    assert_eq!(post(&receiver, "woocommerce", "order.created", first.as_bytes(), same_second).await.0, 202);
    assert_eq!(post(&receiver, "woocommerce", "order.created", &second, same_second).await.0, 202);
    // WooCommerce retries a failed delivery a second later, under a new id.
    let redelivered = post(&receiver, "woocommerce", "order.created", first.as_bytes(), "0f9e8d7c6b5a").await;
    assert_eq!(redelivered, (200, json!({"status": "duplicate"})));

    let numbers: Vec<Text> = everything(&orders)
        .await
        .iter()
        .map(|m| match serde_json::from_str(&m.body).unwrap() {
            OrderCommand::Register { order, .. } => order.order_number,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(numbers, ["727", "728"]);
    assert_eq!(everything(&erp_sync).await.len(), 2);
}

#[tokio::test]
async fn each_woocommerce_refund_is_one_credit_memo_however_often_the_order_is_updated_afterwards() {
    let erp = erp().await;
    let guard = Arc::new(MemoryReplayGuard::new());
    let erp_sync = Arc::new(EmbeddedFifoQueue::new("erp-sync"));
    let orders = Arc::new(EmbeddedFifoQueue::new("orders"));
    let receiver = receiver(&guard, &erp_sync, &orders);

    let status_only = post(&receiver, "woocommerce", "order.updated", &woo_with_refunds(&[]), "d-1").await;
    assert_eq!(status_only, (200, json!({"status": "ignored"})), "an update without refunds");
    let one = woo_with_refunds(&[(731, "-24.95")]);
    assert_eq!(post(&receiver, "woocommerce", "order.updated", &one, "d-2").await.0, 202);
    // A second refund; the order lists both, newest first.
    let two = woo_with_refunds(&[(732, "-5.00"), (731, "-24.95")]);
    assert_eq!(post(&receiver, "woocommerce", "order.updated", &two, "d-3").await.0, 202);
    // A later change to the order (a note, a status) lists both again.
    let noted = post(&receiver, "woocommerce", "order.updated", &two, "d-4").await;
    assert_eq!(noted, (200, json!({"status": "duplicate"})));

    let synced = everything(&erp_sync).await;
    assert_eq!(synced.len(), 2, "one message per refund id");
    for (i, m) in synced.iter().enumerate() {
        let response =
            worker::handle(&erp.worker, sqs_records(&[(&format!("w-{i}"), &m.group_id, &m.body)]), Budget::unlimited())
                .await;
        assert!(response.batch_item_failures.is_empty());
    }
    let memos = erp.fake.credit_memos();
    let amounts: Vec<String> = memos.iter().map(|m| m["totalAmountIncludingTax"].to_string()).collect();
    assert_eq!(memos.len(), 2, "{memos:?}");
    assert!(amounts.iter().any(|a| a.contains("24.95")) && amounts.iter().any(|a| a.contains('5')), "{amounts:?}");
}
