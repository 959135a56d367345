use std::time::Duration;

use orderflow_doubles::{FakeShopify, SeedOrder, ShopFault, Tracking};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{client, clock, each, gql, shopify_send};

const ORDERS_PAGE: &str = r#"
query Poll($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { id name updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

const FULFILLMENT_ORDERS: &str = r"
query($id: ID!) {
  order(id: $id) {
    displayFulfillmentStatus
    updatedAt
    fulfillmentOrders(first: 5) {
      nodes { id status lineItems(first: 10) { nodes { id remainingQuantity sku } } }
    }
  }
}";

const FULFIL: &str = r"
mutation Ship($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { number url company } }
    userErrors { field message }
  }
}";

fn seed(id: u64, updated_at: &str) -> SeedOrder {
    SeedOrder::new(id, updated_at)
        .number(id - 5_500_000_000 + 1_000)
        .customer("Ana", "Rojas", "ana@example.com")
        .line("CAF-GRANO-1KG", "Café en grano 1 kg", 2, "12990")
        .line("FILT-102", "Filtros 102", 1, "3490")
}

/// The id and first line item of the only fulfillment order of `order`.
async fn fulfillment_order(fake: &FakeShopify, order: &str) -> (String, Value) {
    let (_, body) = gql(fake, FULFILLMENT_ORDERS, json!({"id": order})).await;
    let node = &body["data"]["order"]["fulfillmentOrders"]["nodes"][0];
    (node["id"].as_str().expect("a fulfillment order").to_owned(), node["lineItems"]["nodes"][0].clone())
}

fn ship_all(fulfillment_order: &str) -> Value {
    json!({"fulfillment": {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order}],
        "trackingInfo": {"number": "1Z999", "url": "https://track.example/1Z999", "company": "Chilexpress"},
        "notifyCustomer": true,
    }})
}

#[tokio::test]
async fn orders_page_by_cursor_and_an_updated_at_tie_across_the_boundary_comes_back_once_each() {
    let fake = FakeShopify::start(clock()).await;
    fake.seed_order(&seed(5_500_000_001, "2026-03-01T08:00:00Z"));
    fake.seed_order(&seed(5_500_000_002, "2026-03-01T10:00:00Z"));
    fake.seed_order(&seed(5_500_000_003, "2026-03-01T10:05:00Z"));
    fake.seed_order(&seed(5_500_000_004, "2026-03-01T10:05:00Z"));
    fake.seed_order(&seed(5_500_000_005, "2026-03-01T10:10:00Z"));
    let query = "updated_at:>'2026-03-01T09:00:00Z'";

    let (status, first) = gql(&fake, ORDERS_PAGE, json!({"first": 2, "query": query})).await;
    assert_eq!(status, StatusCode::OK);
    let page = &first["data"]["orders"];
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let mut seen: Vec<Value> = each(&page["edges"], "node").into_iter().map(|n| n["id"].clone()).collect();
    // The boundary falls between the two orders updated at 10:05.
    assert_eq!(page["edges"][1]["node"]["updatedAt"], "2026-03-01T10:05:00Z");

    let after = page["pageInfo"]["endCursor"].clone();
    let (_, second) = gql(&fake, ORDERS_PAGE, json!({"first": 2, "after": after, "query": query})).await;
    let page = &second["data"]["orders"];
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
    seen.extend(each(&page["edges"], "node").into_iter().map(|n| n["id"].clone()));

    let expected: Vec<Value> = (2..=5).map(|n| Value::String(format!("gid://shopify/Order/550000000{n}"))).collect();
    assert_eq!(seen, expected, "each order once, in updated order, the 08:00 one filtered out");
    assert_eq!(second["data"]["orders"]["edges"][0]["node"]["name"], "#1004");
}

#[tokio::test]
async fn a_page_over_250_and_a_backward_page_are_refused() {
    let fake = FakeShopify::start(clock()).await;
    let (status, body) = gql(&fake, ORDERS_PAGE, json!({"first": 251})).await;
    assert_eq!(status, StatusCode::OK, "GraphQL refuses in the body");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("250"), "{body}");
    assert!(body.get("data").is_none());

    let (_, body) = gql(&fake, "{ orders(last: 5) { nodes { id } } }", json!({})).await;
    assert!(body["errors"][0]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn the_search_filters_on_updated_at_and_ignores_an_unknown_field_with_a_warning() {
    let fake = FakeShopify::start(clock()).await;
    fake.seed_order(&seed(5_500_000_001, "2026-03-01T10:00:00Z"));
    fake.seed_order(&seed(5_500_000_002, "2026-03-01T11:00:00Z"));

    let query = "updated_at:>'2026-03-01T10:00:00Z' colour:red";
    let (_, body) = gql(&fake, ORDERS_PAGE, json!({"first": 10, "query": query})).await;
    let names: Vec<&Value> = each(&body["data"]["orders"]["edges"], "node").into_iter().map(|n| &n["name"]).collect();
    assert_eq!(names, [&json!("#1002")], "strictly after 10:00");
    let warning = &body["extensions"]["search"][0];
    assert_eq!(warning["path"], json!(["orders"]));
    assert_eq!(warning["warnings"][0]["field"], "colour");

    let (_, body) = gql(&fake, ORDERS_PAGE, json!({"first": 10, "query": "updated_at:>=2026-03-01T10:00:00Z"})).await;
    assert_eq!(body["data"]["orders"]["edges"].as_array().unwrap().len(), 2, "at or after, unquoted");

    let (_, body) = gql(&fake, ORDERS_PAGE, json!({"first": 10, "query": "financial_status:paid"})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("financial_status"), "{body}");
}

#[tokio::test]
async fn an_order_reads_as_selected_with_aliases_fragments_and_nested_pages() {
    let fake = FakeShopify::start(clock()).await;
    let id = fake.seed_order(&seed(5_500_000_001, "2026-03-01T10:00:00Z"));
    let query = r"
      query One($id: ID!, $missing: ID!) {
        order(id: $id) {
          ...Head
          buyer: customer { firstName email }
          totalPriceSet { shopMoney { amount currencyCode } }
          lineItems(first: 1) { nodes { sku quantity originalUnitPriceSet { shopMoney { amount } } } pageInfo { hasNextPage } }
        }
        missing: order(id: $missing) { id }
      }
      fragment Head on Order { id name }";
    let (status, body) = gql(&fake, query, json!({"id": id, "missing": "gid://shopify/Order/1"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("errors").is_none(), "{body}");
    let order = &body["data"]["order"];
    assert_eq!(order["id"], id.as_str());
    assert_eq!(order["name"], "#1001");
    assert_eq!(order["buyer"], json!({"firstName": "Ana", "email": "ana@example.com"}));
    assert_eq!(order["totalPriceSet"]["shopMoney"], json!({"amount": "29470", "currencyCode": "CLP"}));
    assert_eq!(
        order["lineItems"]["nodes"],
        json!([{"sku": "CAF-GRANO-1KG", "quantity": 2, "originalUnitPriceSet": {"shopMoney": {"amount": "12990"}}}])
    );
    assert_eq!(order["lineItems"]["pageInfo"]["hasNextPage"], true, "two lines, one asked for");
    assert!(order.get("updatedAt").is_none(), "only what was selected");
    assert_eq!(body["data"]["missing"], Value::Null);

    let (_, body) = gql(&fake, "query($id: ID!) { order(id: $id) { id shoeSize } }", json!({"id": id})).await;
    let error = &body["errors"][0];
    assert!(error["message"].as_str().unwrap().contains("shoeSize"), "{body}");
    assert_eq!(error["locations"][0]["line"], 1);
    assert!(body.get("data").is_none());
}

#[tokio::test]
async fn a_malformed_document_is_a_graphql_error_and_a_body_without_a_query_is_400() {
    let fake = FakeShopify::start(clock()).await;
    let (status, body) = gql(&fake, "{\n  orders(first: 1) {\n    nodes { id }\n", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["errors"][0]["message"].as_str().unwrap().starts_with("Parse error"), "{body}");

    let response = client()
        .post(fake.graphql_url())
        .header("X-Shopify-Access-Token", orderflow_doubles::SHOPIFY_ACCESS_TOKEN)
        .json(&json!({"variables": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"errors": {"query": "Required parameter missing or invalid"}}));
}

#[tokio::test]
async fn a_fulfillment_is_created_once_and_another_on_the_closed_fulfillment_order_is_a_user_error() {
    let clock = clock();
    let fake = FakeShopify::start(clock.clone()).await;
    let order = fake.seed_order(&seed(5_500_000_001, "2026-03-01T09:00:00Z"));
    let (fulfillment_order, _) = fulfillment_order(&fake, &order).await;
    clock.advance(Duration::from_secs(60));

    let (status, body) = gql(&fake, FULFIL, ship_all(&fulfillment_order)).await;
    assert_eq!(status, StatusCode::OK);
    let payload = &body["data"]["fulfillmentCreate"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["fulfillment"]["status"], "SUCCESS");
    assert_eq!(
        payload["fulfillment"]["trackingInfo"],
        json!([{"number": "1Z999", "url": "https://track.example/1Z999", "company": "Chilexpress"}])
    );
    let (_, after) = gql(&fake, FULFILLMENT_ORDERS, json!({"id": order})).await;
    let read = &after["data"]["order"];
    assert_eq!(read["displayFulfillmentStatus"], "FULFILLED");
    assert_eq!(read["updatedAt"], "2026-03-01T10:01:00Z", "stamped with the clock");
    assert_eq!(read["fulfillmentOrders"]["nodes"][0]["status"], "CLOSED");

    let (status, body) = gql(&fake, FULFIL, ship_all(&fulfillment_order)).await;
    assert_eq!(status, StatusCode::OK, "a user error, not an HTTP one");
    let payload = &body["data"]["fulfillmentCreate"];
    assert_eq!(payload["fulfillment"], Value::Null);
    let message = payload["userErrors"][0]["message"].as_str().unwrap();
    assert!(message.ends_with("has an unfulfillable status= closed."), "{message}");

    let made = fake.fulfillments();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].order_id, order);
    assert!(made[0].notify_customer);
    assert_eq!(made[0].tracking.as_ref().and_then(|t| t.company.as_deref()), Some("Chilexpress"));
    assert_eq!(made[0].line_items, [("CAF-GRANO-1KG".to_owned(), 2), ("FILT-102".to_owned(), 1)]);
}

#[tokio::test]
async fn a_partial_fulfillment_leaves_the_fulfillment_order_in_progress_and_too_many_is_refused() {
    let fake = FakeShopify::start(clock()).await;
    let order = fake.seed_order(&seed(5_500_000_001, "2026-03-01T09:00:00Z"));
    let (fulfillment_order, line) = fulfillment_order(&fake, &order).await;
    assert_eq!(line["remainingQuantity"], 2);
    let one = |quantity: u32| {
        json!({"fulfillment": {"lineItemsByFulfillmentOrder": [{
            "fulfillmentOrderId": fulfillment_order,
            "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": quantity}],
        }]}})
    };

    let (_, body) = gql(&fake, FULFIL, one(3)).await;
    assert_eq!(body["data"]["fulfillmentCreate"]["fulfillment"], Value::Null);
    assert!(body["data"]["fulfillmentCreate"]["userErrors"][0]["message"].as_str().unwrap().contains("quantity"));

    let (_, body) = gql(&fake, FULFIL, one(1)).await;
    assert_eq!(body["data"]["fulfillmentCreate"]["userErrors"], json!([]));
    let (_, after) = gql(&fake, FULFILLMENT_ORDERS, json!({"id": order})).await;
    let read = &after["data"]["order"];
    assert_eq!(read["displayFulfillmentStatus"], "PARTIALLY_FULFILLED");
    assert_eq!(read["fulfillmentOrders"]["nodes"][0]["status"], "IN_PROGRESS");
    assert_eq!(read["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["remainingQuantity"], 1);
    assert_eq!(fake.fulfillments()[0].tracking, None::<Tracking>);
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_401_with_shopifys_body() {
    let fake = FakeShopify::start(clock()).await;
    let body = json!({"query": "{ orders(first: 1) { nodes { id } } }"});
    for token in [Some("shpat_wrong"), None] {
        let mut request = client().post(fake.graphql_url()).json(&body);
        if let Some(token) = token {
            request = request.header("X-Shopify-Access-Token", token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(
            answer,
            json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        );
    }
    assert!(fake.log().iter().all(|l| l.status == Some(401) && l.operation.is_none()));
}

#[tokio::test]
async fn every_answer_reports_its_cost_and_an_empty_bucket_throttles_until_the_clock_refills_it() {
    let clock = clock();
    let fake = FakeShopify::start(clock.clone()).await;
    let order = fake.seed_order(&seed(5_500_000_001, "2026-03-01T09:00:00Z"));
    let (fulfillment_order, _) = fulfillment_order(&fake, &order).await;
    fake.set_rate_limit(50.0, 10.0);

    let (_, body) = gql(&fake, "{ orders(first: 10) { nodes { id } } }", json!({})).await;
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 12, "2 + 10 nodes of 1");
    assert_eq!(cost["actualQueryCost"], 3, "2 + the one node returned");
    assert_eq!(
        cost["throttleStatus"],
        json!({"maximumAvailable": 50.0, "currentlyAvailable": 47.0, "restoreRate": 10.0})
    );

    fake.empty_bucket();
    let (status, body) = gql(&fake, FULFIL, ship_all(&fulfillment_order)).await;
    assert_eq!(status, StatusCode::OK, "Shopify throttles in the body");
    assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], Value::Null);
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 10);
    assert!(fake.fulfillments().is_empty(), "a throttled mutation does nothing");

    clock.advance(Duration::from_secs(1));
    let (_, body) = gql(&fake, FULFIL, ship_all(&fulfillment_order)).await;
    assert_eq!(body["data"]["fulfillmentCreate"]["userErrors"], json!([]), "{body}");
    assert_eq!(fake.fulfillments().len(), 1);
}

#[tokio::test]
async fn a_query_over_the_single_query_cost_limit_is_refused() {
    let fake = FakeShopify::start(clock()).await;
    let query = "{ orders(first: 250) { nodes { lineItems(first: 50) { nodes { sku } } } } }";
    let (_, body) = gql(&fake, query, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED", "{body}");
}

#[tokio::test]
async fn scripted_5xx_and_429_are_answered_before_any_work() {
    let fake = FakeShopify::start(clock()).await;
    let order = fake.seed_order(&seed(5_500_000_001, "2026-03-01T09:00:00Z"));
    let (fulfillment_order, _) = fulfillment_order(&fake, &order).await;

    fake.script(ShopFault::Reply(503, json!({"errors": "Service Unavailable"})));
    fake.script(ShopFault::TooManyRequests { retry_after_secs: 2 });
    let unavailable = shopify_send(&fake, FULFIL, ship_all(&fulfillment_order)).await.unwrap();
    assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    let limited = shopify_send(&fake, FULFIL, ship_all(&fulfillment_order)).await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "2");
    assert!(limited.json::<Value>().await.unwrap()["errors"].as_str().unwrap().starts_with("Exceeded"));
    assert!(fake.fulfillments().is_empty());

    let statuses: Vec<Option<u16>> = fake.log().iter().rev().take(2).map(|l| l.status).collect();
    assert_eq!(statuses, [Some(429), Some(503)]);
    assert_eq!(fake.log().last().unwrap().operation.as_deref(), Some("fulfillmentCreate"));
}

#[tokio::test]
async fn a_hang_after_work_times_the_client_out_with_the_fulfillment_made() {
    let fake = FakeShopify::start(clock()).await;
    let order = fake.seed_order(&seed(5_500_000_001, "2026-03-01T09:00:00Z"));
    let (fulfillment_order, _) = fulfillment_order(&fake, &order).await;

    fake.script(ShopFault::HangAfterWork);
    let error = shopify_send(&fake, FULFIL, ship_all(&fulfillment_order)).await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(fake.fulfillments().len(), 1, "the work landed");
    assert_eq!(fake.log().last().unwrap().status, None, "no answer was sent");

    // The client's retry meets the changed state.
    let (_, body) = gql(&fake, FULFIL, ship_all(&fulfillment_order)).await;
    assert!(body["data"]["fulfillmentCreate"]["userErrors"][0]["message"].as_str().unwrap().contains("closed"));
    assert_eq!(fake.fulfillments().len(), 1);
}

#[tokio::test]
async fn a_hang_times_the_client_out_with_nothing_done() {
    let fake = FakeShopify::start(clock()).await;
    let order = fake.seed_order(&seed(5_500_000_001, "2026-03-01T09:00:00Z"));
    let (fulfillment_order, _) = fulfillment_order(&fake, &order).await;

    fake.script(ShopFault::Hang);
    let error = shopify_send(&fake, FULFIL, ship_all(&fulfillment_order)).await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(fake.fulfillments().is_empty());
    assert_eq!(fake.orders()[0]["updatedAt"], "2026-03-01T09:00:00Z");
}
