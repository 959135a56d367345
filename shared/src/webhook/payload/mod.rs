//! Verified webhook bodies mapped to canonical orders and refunds.
//!
//! Shopify and WooCommerce send their own order JSON; unknown fields are ignored there,
//! because platforms add fields all the time. Standard Webhooks and generic sources send the
//! standard format (see [`standard`]), which is ours and therefore strict.
//!
//! For every source the seller is the configured shop and the buyer the customer, identified
//! by e-mail (as a UBL `EndpointID` with scheme `EM`) or else by the platform's customer id.

mod json;
mod shopify;
mod standard;
mod woocommerce;

use serde::{Deserialize, Serialize};

use super::EventType;
use super::source::{Scheme, SourceConfig};
use crate::order::{Address, CanonicalOrder, Decimal, Identifier, OrderKey, Party, Text};

/// What a verified webhook asks of the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    Order(Box<WebhookOrder>),
    /// One or more refunds, each under its own id. WooCommerce's `order.updated` lists every
    /// refund the order has had, each time the order changes.
    Refunds(Vec<Refund>),
    /// A topic we do not act on: acknowledge it and move on.
    Unhandled(String),
}

/// A new order and the platform's own id for it, which later refunds refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookOrder {
    pub external_order_id: String,
    pub order: CanonicalOrder,
}

impl WebhookOrder {
    /// What decides this order's effects (the replay claim, the queue's deduplication): the
    /// platform's order id, read from the signed body. Delivery-id headers are not signed by
    /// every platform, and WooCommerce reuses one for two orders sent in the same second.
    pub fn effect_key(&self) -> String {
        format!("order/{}", self.external_order_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    /// `None` when the payload does not name the parties (Shopify's `refunds/create` carries
    /// only `order_id`): look the order up by `external_order_id` instead.
    pub order_key: Option<OrderKey>,
    pub external_order_id: String,
    /// The platform's id for this refund (Shopify's refund `id`, WooCommerce's `refunds[].id`,
    /// the standard format's `refund_id`), or `body-` and a digest of the signed body with its
    /// topic for a sender that gives none.
    pub refund_id: String,
    pub amount: Decimal,
    pub currency: Text,
    pub reason: Option<String>,
}

impl Refund {
    /// What decides this refund's effects, the ERP credit memo's reference among them: ids from
    /// the signed body, so a refund re-sent with a fresh delivery id is still the same refund.
    pub fn effect_key(&self) -> String {
        format!("refund/{}/{}", self.external_order_id, self.refund_id)
    }
}

/// Why a verified body could not be mapped. Always a 400: the sender must fix the payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("body is not valid JSON: {}", excerpt(.0))]
    NotJson(String),
    /// The strict standard format refused the body; serde's message names the field or position.
    #[error("{}", excerpt(.0))]
    Invalid(String),
    #[error("missing required field {field}")]
    Missing { field: String },
    #[error("{field} must be {expected}")]
    WrongType { field: String, expected: &'static str },
    #[error("{field}: {:?} is not a decimal amount", excerpt(.value))]
    BadAmount { field: String, value: String },
    #[error("{field}: quantity {value} must be greater than zero")]
    NonPositiveQuantity { field: String, value: Decimal },
    #[error("{field}: {:?} is not a 3-letter uppercase ISO 4217 currency code", excerpt(.value))]
    BadCurrency { field: String, value: String },
    #[error("{field}: {:?} does not start with a YYYY-MM-DD date", excerpt(.value))]
    BadDate { field: String, value: String },
    #[error("{field} is empty; an order needs at least one line")]
    NoLines { field: String },
    #[error("the body's type {found:?} differs from the event {expected:?} the headers name")]
    EventMismatch { found: String, expected: String },
}

impl PayloadError {
    pub fn status(&self) -> u16 {
        400
    }

    /// A stable machine-readable code for responses, metrics and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson(_) => "not_json",
            Self::Invalid(_) => "invalid_payload",
            Self::Missing { .. } => "missing_field",
            Self::WrongType { .. } => "wrong_type",
            Self::BadAmount { .. } => "bad_amount",
            Self::NonPositiveQuantity { .. } => "non_positive_quantity",
            Self::BadCurrency { .. } => "bad_currency",
            Self::BadDate { .. } => "bad_date",
            Self::NoLines { .. } => "no_lines",
            Self::EventMismatch { .. } => "event_mismatch",
        }
    }
}

/// Maps a verified body. Call only after [`super::verify`] succeeded for the same bytes.
pub fn map_event(source: &SourceConfig, event: &EventType, body: &[u8]) -> Result<WebhookEvent, PayloadError> {
    if let EventType::Unhandled(name) = event {
        return Ok(WebhookEvent::Unhandled(name.clone()));
    }
    let order = |o| WebhookEvent::Order(Box::new(o));
    match (&source.scheme, event) {
        (Scheme::Shopify {}, EventType::OrderCreated | EventType::OrderRefunded) => {
            let value = json::parse(body)?;
            let root = json::Node::root(&value);
            match event {
                EventType::OrderRefunded => shopify::refund(&root).map(|r| WebhookEvent::Refunds(vec![r])),
                _ => shopify::order(&source.seller(), &root).map(order),
            }
        }
        (Scheme::WooCommerce {}, EventType::OrderCreated | EventType::OrderUpdated) => {
            let value = json::parse(body)?;
            let root = json::Node::root(&value);
            match event {
                EventType::OrderUpdated => Ok(match woocommerce::refunds(source, &root)? {
                    refunds if refunds.is_empty() => WebhookEvent::Unhandled(event.name().to_owned()),
                    refunds => WebhookEvent::Refunds(refunds),
                }),
                _ => woocommerce::order(&source.seller(), &root).map(order),
            }
        }
        (
            Scheme::StandardWebhooks { .. } | Scheme::GenericHmac(_),
            EventType::OrderCreated | EventType::OrderRefunded,
        ) => standard::map(source, event, body),
        // A topic the platform never sends under this scheme (`order.updated` in the standard
        // format, a refund topic from WooCommerce): nothing to act on.
        _ => Ok(WebhookEvent::Unhandled(event.name().to_owned())),
    }
}

/// Parses a platform's JSON with every number kept as the text it was written in (see
/// `json`), for callers that read orders from a platform's API rather than a webhook.
pub fn parse_platform_json(body: &[u8]) -> Result<serde_json::Value, PayloadError> {
    json::parse(body)
}

/// One order of the REST shape Shopify's webhooks carry (as [`parse_platform_json`] read it),
/// mapped exactly as the `orders/create` webhook is: the order poller maps Shopify's GraphQL
/// answer into this shape, so both doors give one order the same canonical content.
pub fn shopify_order(seller: &Party, record: &serde_json::Value) -> Result<WebhookOrder, PayloadError> {
    shopify::order(seller, &json::Node::root(record))
}

/// One WooCommerce REST v3 order (as [`parse_platform_json`] read it), mapped exactly as its
/// `order.created` webhook is; `GET /orders` lists orders of the same shape.
pub fn woocommerce_order(seller: &Party, record: &serde_json::Value) -> Result<WebhookOrder, PayloadError> {
    woocommerce::order(seller, &json::Node::root(record))
}

/// UN/ECE Rec 20 "piece", as in the UBL samples: platforms sell countable items.
const PIECE: &str = "H87";

/// Values quoted in messages come from the body: keep them short and on one line.
fn excerpt(value: &str) -> String {
    const MAX_CHARS: usize = 200;
    match value.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

fn currency(field: &str, value: &str) -> Result<Text, PayloadError> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(Text::from(value))
    } else {
        Err(PayloadError::BadCurrency { field: field.to_owned(), value: value.to_owned() })
    }
}

/// The calendar date the platform states, whatever time and offset follow it: Shopify sends
/// `2026-03-14T09:26:41-04:00`, WooCommerce the shop's local `2026-03-14T10:15:02`.
fn issue_date(field: &str, value: &str) -> Result<Text, PayloadError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let (date, rest) = value.split_at_checked(10).unwrap_or((value, ""));
    if time::Date::parse(date, format).is_ok() && (rest.is_empty() || rest.starts_with('T')) {
        Ok(Text::from(date))
    } else {
        Err(PayloadError::BadDate { field: field.to_owned(), value: value.to_owned() })
    }
}

fn positive_quantity(field: &str, quantity: Decimal) -> Result<Decimal, PayloadError> {
    if quantity.is_positive() {
        Ok(quantity)
    } else {
        Err(PayloadError::NonPositiveQuantity { field: field.to_owned(), value: quantity })
    }
}

/// The exact product, keeping scale (`19.90` × `2` = `39.80`).
fn times(field: &str, price: &Decimal, quantity: &Decimal) -> Result<Decimal, PayloadError> {
    let product = price.value().checked_mul(quantity.value());
    product
        .and_then(|p| Decimal::parse(&p.to_string()).ok())
        .ok_or_else(|| PayloadError::BadAmount { field: field.to_owned(), value: format!("{price} × {quantity}") })
}

/// A customer as buyer. E-mail is the identity when there is one (lower-cased, so case
/// changes at the platform do not change the order key); else the platform's customer id.
fn customer(name: impl Into<Text>, email: Option<&str>, customer_id: Option<Identifier>) -> Party {
    let mut buyer = Party::named(name);
    buyer.email = email.map(Text::from);
    buyer.endpoint_id = email.map(|e| Identifier { scheme: Some("EM".into()), value: Text::from(e.to_lowercase()) });
    buyer.ids = customer_id.into_iter().collect();
    buyer
}

/// The canonical order's own invariants (duplicate line ids…), after the field checks.
/// An address from a platform object whose field names are given in `Address` order (street,
/// additional street, city, postal code, region, country); `None` when every field is empty, as
/// platforms send empty strings rather than no address.
fn address(node: &json::Node, keys: [&str; 6]) -> Result<Option<Address>, PayloadError> {
    let text = |key: &str| Ok::<_, PayloadError>(node.get(key)?.opt_text()?.map(Text::from));
    let address = Address {
        street: text(keys[0])?,
        additional_street: text(keys[1])?,
        city: text(keys[2])?,
        postal_code: text(keys[3])?,
        region: text(keys[4])?,
        country: text(keys[5])?,
    };
    Ok(Some(address).filter(|a| *a != Address::default()))
}

fn validated(order: CanonicalOrder) -> Result<CanonicalOrder, PayloadError> {
    order.validate().map_err(PayloadError::Invalid)?;
    Ok(order)
}

#[cfg(test)]
mod tests;
