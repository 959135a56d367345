//! The email notifier against moto: the orders table's real stream (read with the
//! DynamoDB Streams JSON API) in, SES v2 out, sent mail read back from `/moto-api/data.json`.
//!
//! moto runs no event source mapping, so each test hands the handler every record of its own
//! table's stream, unfiltered: the handler's own copy of the filter must hold too.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use email_notifier::{Notifier, handle};
use orderflow_e2e::dynamo::{create_orders_table, stream_batch};
use orderflow_e2e::ses_mail::{self, quoted_printable, subject};
use orderflow_e2e::{sample_order, sdk_config, unique};
use orderflow_shared::adapters::aws::{self, DynamoOrderStore, SesMailer};
use orderflow_shared::email::{Locale, format_money};
use orderflow_shared::lifecycle::{HistoryKind, OrderRecord, State, now_rfc3339};
use orderflow_shared::order::CanonicalOrder;
use orderflow_shared::ports::{Expected, OrderStore};

const SENDER: &str = "orders@example.com";

struct Setup {
    deps: Notifier<DynamoOrderStore, SesMailer>,
    table: String,
    recipient: String,
}

async fn setup() -> Setup {
    let sdk = sdk_config().await;
    let ses = aws::sesv2_client(&sdk);
    // moto refuses to send from an identity that was never verified; creating it verifies it.
    ses.create_email_identity().email_identity(SENDER).send().await.expect("verify sender");
    let table = unique("notifier-orders");
    let dynamodb = aws::dynamodb_client(&sdk);
    create_orders_table(&dynamodb, &table).await;
    let deps = Notifier {
        store: DynamoOrderStore::new(dynamodb, &table),
        mailer: SesMailer::new(ses, "orderflow-test"),
        sender: SENDER.into(),
        claim_timeout: Duration::from_secs(300),
    };
    Setup { deps, table, recipient: format!("{}@example.cl", unique("buyer")) }
}

fn order(email: &str) -> CanonicalOrder {
    let mut order = sample_order();
    order.buyer.email = Some(email.into());
    order
}

/// Stores the order as registered, then moves it to `to`, as the state router does.
async fn store_then_move(s: &Setup, order: CanonicalOrder, to: State) -> OrderRecord {
    let now = now_rfc3339();
    let mut record = OrderRecord::register(order, "test", "test", &now);
    s.deps.store.put(&record, None).await.unwrap();
    let expected = Expected::of(&record);
    record.transition(to, "test", "moved by the test", &now).unwrap();
    s.deps.store.put(&record, Some(expected)).await.unwrap();
    record
}

/// The raw MIME of every message moto's SES recorded for `recipient`.
async fn sent_to(recipient: &str) -> Vec<String> {
    let sent = ses_mail::sent().await.into_iter();
    sent.filter(|m| m.destinations.iter().any(|d| d == recipient)).map(|m| m.raw).collect()
}

/// Every MIME part's body, transfer encoding undone.
fn bodies(mime: &str) -> String {
    let mut out = String::new();
    for part in mime.split("\r\n--") {
        let Some((headers, body)) = part.split_once("\r\n\r\n") else { continue };
        let headers = headers.to_ascii_lowercase();
        if headers.contains("content-transfer-encoding: base64") {
            let compact: String = body.split("\r\n--").next().unwrap().split_whitespace().collect();
            out.push_str(&String::from_utf8_lossy(&STANDARD.decode(compact).unwrap_or_default()));
        } else if headers.contains("content-transfer-encoding: quoted-printable") {
            out.push_str(&quoted_printable(&body.replace("=\r\n", "")));
        } else {
            out.push_str(body);
        }
    }
    out
}

#[tokio::test]
async fn a_transition_to_issuance_dte_sends_exactly_one_email() {
    let s = setup().await;
    let record = store_then_move(&s, order(&s.recipient), State::IssuanceDte).await;
    let response = handle(&s.deps, stream_batch(&s.table).await).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let sent = sent_to(&s.recipient).await;
    assert_eq!(sent.len(), 1, "exactly one email");
    assert!(sent[0].contains(&format!("To: <{}>", s.recipient)), "{}", sent[0]);
    assert_eq!(subject(&sent[0]), format!("Tu pedido {} está en proceso", record.order.order_number));
    let total = format_money(&record.order.totals.payable, "CLP", Locale::EsCl);
    assert_eq!(total, "$103.054");
    let bodies = bodies(&sent[0]);
    assert!(bodies.contains(&format!("Total: {total}")), "text part: {bodies}");
    assert!(bodies.contains("<!DOCTYPE html>"), "html part: {bodies}");

    let stored = s.deps.store.get(&record.key).await.unwrap().unwrap();
    assert!(stored.notified_at.is_some() && stored.notification_claim.is_none());
}

#[tokio::test]
async fn a_replayed_stream_batch_sends_none() {
    let s = setup().await;
    store_then_move(&s, order(&s.recipient), State::IssuanceDte).await;
    let batch = stream_batch(&s.table).await;
    handle(&s.deps, batch.clone()).await;
    let replay = handle(&s.deps, batch).await;
    assert!(replay.batch_item_failures.is_empty(), "{replay:?}");
    // The stream now also holds the notifier's own claim and settle writes: still one email.
    handle(&s.deps, stream_batch(&s.table).await).await;
    assert_eq!(sent_to(&s.recipient).await.len(), 1);
}

#[tokio::test]
async fn other_transitions_send_none() {
    let s = setup().await;
    store_then_move(&s, order(&s.recipient), State::Cancelled).await;
    let response = handle(&s.deps, stream_batch(&s.table).await).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert!(sent_to(&s.recipient).await.is_empty());
}

#[tokio::test]
async fn a_bad_address_is_recorded_not_retried() {
    let s = setup().await;
    let bad = format!("{} at example.cl", unique("buyer"));
    let record = store_then_move(&s, order(&bad), State::IssuanceDte).await;
    let response = handle(&s.deps, stream_batch(&s.table).await).await;
    assert!(response.batch_item_failures.is_empty(), "the record succeeds: {response:?}");
    let again = handle(&s.deps, stream_batch(&s.table).await).await;
    assert!(again.batch_item_failures.is_empty());

    let stored = s.deps.store.get(&record.key).await.unwrap().unwrap();
    let failures: Vec<_> = stored.history.iter().filter(|h| h.kind == HistoryKind::Notification).collect();
    assert_eq!(failures.len(), 1, "recorded once: {failures:?}");
    assert!(failures[0].detail.starts_with("email not sent"), "{}", failures[0].detail);
    assert!(!failures[0].detail.contains("example.cl at"), "the address is masked: {}", failures[0].detail);
    assert!(stored.notified_at.is_none());
    assert!(sent_to(&bad).await.is_empty());
}
