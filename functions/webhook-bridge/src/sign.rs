//! Signing as the platforms do, for the demo, sample events and tests: the receiver only
//! verifies (through `orderflow_shared::webhook::verify`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `X-Shopify-Hmac-Sha256` (and WooCommerce's `X-WC-Webhook-Signature`): base64 HMAC of the body.
pub fn body_base64(secret: &str, body: &[u8]) -> String {
    BASE64.encode(mac(secret.as_bytes(), &[body]))
}

/// Standard Webhooks `webhook-signature` (`v1,<base64>`) for a `whsec_` secret.
pub fn standard_webhooks(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = BASE64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).expect("a whsec_ secret is base64");
    let ts = timestamp.to_string();
    let tag = mac(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!("v1,{}", BASE64.encode(tag))
}

/// A generic hex HMAC over `<timestamp>.<body>` (or the body alone), with `prefix`.
pub fn generic_hex(secret: &str, prefix: &str, timestamp: Option<i64>, body: &[u8]) -> String {
    let signed_prefix = timestamp.map(|t| format!("{t}.")).unwrap_or_default();
    let tag = mac(secret.as_bytes(), &[signed_prefix.as_bytes(), body]);
    format!("{prefix}{}", hex::encode(tag))
}
