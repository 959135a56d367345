//! Shopify GraphQL Admin API, in two steps because of its query cost limit (1,000 points per
//! query; a connection costs its page size times what each node costs):
//! 1. `orders(first: 250, query: "updated_at:>=…", sortKey: UPDATED_AT)` selecting only the
//!    order's scalars (about 250 points), cursor-paged; the filter reads these;
//! 2. the orders still wanted, in batches of aliased `order(id:)` fields, each with its
//!    customer, addresses, totals and line items, as many per query as the cost limit allows.
//!
//! A throttled answer (200 with `THROTTLED`) waits until the bucket holds the query's cost, at
//! the restore rate it reports, and asks again. Each order is then put into the REST shape of
//! Shopify's `orders/create` webhook and mapped by the webhook's own mapping, so an order gets
//! the same canonical content whichever door it came through.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};

use super::config::{rfc3339_ms, utc_seconds};
use super::{Listed, Page, PollError, Source, text};
use crate::webhook::{WebhookOrder, parse_platform_json, shopify_order};

/// Highest requested cost a query may have; below Shopify's 1,000 for headroom.
const QUERY_BUDGET: u64 = 900;
/// Throttles waited out per query before the run gives up (the next run goes on).
const MAX_THROTTLES: u32 = 10;

const LIST: &str = "query PollOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { id legacyResourceId updatedAt displayFinancialStatus displayFulfillmentStatus closed cancelledAt } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// The order fields the webhook mapping reads, in GraphQL.
fn detail_fragment(line_items: u32) -> String {
    format!(
        "fragment PolledOrder on Order {{
  legacyResourceId name createdAt currencyCode customerLocale note email
  customer {{ legacyResourceId firstName lastName email }}
  billingAddress {{ firstName lastName address1 address2 city zip provinceCode countryCodeV2 }}
  shippingAddress {{ firstName lastName address1 address2 city zip provinceCode countryCodeV2 }}
  totalPriceSet {{ shopMoney {{ amount }} }}
  totalTaxSet {{ shopMoney {{ amount }} }}
  totalDiscountsSet {{ shopMoney {{ amount }} }}
  lineItems(first: {line_items}) {{
    edges {{ node {{ id sku title quantity originalUnitPriceSet {{ shopMoney {{ amount }} }} }} }}
    pageInfo {{ hasNextPage }}
  }}
}}"
    )
}

/// The requested cost of one order in the detail query, by the documented rules: the order,
/// customer, two addresses and three money bags of two objects; the line connection is 2 plus
/// per line the item and its money bag.
fn detail_cost(line_items: u32) -> u64 {
    1 + 1 + 2 + 3 * 2 + 2 + u64::from(line_items) * 3
}

pub(super) async fn page(
    source: &Source<'_>,
    first: u32,
    since_ms: i64,
    next: Option<&str>,
) -> Result<Page, PollError> {
    let variables = json!({"first": first, "after": next, "query": format!("updated_at:>={}", utc_seconds(since_ms))});
    let data = graphql(source, LIST, variables).await?;
    let orders = &data["orders"];
    let Some(edges) = orders["edges"].as_array() else {
        return Err(source.answer_error("orders without edges"));
    };
    let listed = edges
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            let id = text(node.get("legacyResourceId")).ok_or_else(|| source.answer_error("an order without id"))?;
            let updated = text(node.get("updatedAt"))
                .and_then(|t| rfc3339_ms(&t))
                .ok_or_else(|| source.answer_error(format!("order {id}: no updatedAt")))?;
            Ok(Listed { id, updated_ms: updated, record: node.clone() })
        })
        .collect::<Result<Vec<_>, PollError>>()?;
    // Platform JSON keeps literals as text: `true` is read as the string "true".
    let has_next = matches!(&orders["pageInfo"]["hasNextPage"], Value::Bool(true))
        || text(orders["pageInfo"].get("hasNextPage")).as_deref() == Some("true");
    let next = if has_next { text(orders["pageInfo"].get("endCursor")) } else { None };
    Ok(Page { listed, next })
}

pub(super) async fn orders(
    source: &Source<'_>,
    line_items: u32,
    wanted: &[Listed],
) -> Result<Vec<Result<Option<WebhookOrder>, PollError>>, PollError> {
    let per_query = usize::try_from((QUERY_BUDGET / detail_cost(line_items)).max(1)).unwrap_or(1);
    let fragment = detail_fragment(line_items);
    let mut out = Vec::with_capacity(wanted.len());
    for batch in wanted.chunks(per_query) {
        let fields: String = batch
            .iter()
            .enumerate()
            .map(|(i, l)| format!("o{i}: order(id: \"gid://shopify/Order/{}\") {{ ...PolledOrder }}\n", l.id))
            .collect();
        let query = format!("query PolledOrders {{\n{fields}}}\n{fragment}");
        let data = graphql(source, &query, json!({})).await?;
        for (i, listed) in batch.iter().enumerate() {
            let node = &data[format!("o{i}")];
            out.push(detail(source, line_items, listed, node));
        }
    }
    Ok(out)
}

/// One order's details in canonical form; an error names the order. `None`: deleted between
/// the listing and this read, so there is nothing to take (and waiting would never change that).
fn detail(
    source: &Source<'_>,
    line_items: u32,
    listed: &Listed,
    node: &Value,
) -> Result<Option<WebhookOrder>, PollError> {
    if node.is_null() {
        return Ok(None);
    }
    if text(node["lineItems"]["pageInfo"].get("hasNextPage")).as_deref() == Some("true") {
        return Err(source.mapping_error(&listed.id, format!("more than {line_items} line items; raise line_items")));
    }
    let rest = rest_shape(node).map_err(|m| source.mapping_error(&listed.id, m))?;
    shopify_order(&source.config.seller(), &rest).map(Some).map_err(|e| source.mapping_error(&listed.id, e.to_string()))
}

/// One GraphQL call: its `data`, after waiting out throttles.
async fn graphql(source: &Source<'_>, query: &str, variables: Value) -> Result<Value, PollError> {
    let url = source.url("")?;
    let body = json!({"query": query, "variables": variables});
    for _ in 0..MAX_THROTTLES {
        let reply = source.client.post_json(url.clone(), &body).await?;
        let answer = parse_platform_json(reply.body.as_bytes()).map_err(|e| source.answer_error(e.to_string()))?;
        let Some(errors) = answer.get("errors") else {
            return answer.get("data").cloned().ok_or_else(|| source.answer_error("an answer without data"));
        };
        let throttled = errors.as_array().is_some_and(|e| e.iter().any(|e| e["extensions"]["code"] == "THROTTLED"));
        if !throttled {
            return Err(source.answer_error(format!("GraphQL errors: {errors}")));
        }
        let wait = throttle_wait(&answer["extensions"]["cost"]);
        if wait > source.client.max_wait() {
            return Err(PollError::Throttled { source_name: source.config.name.clone(), wait });
        }
        (source.client.pause())(wait).await;
    }
    Err(PollError::Throttled { source_name: source.config.name.clone(), wait: source.client.max_wait() })
}

/// How long until the bucket holds the requested cost, at its restore rate (whole ms, rounded
/// up; one second when the answer does not say).
fn throttle_wait(cost: &Value) -> std::time::Duration {
    let number = |v: &Value| text(Some(v)).and_then(|t| t.parse::<Decimal>().ok());
    let requested = number(&cost["requestedQueryCost"]);
    let available = number(&cost["throttleStatus"]["currentlyAvailable"]);
    let rate = number(&cost["throttleStatus"]["restoreRate"]).filter(|r| !r.is_zero());
    let ms = match (requested, available, rate) {
        (Some(requested), Some(available), Some(rate)) => {
            ((requested - available).max(Decimal::ZERO) * Decimal::from(1_000) / rate).ceil()
        }
        _ => Decimal::from(1_000),
    };
    std::time::Duration::from_millis(ms.to_u64().unwrap_or(1_000).max(1))
}

/// The number at the end of `gid://shopify/<Type>/<n>`; the webhook's ids are these numbers.
fn numeric_id(gid: &Value) -> Option<String> {
    text(Some(gid)).map(|g| g.rsplit('/').next().unwrap_or_default().to_owned())
}

fn amount(bag: &Value) -> Value {
    bag["shopMoney"]["amount"].clone()
}

/// A GraphQL `MailingAddress` in the REST address shape.
fn address(node: &Value) -> Value {
    if node.is_null() {
        return Value::Null;
    }
    json!({
        "first_name": node["firstName"], "last_name": node["lastName"],
        "address1": node["address1"], "address2": node["address2"], "city": node["city"], "zip": node["zip"],
        "province_code": node["provinceCode"], "country_code": node["countryCodeV2"],
    })
}

/// A GraphQL order in the REST shape of the `orders/create` webhook. `total_line_items_price`
/// is, as in REST, the sum of each line's price times its quantity, before discounts.
fn rest_shape(node: &Value) -> Result<Value, String> {
    let mut line_items = Vec::new();
    let mut lines_total: Option<Decimal> = None;
    for edge in node["lineItems"]["edges"].as_array().into_iter().flatten() {
        let line = &edge["node"];
        let price = amount(&line["originalUnitPriceSet"]);
        let quantity = text(line.get("quantity"));
        if let (Some(p), Some(q)) = (
            text(Some(&price)).and_then(|p| p.parse::<Decimal>().ok()),
            quantity.as_deref().and_then(|q| q.parse::<Decimal>().ok()),
        ) {
            lines_total = Some(lines_total.unwrap_or(Decimal::ZERO) + p * q);
        }
        line_items.push(json!({
            "id": numeric_id(&line["id"]), "sku": line["sku"], "title": line["title"],
            "quantity": line["quantity"], "price": price,
        }));
    }
    let customer = &node["customer"];
    let customer = if customer.is_null() {
        Value::Null
    } else {
        json!({"id": customer["legacyResourceId"], "email": customer["email"],
               "first_name": customer["firstName"], "last_name": customer["lastName"]})
    };
    let mut rest = Map::new();
    for (key, value) in [
        ("id", node["legacyResourceId"].clone()),
        ("name", node["name"].clone()),
        ("created_at", node["createdAt"].clone()),
        ("currency", node["currencyCode"].clone()),
        ("customer_locale", node["customerLocale"].clone()),
        ("note", node["note"].clone()),
        ("email", node["email"].clone()),
        ("customer", customer),
        ("billing_address", address(&node["billingAddress"])),
        ("shipping_address", address(&node["shippingAddress"])),
        ("line_items", Value::Array(line_items)),
        ("total_line_items_price", lines_total.map_or(Value::Null, |t| Value::String(t.to_string()))),
        ("total_discounts", amount(&node["totalDiscountsSet"])),
        ("total_tax", amount(&node["totalTaxSet"])),
        ("total_price", amount(&node["totalPriceSet"])),
    ] {
        rest.insert(key.to_owned(), value);
    }
    if node["legacyResourceId"].is_null() {
        return Err("the order has no legacyResourceId".into());
    }
    Ok(Value::Object(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_waits_for_the_missing_points_at_the_restore_rate() {
        let cost = json!({"requestedQueryCost": "252", "throttleStatus": {"currentlyAvailable": "52", "restoreRate": "100.0"}});
        assert_eq!(throttle_wait(&cost), std::time::Duration::from_secs(2));
        assert_eq!(throttle_wait(&json!({})), std::time::Duration::from_secs(1));
    }
}
