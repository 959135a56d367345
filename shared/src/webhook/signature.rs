//! Signature verification over the raw body, before anything parses it.
//!
//! Every scheme is HMAC-SHA256. Received signatures meet the expected MAC only in
//! [`mac_matches_any`], which compares with `Mac::verify_slice` (constant time); the test
//! `mac_comparison_happens_only_in_mac_matches_any` keeps it that way.
//!
//! Checks run in this order: required headers, timestamp tolerance, signature, then dedup id
//! and event type, so an unauthenticated caller learns nothing beyond the signature headers.
//! Shopify and WooCommerce sign no timestamp, and no header: their delivery ids are for logs
//! only. What decides an effect is keyed on the signed body ([`super::WebhookOrder::effect_key`],
//! [`super::Refund::effect_key`]).

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use super::EventType;
use super::source::{Encoding, EventTypeFrom, GenericHmac, Scheme};

/// Request headers, looked up case-insensitively.
pub trait Headers {
    /// The first value of the header `name`, whatever its case.
    fn header(&self, name: &str) -> Option<&str>;
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
    }
}

impl<S: BuildHasher> Headers for HashMap<String, String, S> {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// An authenticated request: what happened and the id to deduplicate deliveries by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub dedup_id: String,
    pub event: EventType,
    /// The signed send time, for schemes that sign one.
    pub timestamp: Option<OffsetDateTime>,
}

/// Why a request was refused before its payload was looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("body is {size} bytes, over this source's {limit}-byte limit")]
    BodyTooLarge { size: usize, limit: usize },
    #[error("missing header {0}")]
    MissingHeader(String),
    #[error("the signature header is malformed")]
    MalformedSignature,
    #[error("the signature header holds no signature of a supported version (v1)")]
    NoSupportedSignature,
    #[error("no signature matches the body")]
    BadSignature,
    #[error("the timestamp header is not an integer number of unix seconds")]
    MalformedTimestamp,
    #[error("the signed timestamp is {skew_seconds} s away from now, outside the tolerance")]
    TimestampOutOfTolerance {
        /// Positive when the request is older than now, negative when it claims the future.
        skew_seconds: i64,
    },
    #[error("missing delivery id header {0}")]
    MissingDedupId(String),
    #[error("the signed body has no string field {0:?} naming the event type")]
    MissingEventType(String),
}

impl VerifyError {
    /// 413 for size, 400 for a signed body without an event type, else 401.
    pub fn status(&self) -> u16 {
        match self {
            Self::BodyTooLarge { .. } => 413,
            Self::MissingEventType(_) => 400,
            _ => 401,
        }
    }

    /// A stable machine-readable code for responses, metrics and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::MissingHeader(_) => "missing_header",
            Self::MalformedSignature => "malformed_signature",
            Self::NoSupportedSignature => "no_supported_signature",
            Self::BadSignature => "bad_signature",
            Self::MalformedTimestamp => "malformed_timestamp",
            Self::TimestampOutOfTolerance { .. } => "timestamp_out_of_tolerance",
            Self::MissingDedupId(_) => "missing_dedup_id",
            Self::MissingEventType(_) => "missing_event_type",
        }
    }
}

/// The first check on a request, before the body is read further.
pub fn check_size(len: usize, limit: usize) -> Result<(), VerifyError> {
    if len > limit { Err(VerifyError::BodyTooLarge { size: len, limit }) } else { Ok(()) }
}

/// The HMAC key of one source, decoded once from its secret.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the webhook secret is not usable: {0}")]
// Never carries the secret, not even a part of it.
pub struct InvalidSecret(&'static str);

impl SigningKey {
    /// Standard Webhooks secrets are `whsec_` + base64 (the prefix is optional); the key is the
    /// decoded bytes. The other schemes use the secret's bytes as they are.
    pub fn from_secret(scheme: &Scheme, secret: &str) -> Result<Self, InvalidSecret> {
        let key = match scheme {
            Scheme::StandardWebhooks { .. } => {
                let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
                BASE64.decode(encoded).map_err(|_| InvalidSecret("expected whsec_ followed by base64"))?
            }
            Scheme::Shopify {} | Scheme::WooCommerce {} | Scheme::GenericHmac(_) => secret.as_bytes().to_vec(),
        };
        // Anyone can compute an HMAC under the empty key.
        if key.is_empty() {
            return Err(InvalidSecret("the key is empty"));
        }
        Ok(Self(key))
    }
}

/// Authenticates one request of a source with `scheme`. `now` is passed in so that the
/// timestamp check is deterministic under test.
pub fn verify<H: Headers + ?Sized>(
    scheme: &Scheme,
    key: &SigningKey,
    headers: &H,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Verified, VerifyError> {
    match scheme {
        Scheme::StandardWebhooks { tolerance_seconds } => standard(*tolerance_seconds, key, headers, body, now),
        Scheme::Shopify {} => {
            body_signed_base64(key, headers, body, "X-Shopify-Hmac-Sha256")?;
            let dedup_id = ["X-Shopify-Event-Id", "X-Shopify-Webhook-Id"]
                .iter()
                .find_map(|name| present(headers, name))
                .ok_or_else(|| VerifyError::MissingDedupId("X-Shopify-Event-Id".into()))?;
            let topic = required(headers, "X-Shopify-Topic")?;
            let event = EventType::from_shopify_topic(topic);
            Ok(Verified { dedup_id: dedup_id.to_owned(), event, timestamp: None })
        }
        Scheme::WooCommerce {} => {
            body_signed_base64(key, headers, body, "X-WC-Webhook-Signature")?;
            let dedup_id = dedup_id(headers, "X-WC-Webhook-Delivery-ID")?;
            let event = EventType::from_woocommerce_topic(required(headers, "X-WC-Webhook-Topic")?);
            Ok(Verified { dedup_id, event, timestamp: None })
        }
        Scheme::GenericHmac(generic) => generic_hmac(generic, key, headers, body, now),
    }
}

fn standard<H: Headers + ?Sized>(
    tolerance_seconds: u32,
    key: &SigningKey,
    headers: &H,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Verified, VerifyError> {
    let id = required(headers, "webhook-id")?;
    let timestamp = required(headers, "webhook-timestamp")?;
    let signatures = required(headers, "webhook-signature")?;
    let (seconds, timestamp) = within_tolerance(timestamp, tolerance_seconds, now)?;

    // Space-separated `v<n>,<base64>` entries; several v1 entries while a key rotates.
    let mut candidates = Vec::new();
    let mut malformed = false;
    for entry in signatures.split_whitespace() {
        match entry.split_once(',') {
            Some(("v1", encoded)) => match BASE64.decode(encoded) {
                Ok(tag) => candidates.push(tag),
                Err(_) => malformed = true,
            },
            Some(_) => {} // another version: not ours to check
            None => malformed = true,
        }
    }
    let seconds = seconds.to_string();
    let signed = [id.as_bytes(), b".", seconds.as_bytes(), b".", body];
    if !mac_matches_any(key, &signed, &candidates) {
        return Err(match (candidates.is_empty(), malformed) {
            (false, _) => VerifyError::BadSignature,
            (true, true) => VerifyError::MalformedSignature,
            (true, false) => VerifyError::NoSupportedSignature,
        });
    }
    let event = event_from_body(body, "type")?;
    Ok(Verified { dedup_id: id.to_owned(), event, timestamp: Some(timestamp) })
}

fn generic_hmac<H: Headers + ?Sized>(
    config: &GenericHmac,
    key: &SigningKey,
    headers: &H,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Verified, VerifyError> {
    let header = required(headers, &config.signature_header)?;
    let encoded = match &config.prefix {
        Some(prefix) => header.strip_prefix(prefix.as_str()).ok_or(VerifyError::MalformedSignature)?,
        None => header,
    };
    let tag = match config.encoding {
        Encoding::Hex => hex::decode(encoded).ok(),
        Encoding::Base64 => BASE64.decode(encoded).ok(),
    }
    .ok_or(VerifyError::MalformedSignature)?;

    let (timestamp, signed_prefix) = match &config.timestamp {
        Some(t) => {
            let text = required(headers, &t.header)?;
            let (seconds, timestamp) = within_tolerance(text, t.tolerance_seconds, now)?;
            (Some(timestamp), format!("{seconds}."))
        }
        None => (None, String::new()),
    };
    if !mac_matches_any(key, &[signed_prefix.as_bytes(), body], &[tag]) {
        return Err(VerifyError::BadSignature);
    }
    let dedup_id = dedup_id(headers, &config.dedup_id_header)?;
    let event = match &config.event_type {
        EventTypeFrom::Header(name) => EventType::from_name(required(headers, name)?),
        EventTypeFrom::BodyField(field) => event_from_body(body, field)?,
    };
    Ok(Verified { dedup_id, event, timestamp })
}

/// Shopify and WooCommerce: base64 HMAC of the raw body in one header.
fn body_signed_base64<H: Headers + ?Sized>(
    key: &SigningKey,
    headers: &H,
    body: &[u8],
    header: &str,
) -> Result<(), VerifyError> {
    let tag = BASE64.decode(required(headers, header)?).map_err(|_| VerifyError::MalformedSignature)?;
    if mac_matches_any(key, &[body], &[tag]) { Ok(()) } else { Err(VerifyError::BadSignature) }
}

/// The only place a received signature meets the expected one. `verify_slice` compares in
/// constant time; the MAC is computed once and cloned per candidate.
fn mac_matches_any(key: &SigningKey, signed: &[&[u8]], candidates: &[Vec<u8>]) -> bool {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key.0).expect("HMAC accepts keys of any length");
    for part in signed {
        mac.update(part);
    }
    candidates.iter().any(|tag| mac.clone().verify_slice(tag).is_ok())
}

/// Parses unix seconds and checks them against `now`; returns the seconds and the instant.
fn within_tolerance(
    text: &str,
    tolerance_seconds: u32,
    now: OffsetDateTime,
) -> Result<(i64, OffsetDateTime), VerifyError> {
    let seconds: i64 = text.parse().map_err(|_| VerifyError::MalformedTimestamp)?;
    let skew_seconds = now.unix_timestamp().saturating_sub(seconds);
    if skew_seconds.unsigned_abs() > u64::from(tolerance_seconds) {
        return Err(VerifyError::TimestampOutOfTolerance { skew_seconds });
    }
    let instant = OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| VerifyError::MalformedTimestamp)?;
    Ok((seconds, instant))
}

/// A header's trimmed value, treating blank as absent.
fn present<'h, H: Headers + ?Sized>(headers: &'h H, name: &str) -> Option<&'h str> {
    headers.header(name).map(str::trim).filter(|v| !v.is_empty())
}

fn required<'h, H: Headers + ?Sized>(headers: &'h H, name: &str) -> Result<&'h str, VerifyError> {
    present(headers, name).ok_or_else(|| VerifyError::MissingHeader(name.to_owned()))
}

fn dedup_id<H: Headers + ?Sized>(headers: &H, name: &str) -> Result<String, VerifyError> {
    present(headers, name).map(str::to_owned).ok_or_else(|| VerifyError::MissingDedupId(name.to_owned()))
}

/// Reads the event type from a verified body. Numbers parse as f64 here, which is harmless:
/// only one string field is read, and the payload is mapped separately.
fn event_from_body(body: &[u8], field: &str) -> Result<EventType, VerifyError> {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
        .ok()
        .and_then(|object| object.get(field)?.as_str().map(EventType::from_name))
        .ok_or_else(|| VerifyError::MissingEventType(field.to_owned()))
}

#[cfg(test)]
mod tests;
