//! Actions back on the shop an order came from: when it ships, is delivered, cancelled or
//! refunded, the shop hears of it (issue 17's "both directions").
//!
//! - [`config`]: which shop (by the source name its orders arrive under), on which platform,
//!   with which credentials, and which action each state entered triggers.
//! - [`origin`]: the shop and the shop's own order id, read from the order's stored origin.
//! - [`connector`]: one shop's HTTP client (the ERP connectors' auth mechanisms and request
//!   code), and the platforms' actions: [`shopify`] (GraphQL Admin `fulfillmentCreate` on the
//!   open fulfillment orders), [`woocommerce`] (REST v3 status and an order note), [`generic`]
//!   (a configured request with a mapped body).
//!
//! Every action looks before it acts where the platform lets it (a closed fulfillment order,
//! a note already there), and sends an idempotency key where the platform takes one, because
//! the claim in shop-sync leaves one window: a crash after the shop's answer and before the
//! claim is settled.

pub mod config;
pub mod connector;
mod error;
pub mod generic;
pub mod origin;
pub mod shopify;
pub mod woocommerce;

use std::future::Future;

pub use config::{ActionConfig, Platform, ShopConfig, ShopsFile};
pub use connector::{BuiltShops, SecretShops, ShopConnector};
pub use error::ShopError;
pub use origin::ShopOrderRef;

use crate::lifecycle::{OrderRecord, State};

/// One action to carry out on a shop.
#[derive(Debug, Clone, Copy)]
pub struct ActionRequest<'a> {
    pub shop: &'a ShopOrderRef,
    /// The state the order entered, which chose the action.
    pub state: State,
    pub action: &'a ActionConfig,
    pub record: &'a OrderRecord,
    /// The same for every attempt at this action: derived from the order key and the state.
    pub idempotency_key: &'a str,
}

/// What the shop was told, for the order's history: never a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDone {
    /// E.g. `fulfillmentCreate on gid://shopify/FulfillmentOrder/1 (tracking 1Z999)`.
    pub sent: String,
    /// The shop's id for what it made (a fulfillment, a note), when it made one.
    pub platform_id: Option<String>,
}

/// The port shop-sync acts through; [`SecretShops`] is the HTTP implementation.
pub trait ShopActions: Send + Sync {
    /// The configuration of the shop named `source`, if one is configured.
    fn shop(&self, source: &str) -> Option<&ShopConfig>;

    fn act(&self, request: &ActionRequest<'_>) -> impl Future<Output = Result<ActionDone, ShopError>> + Send;
}

/// The shops as built from the apps read for one invocation (see `apps::Rebuilt`).
impl<T: ShopActions> ShopActions for std::sync::Arc<T> {
    fn shop(&self, source: &str) -> Option<&ShopConfig> {
        (**self).shop(source)
    }

    fn act(&self, request: &ActionRequest<'_>) -> impl Future<Output = Result<ActionDone, ShopError>> + Send {
        (**self).act(request)
    }
}

/// The idempotency key of one order's action for one state: stable across attempts, distinct
/// across states, so "dispatched" and "delivered" are two effects.
pub fn idempotency_key(record: &OrderRecord, state: State) -> String {
    format!("orderflow-{}-{}", record.key, state.as_str())
}
