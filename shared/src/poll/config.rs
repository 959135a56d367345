//! Poll sources: the runtime configuration a connection's poll trigger renders into (see
//! `crate::apps`; the trigger's `config` is this shape without `name`, the connection id):
//!
//! ```json
//! { "sources": [
//!   { "name": "woocommerce",
//!     "platform": { "kind": "woocommerce" },
//!     "base_url": "https://shop.example.com/wp-json/wc/v3",
//!     "auth": { "type": "basic", "username": "ck_…", "password_ref": "ssm:/orderflow/dev/poll/woocommerce" },
//!     "seller_name": "Demo Store", "seller_id": { "scheme": "CL:RUT", "value": "76123456-7" },
//!     "filter": { "field": "status", "any_of": ["processing"] },
//!     "lookback_seconds": 300, "start_at": "2026-01-01T00:00:00Z" } ] }
//! ```
//!
//! `name` equals the webhook source of the same shop, so both doors give its orders the same
//! origin prefix and the same seller (and hence the same order key). Platforms: `woocommerce`,
//! `shopify`, and `partner` (a B2B REST order list described here, mapped to the canonical
//! order by a declarative mapping, see [`PartnerSpec`]).

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::filter::Filter;
use crate::erp::AuthConfig;
use crate::mapping::InboundMapping;
use crate::order::{Identifier, Party};

/// Five minutes: longer than platforms take to commit an order they have already stamped.
const DEFAULT_LOOKBACK_SECONDS: u64 = 300;
const DEFAULT_MAX_PAGES: u32 = 20;
const DEFAULT_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// Longest wait for a `Retry-After` or a throttle within one run; a longer one ends the run
/// (its progress saved) and the next scheduled run continues.
const DEFAULT_MAX_WAIT_SECONDS: u64 = 30;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    sources: Vec<PollSourceConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollSourceConfig {
    pub name: String,
    pub platform: Platform,
    /// The API root: WooCommerce's `…/wp-json/wc/v3`, Shopify's GraphQL endpoint
    /// `https://<shop>.myshopify.com/admin/api/<version>/graphql.json`, the partner's root.
    pub base_url: String,
    pub auth: AuthConfig,
    pub seller_name: String,
    pub seller_id: Identifier,
    #[serde(default)]
    pub filter: Option<Filter>,
    #[serde(default = "default_lookback")]
    pub lookback_seconds: u64,
    /// Where a source never polled before starts (RFC 3339); the epoch when absent.
    #[serde(default)]
    pub start_at: Option<String>,
    /// Pages per run; the cursor is saved after each, and the next run goes on from there.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Tries per request on 5xx, 429 and timeouts.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_max_wait")]
    pub max_wait_seconds: u64,
}

impl PollSourceConfig {
    pub fn seller(&self) -> Party {
        Party { ids: vec![self.seller_id.clone()], ..Party::named(self.seller_name.as_str()) }
    }

    pub fn lookback_ms(&self) -> i64 {
        i64::try_from(self.lookback_seconds.saturating_mul(1_000)).unwrap_or(i64::MAX)
    }

    pub fn start_ms(&self) -> i64 {
        // Checked when the file was loaded.
        self.start_at.as_deref().and_then(rfc3339_ms).unwrap_or(0)
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Platform {
    /// `GET /orders?modified_after=…&orderby=modified&order=asc&page=&per_page=`.
    #[serde(rename = "woocommerce")]
    WooCommerce {
        /// At most 100, WooCommerce's limit.
        #[serde(default = "default_woo_page")]
        per_page: u32,
    },
    /// `orders(first: 250, query: "updated_at:>=…", sortKey: UPDATED_AT)`, then each order's
    /// details in batches a single query's cost allows.
    Shopify {
        #[serde(default = "default_shopify_page")]
        first: u32,
        /// Line items read per order; an order with more is refused (a clear error) rather
        /// than taken with lines missing.
        #[serde(default = "default_line_items")]
        line_items: u32,
    },
    Partner(Box<PartnerSpec>),
}

/// A partner's order list, paged by cursor or by page number, sorted by update time ascending.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerSpec {
    /// Appended to `base_url`, e.g. `/v1/purchase-orders`.
    pub orders_path: String,
    /// The query parameter taking the lower bound (RFC 3339, inclusive), e.g. `updated_since`.
    pub updated_after_param: String,
    /// Other fixed query parameters, e.g. `{"sort": "updated_at"}`.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// The answer's field holding the list (`data`); empty when the answer is the list.
    #[serde(default)]
    pub items_field: String,
    pub id_field: String,
    /// RFC 3339 date-time of the last change.
    pub updated_field: String,
    pub paging: Paging,
    #[serde(default = "default_partner_page")]
    pub page_size: u32,
    /// A mapping document (see [`crate::mapping`]) whose `order.…` paths read the partner's
    /// record and whose targets are canonical order fields; the seller, origin and order key
    /// are filled in by the poller.
    pub mapping: InboundMapping,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Paging {
    /// `param` takes the previous answer's `next_field`; absent or null ends the list.
    Cursor { param: String, next_field: String, size_param: String },
    /// `param` counts from 1; a page shorter than the page size ends the list. Offset paging:
    /// a record updated while a run pages shifts the others, and one passed by is read again only
    /// if the next run's lookback window still reaches it. Prefer `cursor` where the partner
    /// offers it.
    Page { param: String, size_param: String },
}

fn default_lookback() -> u64 {
    DEFAULT_LOOKBACK_SECONDS
}
fn default_max_pages() -> u32 {
    DEFAULT_MAX_PAGES
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_max_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}
fn default_max_wait() -> u64 {
    DEFAULT_MAX_WAIT_SECONDS
}
fn default_woo_page() -> u32 {
    100
}
fn default_shopify_page() -> u32 {
    250
}
fn default_line_items() -> u32 {
    50
}
fn default_partner_page() -> u32 {
    100
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollConfigError {
    #[error("poll sources are not valid JSON for the expected shape: {0}")]
    Json(String),
    #[error("poll source {0:?} is configured twice")]
    DuplicateName(String),
    #[error("poll source {source_name:?}: {reason}")]
    Invalid { source_name: String, reason: String },
}

/// The configured sources, checked as a whole.
#[derive(Debug)]
pub struct PollSources(Vec<PollSourceConfig>);

impl PollSources {
    pub fn from_json(json: &str) -> Result<Self, PollConfigError> {
        let file: File = serde_json::from_str(json).map_err(|e| PollConfigError::Json(e.to_string()))?;
        Self::from_entries(file.sources)
    }

    /// Sources built elsewhere (rendered from app connections), checked as from a file.
    pub fn from_entries(sources: Vec<PollSourceConfig>) -> Result<Self, PollConfigError> {
        let mut names = HashSet::new();
        for source in &sources {
            check(source)?;
            if !names.insert(source.name.as_str()) {
                return Err(PollConfigError::DuplicateName(source.name.clone()));
            }
        }
        Ok(Self(sources))
    }

    pub fn get(&self, name: &str) -> Option<&PollSourceConfig> {
        self.0.iter().find(|s| s.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &PollSourceConfig> {
        self.0.iter()
    }
}

pub(crate) fn check(source: &PollSourceConfig) -> Result<(), PollConfigError> {
    let invalid =
        |reason: &str| Err(PollConfigError::Invalid { source_name: source.name.clone(), reason: reason.into() });
    let name_ok = (1..=64).contains(&source.name.len())
        && source.name.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'));
    if !name_ok {
        return invalid("the name must be 1-64 characters of a-z, 0-9, '-' or '_' (the webhook source's name)");
    }
    if crate::erp::config::http_url("base_url", &source.base_url).is_err() {
        return invalid("base_url must be an http(s) URL");
    }
    // A reference always has a `<kind>:` prefix; a pasted secret usually has none.
    if source
        .auth
        .secret_refs()
        .iter()
        .any(|r| r.split_once(':').is_none_or(|(kind, rest)| kind.is_empty() || rest.is_empty()))
    {
        return invalid("secret references must look like `ssm:/path` or `local:<name>`");
    }
    if source.seller_name.trim().is_empty() || source.seller_id.value.trim().is_empty() {
        return invalid("seller_name and seller_id.value must not be empty");
    }
    if source.start_at.as_deref().is_some_and(|at| rfc3339_ms(at).is_none()) {
        return invalid("start_at must be an RFC 3339 date-time");
    }
    if source.max_pages == 0 || source.max_attempts == 0 {
        return invalid("max_pages and max_attempts must be at least 1");
    }
    match &source.platform {
        Platform::WooCommerce { per_page } if !(1..=100).contains(per_page) => invalid("per_page must be 1-100"),
        Platform::Shopify { first, line_items } if !(1..=250).contains(first) || !(1..=250).contains(line_items) => {
            invalid("first and line_items must be 1-250")
        }
        Platform::Partner(spec) if spec.page_size == 0 || spec.id_field.is_empty() || spec.updated_field.is_empty() => {
            invalid("page_size must be at least 1, id_field and updated_field must be named")
        }
        _ => Ok(()),
    }
}

/// Parses an RFC 3339 date-time into ms since the epoch.
pub(crate) fn rfc3339_ms(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// ms since the epoch as RFC 3339 UTC, to the second (`2026-03-01T10:00:00Z`), rounded down.
pub(crate) fn utc_seconds(ms: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1_000)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_sources_are_refused_with_the_reason() {
        let one = |patch: &str| {
            format!(
                r#"{{"sources": [{{"name": "woocommerce", "platform": {{"kind": "woocommerce"}},
                "base_url": "https://shop.example.com/wp-json/wc/v3",
                "auth": {{"type": "basic", "username": "ck", "password_ref": "ssm:/x"}},
                "seller_name": "S", "seller_id": {{"value": "1"}}{patch}}}]}}"#
            )
        };
        assert!(PollSources::from_json(&one("")).is_ok());
        let err = PollSources::from_json(&one(r#", "start_at": "yesterday""#)).unwrap_err();
        assert!(err.to_string().contains("start_at"), "{err}");
        let err = PollSources::from_json(&one(r#", "lookback": 5"#)).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let pasted = one("").replace("ssm:/x", "cs_0123abcd");
        let err = PollSources::from_json(&pasted).unwrap_err();
        assert!(!err.to_string().contains("cs_0123abcd"), "{err}");
        let twice = one("").replace("}]}", "}, {\"name\": \"woocommerce\"}]}");
        assert!(PollSources::from_json(&twice).is_err());
    }
}
