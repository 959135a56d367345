//! Reading the item catalogue from the ERP, page by page, through the connector's own auth
//! mechanism and request code (one HTTP stack with the order push).
//!
//! - Business Central API v2.0: `GET {base}/items`; each item's `number`, `displayName`,
//!   `unitPrice` and `inventory`; the next page is the absolute `@odata.nextLink`.
//! - SAP Business One Service Layer: `GET {base}/Items` with `Prefer: odata.maxpagesize=N`;
//!   `ItemCode`, `ItemName`, the first `ItemPrices` price and `QuantityOnStock`; the next page
//!   is `odata.nextLink`, relative to the Service Layer root.
//! - Any other ERP: the same reading with the path, paging and item mapping of [`ItemFields`]
//!   set in the catalogue configuration, which is read at every run: a mapping change needs no
//!   redeploy.
//!
//! Every profile reads a row through an inbound mapping ([`crate::mapping`], the ERP bridge's
//! declarative mapping turned round: its `order.…` paths read the ERP's item row) whose targets
//! are `sku`, `price`, `stock` and, optionally, `title`; the shipped profiles' mappings are
//! below ([`BUSINESS_CENTRAL_ITEMS`], [`SAP_B1_ITEMS`]).
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
use crate::mapping::InboundMapping;
use crate::ports::Clock;

/// Business Central API v2.0 `items`: number, display name, unit price, inventory.
pub const BUSINESS_CENTRAL_ITEMS: &str = r#"{"version": 1, "description": "Business Central items", "target": {
    "sku": {"path": "order.number"}, "title": {"path": "order.displayName", "optional": true},
    "price": {"path": "order.unitPrice"}, "stock": {"path": "order.inventory"}}}"#;

/// SAP Business One `Items`: item code and name, the first price list's price, stock on hand.
pub const SAP_B1_ITEMS: &str = r#"{"version": 1, "description": "SAP Business One items", "target": {
    "sku": {"path": "order.ItemCode"}, "title": {"path": "order.ItemName", "optional": true},
    "price": {"path": "order.ItemPrices[0].Price"}, "stock": {"path": "order.QuantityOnStock"}}}"#;

/// Where the items are, how their pages follow, and how one item row reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemFields {
    /// Below the connector's base URL, e.g. `items`.
    pub path: String,
    /// Reads one item row into `sku`, `price`, `stock` and an optional `title`.
    pub mapping: InboundMapping,
    /// The answer's key holding the next page's link.
    pub next_link: String,
    /// `Prefer: odata.maxpagesize=<n>` is sent when set.
    #[serde(default)]
    pub max_page_size: Option<u32>,
}

impl ItemFields {
    /// The fields of a shipped profile; a custom profile must name them.
    pub fn for_profile(profile: &ProfileConfig) -> Option<Self> {
        let fields = |path: &str, mapping: &str, next: &str, size| Self {
            path: path.into(),
            mapping: InboundMapping::from_json(mapping).expect("a shipped item mapping is valid"),
            next_link: next.into(),
            max_page_size: size,
        };
        match profile {
            ProfileConfig::BusinessCentral => Some(fields("items", BUSINESS_CENTRAL_ITEMS, "@odata.nextLink", None)),
            ProfileConfig::SapB1 => Some(fields("Items", SAP_B1_ITEMS, "odata.nextLink", Some(500))),
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
    let mapped = fields.mapping.apply_json(row).map_err(|e| e.to_string())?;
    let mapped: Value = serde_json::from_str(&mapped.to_json()).map_err(|e| e.to_string())?;
    let sku = Sku::parse(mapped["sku"].as_str().ok_or("the mapping gave no `sku` text")?)?;
    let title = mapped["title"].as_str().unwrap_or_default().to_owned();
    let number = |what: &str| {
        let value = &mapped[what];
        decimal(value).ok_or_else(|| format!("{sku}: the {what} {value} is not a decimal"))
    };
    Ok(Product { price: number("price")?, stock: number("stock")?, title, sku })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn custom(mapping: &str) -> ItemFields {
        let text = format!(r#"{{"path": "articles", "next_link": "next", "mapping": {mapping}}}"#);
        serde_json::from_str(&text).unwrap()
    }

    const ARTICLES: &str = r#"{"version": 1, "target": {"sku": {"path": "order.code"},
        "title": {"path": "order.texts.name", "optional": true}, "price": {"path": "order.prices[1].amount"},
        "stock": {"path": "order.stock.on_hand"}}}"#;

    #[test]
    fn a_custom_erp_row_reads_through_its_mapping_with_decimals_kept_exact() {
        let row = json!({"code": "ART-7", "texts": {"name": "Té negro"}, "prices": [{"amount": 1}, {"amount": "4500.50"}],
                         "stock": {"on_hand": 12}});
        let product = product(&row, &custom(ARTICLES)).unwrap();
        assert_eq!((product.sku.as_str(), product.title.as_str()), ("ART-7", "Té negro"));
        assert_eq!((product.price.to_string(), product.stock.to_string()), ("4500.50".into(), "12".into()));
    }

    #[test]
    fn a_row_the_mapping_cannot_read_is_invalid_with_the_reason() {
        let no_code = json!({"prices": [{}, {"amount": "1"}], "stock": {"on_hand": 1}});
        let error = product(&no_code, &custom(ARTICLES)).unwrap_err();
        assert!(error.contains("code"), "{error}");
        let words = json!({"code": "ART-8", "prices": [{}, {"amount": "a lot"}], "stock": {"on_hand": 1}});
        let error = product(&words, &custom(ARTICLES)).unwrap_err();
        assert!(error.contains("ART-8") && error.contains("price"), "{error}");
    }

    #[test]
    fn a_mapping_that_does_not_compile_is_refused_when_the_configuration_is_read() {
        let text = r#"{"path": "articles", "next_link": "next", "mapping": {"version": 1, "target": {"sku": {"paht": "order.code"}}}}"#;
        let error = serde_json::from_str::<ItemFields>(text).unwrap_err().to_string();
        assert!(error.contains("paht"), "{error}");
    }

    #[test]
    fn the_shipped_profiles_read_their_erps_rows() {
        let bc = ItemFields::for_profile(&ProfileConfig::BusinessCentral).unwrap();
        let row = json!({"number": "1000", "displayName": "Bicycle", "unitPrice": 4000.8, "inventory": 5});
        assert_eq!(product(&row, &bc).unwrap().price.to_string(), "4000.8");
        let sap = ItemFields::for_profile(&ProfileConfig::SapB1).unwrap();
        let row =
            json!({"ItemCode": "A1", "ItemName": "Item", "ItemPrices": [{"Price": 10.5}], "QuantityOnStock": 3.0});
        assert_eq!(product(&row, &sap).unwrap().stock.to_string(), "3.0");
    }
}
