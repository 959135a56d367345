//! Each authentication mode of the fakes accepts the right credential and refuses a wrong or
//! missing one with the status and challenge the real system answers; the connectors' tests
//! rely on these being right.

use std::time::Duration;

use digest_auth::{AuthContext, HttpMethod};
use orderflow_doubles::{
    API_KEY, BASIC_PASSWORD, BASIC_USER, BC_CLIENT_ID, BC_CLIENT_SECRET, BC_TOKEN_LIFETIME, BcAuth, DIGEST_PASSWORD,
    DIGEST_USER, FakeBc, FakeSap, SAP_COMPANY, SAP_PASSWORD, SAP_SESSION_TIMEOUT, SAP_USER,
};
use orderflow_shared::adapters::embedded::ManualClock;
use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE, WWW_AUTHENTICATE};
use reqwest::{Client, Response, StatusCode};

/// A client on the product's TLS configuration (reqwest has no crypto provider of its own).
fn client() -> Client {
    orderflow_shared::http_client::builder().build().unwrap()
}
use serde_json::{Value, json};

const LOOKUP: &str = "salesOrders?$filter=externalDocumentNumber eq 'none'";

async fn bc() -> (FakeBc, ManualClock) {
    let clock = ManualClock::new(1_772_409_600_000);
    (FakeBc::start(clock.clone()).await, clock)
}

fn challenge(response: &Response) -> Option<String> {
    response.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned())
}

async fn token(fake: &FakeBc, secret: &str) -> Response {
    // The form as Entra ID takes it; the values here need no escaping but the scope's.
    let form = format!(
        "grant_type=client_credentials&client_id={BC_CLIENT_ID}&client_secret={secret}\
         &scope=https%3A%2F%2Fapi.businesscentral.dynamics.com%2F.default"
    );
    client()
        .post(fake.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn oauth2_issues_tokens_for_the_right_secret_and_they_expire() {
    let (fake, clock) = bc().await;
    let refused = token(&fake, "wrong").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_client");

    let answer: Value = token(&fake, BC_CLIENT_SECRET).await.json().await.unwrap();
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], BC_TOKEN_LIFETIME.as_secs());
    let bearer = format!("Bearer {}", answer["access_token"].as_str().unwrap());
    let url = format!("{}/{LOOKUP}", fake.base_url(BcAuth::Bearer));
    let get = || client().get(&url).header(AUTHORIZATION, &bearer).send();
    assert_eq!(get().await.unwrap().status(), StatusCode::OK);

    clock.advance(BC_TOKEN_LIFETIME + Duration::from_secs(1));
    let expired = get().await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&expired).as_deref(), Some(r#"Bearer error="invalid_token""#));
    let missing = client().get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(fake.tokens_issued(), 1);
}

#[tokio::test]
async fn basic_takes_the_right_pair_and_challenges_otherwise() {
    let (fake, _clock) = bc().await;
    let url = format!("{}/{LOOKUP}", fake.base_url(BcAuth::Basic));
    let ok = client().get(&url).basic_auth(BASIC_USER, Some(BASIC_PASSWORD)).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    for (user, password) in [(BASIC_USER, "wrong"), ("someone", BASIC_PASSWORD)] {
        let refused = client().get(&url).basic_auth(user, Some(password)).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{user}:{password}");
        assert!(challenge(&refused).is_some_and(|c| c.starts_with("Basic realm=")), "{:?}", challenge(&refused));
    }
    let missing = client().get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_api_key_passes_in_the_header_or_the_query_and_nothing_else_does() {
    let (fake, _clock) = bc().await;
    let url = format!("{}/{LOOKUP}", fake.base_url(BcAuth::ApiKey));
    let header = client().get(&url).header("Ocp-Apim-Subscription-Key", API_KEY).send().await.unwrap();
    assert_eq!(header.status(), StatusCode::OK);
    let query = client().get(format!("{url}&subscription-key={API_KEY}")).send().await.unwrap();
    assert_eq!(query.status(), StatusCode::OK);
    let wrong = client().get(&url).header("Ocp-Apim-Subscription-Key", "nope").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&wrong), None, "API Management sends no challenge");
}

#[tokio::test]
async fn digest_challenges_then_takes_a_response_computed_with_the_password() {
    let (fake, _clock) = bc().await;
    let base = fake.base_url(BcAuth::Digest);
    let url = format!("{base}/{LOOKUP}");
    let first = client().get(&url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    let prompt = challenge(&first).expect("a Digest challenge");
    assert!(prompt.starts_with("Digest ") && prompt.contains("qop=\"auth\""), "{prompt}");

    let signed_uri = reqwest::Url::parse(&url).unwrap();
    let signed_uri = format!("{}?{}", signed_uri.path(), signed_uri.query().unwrap());
    let answer = |password: &str| {
        let mut parsed = digest_auth::parse(&prompt).unwrap();
        let context = AuthContext::new_with_method(DIGEST_USER, password, &signed_uri, None::<&[u8]>, HttpMethod::GET);
        parsed.respond(&context).unwrap().to_string()
    };
    let wrong = client().get(&url).header(AUTHORIZATION, answer("wrong")).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let ok = client().get(&url).header(AUTHORIZATION, answer(DIGEST_PASSWORD)).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_sap_session_needs_both_cookies_and_lapses_when_idle() {
    let clock = ManualClock::new(1_772_409_600_000);
    let fake = FakeSap::start(clock.clone()).await;
    let login = |password: &str| {
        let body = json!({"CompanyDB": SAP_COMPANY, "UserName": SAP_USER, "Password": password});
        client().post(format!("{}/Login", fake.base_url())).json(&body).send()
    };
    let refused = login("wrong").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let ok = login(SAP_PASSWORD).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let cookies: Vec<String> = ok
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    assert!(cookies.iter().any(|c| c.starts_with("B1SESSION=")) && cookies.iter().any(|c| c.starts_with("ROUTEID=")));
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["SessionTimeout"], SAP_SESSION_TIMEOUT.as_secs() / 60);

    let url = format!("{}/Orders?$filter=NumAtCard eq 'none'", fake.base_url());
    let get = |cookie: String| client().get(&url).header(COOKIE, cookie).send();
    assert_eq!(get(cookies.join("; ")).await.unwrap().status(), StatusCode::OK);
    let session_only = cookies.iter().find(|c| c.starts_with("B1SESSION=")).unwrap().clone();
    assert_eq!(get(session_only).await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Each use renews the idle timer; a whole timeout without use ends the session.
    clock.advance(SAP_SESSION_TIMEOUT - Duration::from_secs(60));
    assert_eq!(get(cookies.join("; ")).await.unwrap().status(), StatusCode::OK);
    clock.advance(SAP_SESSION_TIMEOUT);
    let lapsed = get(cookies.join("; ")).await.unwrap();
    assert_eq!(lapsed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(lapsed.json::<Value>().await.unwrap()["error"]["code"], 301);
    assert_eq!(fake.logins(), 1);
}
