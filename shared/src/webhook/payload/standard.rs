//! The standard payload format, sent by Standard Webhooks and generic HMAC sources.
//!
//! ```json
//! {"type": "order.created",
//!  "data": {"order_id": "ord_8842", "order_number": "SO-2026-0042", "issue_date": "2026-03-14",
//!           "currency": "EUR", "language": "de", "note": "…",
//!           "buyer": {"name": "…", "email": "…", "address": {…}},
//!           "delivery": {…},
//!           "lines": [{"line_id": "1", "sku": "…", "name": "…", "quantity": "2", "unit": "H87",
//!                      "price": "9.95", "line_total": "19.90"}],
//!           "totals": {"tax_total": "3.78", "payable": "23.68"}}}
//!
//! {"type": "order.refunded",
//!  "data": {"order_id": "ord_8842", "refund_id": "rf_17", "order_number": "SO-2026-0042",
//!           "buyer": {…}, "amount": "9.95", "currency": "EUR", "reason": "…"}}
//! ```
//! `buyer`, `delivery`, `lines` and `totals` have the canonical order's shapes; `order_id` and
//! `refund_id` are the sender's own ids; `language`, `note`, `delivery`, `reason` and
//! `refund_id` are optional. A refund without `refund_id` is known by a digest of its signed
//! body, so the same body is the same refund however often it is delivered. Money and
//! quantities are decimal strings, never JSON numbers. Unknown fields are refused: the format
//! is ours, and a typo should fail loudly rather than drop data.

use serde::Deserialize;

use super::{
    PayloadError, Refund, WebhookEvent, WebhookOrder, currency, customer, issue_date, positive_quantity, validated,
};
use crate::order::{Address, CanonicalOrder, Decimal, OrderKey, OrderLine, Origin, Party, Text, Totals};
use crate::webhook::{EventType, SourceConfig};

#[derive(Deserialize)]
#[serde(tag = "type", content = "data", deny_unknown_fields)]
enum Envelope {
    #[serde(rename = "order.created")]
    Created(Box<OrderData>),
    #[serde(rename = "order.refunded")]
    Refunded(Box<RefundData>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderData {
    order_id: String,
    order_number: Text,
    issue_date: String,
    currency: String,
    #[serde(default)]
    language: Option<Text>,
    #[serde(default)]
    note: Option<Text>,
    buyer: Party,
    #[serde(default)]
    delivery: Option<Address>,
    lines: Vec<OrderLine>,
    totals: Totals,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundData {
    order_id: String,
    #[serde(default)]
    refund_id: Option<String>,
    order_number: String,
    buyer: Party,
    amount: Decimal,
    currency: String,
    #[serde(default)]
    reason: Option<String>,
}

pub(super) fn map(source: &SourceConfig, event: &EventType, body: &[u8]) -> Result<WebhookEvent, PayloadError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| PayloadError::Invalid(e.to_string()))?;
    match (envelope, event) {
        (Envelope::Created(data), EventType::OrderCreated) => {
            order(source, *data).map(|o| WebhookEvent::Order(Box::new(o)))
        }
        (Envelope::Refunded(data), EventType::OrderRefunded) => {
            refund(source, *data, body).map(|r| WebhookEvent::Refunds(vec![r]))
        }
        (envelope, _) => Err(PayloadError::EventMismatch {
            found: match envelope {
                Envelope::Created(_) => EventType::OrderCreated,
                Envelope::Refunded(_) => EventType::OrderRefunded,
            }
            .name()
            .to_owned(),
            expected: event.name().to_owned(),
        }),
    }
}

fn order(source: &SourceConfig, data: OrderData) -> Result<WebhookOrder, PayloadError> {
    if data.lines.is_empty() {
        return Err(PayloadError::NoLines { field: "data.lines".into() });
    }
    for (i, line) in data.lines.iter().enumerate() {
        positive_quantity(&format!("data.lines[{i}].quantity"), line.quantity.clone())?;
    }
    let seller = source.seller();
    let buyer = identified(data.buyer);
    let order = CanonicalOrder {
        order_key: OrderKey::derive(&seller, &buyer, &data.order_number),
        issue_date: exact_date(&data.issue_date)?,
        currency: currency("data.currency", &data.currency)?,
        order_number: data.order_number,
        language: data.language,
        note: data.note,
        origin: Origin::Webhook,
        buyer,
        seller,
        delivery: data.delivery,
        lines: data.lines,
        totals: data.totals,
    };
    Ok(WebhookOrder { external_order_id: data.order_id, order: validated(order)? })
}

fn refund(source: &SourceConfig, data: RefundData, body: &[u8]) -> Result<Refund, PayloadError> {
    let buyer = identified(data.buyer);
    let refund_id = match data.refund_id.filter(|id| !id.trim().is_empty()) {
        Some(id) => id,
        None => body_digest(EventType::OrderRefunded.name(), body),
    };
    Ok(Refund {
        order_key: Some(OrderKey::derive(&source.seller(), &buyer, &data.order_number)),
        external_order_id: data.order_id,
        refund_id,
        amount: data.amount,
        currency: currency("data.currency", &data.currency)?,
        reason: data.reason,
    })
}

/// `body-` and the first 128 bits of SHA-256 over the topic and the signed body.
fn body_digest(topic: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(topic).chain_update(b"\n").chain_update(body).finalize();
    format!("body-{}", hex::encode(&digest[..16]))
}

/// Our own format states a date, not a timestamp.
fn exact_date(value: &str) -> Result<Text, PayloadError> {
    match issue_date("data.issue_date", value)? {
        date if date == value => Ok(date),
        _ => Err(PayloadError::BadDate { field: "data.issue_date".into(), value: value.to_owned() }),
    }
}

/// A buyer the sender identified only by name and e-mail gets the e-mail as identity, as
/// platform customers do; any identifier the sender gave wins.
fn identified(buyer: Party) -> Party {
    if buyer.endpoint_id.is_some() || !buyer.ids.is_empty() || buyer.company_id.is_some() {
        return buyer;
    }
    let mut with_email = customer(buyer.name, buyer.email.as_deref(), None);
    with_email.address = buyer.address;
    with_email
}
