//! Polling triggers: orders read from a shop's or a partner's API on a schedule, for platforms
//! that cannot send webhooks (or whose webhooks were lost). The order poller function runs one
//! source per invocation; this module holds what it needs apart from its ports:
//!
//! - [`config`]: the sources, with their platform, auth, seller, filter and window;
//! - [`cursor`]: where a source's polling stands;
//! - [`filter`]: which listed orders are taken;
//! - [`client`]: the HTTP calls, through the ERP connectors' auth stack, with retries;
//! - [`woocommerce`], [`shopify`], [`partner`]: one page of orders, and their canonical form.
//!
//! Each platform lists orders sorted by update time ascending (ties by id), and the poller
//! maps each one exactly as the same order arriving by webhook is mapped, so an order that
//! comes through both doors has one order key and one content.

mod client;
pub mod config;
pub mod cursor;
pub mod filter;
mod partner;
mod secrets;
mod shopify;
mod woocommerce;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use client::{Pause, PollClient, real_pause};
pub use config::{Paging, PartnerSpec, Platform, PollConfigError, PollSourceConfig, PollSources};
pub use cursor::Cursor;
pub use filter::Filter;
pub use secrets::{LocalSecrets, PollSecrets, StoreSecrets};

use crate::erp::ErpError;
use crate::error::{Classify, Retry};
use crate::ports::Clock;
use crate::secrets::Secret;
use crate::webhook::WebhookOrder;

/// An order as a platform lists it: its id (as the webhook door names it: WooCommerce's and
/// Shopify's numeric ids), the time of its last change, and the record (numbers as text).
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: String,
    pub updated_ms: i64,
    pub record: Value,
}

/// One page of a listing, and where the next one starts.
#[derive(Debug)]
pub struct Page {
    pub listed: Vec<Listed>,
    /// A page number or a cursor, as the platform pages; `None` on the last page.
    pub next: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("poll source {source_name}: {error}")]
    Http { source_name: String, error: ErpError },
    #[error("poll source {source_name}: the platform asked to wait {wait:?}, longer than a run waits: {error}")]
    WaitTooLong { source_name: String, wait: Duration, error: ErpError },
    #[error("poll source {source_name}: throttled, {wait:?} until the query can run, longer than a run waits")]
    Throttled { source_name: String, wait: Duration },
    /// An answer of the wrong shape: the platform (or its configuration) changed.
    #[error("poll source {source_name}: unexpected answer: {message}")]
    Answer { source_name: String, message: String },
    /// An order the mapping refused; the cursor stops before it so nothing is skipped.
    #[error("poll source {source_name}: order {order_id} cannot be mapped: {message}")]
    Mapping { source_name: String, order_id: String, message: String },
    #[error("poll source configuration: {0}")]
    Config(String),
    #[error("reading secret {reference}: {message}")]
    Secret { reference: String, retry: Retry, message: String },
}

impl Classify for PollError {
    fn retry(&self) -> Retry {
        match self {
            Self::Http { error, .. } | Self::WaitTooLong { error, .. } => error.retry,
            Self::Throttled { .. } => Retry::Transient,
            Self::Secret { retry, .. } => *retry,
            Self::Answer { .. } | Self::Mapping { .. } | Self::Config(_) => Retry::Permanent,
        }
    }
}

/// A source ready to poll: its configuration and an authenticated client.
pub struct Source<'a> {
    config: &'a PollSourceConfig,
    client: PollClient,
}

impl<'a> Source<'a> {
    /// `secrets` holds the values of the source's secret references.
    pub fn new(
        config: &'a PollSourceConfig,
        secrets: &HashMap<String, Secret>,
        clock: Arc<dyn Clock>,
        pause: Pause,
    ) -> Result<Self, PollError> {
        Ok(Self { config, client: PollClient::new(config, secrets, clock, pause)? })
    }

    pub fn config(&self) -> &PollSourceConfig {
        self.config
    }

    /// The page of orders changed at or after `since_ms`, starting at `next` (`None`: the first).
    pub async fn page(&self, since_ms: i64, next: Option<&str>) -> Result<Page, PollError> {
        match &self.config.platform {
            Platform::WooCommerce { per_page } => woocommerce::page(self, *per_page, since_ms, next).await,
            Platform::Shopify { first, .. } => shopify::page(self, *first, since_ms, next).await,
            Platform::Partner(spec) => partner::page(self, spec, since_ms, next).await,
        }
    }

    /// The canonical form of each listed order, in order (Shopify reads each one's details).
    /// The outer error is a failed call; an inner one is an order its mapping refused; `None`
    /// is an order the platform no longer has (deleted between the listing and the read).
    pub async fn orders(&self, wanted: &[Listed]) -> Result<Vec<Result<Option<WebhookOrder>, PollError>>, PollError> {
        let some = |r: Result<WebhookOrder, PollError>| r.map(Some);
        Ok(match &self.config.platform {
            Platform::WooCommerce { .. } => wanted.iter().map(|l| some(woocommerce::order(self, l))).collect(),
            Platform::Shopify { line_items, .. } => shopify::orders(self, *line_items, wanted).await?,
            Platform::Partner(spec) => wanted.iter().map(|l| some(partner::order(self, spec, l))).collect(),
        })
    }

    fn answer_error(&self, message: impl Into<String>) -> PollError {
        PollError::Answer { source_name: self.config.name.clone(), message: message.into() }
    }

    fn mapping_error(&self, order_id: &str, message: impl Into<String>) -> PollError {
        PollError::Mapping {
            source_name: self.config.name.clone(),
            order_id: order_id.to_owned(),
            message: message.into(),
        }
    }

    fn url(&self, suffix: &str) -> Result<reqwest::Url, PollError> {
        let base = self.config.base_url.trim_end_matches('/');
        reqwest::Url::parse(&format!("{base}{suffix}")).map_err(|e| PollError::Config(format!("{suffix}: {e}")))
    }
}

/// The text of a JSON string or number (platform JSON keeps numbers as text).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
