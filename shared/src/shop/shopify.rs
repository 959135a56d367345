//! Shopify's GraphQL Admin API: fulfil an order with `fulfillmentCreate`.
//!
//! Shopify fulfils through fulfillment orders: the order's `fulfillmentOrders` are read, and
//! those that are OPEN or IN_PROGRESS are fulfilled in one `fulfillmentCreate` (listed without
//! line items, which fulfils what remains of each, as Shopify documents), with the tracking
//! and `notifyCustomer`. Reading first is the look before acting: an order whose fulfillment
//! orders are all closed (a repeat after a crash, or "delivered" after "dispatched") is done,
//! not fulfilled twice.
//!
//! GraphQL answers 200 with `errors` for a throttled or malformed call and with `userErrors`
//! for a refused mutation: a throttle is transient (waiting as long as the cost bucket needs),
//! `userErrors` and other errors are permanent.

use reqwest::Method;
use serde_json::{Value, json};

use super::connector::ShopConnector;
use super::error::ShopError;
use super::{ActionDone, ActionRequest};
use crate::erp::error::truncate;
use crate::error::Retry;
use crate::mapping::MappingSource;

const FULFILLMENT_ORDERS: &str = "query FulfillmentOrders($id: ID!) {
  order(id: $id) { fulfillmentOrders(first: 50) { nodes { id status } } }
}";

const FULFIL: &str = "mutation Fulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}";

/// Fulfillment order statuses that can still be fulfilled.
const FULFILLABLE: [&str; 2] = ["OPEN", "IN_PROGRESS"];

pub(crate) async fn fulfil<M: MappingSource>(
    shop: &ShopConnector<M>,
    request: &ActionRequest<'_>,
    notify_customer: bool,
) -> Result<ActionDone, ShopError> {
    let order_gid = format!("gid://shopify/Order/{}", request.shop.order_id);
    let data = graphql(shop, "order.fulfillmentOrders", FULFILLMENT_ORDERS, json!({"id": order_gid})).await?;
    let order = &data["order"];
    if order.is_null() {
        let message = format!("Shopify has no order {order_gid}");
        let error = ShopError::local(Retry::Permanent, "order_not_found", message);
        return Err(ShopError { status: Some(200), answer: Some(truncate(&data.to_string())), ..error });
    }
    let open: Vec<&str> = order["fulfillmentOrders"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|node| node["status"].as_str().is_some_and(|s| FULFILLABLE.contains(&s)))
        .filter_map(|node| node["id"].as_str())
        .collect();
    if open.is_empty() {
        return Ok(ActionDone {
            sent: format!("nothing: every fulfillment order of {order_gid} is closed"),
            platform_id: None,
        });
    }
    let tracking = request.record.tracking.clone().unwrap_or_default();
    let mut fulfillment = json!({
        "lineItemsByFulfillmentOrder": open.iter().map(|id| json!({"fulfillmentOrderId": id})).collect::<Vec<_>>(),
        "notifyCustomer": notify_customer,
    });
    if tracking.number.is_some() || tracking.url.is_some() || tracking.company.is_some() {
        fulfillment["trackingInfo"] =
            json!({"number": tracking.number, "url": tracking.url, "company": tracking.company});
    }
    let data = graphql(shop, "fulfillmentCreate", FULFIL, json!({"fulfillment": fulfillment})).await?;
    let payload = &data["fulfillmentCreate"];
    let refused: Vec<&str> =
        payload["userErrors"].as_array().into_iter().flatten().filter_map(|e| e["message"].as_str()).collect();
    if !refused.is_empty() {
        return Err(ShopError {
            retry: Retry::Permanent,
            status: Some(200),
            code: "user_errors".into(),
            message: format!("fulfillmentCreate refused: {}", refused.join("; ")),
            answer: Some(truncate(&payload.to_string())),
            retry_after: None,
        });
    }
    let id = payload["fulfillment"]["id"].as_str().map(str::to_owned);
    let tracked = tracking.number.map(|n| format!(" (tracking {n})")).unwrap_or_default();
    Ok(ActionDone { sent: format!("fulfillmentCreate on {}{tracked}", open.join(", ")), platform_id: id })
}

/// One GraphQL call; its `data`, or the error its `errors` describe.
async fn graphql<M: MappingSource>(
    shop: &ShopConnector<M>,
    operation: &str,
    query: &str,
    variables: Value,
) -> Result<Value, ShopError> {
    let body = serde_json::to_vec(&json!({"query": query, "variables": variables})).expect("JSON serialises");
    let answer = shop.call(operation, Method::POST, "/graphql.json", Some(body), Vec::new()).await?;
    let json: Value = serde_json::from_str(&answer.body).map_err(|e| {
        ShopError::local(Retry::Transient, "bad_answer", format!("{operation}: the answer is not JSON: {e}"))
    })?;
    if let Some(errors) = json["errors"].as_array().filter(|e| !e.is_empty()) {
        return Err(errors_to_error(operation, errors, &json));
    }
    Ok(json["data"].clone())
}

/// `THROTTLED` waits until the bucket holds the requested cost again; other errors (a bad
/// query, an access scope missing) will not pass on retry.
pub(crate) fn errors_to_error(operation: &str, errors: &[Value], json: &Value) -> ShopError {
    let messages: Vec<&str> = errors.iter().filter_map(|e| e["message"].as_str()).collect();
    let throttled = errors.iter().any(|e| e["extensions"]["code"] == "THROTTLED");
    let retry_after = throttled.then(|| {
        let cost = &json["extensions"]["cost"];
        let requested = cost["requestedQueryCost"].as_f64().unwrap_or(0.0);
        let available = cost["throttleStatus"]["currentlyAvailable"].as_f64().unwrap_or(0.0);
        let rate = cost["throttleStatus"]["restoreRate"].as_f64().filter(|r| *r > 0.0).unwrap_or(50.0);
        std::time::Duration::from_secs_f64(((requested - available) / rate).clamp(0.0, 60.0).ceil().max(1.0))
    });
    ShopError {
        retry: if throttled { Retry::Transient } else { Retry::Permanent },
        status: Some(200),
        code: if throttled { "THROTTLED".into() } else { "graphql_errors".into() },
        message: format!("{operation}: {}", messages.join("; ")),
        answer: Some(truncate(&json.to_string())),
        retry_after,
    }
}
