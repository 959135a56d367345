//! Order webhooks from e-commerce platforms: source configuration, signature verification,
//! and the mapping of each platform's payload to the canonical order.
//!
//! A handler for `POST /webhooks/{source}` runs, in this order:
//! 1. [`check_size`] against [`SourceConfig::max_body_bytes`] (413);
//! 2. [`verify`] over the raw body bytes, before anything parses them (401);
//! 3. [`map_event`] on the verified event (400 for a payload it cannot map).
//!
//! Constant time: every comparison of a received signature with the expected one happens in
//! one function of the `signature` module, through `Mac::verify_slice`; a test of that module fails if
//! another code path computes or compares a MAC.
//!
//! Nothing here logs, and no error or `Debug` output carries a secret, a signature header or a
//! body.

mod payload;
mod signature;
mod source;
pub(crate) use source::check as check_source;

pub use payload::{
    PayloadError, Refund, WebhookEvent, WebhookOrder, map_event, parse_platform_json, shopify_order, woocommerce_order,
};
pub use signature::{Headers, InvalidSecret, SigningKey, Verified, VerifyError, check_size, verify};
pub use source::{
    Encoding, EventTypeFrom, GenericHmac, Scheme, SourceConfig, SourceConfigError, TimestampHeader, WebhookSources,
};

/// What a verified webhook says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventType {
    OrderCreated,
    OrderRefunded,
    /// WooCommerce's `order.updated`: any change to an order, refunds included (WooCommerce
    /// has no refund topic).
    OrderUpdated,
    /// A topic this system does not act on; acknowledged so the platform stops retrying.
    Unhandled(String),
}

impl EventType {
    /// Our event names (`order.created`, `order.refunded`) of the standard payload format.
    pub fn from_name(name: &str) -> Self {
        match name {
            "order.created" => Self::OrderCreated,
            "order.refunded" => Self::OrderRefunded,
            other => Self::Unhandled(other.to_owned()),
        }
    }

    /// The name in our vocabulary, or the platform's topic for unhandled events.
    pub fn name(&self) -> &str {
        match self {
            Self::OrderCreated => "order.created",
            Self::OrderRefunded => "order.refunded",
            Self::OrderUpdated => "order.updated",
            Self::Unhandled(other) => other,
        }
    }

    /// WooCommerce's `X-WC-Webhook-Topic` order topics: `order.created`, `order.updated`,
    /// `order.deleted`, `order.restored`. A refund arrives as `order.updated`.
    pub fn from_woocommerce_topic(topic: &str) -> Self {
        match topic {
            "order.created" => Self::OrderCreated,
            "order.updated" => Self::OrderUpdated,
            other => Self::Unhandled(other.to_owned()),
        }
    }

    /// Shopify's `X-Shopify-Topic` vocabulary.
    pub fn from_shopify_topic(topic: &str) -> Self {
        match topic {
            "orders/create" => Self::OrderCreated,
            "refunds/create" => Self::OrderRefunded,
            other => Self::Unhandled(other.to_owned()),
        }
    }
}
