//! Signature vectors for every scheme, computed here with the `hmac` crate directly rather
//! than through the verification code, plus the configuration files and sample payloads.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use orderflow_shared::secrets::SecretRef;
use orderflow_shared::webhook::{
    EventType, Scheme, SigningKey, SourceConfig, Verified, VerifyError, WebhookEvent, WebhookSources, check_size,
    map_event, verify,
};
use serde_json::Value;
use sha2::Sha256;
use time::OffsetDateTime;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    fs::read_to_string(repo().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The webhook sources of the local connections (`config/connections.local.json`).
fn local_sources() -> WebhookSources {
    orderflow_e2e::local_runtime(&[]).webhook_sources
}

/// The webhook sources of the deployed connections (`config/connections.json`), bound to the
/// shipped app definitions as the local ones are; every one of them runs.
fn deployed_sources() -> WebhookSources {
    let deployed = orderflow_e2e::local_config(Some("config/connections.json"))
        .runtime(&[])
        .unwrap_or_else(|e| panic!("the deployed connections: {e}"));
    assert_eq!(deployed.refusals().map(|(id, why)| format!("{id}: {why}")).collect::<Vec<_>>(), Vec::<String>::new());
    deployed.webhook_sources
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn at(unix_seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix_seconds).unwrap()
}

type Headers = Vec<(&'static str, String)>;

fn without(headers: &Headers, name: &str) -> Headers {
    headers.iter().filter(|(k, _)| !k.eq_ignore_ascii_case(name)).cloned().collect()
}

fn with(headers: &Headers, name: &'static str, value: &str) -> Headers {
    let mut changed = without(headers, name);
    changed.push((name, value.to_owned()));
    changed
}

mod standard_webhooks {
    use super::*;

    const SCHEME: Scheme = Scheme::StandardWebhooks { tolerance_seconds: 300 };
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const NOW: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"type":"order.created","data":{}}"#;

    fn key_bytes(secret: &str) -> Vec<u8> {
        BASE64.decode(secret.trim_start_matches("whsec_")).unwrap()
    }

    fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        let tag = hmac_sha256(&key_bytes(secret), &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
        format!("v1,{}", BASE64.encode(tag))
    }

    fn headers(timestamp: i64, signatures: &str) -> Headers {
        vec![
            ("webhook-id", ID.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signatures.to_owned()),
        ]
    }

    fn check(headers: &Headers, body: &[u8], now: i64) -> Result<Verified, VerifyError> {
        let key = SigningKey::from_secret(&SCHEME, SECRET).unwrap();
        verify(&SCHEME, &key, headers.as_slice(), body, at(now))
    }

    #[test]
    fn the_published_example_vector_matches() {
        // From the Standard Webhooks reference libraries' tests.
        let body = br#"{"test": 2432232314}"#;
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(signature(SECRET, ID, NOW, body), expected, "computed independently");
        // The vector's payload has no `type`, so verification passes the signature and stops
        // at the event type; any signature failure would have come first, as a 401.
        assert_eq!(check(&headers(NOW, expected), body, NOW), Err(VerifyError::MissingEventType("type".into())));
        let tampered = br#"{"test": 2432232315}"#;
        assert_eq!(check(&headers(NOW, expected), tampered, NOW), Err(VerifyError::BadSignature));
    }

    #[test]
    fn a_signed_order_event_yields_its_id_type_and_timestamp() {
        let verified = check(&headers(NOW, &signature(SECRET, ID, NOW, BODY)), BODY, NOW + 10).unwrap();
        assert_eq!(
            verified,
            Verified { dedup_id: ID.into(), event: EventType::OrderCreated, timestamp: Some(at(NOW)) }
        );
    }

    #[test]
    fn a_secret_without_the_whsec_prefix_is_the_same_key() {
        let bare = SigningKey::from_secret(&SCHEME, SECRET.trim_start_matches("whsec_")).unwrap();
        let headers = headers(NOW, &signature(SECRET, ID, NOW, BODY));
        assert!(verify(&SCHEME, &bare, headers.as_slice(), BODY, at(NOW)).is_ok());
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let headers = headers(NOW, &signature(SECRET, ID, NOW, BODY));
        let tampered = br#"{"type":"order.refunded","data":{}}"#;
        assert_eq!(check(&headers, tampered, NOW), Err(VerifyError::BadSignature));
    }

    #[test]
    fn a_signature_for_another_message_id_is_refused() {
        let headers = with(&headers(NOW, &signature(SECRET, ID, NOW, BODY)), "webhook-id", "msg_other");
        assert_eq!(check(&headers, BODY, NOW), Err(VerifyError::BadSignature));
    }

    #[test]
    fn a_timestamp_more_than_five_minutes_old_is_refused() {
        let then = NOW - 301;
        let headers = headers(then, &signature(SECRET, ID, then, BODY));
        assert_eq!(check(&headers, BODY, NOW), Err(VerifyError::TimestampOutOfTolerance { skew_seconds: 301 }));
        let edge = NOW - 300;
        assert!(check(&self::headers(edge, &signature(SECRET, ID, edge, BODY)), BODY, NOW).is_ok());
    }

    #[test]
    fn a_timestamp_more_than_five_minutes_ahead_is_refused() {
        let later = NOW + 301;
        let headers = headers(later, &signature(SECRET, ID, later, BODY));
        assert_eq!(check(&headers, BODY, NOW), Err(VerifyError::TimestampOutOfTolerance { skew_seconds: -301 }));
    }

    #[test]
    fn a_timestamp_that_is_not_an_integer_is_refused() {
        let headers = with(&headers(NOW, &signature(SECRET, ID, NOW, BODY)), "webhook-timestamp", "1614265330.5");
        assert_eq!(check(&headers, BODY, NOW), Err(VerifyError::MalformedTimestamp));
    }

    #[test]
    fn during_key_rotation_any_listed_signature_may_match() {
        let old = "whsec_b2xkLXNlY3JldC1iZWZvcmUtcm90YXRpb24=";
        let both = format!("{} {}", signature(old, ID, NOW, BODY), signature(SECRET, ID, NOW, BODY));
        assert!(check(&headers(NOW, &both), BODY, NOW).is_ok());
        let only_old = signature(old, ID, NOW, BODY);
        assert_eq!(check(&headers(NOW, &only_old), BODY, NOW), Err(VerifyError::BadSignature));
    }

    #[test]
    fn each_missing_header_is_named() {
        let complete = headers(NOW, &signature(SECRET, ID, NOW, BODY));
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            assert_eq!(
                check(&without(&complete, name), BODY, NOW),
                Err(VerifyError::MissingHeader(name.into())),
                "{name}"
            );
        }
    }

    #[test]
    fn header_names_match_whatever_their_case() {
        let upper: Headers = headers(NOW, &signature(SECRET, ID, NOW, BODY))
            .into_iter()
            .map(|(k, v)| (if k == "webhook-id" { "Webhook-ID" } else { k }, v))
            .collect();
        assert!(check(&upper, BODY, NOW).is_ok());
    }

    #[test]
    fn malformed_base64_is_refused_as_malformed() {
        let headers = headers(NOW, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE*");
        assert_eq!(check(&headers, BODY, NOW), Err(VerifyError::MalformedSignature));
    }

    #[test]
    fn only_v1_entries_are_checked() {
        let v1 = signature(SECRET, ID, NOW, BODY);
        let v2 = v1.replacen("v1,", "v2,", 1);
        assert_eq!(check(&headers(NOW, &v2), BODY, NOW), Err(VerifyError::NoSupportedSignature));
        assert!(check(&headers(NOW, &format!("{v2} {v1}")), BODY, NOW).is_ok());
    }

    #[test]
    fn the_event_type_comes_from_the_signed_body() {
        let body = br#"{"type":"order.shipped"}"#;
        let verified = check(&headers(NOW, &signature(SECRET, ID, NOW, body)), body, NOW).unwrap();
        assert_eq!(verified.event, EventType::Unhandled("order.shipped".into()));
    }
}

/// Shopify and WooCommerce: base64 HMAC of the raw body under the secret's bytes.
mod platforms {
    use super::*;

    const SHOPIFY_SECRET: &str = "shpss_5f0c8e2a1b7d4c9e";
    const WOO_SECRET: &str = "wc-secret-7Hq2";

    fn signed(secret: &str, body: &[u8]) -> String {
        BASE64.encode(hmac_sha256(secret.as_bytes(), &[body]))
    }

    fn shopify_headers(body: &[u8]) -> Headers {
        vec![
            ("X-Shopify-Hmac-Sha256", signed(SHOPIFY_SECRET, body)),
            ("X-Shopify-Topic", "orders/create".into()),
            ("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5".into()),
            ("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043".into()),
            ("X-Shopify-Shop-Domain", "demo-outfitters.myshopify.com".into()),
        ]
    }

    fn shopify(headers: &Headers, body: &[u8], secret: &str) -> Result<Verified, VerifyError> {
        let key = SigningKey::from_secret(&Scheme::Shopify {}, secret).unwrap();
        verify(&Scheme::Shopify {}, &key, headers.as_slice(), body, at(0))
    }

    fn woo_headers(body: &[u8]) -> Headers {
        vec![
            ("x-wc-webhook-signature", signed(WOO_SECRET, body)),
            ("x-wc-webhook-topic", "order.created".into()),
            ("x-wc-webhook-delivery-id", "4b7c2e1a9f".into()),
            ("x-wc-webhook-source", "https://shop.example.de/".into()),
        ]
    }

    fn woo(headers: &Headers, body: &[u8], secret: &str) -> Result<Verified, VerifyError> {
        let key = SigningKey::from_secret(&Scheme::WooCommerce {}, secret).unwrap();
        verify(&Scheme::WooCommerce {}, &key, headers.as_slice(), body, at(0))
    }

    #[test]
    fn a_shopify_order_signed_with_the_app_secret_is_accepted() {
        let body = read("events/webhooks/shopify-order-created.json");
        let verified = shopify(&shopify_headers(body.as_bytes()), body.as_bytes(), SHOPIFY_SECRET).unwrap();
        assert_eq!(
            verified,
            Verified {
                dedup_id: "98880550-7158-44d4-b7cd-2c97c8a091b5".into(),
                event: EventType::OrderCreated,
                timestamp: None,
            }
        );
    }

    #[test]
    fn shopify_deliveries_without_an_event_id_dedup_by_webhook_id() {
        let body = b"{}";
        let headers = without(&shopify_headers(body), "X-Shopify-Event-Id");
        assert_eq!(shopify(&headers, body, SHOPIFY_SECRET).unwrap().dedup_id, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
        let neither = without(&headers, "X-Shopify-Webhook-Id");
        assert_eq!(
            shopify(&neither, body, SHOPIFY_SECRET),
            Err(VerifyError::MissingDedupId("X-Shopify-Event-Id".into()))
        );
    }

    #[test]
    fn shopify_topics_map_to_event_types() {
        let body = b"{}";
        for (topic, event) in [
            ("orders/create", EventType::OrderCreated),
            ("refunds/create", EventType::OrderRefunded),
            ("orders/updated", EventType::Unhandled("orders/updated".into())),
        ] {
            let headers = with(&shopify_headers(body), "X-Shopify-Topic", topic);
            assert_eq!(shopify(&headers, body, SHOPIFY_SECRET).unwrap().event, event);
        }
    }

    #[test]
    fn shopify_refuses_a_tampered_body_a_wrong_secret_and_a_missing_signature() {
        let body = br#"{"id":1,"total_price":"10.00"}"#;
        let headers = shopify_headers(body);
        let tampered = br#"{"id":1,"total_price":"0.01"}"#;
        assert_eq!(shopify(&headers, tampered, SHOPIFY_SECRET), Err(VerifyError::BadSignature));
        assert_eq!(shopify(&headers, body, "another-secret"), Err(VerifyError::BadSignature));
        assert_eq!(
            shopify(&without(&headers, "X-Shopify-Hmac-Sha256"), body, SHOPIFY_SECRET),
            Err(VerifyError::MissingHeader("X-Shopify-Hmac-Sha256".into()))
        );
        let garbled = with(&headers, "X-Shopify-Hmac-Sha256", "not base64!");
        assert_eq!(shopify(&garbled, body, SHOPIFY_SECRET), Err(VerifyError::MalformedSignature));
        let hex =
            with(&headers, "X-Shopify-Hmac-Sha256", &hex::encode(hmac_sha256(SHOPIFY_SECRET.as_bytes(), &[body])));
        assert!(shopify(&hex, body, SHOPIFY_SECRET).is_err(), "hex is not Shopify's encoding");
    }

    #[test]
    fn a_woocommerce_order_is_accepted_with_its_delivery_id_and_topic() {
        let body = read("events/webhooks/woocommerce-order-created.json");
        let verified = woo(&woo_headers(body.as_bytes()), body.as_bytes(), WOO_SECRET).unwrap();
        assert_eq!(
            verified,
            Verified { dedup_id: "4b7c2e1a9f".into(), event: EventType::OrderCreated, timestamp: None }
        );
        // WooCommerce has no refund topic: a refund is an `order.updated`.
        let updated = with(&woo_headers(body.as_bytes()), "x-wc-webhook-topic", "order.updated");
        assert_eq!(woo(&updated, body.as_bytes(), WOO_SECRET).unwrap().event, EventType::OrderUpdated);
        let refunded = with(&woo_headers(body.as_bytes()), "x-wc-webhook-topic", "order.refunded");
        assert_eq!(
            woo(&refunded, body.as_bytes(), WOO_SECRET).unwrap().event,
            EventType::Unhandled("order.refunded".into())
        );
    }

    #[test]
    fn woocommerce_refuses_a_tampered_body_a_wrong_secret_and_missing_headers() {
        let body = br#"{"id":727,"total":"81.69"}"#;
        let headers = woo_headers(body);
        assert_eq!(woo(&headers, br#"{"id":727,"total":"1.69"}"#, WOO_SECRET), Err(VerifyError::BadSignature));
        assert_eq!(woo(&headers, body, "wc-secret-7Hq3"), Err(VerifyError::BadSignature));
        assert_eq!(
            woo(&without(&headers, "X-WC-Webhook-Signature"), body, WOO_SECRET),
            Err(VerifyError::MissingHeader("X-WC-Webhook-Signature".into()))
        );
        assert_eq!(
            woo(&without(&headers, "X-WC-Webhook-Delivery-ID"), body, WOO_SECRET),
            Err(VerifyError::MissingDedupId("X-WC-Webhook-Delivery-ID".into()))
        );
        assert_eq!(
            woo(&without(&headers, "X-WC-Webhook-Topic"), body, WOO_SECRET),
            Err(VerifyError::MissingHeader("X-WC-Webhook-Topic".into()))
        );
    }
}

mod generic_hmac {
    use super::*;

    const SECRET: &str = "zc-test-secret";
    const NOW: i64 = 1_773_580_000;

    fn scheme(json: &str) -> Scheme {
        let config = format!(
            r#"[{{"name": "g", "seller_name": "Demo", "seller_id": {{"value": "S"}},
                  "secret_ref": "local:g", "scheme": {json}}}]"#
        );
        WebhookSources::from_json(&config).unwrap().get("g").unwrap().scheme.clone()
    }

    /// The ZephyrCart shape: hex, `sha256=` prefix, signed timestamp, type in the body.
    fn zephyrcart() -> Scheme {
        let sources = deployed_sources();
        sources.get("zephyrcart").unwrap().scheme.clone()
    }

    fn base64_with_header_event() -> Scheme {
        scheme(
            r#"{"kind": "generic_hmac", "signature_header": "x-acme-signature", "encoding": "base64",
                "dedup_id_header": "x-acme-delivery", "event_type": {"header": "x-acme-event"}}"#,
        )
    }

    fn check(scheme: &Scheme, headers: &Headers, body: &[u8], secret: &str) -> Result<Verified, VerifyError> {
        let key = SigningKey::from_secret(scheme, secret).unwrap();
        verify(scheme, &key, headers.as_slice(), body, at(NOW))
    }

    fn zephyrcart_headers(timestamp: i64, body: &[u8]) -> Headers {
        let ts = timestamp.to_string();
        let tag = hmac_sha256(SECRET.as_bytes(), &[ts.as_bytes(), b".", body]);
        vec![
            ("X-ZephyrCart-Signature", format!("sha256={}", hex::encode(tag))),
            ("X-ZephyrCart-Timestamp", ts),
            ("X-ZephyrCart-Delivery-Id", "dlv_0001".into()),
        ]
    }

    fn acme_headers(body: &[u8]) -> Headers {
        vec![
            ("x-acme-signature", BASE64.encode(hmac_sha256(SECRET.as_bytes(), &[body]))),
            ("x-acme-delivery", "7".into()),
            ("x-acme-event", "order.refunded".into()),
        ]
    }

    #[test]
    fn hex_with_a_prefix_and_a_signed_timestamp_is_accepted() {
        let body = read("events/webhooks/zephyrcart-order-created.json");
        let headers = zephyrcart_headers(NOW - 5, body.as_bytes());
        assert_eq!(
            check(&zephyrcart(), &headers, body.as_bytes(), SECRET).unwrap(),
            Verified { dedup_id: "dlv_0001".into(), event: EventType::OrderCreated, timestamp: Some(at(NOW - 5)) }
        );
        let upper = headers[0].1.replacen("sha256=", "", 1).to_uppercase();
        let upper = with(&headers, "X-ZephyrCart-Signature", &format!("sha256={upper}"));
        assert!(check(&zephyrcart(), &upper, body.as_bytes(), SECRET).is_ok(), "hex case does not matter");
    }

    #[test]
    fn the_timestamp_is_part_of_the_signed_content() {
        let body = br#"{"type":"order.created"}"#;
        let headers = with(&zephyrcart_headers(NOW, body), "X-ZephyrCart-Timestamp", &(NOW - 1).to_string());
        assert_eq!(check(&zephyrcart(), &headers, body, SECRET), Err(VerifyError::BadSignature));
        let body_only = hex::encode(hmac_sha256(SECRET.as_bytes(), &[body]));
        let headers = with(&zephyrcart_headers(NOW, body), "X-ZephyrCart-Signature", &format!("sha256={body_only}"));
        assert_eq!(check(&zephyrcart(), &headers, body, SECRET), Err(VerifyError::BadSignature));
    }

    #[test]
    fn generic_timestamps_outside_the_tolerance_or_missing_are_refused() {
        let body = br#"{"type":"order.created"}"#;
        assert_eq!(
            check(&zephyrcart(), &zephyrcart_headers(NOW - 600, body), body, SECRET),
            Err(VerifyError::TimestampOutOfTolerance { skew_seconds: 600 })
        );
        let headers = without(&zephyrcart_headers(NOW, body), "x-zephyrcart-timestamp");
        assert_eq!(
            check(&zephyrcart(), &headers, body, SECRET),
            Err(VerifyError::MissingHeader("x-zephyrcart-timestamp".into()))
        );
    }

    #[test]
    fn a_generic_signature_without_its_prefix_is_malformed() {
        let body = br#"{"type":"order.created"}"#;
        let headers = zephyrcart_headers(NOW, body);
        let bare = headers[0].1.replacen("sha256=", "", 1);
        let headers = with(&headers, "X-ZephyrCart-Signature", &bare);
        assert_eq!(check(&zephyrcart(), &headers, body, SECRET), Err(VerifyError::MalformedSignature));
        let not_hex = with(&headers, "X-ZephyrCart-Signature", "sha256=zz");
        assert_eq!(check(&zephyrcart(), &not_hex, body, SECRET), Err(VerifyError::MalformedSignature));
    }

    #[test]
    fn generic_sources_refuse_a_tampered_body_a_wrong_secret_and_missing_headers() {
        let body = br#"{"type":"order.created","n":1}"#;
        let headers = zephyrcart_headers(NOW, body);
        let tampered = br#"{"type":"order.created","n":2}"#;
        assert_eq!(check(&zephyrcart(), &headers, tampered, SECRET), Err(VerifyError::BadSignature));
        assert_eq!(check(&zephyrcart(), &headers, body, "zc-other"), Err(VerifyError::BadSignature));
        assert_eq!(
            check(&zephyrcart(), &without(&headers, "x-zephyrcart-signature"), body, SECRET),
            Err(VerifyError::MissingHeader("x-zephyrcart-signature".into()))
        );
        assert_eq!(
            check(&zephyrcart(), &without(&headers, "x-zephyrcart-delivery-id"), body, SECRET),
            Err(VerifyError::MissingDedupId("x-zephyrcart-delivery-id".into()))
        );
    }

    #[test]
    fn a_signed_body_without_its_type_field_is_a_400() {
        let body = br#"{"kind":"order.created"}"#;
        let err = check(&zephyrcart(), &zephyrcart_headers(NOW, body), body, SECRET).unwrap_err();
        assert_eq!((err.status(), err), (400, VerifyError::MissingEventType("type".into())));
    }

    #[test]
    fn base64_without_prefix_or_timestamp_takes_the_event_from_a_header() {
        let body = br#"{"order_id":"A-1"}"#;
        let verified = check(&base64_with_header_event(), &acme_headers(body), body, SECRET).unwrap();
        assert_eq!(verified, Verified { dedup_id: "7".into(), event: EventType::OrderRefunded, timestamp: None });
        assert_eq!(
            check(&base64_with_header_event(), &acme_headers(body), br#"{"order_id":"A-2"}"#, SECRET),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            check(&base64_with_header_event(), &acme_headers(body), body, "wrong"),
            Err(VerifyError::BadSignature)
        );
        let headers = without(&acme_headers(body), "x-acme-event");
        assert_eq!(
            check(&base64_with_header_event(), &headers, body, SECRET),
            Err(VerifyError::MissingHeader("x-acme-event".into()))
        );
    }
}

mod configuration {
    use super::*;

    fn local_secrets() -> HashMap<String, String> {
        serde_json::from_str(&read("config/local-secrets.json")).unwrap()
    }

    #[test]
    fn the_deployed_sources_hold_secret_references_only() {
        let deployed = deployed_sources();
        let names: Vec<_> = deployed.iter().map(|s| s.name.as_str()).collect();
        // In the order of the connection ids.
        assert_eq!(names, ["shopify", "standard", "woocommerce", "zephyrcart"]);
        for source in deployed.iter() {
            let reference: SecretRef = source.secret_ref.parse().unwrap();
            assert_eq!(reference, SecretRef::Ssm(format!("/orderflow/dev/webhooks/{}", source.name)));
        }
    }

    #[test]
    fn the_local_sources_differ_from_the_deployed_ones_only_in_secret_refs() {
        let deployed = deployed_sources();
        let local = local_sources();
        let secrets = local_secrets();
        assert_eq!(local.iter().count(), deployed.iter().count());
        for source in local.iter() {
            let name = source.secret_ref.strip_prefix("local:").unwrap();
            assert_eq!(name, source.name);
            let key = SigningKey::from_secret(&source.scheme, &secrets[name]);
            assert!(key.is_ok(), "{name}: the local secret is unusable");
            let twin = deployed.get(&source.name).unwrap();
            assert_eq!(SourceConfig { secret_ref: twin.secret_ref.clone(), ..source.clone() }, *twin);
        }
        assert!(secrets.values().all(|s| s.contains("local-dev-only") || s.starts_with("whsec_")));
    }
}

/// Every sample payload through the whole documented sequence, signed with the local secrets.
mod samples {
    use super::*;

    const NOW: i64 = 1_773_580_000;

    /// The handler's sequence, answering with the HTTP status a handler would.
    fn handle(source: &SourceConfig, secret: &str, headers: &Headers, body: &[u8]) -> Result<WebhookEvent, u16> {
        check_size(body.len(), source.max_body_bytes).map_err(|e| e.status())?;
        let key = SigningKey::from_secret(&source.scheme, secret).unwrap();
        let verified = verify(&source.scheme, &key, headers.as_slice(), body, at(NOW)).map_err(|e| e.status())?;
        map_event(source, &verified.event, body).map_err(|e| e.status())
    }

    fn signed_headers(source: &SourceConfig, secret: &str, topic: &str, body: &[u8]) -> Headers {
        match source.name.as_str() {
            "standard" => {
                let key = BASE64.decode(secret.trim_start_matches("whsec_")).unwrap();
                let tag = hmac_sha256(&key, &[b"msg_1.", NOW.to_string().as_bytes(), b".", body]);
                vec![
                    ("webhook-id", "msg_1".into()),
                    ("webhook-timestamp", NOW.to_string()),
                    ("webhook-signature", format!("v1,{}", BASE64.encode(tag))),
                ]
            }
            "shopify" => vec![
                ("X-Shopify-Hmac-Sha256", BASE64.encode(hmac_sha256(secret.as_bytes(), &[body]))),
                ("X-Shopify-Topic", topic.into()),
                ("X-Shopify-Event-Id", "evt_1".into()),
            ],
            "woocommerce" => vec![
                ("X-WC-Webhook-Signature", BASE64.encode(hmac_sha256(secret.as_bytes(), &[body]))),
                ("X-WC-Webhook-Topic", topic.into()),
                ("X-WC-Webhook-Delivery-ID", "1".into()),
            ],
            _ => {
                let ts = NOW.to_string();
                let tag = hmac_sha256(secret.as_bytes(), &[ts.as_bytes(), b".", body]);
                vec![
                    ("x-zephyrcart-signature", format!("sha256={}", hex::encode(tag))),
                    ("x-zephyrcart-timestamp", ts),
                    ("x-zephyrcart-delivery-id", "dlv_1".into()),
                ]
            }
        }
    }

    fn schema() -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(&read("schema/canonical-order.schema.json")).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    }

    #[test]
    fn every_sample_webhook_maps_after_verification_and_orders_match_the_schema() {
        let sources = local_sources();
        let secrets: HashMap<String, String> = serde_json::from_str(&read("config/local-secrets.json")).unwrap();
        let schema = schema();
        let mut seen = 0;
        for entry in fs::read_dir(repo().join("events/webhooks")).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap().to_owned();
            let (name, topic) = file.trim_end_matches(".json").split_once('-').unwrap();
            let source = sources.get(name).unwrap_or_else(|| panic!("{file}: no source {name:?}"));
            let topic = match (name, topic) {
                ("shopify", "order-created") => "orders/create",
                ("shopify", "refund-created") => "refunds/create",
                (_, "order-created") => "order.created",
                (_, "order-refunded") => "order.refunded",
                _ => panic!("{file}: unknown event"),
            };
            let body = fs::read(&path).unwrap();
            let secret = &secrets[name];
            let headers = signed_headers(source, secret, topic, &body);
            match handle(source, secret, &headers, &body) {
                Ok(WebhookEvent::Order(o)) => {
                    let json: Value = serde_json::from_slice(&o.order.to_json()).unwrap();
                    let errors: Vec<_> = schema.iter_errors(&json).map(|e| e.to_string()).collect();
                    assert!(errors.is_empty(), "{file}: {errors:?}");
                }
                Ok(WebhookEvent::Refunds(refunds)) => {
                    assert_eq!(refunds.len(), 1, "{file}");
                    assert!(refunds[0].amount.is_positive(), "{file}");
                }
                other => panic!("{file}: {other:?}"),
            }
            seen += 1;
        }
        assert_eq!(seen, 6);
    }

    #[test]
    fn size_is_checked_before_the_signature_and_the_signature_before_the_payload() {
        let sources = local_sources();
        let secrets: HashMap<String, String> = serde_json::from_str(&read("config/local-secrets.json")).unwrap();
        let shopify = sources.get("shopify").unwrap();
        let secret = &secrets["shopify"];
        let oversized = vec![b' '; shopify.max_body_bytes + 1];
        assert_eq!(handle(shopify, secret, &vec![], &oversized).unwrap_err(), 413);
        let not_an_order = br#"{"id": 1}"#;
        assert_eq!(handle(shopify, secret, &vec![], not_an_order).unwrap_err(), 401);
        let headers = signed_headers(shopify, secret, "orders/create", not_an_order);
        assert_eq!(handle(shopify, secret, &headers, not_an_order).unwrap_err(), 400);
    }
}
