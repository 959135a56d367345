//! The HTTP DTE adapter against a local fake provider: what it sends, and how it sorts answers.

use std::time::Duration;

use orderflow_e2e::fake_dte::{FakeDte, Scripted};
use orderflow_e2e::sample_order;
use orderflow_shared::dte::{DteAuth, HttpDteProvider};
use orderflow_shared::error::Retry;
use orderflow_shared::lifecycle::OrderRecord;
use orderflow_shared::ports::{DteError, DteProvider};
use orderflow_shared::secrets::Secret;
use serde_json::json;

fn record() -> OrderRecord {
    OrderRecord::register(sample_order(), "test", "test", "2026-11-25T10:00:00.000Z")
}

fn provider(fake: &FakeDte, auth: DteAuth) -> HttpDteProvider {
    HttpDteProvider::new(fake.url(), auth, Duration::from_secs(5)).unwrap()
}

async fn issue_failure(fake: &FakeDte, answer: Scripted) -> DteError {
    fake.enqueue(answer);
    provider(fake, DteAuth::None).issue(&record()).await.unwrap_err()
}

#[tokio::test]
async fn issue_returns_the_servers_folio_and_sends_the_idempotency_key() {
    let fake = FakeDte::start().await;
    let dte = provider(&fake, DteAuth::None);
    let record = record();
    let folio = dte.issue(&record).await.unwrap();
    assert_eq!(dte.issue(&record).await.unwrap(), folio, "a repeat is answered with the same folio");

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let expected_key = format!("{}-issue", record.key);
    for r in &requests {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/dte"));
        assert_eq!(r.header("idempotency-key"), Some(expected_key.as_str()));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("authorization"), None);
    }
    assert_eq!(requests[0].body["order_key"], record.key.as_str());
}

#[tokio::test]
async fn a_bearer_token_is_sent_in_the_authorization_header() {
    let fake = FakeDte::start().await;
    provider(&fake, DteAuth::Bearer(Secret::new("tok-123"))).issue(&record()).await.unwrap();
    assert_eq!(fake.requests()[0].header("authorization"), Some("Bearer tok-123"));
}

#[tokio::test]
async fn an_api_key_is_sent_in_the_header_the_provider_names() {
    let fake = FakeDte::start().await;
    let auth = DteAuth::ApiKey { header: "X-Api-Key".into(), value: Secret::new("key-456") };
    provider(&fake, auth).issue(&record()).await.unwrap();
    let request = &fake.requests()[0];
    assert_eq!(request.header("x-api-key"), Some("key-456"));
    assert_eq!(request.header("authorization"), None);
}

#[tokio::test]
async fn amounts_travel_as_the_strings_of_the_source_document() {
    let fake = FakeDte::start().await;
    provider(&fake, DteAuth::None).issue(&record()).await.unwrap();
    let body = &fake.requests()[0].body;
    assert_eq!(body["currency"], "CLP");
    assert_eq!(body["totals"], json!({"payable": "103054", "tax_total": "16454"}));
    assert_eq!(
        body["lines"][0],
        json!({
            "line_id": "1",
            "sku": "DLA-CAFE-1000",
            "name": "Café de grano tostado 1 kg",
            "quantity": "4",
            "unit": "H87",
            "price": "12990",
            "line_total": "51960",
        })
    );
    assert_eq!(body["lines"].as_array().unwrap().len(), 3);
    assert_eq!(body["buyer"], json!({"name": "Panadería Ñuñoa SpA", "id": "76.123.456-7"}));
    assert_eq!(body["seller"], json!({"name": "Distribuidora Los Andes Ltda.", "id": "77.654.321-K"}));
}

#[tokio::test]
async fn server_faults_and_throttling_are_transient() {
    let fake = FakeDte::start().await;
    for status in [500, 503, 429] {
        let err = issue_failure(&fake, Scripted::Reply(status, json!({}))).await;
        assert_eq!((err.code, err.retry), (format!("http_{status}"), Retry::Transient));
    }
}

#[tokio::test]
async fn a_400_with_a_provider_error_code_is_permanent_with_that_code() {
    let fake = FakeDte::start().await;
    let err = issue_failure(&fake, Scripted::error(400, "rut_invalid", "RUT del receptor inválido")).await;
    assert_eq!(err.operation, "issue");
    assert_eq!((err.code.as_str(), err.message.as_str()), ("rut_invalid", "RUT del receptor inválido"));
    assert_eq!(err.retry, Retry::Permanent);
}

#[tokio::test]
async fn a_4xx_without_a_provider_error_is_permanent_under_its_status() {
    let fake = FakeDte::start().await;
    let err = issue_failure(&fake, Scripted::Reply(422, json!({"detail": "unprocessable"}))).await;
    assert_eq!((err.code.as_str(), err.retry), ("http_422", Retry::Permanent));
}

#[tokio::test]
async fn a_success_without_a_folio_is_a_transient_bad_response() {
    let fake = FakeDte::start().await;
    let err = issue_failure(&fake, Scripted::Reply(200, json!({"status": "ok"}))).await;
    assert_eq!((err.code.as_str(), err.retry), ("bad_response", Retry::Transient));
}

#[tokio::test]
async fn a_timeout_is_transient() {
    let fake = FakeDte::start().await;
    fake.enqueue(Scripted::Delay(Duration::from_secs(2)));
    let dte = HttpDteProvider::new(fake.url(), DteAuth::None, Duration::from_millis(200)).unwrap();
    let err = dte.issue(&record()).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.retry), ("timeout", Retry::Transient), "{err}");
}

#[tokio::test]
async fn connection_refused_is_transient() {
    // A port that was just free: nothing listens there once the listener is dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dte = HttpDteProvider::new(&format!("http://127.0.0.1:{port}"), DteAuth::None, Duration::from_secs(5)).unwrap();
    let err = dte.issue(&record()).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.retry), ("connect", Retry::Transient), "{err}");
}

#[tokio::test]
async fn broadcast_uses_the_folio_and_returns_the_track_id() {
    let fake = FakeDte::start().await;
    let dte = provider(&fake, DteAuth::None);
    let mut record = record();
    let folio = dte.issue(&record).await.unwrap();
    record.dte.folio = Some(folio.clone());
    let track_id = dte.broadcast(&record).await.unwrap();
    assert_eq!(track_id, format!("TRK-{folio}"), "the fake's track id for this folio");

    let sent = &fake.requests()[1];
    assert_eq!((sent.method.as_str(), sent.path.clone()), ("POST", format!("/v1/dte/{folio}/broadcast")));
    assert_eq!(sent.header("idempotency-key"), Some(format!("{}-broadcast", record.key).as_str()));
}

#[tokio::test]
async fn broadcast_of_a_folio_the_provider_does_not_know_is_permanent() {
    let fake = FakeDte::start().await;
    let mut record = record();
    record.dte.folio = Some("F/404".into());
    let err = provider(&fake, DteAuth::None).broadcast(&record).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.retry), ("folio_unknown", Retry::Permanent));
    assert_eq!(fake.requests()[0].path, "/v1/dte/F%2F404/broadcast", "the folio stays one path segment");
}

#[tokio::test]
async fn broadcast_without_a_folio_is_a_permanent_no_folio() {
    let fake = FakeDte::start().await;
    let err = provider(&fake, DteAuth::None).broadcast(&record()).await.unwrap_err();
    assert_eq!((err.operation, err.code.as_str(), err.retry), ("broadcast", "no_folio", Retry::Permanent));
    assert!(fake.requests().is_empty(), "nothing is sent without a folio");
}
