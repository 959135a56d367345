//! Reading the item catalogue from the ERP, page by page, through the connector's own auth
//! mechanism and request code (one HTTP stack with the order push).
//!
//! - Business Central API v2.0: `GET {base}/items`; each item's `number`, `displayName`,
//!   `unitPrice` and `inventory`; the next page is the absolute `@odata.nextLink`.
//! - SAP Business One Service Layer: `GET {base}/Items` with `Prefer: odata.maxpagesize=N`;
//!   `ItemCode`, `ItemName`, the first `ItemPrices` price and `QuantityOnStock`; the next page
//!   is `odata.nextLink`, relative to the Service Layer root.
//! - Any other ERP: the same reading with the fields named in [`ItemFields`] (JSON pointers),
//!   set in the catalogue configuration, which is read at every run: a mapping change needs no
//!   redeploy.
//!
//! The whole catalogue is read before staging is touched, so an ERP that fails half-way
//! changes nothing.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, Url};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::audit::{Call, Recorder};
use super::item::{Product, Sku};
use crate::erp::auth::Authenticator;
use crate::erp::config::{ConfigError, ConnectorConfig, ProfileConfig, SecretValues, http_url};
use crate::erp::error::ErpError;
use crate::erp::http::{Request, send};
use crate::error::Retry;
use crate::http_client::http_client;
use crate::ports::Clock;

/// Where the items are and which fields hold what.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemFields {
    /// Below the connector's base URL, e.g. `items`.
    pub path: String,
    /// JSON pointers into one item.
    pub sku: String,
    pub title: String,
    pub price: String,
    pub stock: String,
    /// The answer's key holding the next page's link.
    pub next_link: String,
    /// `Prefer: odata.maxpagesize=<n>` is sent when set.
    #[serde(default)]
    pub max_page_size: Option<u32>,
}

impl ItemFields {
    /// The fields of a shipped profile; a custom profile must name them.
    pub fn for_profile(profile: &ProfileConfig) -> Option<Self> {
        let fields = |path: &str, sku: &str, title: &str, price: &str, stock: &str, next: &str, size| Self {
            path: path.into(),
            sku: sku.into(),
            title: title.into(),
            price: price.into(),
            stock: stock.into(),
            next_link: next.into(),
            max_page_size: size,
        };
        match profile {
            ProfileConfig::BusinessCentral => {
                Some(fields("items", "/number", "/displayName", "/unitPrice", "/inventory", "@odata.nextLink", None))
            }
            ProfileConfig::SapB1 => Some(fields(
                "Items",
                "/ItemCode",
                "/ItemName",
                "/ItemPrices/0/Price",
                "/QuantityOnStock",
                "odata.nextLink",
                Some(500),
            )),
            ProfileConfig::Custom(_) => None,
        }
    }
}

/// A row the ERP listed that cannot be staged, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub row: String,
    pub why: String,
}

/// The catalogue as read.
#[derive(Debug, Default)]
pub struct Read {
    pub products: Vec<Product>,
    pub invalid: Vec<Invalid>,
    pub calls: u64,
}

/// One ERP's items endpoint.
pub struct ErpItems {
    base: Url,
    client: Client,
    auth: Authenticator,
    clock: Arc<dyn Clock>,
}

impl ErpItems {
    pub fn new(
        config: &ConnectorConfig,
        secrets: &impl SecretValues,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let mut base = config.base_url.trim_end_matches('/').to_owned();
        base.push('/');
        let client = http_client(Duration::from_millis(config.timeout_ms), HeaderMap::new())
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(Self {
            base: http_url("base_url", &base)?,
            client,
            auth: Authenticator::new(&config.auth, secrets, clock.clone())?,
            clock,
        })
    }

    /// Every item, following the next links; `progress` hears the count after each page.
    pub async fn read_all(
        &self,
        fields: &ItemFields,
        audit: &Recorder,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Read, ErpError> {
        let mut read = Read::default();
        let mut url = self.base.join(&fields.path).map_err(|e| bad_link(&fields.path, &e))?;
        loop {
            let headers =
                fields.max_page_size.map(|n| vec![("Prefer", format!("odata.maxpagesize={n}"))]).unwrap_or_default();
            let request = Request { method: Method::GET, url: url.clone(), body: None, headers };
            let started = Instant::now();
            let result = send(&self.client, &self.auth, "items", &request).await;
            read.calls += 1;
            let (status, body) = match &result {
                Ok(answer) => (Some(answer.status), Some(answer.body.as_str())),
                Err(e) => (e.status, e.erp_answer.as_deref()),
            };
            let call = Call {
                system: "erp",
                operation: "items",
                method: "GET",
                url: url.as_str(),
                request: None,
                status,
                answer: body,
            };
            audit.note(&call, started, self.clock.now_ms());
            let answer = result?;
            if !answer.is_success() {
                return Err(ErpError::from_answer("items", answer.status, &answer.body));
            }
            let page: Value = serde_json::from_str(&answer.body).map_err(|e| {
                ErpError::local(Retry::Transient, "bad_answer", format!("items: the answer is not JSON: {e}"))
            })?;
            for row in page["value"].as_array().into_iter().flatten() {
                match product(row, fields) {
                    Ok(product) => read.products.push(product),
                    Err(why) => read.invalid.push(Invalid { row: crate::erp::error::truncate(&row.to_string()), why }),
                }
            }
            progress(read.products.len() as u64);
            match page.get(&fields.next_link).and_then(Value::as_str) {
                // Relative links (SAP's) are relative to the service root, as OData's are.
                Some(next) => url = self.base.join(next).map_err(|e| bad_link(next, &e))?,
                None => return Ok(read),
            }
        }
    }
}

fn bad_link(link: &str, e: &impl std::fmt::Display) -> ErpError {
    ErpError::local(Retry::Permanent, "bad_answer", format!("items: `{link}` is not a link: {e}"))
}

fn decimal(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).ok()
}

/// One row mapped, or why it cannot be.
fn product(row: &Value, fields: &ItemFields) -> Result<Product, String> {
    let text = |pointer: &str| row.pointer(pointer).and_then(Value::as_str);
    let sku = Sku::parse(text(&fields.sku).ok_or_else(|| format!("no SKU at {}", fields.sku))?)?;
    let title = text(&fields.title).unwrap_or_default().to_owned();
    let number = |pointer: &str, what: &str| {
        let value = row.pointer(pointer).ok_or_else(|| format!("{sku}: no {what} at {pointer}"))?;
        decimal(value).ok_or_else(|| format!("{sku}: the {what} {value} is not a decimal"))
    };
    Ok(Product { price: number(&fields.price, "price")?, stock: number(&fields.stock, "stock")?, title, sku })
}
