use super::*;

const SIGNATURE_SOURCE: &str = include_str!("../signature.rs");

#[test]
fn mac_comparison_happens_only_in_mac_matches_any() {
    // A code-level check: one MAC construction, one comparison, and that comparison is the
    // constant-time `verify_slice`. Extracting MAC bytes (`finalize`) would allow a plain `==`.
    let count = |needle: &str| SIGNATURE_SOURCE.matches(needle).count();
    assert_eq!(count("new_from_slice("), 1);
    assert_eq!(count(".verify_slice("), 1);
    assert_eq!(count("finalize"), 0);
    let body = SIGNATURE_SOURCE.split("fn mac_matches_any").nth(1).unwrap();
    let body = &body[..body.find("\n}\n").unwrap()];
    assert!(body.contains(".verify_slice(tag)"), "{body}");
    assert!(!body.contains("=="), "{body}");
}

#[test]
fn a_truncated_signature_does_not_match() {
    let key = SigningKey(b"k".to_vec());
    let mut full = <Hmac<Sha256> as KeyInit>::new_from_slice(b"k").unwrap();
    full.update(b"body");
    let tag = full.finalize().into_bytes().to_vec();
    assert!(mac_matches_any(&key, &[b"bo", b"dy"], std::slice::from_ref(&tag)));
    assert!(!mac_matches_any(&key, &[b"body"], &[tag[..16].to_vec()]));
    assert!(!mac_matches_any(&key, &[b"body"], &[]));
}

#[test]
fn size_is_checked_against_the_limit_inclusively() {
    assert_eq!(check_size(10, 10), Ok(()));
    let err = check_size(11, 10).unwrap_err();
    assert_eq!((err.status(), err.code()), (413, "body_too_large"));
}

#[test]
fn every_verification_failure_but_size_and_event_type_is_a_401() {
    let errors = [
        VerifyError::MissingHeader("webhook-id".into()),
        VerifyError::MalformedSignature,
        VerifyError::NoSupportedSignature,
        VerifyError::BadSignature,
        VerifyError::MalformedTimestamp,
        VerifyError::TimestampOutOfTolerance { skew_seconds: 301 },
        VerifyError::MissingDedupId("x-delivery".into()),
    ];
    for e in &errors {
        assert_eq!(e.status(), 401, "{e}");
    }
    let codes: std::collections::HashSet<_> = errors.iter().map(VerifyError::code).collect();
    assert_eq!(codes.len(), errors.len(), "codes are distinct");
    assert_eq!(VerifyError::MissingEventType("type".into()).status(), 400);
}

#[test]
fn signing_keys_never_show_in_debug_output() {
    let key = SigningKey::from_secret(&Scheme::Shopify {}, "hush-hush").unwrap();
    assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
}

#[test]
fn empty_or_undecodable_secrets_are_refused() {
    let standard = Scheme::StandardWebhooks { tolerance_seconds: 300 };
    assert!(SigningKey::from_secret(&Scheme::WooCommerce {}, "").is_err());
    assert!(SigningKey::from_secret(&standard, "whsec_").is_err());
    let err = SigningKey::from_secret(&standard, "whsec_not base64!").unwrap_err();
    assert!(!err.to_string().contains("not base64"), "{err}");
}

#[test]
fn headers_are_found_whatever_their_case() {
    let pairs = [("X-Shopify-Topic", "orders/create")];
    assert_eq!(pairs[..].header("x-shopify-topic"), Some("orders/create"));
    let map: HashMap<String, String> = [("webhook-id".to_owned(), "msg_1".to_owned())].into();
    assert_eq!(map.header("Webhook-ID"), Some("msg_1"));
    assert_eq!(map.header("webhook-timestamp"), None);
}
