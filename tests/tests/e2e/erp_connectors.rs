//! The ERP connectors against local servers that behave like Business Central and SAP
//! Business One: every outcome the ERP worker acts on, and one ERP record per order.

use orderflow_e2e::fake_erp::{self, BcAuth, FakeBc, FakeSap, Scripted};
use orderflow_e2e::order_numbered as order;
use orderflow_e2e::{local_runtime, repo_path};
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::erp::{
    ConnectorConfig, ErpConnector, ErpError, HttpConnector, ProfileConfig, PushOutcome, refund_reference,
};
use orderflow_shared::error::Retry;
use orderflow_shared::mapping::FileSource;
use orderflow_shared::order::{CanonicalOrder, Decimal, OrderKey};
use orderflow_shared::secrets::Secret;
use orderflow_shared::webhook::Refund;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

const START_MS: u64 = 1_772_409_600_000;

fn with_unknown_sku(mut order: CanonicalOrder) -> CanonicalOrder {
    order.lines[1].sku = Some("NOPE-404".into());
    order
}

fn secrets() -> HashMap<String, Secret> {
    [
        ("local:bc-client-secret", fake_erp::BC_CLIENT_SECRET),
        ("local:sap-b1-password", fake_erp::SAP_PASSWORD),
        ("local:basic-password", fake_erp::BASIC_PASSWORD),
        ("local:api-key", fake_erp::API_KEY),
        ("local:digest-password", fake_erp::DIGEST_PASSWORD),
    ]
    .into_iter()
    .map(|(r, v)| (r.to_owned(), Secret::new(v)))
    .collect()
}

/// The ERP connector of local connection `name` (the shipped app definitions and
/// `config/connections.local.json`), pointed at a fake's port.
fn shipped_config(name: &str, local_origin: &str, fake_origin: &str) -> ConnectorConfig {
    local_runtime(&[(local_origin, fake_origin)]).connectors.connectors.remove(name).unwrap()
}

fn connector(name: &str, config: &ConnectorConfig, clock: &ManualClock) -> HttpConnector<FileSource> {
    let mapping = FileSource::new(repo_path(&format!("config/mappings/{name}.json")));
    HttpConnector::new(name, config, &secrets(), mapping, Arc::new(clock.clone())).unwrap()
}

struct Bc {
    fake: FakeBc,
    connector: HttpConnector<FileSource>,
    clock: ManualClock,
}

async fn bc() -> Bc {
    bc_with(|_| {}).await
}

async fn bc_with(adjust: impl FnOnce(&mut ConnectorConfig)) -> Bc {
    let clock = ManualClock::new(START_MS);
    let fake = FakeBc::start(clock.clone()).await;
    let origin = fake.token_url().trim_end_matches("/token").to_owned();
    let mut config = shipped_config("business-central", "http://127.0.0.1:18080", &origin);
    adjust(&mut config);
    let connector = connector("business-central", &config, &clock);
    Bc { fake, connector, clock }
}

struct Sap {
    fake: FakeSap,
    connector: HttpConnector<FileSource>,
    clock: ManualClock,
}

async fn sap() -> Sap {
    let clock = ManualClock::new(START_MS);
    let fake = FakeSap::start(clock.clone()).await;
    let origin = fake.base_url().trim_end_matches("/b1s/v1").to_owned();
    let config = shipped_config("sap-b1", "http://127.0.0.1:18081", &origin);
    let connector = connector("sap-b1", &config, &clock);
    Sap { fake, connector, clock }
}

fn created_id(outcome: Result<PushOutcome, ErpError>) -> String {
    match outcome {
        Ok(PushOutcome::Created { erp_id }) => erp_id,
        other => panic!("expected a created record, got {other:?}"),
    }
}

fn unauthorized(log: &[fake_erp::Logged]) -> usize {
    log.iter().filter(|l| l.status == 401).count()
}

#[tokio::test]
async fn business_central_gets_one_sales_order_keyed_by_the_order() {
    let bc = bc().await;
    let order = order("PO-1");
    let id = created_id(bc.connector.push(&order).await);

    let stored = bc.fake.orders();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], id.as_str());
    assert_eq!(stored[0]["externalDocumentNumber"], order.order_key.as_str());
    assert_eq!(stored[0]["customerNumber"], "C00010");
    assert_eq!(stored[0]["salesOrderLines"][2]["lineObjectNumber"], "PN-TE-07");
    assert_eq!(stored[0]["salesOrderLines"][0]["quantity"].as_f64(), Some(4.0));
}

#[tokio::test]
async fn sap_gets_one_order_keyed_by_the_order() {
    let sap = sap().await;
    let order = order("PO-1");
    assert_eq!(created_id(sap.connector.push(&order).await), "1");

    let stored = sap.fake.orders();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["NumAtCard"], order.order_key.as_str());
    assert_eq!(stored[0]["DocumentLines"].as_array().unwrap().len(), 3);
    assert_eq!(sap.fake.logins(), 1);
}

#[tokio::test]
async fn a_business_central_token_is_reused_until_it_expires() {
    let bc = bc().await;
    created_id(bc.connector.push(&order("PO-1")).await);
    created_id(bc.connector.push(&order("PO-2")).await);
    assert_eq!(bc.fake.tokens_issued(), 1);

    bc.clock.advance(fake_erp::BC_TOKEN_LIFETIME);
    created_id(bc.connector.push(&order("PO-3")).await);
    assert_eq!(bc.fake.tokens_issued(), 2, "an expired token is replaced before use");
    assert_eq!(unauthorized(&bc.fake.log()), 0);
}

#[tokio::test]
async fn a_token_the_erp_refuses_is_fetched_again_and_the_push_succeeds() {
    let bc = bc().await;
    created_id(bc.connector.push(&order("PO-1")).await);
    bc.fake.revoke_tokens();

    created_id(bc.connector.push(&order("PO-2")).await);
    assert_eq!(bc.fake.tokens_issued(), 2);
    assert_eq!(unauthorized(&bc.fake.log()), 1);
    assert_eq!(bc.fake.orders().len(), 2);
}

#[tokio::test]
async fn an_expired_sap_session_is_renewed_by_logging_in_again() {
    let sap = sap().await;
    created_id(sap.connector.push(&order("PO-1")).await);
    sap.clock.advance(fake_erp::SAP_SESSION_TIMEOUT);

    created_id(sap.connector.push(&order("PO-2")).await);
    assert_eq!(sap.fake.logins(), 2);
    assert_eq!(unauthorized(&sap.fake.log()), 1);
    assert_eq!(sap.fake.orders().len(), 2);
}

fn assert_transient(result: Result<PushOutcome, ErpError>, status: Option<u16>, code: &str) {
    let err = result.expect_err("the push should fail");
    assert_eq!((err.retry, err.status, err.code.as_str()), (Retry::Transient, status, code), "{err}");
}

#[tokio::test]
async fn a_5xx_is_transient_and_the_retry_creates_the_record() {
    let bc = bc().await;
    let order = order("PO-1");
    bc.fake.script(Scripted::EmptyLookup);
    bc.fake.script(Scripted::Reply(503, json!({"error": {"code": "ServiceUnavailable", "message": "busy"}})));
    assert_transient(bc.connector.push(&order).await, Some(503), "ServiceUnavailable");
    assert!(bc.fake.orders().is_empty());
    created_id(bc.connector.push(&order).await);

    let sap = sap().await;
    sap.fake.script(Scripted::Reply(502, json!("Bad Gateway")));
    assert_transient(sap.connector.push(&order).await, Some(502), "http_502");
    created_id(sap.connector.push(&order).await);
    assert_eq!(sap.fake.orders().len(), 1);
}

#[tokio::test]
async fn an_erp_that_does_not_answer_in_time_is_transient() {
    let bc = bc_with(|c| c.timeout_ms = 300).await;
    bc.fake.script(Scripted::Hang);
    assert_transient(bc.connector.push(&order("PO-1")).await, None, "timeout");
}

#[tokio::test]
async fn an_unknown_item_is_permanent_with_the_erp_answer_attached() {
    let bc = bc().await;
    let err = bc.connector.push(&with_unknown_sku(order("PO-1"))).await.unwrap_err();
    assert_eq!((err.retry, err.status, err.code.as_str()), (Retry::Permanent, Some(400), "Internal_RecordNotFound"));
    assert!(err.erp_answer.as_deref().unwrap().contains("No.='NOPE-404'"), "{err:?}");
    assert!(bc.fake.orders().is_empty());

    let sap = sap().await;
    let err = sap.connector.push(&with_unknown_sku(order("PO-1"))).await.unwrap_err();
    assert_eq!((err.retry, err.status, err.code.as_str()), (Retry::Permanent, Some(400), "-10"));
    assert_eq!(err.message, "POST Orders answered 400: [RDR1.ItemCode][line: 2] , 'Invalid item code: NOPE-404'");
    assert!(err.erp_answer.as_deref().unwrap().contains("Invalid item code"));
    assert!(sap.fake.orders().is_empty());
}

#[tokio::test]
async fn an_order_already_in_business_central_is_success_without_a_second_record() {
    let bc = bc().await;
    let order = order("PO-1");
    let id = bc.fake.seed(order.order_key.as_str());
    assert_eq!(bc.connector.push(&order).await.unwrap(), PushOutcome::AlreadyExists { erp_id: Some(id) });
    assert_eq!(bc.fake.orders().len(), 1);

    // A 409 to the create, when the lookup missed, means the same.
    let other = self::order("PO-2");
    bc.fake.script(Scripted::EmptyLookup);
    bc.fake.script(Scripted::Reply(409, json!({"error": {"code": "Conflict", "message": "exists"}})));
    assert_eq!(bc.connector.push(&other).await.unwrap(), PushOutcome::AlreadyExists { erp_id: None });
}

#[tokio::test]
async fn sap_refusing_a_duplicate_reference_counts_as_already_there() {
    let sap = sap().await;
    let order = order("PO-1");
    created_id(sap.connector.push(&order).await);
    sap.fake.script(Scripted::EmptyLookup);
    assert_eq!(sap.connector.push(&order).await.unwrap(), PushOutcome::AlreadyExists { erp_id: None });
    assert_eq!(sap.fake.orders().len(), 1);
}

#[tokio::test]
async fn a_duplicate_delivery_leaves_exactly_one_erp_record() {
    let order = order("PO-1");
    let bc = bc().await;
    let id = created_id(bc.connector.push(&order).await);
    assert_eq!(bc.connector.push(&order).await.unwrap(), PushOutcome::AlreadyExists { erp_id: Some(id) });
    assert_eq!(bc.fake.orders().len(), 1);

    let sap = sap().await;
    let id = created_id(sap.connector.push(&order).await);
    assert_eq!(sap.connector.push(&order).await.unwrap(), PushOutcome::AlreadyExists { erp_id: Some(id) });
    assert_eq!(sap.fake.orders().len(), 1);
}

#[tokio::test]
async fn an_order_the_mapping_refuses_is_permanent_and_never_reaches_the_erp() {
    let bc = bc().await;
    let mut order = order("PO-1");
    order.lines[0].unit = "XYZ".into();
    let err = bc.connector.push(&order).await.unwrap_err();
    assert_eq!((err.retry, err.code.as_str()), (Retry::Permanent, "mapping"));
    assert_eq!(
        err.message,
        "target field `salesOrderLines[0].unitOfMeasureCode`: `XYZ` is not in the lookup table, and there is no default"
    );
    assert!(bc.fake.log().is_empty());
}

/// A Business Central connector whose requests go through `auth` instead of OAuth2.
async fn bc_behind(auth: BcAuth, auth_config: serde_json::Value) -> (FakeBc, HttpConnector<FileSource>) {
    let clock = ManualClock::new(START_MS);
    let fake = FakeBc::start(clock.clone()).await;
    let config: ConnectorConfig = serde_json::from_value(json!({
        "profile": "business_central",
        "base_url": fake.base_url(auth),
        "auth": auth_config,
        "mapping_ref": "file:config/mappings/business-central.json",
        "timeout_ms": 2000
    }))
    .unwrap();
    let connector = connector("business-central", &config, &clock);
    (fake, connector)
}

#[tokio::test]
async fn basic_auth_works_and_a_wrong_password_is_an_auth_refusal() {
    let auth = json!({"type": "basic", "username": fake_erp::BASIC_USER, "password_ref": "local:basic-password"});
    let (fake, connector) = bc_behind(BcAuth::Basic, auth).await;
    created_id(connector.push(&order("PO-1")).await);
    assert_eq!(fake.orders().len(), 1);

    let wrong = json!({"type": "basic", "username": fake_erp::BASIC_USER, "password_ref": "local:api-key"});
    let (_fake, connector) = bc_behind(BcAuth::Basic, wrong).await;
    let err = connector.push(&order("PO-1")).await.unwrap_err();
    assert_eq!(
        (err.retry, err.status, err.code.as_str()),
        (Retry::Auth, Some(401), "Authentication_InvalidCredentials"),
        "refused credentials are for an operator (or a fresh read of the secret), not a business refusal"
    );
}

#[tokio::test]
async fn an_api_key_works_in_a_header_or_in_the_query() {
    for (place, name) in [("header", "Ocp-Apim-Subscription-Key"), ("query", "subscription-key")] {
        let auth = json!({"type": "api_key", "in": place, "name": name, "key_ref": "local:api-key"});
        let (fake, connector) = bc_behind(BcAuth::ApiKey, auth).await;
        created_id(connector.push(&order("PO-1")).await);
        assert_eq!(fake.orders().len(), 1, "key in the {place}");
    }
}

#[tokio::test]
async fn digest_auth_answers_the_challenge_and_reuses_it() {
    let auth = json!({"type": "digest", "username": fake_erp::DIGEST_USER, "password_ref": "local:digest-password"});
    let (fake, connector) = bc_behind(BcAuth::Digest, auth).await;
    created_id(connector.push(&order("PO-1")).await);
    created_id(connector.push(&order("PO-2")).await);
    assert_eq!(fake.orders().len(), 2);
    // One challenge for the first request; later ones answer the same nonce up front.
    assert_eq!(unauthorized(&fake.log()), 1);
}

#[tokio::test]
async fn wrong_client_credentials_are_an_auth_refusal_and_name_the_token_request() {
    let bc = bc().await;
    let mut secrets = secrets();
    secrets.insert("local:bc-client-secret".into(), Secret::new("wrong"));
    let origin = bc.fake.token_url().trim_end_matches("/token").to_owned();
    let config = shipped_config("business-central", "http://127.0.0.1:18080", &origin);
    let mapping = FileSource::new(repo_path("config/mappings/business-central.json"));
    let connector = HttpConnector::new("bc", &config, &secrets, mapping, Arc::new(bc.clock.clone())).unwrap();
    let err = connector.push(&order("PO-1")).await.unwrap_err();
    assert_eq!((err.retry, err.status, err.code.as_str()), (Retry::Auth, Some(401), "invalid_client"));
    assert!(err.message.starts_with("token request answered 401: AADSTS7000215"), "{err}");
    assert!(!format!("{err:?} {:?}", bc.connector).contains(fake_erp::BC_CLIENT_SECRET));
}

// ---- refunds, as credit memos ----

fn refund(order_key: Option<OrderKey>, amount: &str) -> Refund {
    Refund {
        order_key,
        external_order_id: "5792384213048".into(),
        refund_id: "929361462584".into(),
        amount: Decimal::parse(amount).unwrap(),
        currency: "CLP".into(),
        reason: Some("damaged in transit".into()),
    }
}

#[tokio::test]
async fn a_refund_becomes_one_business_central_credit_memo_however_often_it_is_pushed() {
    let bc = bc().await;
    let key = order("PO-7").order_key;
    let reference = refund_reference("webhook:shopify/evt-1");
    let id = created_id(bc.connector.refund(&refund(Some(key.clone()), "19990"), &reference).await);
    let again = bc.connector.refund(&refund(Some(key.clone()), "19990"), &reference).await.unwrap();
    assert_eq!(again, PushOutcome::AlreadyExists { erp_id: Some(id) });

    let memos = bc.fake.credit_memos();
    assert_eq!(memos.len(), 1, "{memos:?}");
    assert_eq!(memos[0]["externalDocumentNumber"], reference.as_str());
    assert_eq!(memos[0]["yourReference"], key.as_str());
    // The decimal's digits as a JSON number, never through a float.
    assert_eq!(memos[0]["totalAmountIncludingTax"].to_string(), "19990");
    assert_eq!(memos[0]["currencyCode"], "CLP");
    assert!(bc.fake.orders().is_empty(), "a refund creates no sales order");
}

#[tokio::test]
async fn two_refunds_of_one_order_are_two_sap_credit_notes_with_the_reason() {
    let sap = sap().await;
    for (origin, amount) in [("webhook:shopify/evt-1", "10.50"), ("webhook:shopify/evt-2", "4.25")] {
        created_id(sap.connector.refund(&refund(None, amount), &refund_reference(origin)).await);
    }
    let notes = sap.fake.credit_memos();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_ne!(notes[0]["NumAtCard"], notes[1]["NumAtCard"]);
    // Without an order key, the platform's order id links the note to its order.
    assert_eq!(notes[0]["Reference2"], "5792384213048");
    assert_eq!(notes[1]["DocTotal"].to_string(), "4.25");
    assert_eq!(notes[0]["Comments"], "damaged in transit");
}

#[tokio::test]
async fn a_profile_without_refunds_refuses_them_permanently_without_calling_the_erp() {
    let bc = bc_with(|config| {
        let mut spec = config.profile.spec();
        spec.refunds = None;
        config.profile = ProfileConfig::Custom(Box::new(spec));
    })
    .await;
    let err = bc.connector.refund(&refund(None, "1"), &refund_reference("webhook:x/1")).await.unwrap_err();
    assert_eq!((err.retry, err.code.as_str()), (Retry::Permanent, "refund_unsupported"));
    assert!(bc.fake.log().is_empty(), "{:?}", bc.fake.log());
}
