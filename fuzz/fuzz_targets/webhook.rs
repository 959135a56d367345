//! Webhook verification and payload mapping on arbitrary requests, for every configured
//! source. Input: a selector byte (source, and whether to sign), then `id|topic|skew` up to a
//! 0xFF byte, then the body. Signed requests carry a correct signature, so the fuzzer reaches
//! the mapping through the real gate; a correct signature must never be refused as a bad one.

#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use orderflow_shared::apps::seed::{self, ConnectionsFile};
use orderflow_shared::webhook::{
    EventType, Scheme, SigningKey, SourceConfig, VerifyError, WebhookEvent, WebhookSources, map_event, verify,
};
use sha2::Sha256;
use time::OffsetDateTime;

const NOW: i64 = 1_780_000_000;

struct Source {
    config: SourceConfig,
    secret: String,
    key: SigningKey,
}

/// The webhook sources of the local connections (`config/connections.local.json`) bound to the
/// shipped app definitions, as `orderflow serve` runs them.
fn local_webhook_sources() -> WebhookSources {
    const DEFINITIONS: &[&str] = &[
        include_str!("../../config/apps/business-central@1.0.0.json"),
        include_str!("../../config/apps/generic-hmac@1.0.0.json"),
        include_str!("../../config/apps/partner-rest@1.0.0.json"),
        include_str!("../../config/apps/partner-rest@2.0.0.json"),
        include_str!("../../config/apps/sap-b1@1.0.0.json"),
        include_str!("../../config/apps/shopify@1.0.0.json"),
        include_str!("../../config/apps/standard-webhooks@1.0.0.json"),
        include_str!("../../config/apps/woocommerce@1.0.0.json"),
    ];
    let connections = ConnectionsFile::from_json(include_str!("../../config/connections.local.json")).unwrap();
    let today = OffsetDateTime::now_utc().date();
    let runtime = seed::registry(DEFINITIONS, &connections, today).unwrap().runtime(today);
    assert!(runtime.refused.is_empty(), "{:?}", runtime.refused);
    runtime.webhook_sources
}

/// The sources by selector index, in the order scripts/fuzz writes its seeds for.
const ORDER: [&str; 4] = ["standard", "shopify", "woocommerce", "zephyrcart"];

static SOURCES: LazyLock<Vec<Source>> = LazyLock::new(|| {
    let sources = local_webhook_sources();
    assert_eq!(sources.iter().count(), ORDER.len(), "every local webhook source has its selector");
    let secrets: serde_json::Value = serde_json::from_str(include_str!("../../config/local-secrets.json")).unwrap();
    ORDER
        .iter()
        .map(|name| sources.get(name).unwrap())
        .map(|config| {
            let secret = secrets[config.secret_ref.strip_prefix("local:").unwrap()].as_str().unwrap().to_owned();
            let key = SigningKey::from_secret(&config.scheme, &secret).unwrap();
            Source { config: config.clone(), secret, key }
        })
        .collect()
});

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The headers the platform would send for this body.
fn signed(source: &Source, id: &str, topic: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
    let ts = timestamp.to_string();
    let pairs: Vec<(&str, String)> = match &source.config.scheme {
        Scheme::StandardWebhooks { .. } => {
            let key = BASE64.decode(source.secret.trim_start_matches("whsec_")).unwrap();
            let tag = mac(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
            vec![
                ("webhook-id", id.into()),
                ("webhook-timestamp", ts.clone()),
                ("webhook-signature", format!("v1,{}", BASE64.encode(tag))),
            ]
        }
        Scheme::Shopify {} => vec![
            ("X-Shopify-Hmac-Sha256", BASE64.encode(mac(source.secret.as_bytes(), &[body]))),
            ("X-Shopify-Event-Id", id.into()),
            ("X-Shopify-Topic", topic.into()),
        ],
        Scheme::WooCommerce {} => vec![
            ("X-WC-Webhook-Signature", BASE64.encode(mac(source.secret.as_bytes(), &[body]))),
            ("X-WC-Webhook-Delivery-ID", id.into()),
            ("X-WC-Webhook-Topic", topic.into()),
        ],
        Scheme::GenericHmac(g) => {
            let tag = mac(source.secret.as_bytes(), &[format!("{ts}.").as_bytes(), body]);
            let timestamp_header = g.timestamp.as_ref().map_or("x-unused", |t| t.header.as_str());
            vec![
                (g.signature_header.as_str(), format!("{}{}", g.prefix.as_deref().unwrap_or(""), hex::encode(tag))),
                (timestamp_header, ts.clone()),
                (g.dedup_id_header.as_str(), id.into()),
            ]
        }
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Fuzzed `name:value` pairs, for unsigned requests.
fn raw_headers<'a>(fields: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    fields.filter_map(|f| f.split_once(':')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

fn visible(text: Option<&str>) -> String {
    text.unwrap_or("").chars().filter(char::is_ascii_graphic).take(64).collect()
}

fn check_mapped(result: Result<WebhookEvent, orderflow_shared::webhook::PayloadError>) {
    match result {
        Ok(WebhookEvent::Order(order)) => order.order.validate().expect("mapped orders are valid"),
        Ok(_) => {}
        Err(e) => assert_eq!(e.status(), 400),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (meta, body) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let meta = String::from_utf8_lossy(meta);
    let mut fields = meta.split('|');
    let (id, topic) = (visible(fields.next()), visible(fields.next()));
    let skew: i64 = fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let source = &SOURCES[usize::from(selector) % SOURCES.len()];
    let sign = selector & 0x80 != 0;
    let headers = if sign { signed(source, &id, &topic, NOW.saturating_add(skew), body) } else { raw_headers(fields) };

    let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    match verify(&source.config.scheme, &source.key, &headers[..], body, now) {
        Ok(verified) => check_mapped(map_event(&source.config, &verified.event, body)),
        Err(e) => {
            assert!(matches!(e.status(), 400 | 401), "{e}");
            let signature_refused = matches!(
                e,
                VerifyError::BadSignature | VerifyError::MalformedSignature | VerifyError::NoSupportedSignature
            );
            assert!(!(sign && signature_refused), "a correct signature was refused: {e}");
        }
    }
    // The mapping behind the gate, reached directly as well.
    for event in [EventType::OrderCreated, EventType::OrderRefunded, EventType::OrderUpdated] {
        check_mapped(map_event(&source.config, &event, body));
    }
});
