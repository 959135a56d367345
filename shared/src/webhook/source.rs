//! Webhook sources as configuration: a JSON list, so adding a shop means editing a file,
//! not code.
//!
//! ```json
//! [{ "name": "zephyrcart",
//!    "seller_name": "Demo Store", "seller_id": { "scheme": "CL:RUT", "value": "76.123.456-7" },
//!    "secret_ref": "ssm:/orderflow/dev/webhooks/zephyrcart",
//!    "max_body_bytes": 262144,
//!    "scheme": { "kind": "generic_hmac", "signature_header": "x-zephyrcart-signature",
//!                "encoding": "hex", "prefix": "sha256=",
//!                "timestamp": { "header": "x-zephyrcart-timestamp", "tolerance_seconds": 300 },
//!                "dedup_id_header": "x-zephyrcart-delivery-id",
//!                "event_type": { "body_field": "type" } } }]
//! ```
//! Other kinds: `{"kind": "standard_webhooks"}` (optional `tolerance_seconds`),
//! `{"kind": "shopify"}`, `{"kind": "woocommerce"}`.

use std::collections::HashSet;

use serde::Deserialize;

use crate::order::{Identifier, Party};

/// The Standard Webhooks default, reused for generic timestamps: wide enough for clock drift
/// and queueing at the sender, narrow enough that a captured request soon stops working.
const DEFAULT_TOLERANCE_SECONDS: u32 = 300;

/// Large Shopify orders with many lines run to hundreds of kilobytes.
const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// One shop or platform that may post to `POST /webhooks/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The `{source}` path segment.
    pub name: String,
    pub scheme: Scheme,
    /// Where the secret lives (`ssm:…`, `secretsmanager:…`, `local:<name>`), never its value.
    pub secret_ref: String,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// The shop: seller of every order this source sends.
    pub seller_name: String,
    pub seller_id: Identifier,
}

impl SourceConfig {
    pub fn seller(&self) -> Party {
        Party { ids: vec![self.seller_id.clone()], ..Party::named(self.seller_name.as_str()) }
    }
}

/// How a source signs its requests. The payload format follows from it: Shopify and
/// WooCommerce send their own order JSON, the others send the standard format.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scheme {
    /// standardwebhooks.com: `webhook-id`, `webhook-timestamp`, `webhook-signature`; the
    /// event type is the body's `type` field.
    StandardWebhooks {
        #[serde(default = "default_tolerance")]
        tolerance_seconds: u32,
    },
    // Braces, not unit variants: serde enforces `deny_unknown_fields` on struct variants only,
    // and a misspelt setting on these must fail too.
    Shopify {},
    #[serde(rename = "woocommerce")]
    WooCommerce {},
    GenericHmac(GenericHmac),
}

/// An HMAC-SHA256 scheme described entirely by configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericHmac {
    pub signature_header: String,
    pub encoding: Encoding,
    /// Stripped from the header value before decoding, e.g. `sha256=`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// When set, the signed content is `{timestamp}.{body}` instead of the body.
    #[serde(default)]
    pub timestamp: Option<TimestampHeader>,
    pub dedup_id_header: String,
    pub event_type: EventTypeFrom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Hex,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampHeader {
    /// Holds unix seconds.
    pub header: String,
    #[serde(default = "default_tolerance")]
    pub tolerance_seconds: u32,
}

/// Where a generic source states the event type: `{"header": "x-event"}` or
/// `{"body_field": "type"}` (a top-level string field of the JSON body).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventTypeFrom {
    Header(String),
    BodyField(String),
}

fn default_tolerance() -> u32 {
    DEFAULT_TOLERANCE_SECONDS
}

fn default_max_body_bytes() -> usize {
    DEFAULT_MAX_BODY_BYTES
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceConfigError {
    #[error("webhook sources are not valid JSON for the expected shape: {0}")]
    Json(String),
    #[error("webhook source name {0:?} must be 1-64 characters of a-z, 0-9, '-' or '_'")]
    BadName(String),
    #[error("webhook source {0:?} is configured twice")]
    DuplicateName(String),
    #[error("webhook source {source_name:?}: {reason}")]
    Invalid { source_name: String, reason: &'static str },
}

/// The configured sources, checked as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSources(Vec<SourceConfig>);

impl WebhookSources {
    pub fn from_json(json: &str) -> Result<Self, SourceConfigError> {
        let sources: Vec<SourceConfig> =
            serde_json::from_str(json).map_err(|e| SourceConfigError::Json(e.to_string()))?;
        Self::from_entries(sources)
    }

    /// Sources built elsewhere (rendered from app connections), checked as from a file.
    pub fn from_entries(sources: Vec<SourceConfig>) -> Result<Self, SourceConfigError> {
        let mut names = HashSet::new();
        for source in &sources {
            check(source)?;
            if !names.insert(source.name.as_str()) {
                return Err(SourceConfigError::DuplicateName(source.name.clone()));
            }
        }
        Ok(Self(sources))
    }

    pub fn get(&self, name: &str) -> Option<&SourceConfig> {
        self.0.iter().find(|s| s.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &SourceConfig> {
        self.0.iter()
    }
}

pub(crate) fn check(source: &SourceConfig) -> Result<(), SourceConfigError> {
    let name = &source.name;
    let name_ok =
        (1..=64).contains(&name.len()) && name.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'));
    if !name_ok {
        return Err(SourceConfigError::BadName(name.clone()));
    }
    let invalid = |reason| Err(SourceConfigError::Invalid { source_name: name.clone(), reason });
    // A reference always has a `<kind>:` prefix; a pasted secret usually has none. The value
    // is left out of the error either way.
    let ref_ok = source.secret_ref.split_once(':').is_some_and(|(kind, rest)| {
        !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_lowercase()) && !rest.is_empty()
    });
    if !ref_ok {
        return invalid("secret_ref must be a reference such as `ssm:/path` or `local:<name>`");
    }
    if source.max_body_bytes == 0 {
        return invalid("max_body_bytes must be greater than zero");
    }
    if source.seller_name.trim().is_empty() || source.seller_id.value.trim().is_empty() {
        return invalid("seller_name and seller_id.value must not be empty");
    }
    let tolerances_ok = match &source.scheme {
        Scheme::StandardWebhooks { tolerance_seconds } => *tolerance_seconds > 0,
        Scheme::GenericHmac(g) => g.timestamp.as_ref().is_none_or(|t| t.tolerance_seconds > 0),
        Scheme::Shopify {} | Scheme::WooCommerce {} => true,
    };
    if !tolerances_ok {
        return invalid("tolerance_seconds must be greater than zero");
    }
    if let Scheme::GenericHmac(g) = &source.scheme {
        let event_source = match &g.event_type {
            EventTypeFrom::Header(h) | EventTypeFrom::BodyField(h) => h,
        };
        let timestamp = g.timestamp.as_ref().map_or("x", |t| t.header.as_str());
        if [&g.signature_header, &g.dedup_id_header, event_source, timestamp].iter().any(|n| n.trim().is_empty()) {
            return invalid("header and field names must not be empty");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(scheme: &str) -> String {
        format!(
            r#"[{{"name": "shop", "seller_name": "Demo", "seller_id": {{"value": "S1"}},
                 "secret_ref": "ssm:/orderflow/dev/webhooks/shop", "scheme": {scheme}}}]"#
        )
    }

    #[test]
    fn a_generic_source_is_described_by_configuration_alone() {
        let json = one(r#"{"kind": "generic_hmac", "signature_header": "x-sig", "encoding": "base64",
                "dedup_id_header": "x-delivery", "event_type": {"header": "x-event"}}"#);
        let sources = WebhookSources::from_json(&json).unwrap();
        let source = sources.get("shop").unwrap();
        assert_eq!(source.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        let Scheme::GenericHmac(g) = &source.scheme else { panic!("{:?}", source.scheme) };
        assert_eq!(g.encoding, Encoding::Base64);
        assert_eq!(g.prefix, None);
        assert_eq!(g.event_type, EventTypeFrom::Header("x-event".into()));
        assert_eq!(source.seller().identity(), "S1");
    }

    #[test]
    fn standard_webhooks_tolerance_defaults_to_five_minutes() {
        let sources = WebhookSources::from_json(&one(r#"{"kind": "standard_webhooks"}"#)).unwrap();
        assert_eq!(sources.get("shop").unwrap().scheme, Scheme::StandardWebhooks { tolerance_seconds: 300 });
    }

    #[test]
    fn unknown_fields_are_rejected_at_every_level() {
        for scheme in [
            r#"{"kind": "shopify", "secret": "x"}"#,
            r#"{"kind": "standard_webhooks", "tolerance": 5}"#,
            r#"{"kind": "generic_hmac", "signature_header": "x-sig", "encoding": "hex",
                "dedup_id_header": "x-d", "event_type": {"header": "x-e"}, "algo": "sha1"}"#,
        ] {
            let err = WebhookSources::from_json(&one(scheme)).unwrap_err();
            assert!(err.to_string().contains("unknown field"), "{scheme}: {err}");
        }
        let top = one(r#"{"kind": "shopify"}"#).replace("\"name\"", "\"secret\": \"x\", \"name\"");
        assert!(WebhookSources::from_json(&top).is_err());
    }

    #[test]
    fn a_secret_pasted_into_secret_ref_is_refused_without_echoing_it() {
        let json = one(r#"{"kind": "shopify"}"#).replace("ssm:/orderflow/dev/webhooks/shop", "shpss_0123abcd");
        let err = WebhookSources::from_json(&json).unwrap_err();
        assert!(matches!(err, SourceConfigError::Invalid { .. }), "{err}");
        assert!(!err.to_string().contains("shpss_0123abcd"));
    }

    #[test]
    fn duplicate_and_unsafe_names_are_refused() {
        let json = one(r#"{"kind": "shopify"}"#);
        let twice = format!("[{0},{0}]", &json[1..json.len() - 1]);
        assert_eq!(WebhookSources::from_json(&twice).unwrap_err(), SourceConfigError::DuplicateName("shop".into()));
        let bad = json.replace("\"shop\"", "\"../shop\"");
        assert!(matches!(WebhookSources::from_json(&bad), Err(SourceConfigError::BadName(_))));
    }
}
