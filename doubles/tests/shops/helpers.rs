//! Set-up shared by the shop double tests: a clock, clients, and one call per API.

use std::time::Duration;

use orderflow_doubles::{FakeShopify, FakeWoo, SHOPIFY_ACCESS_TOKEN, WOO_CONSUMER_KEY, WOO_CONSUMER_SECRET};
use orderflow_shared::adapters::embedded::ManualClock;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

/// 2026-03-01T10:00:00Z.
pub const START_MS: u64 = 1_772_359_200_000;

/// Longer than any answer the doubles give, shorter than a held one.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

pub fn clock() -> ManualClock {
    ManualClock::new(START_MS)
}

/// On the product's TLS configuration: reqwest has no crypto provider of its own here.
pub fn client() -> Client {
    orderflow_shared::http_client::builder().timeout(CLIENT_TIMEOUT).build().unwrap()
}

/// POSTs a GraphQL request with the right token.
pub async fn shopify_send(fake: &FakeShopify, query: &str, variables: Value) -> Result<Response, reqwest::Error> {
    client()
        .post(fake.graphql_url())
        .header("X-Shopify-Access-Token", SHOPIFY_ACCESS_TOKEN)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
}

/// The status and body of a GraphQL request that is answered.
pub async fn gql(fake: &FakeShopify, query: &str, variables: Value) -> (StatusCode, Value) {
    let response = shopify_send(fake, query, variables).await.unwrap();
    (response.status(), response.json().await.unwrap())
}

/// A request to the WooCommerce double's `path` (under the API root) with the right keys.
pub fn woo(fake: &FakeWoo, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    client()
        .request(method, format!("{}{path}", fake.base_url()))
        .basic_auth(WOO_CONSUMER_KEY, Some(WOO_CONSUMER_SECRET))
}

pub async fn woo_json(request: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.unwrap())
}

/// The values of `key` in a JSON array, which must not be empty.
pub fn each<'a>(items: &'a Value, key: &str) -> Vec<&'a Value> {
    let items = items.as_array().expect("an array");
    assert!(!items.is_empty(), "expected items, got none");
    items.iter().map(|item| &item[key]).collect()
}
