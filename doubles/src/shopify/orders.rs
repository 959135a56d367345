//! The query root's `orders(first:, after:, query:, sortKey:, reverse:)` connection and
//! `order(id:)`.
//!
//! `orders` pages by cursor: orders are sorted by the sort key, ties broken by id, and a cursor
//! holds the sort value and id of its order (base64 JSON, opaque to clients, like Shopify's),
//! so a page starts strictly after it, wherever that order has moved to since. Two orders with
//! the same `updatedAt` across a page boundary therefore come back once each. `first` is
//! required (at most 250, Shopify's page limit); `last`/`before` are not served. Sort keys
//! served: `PROCESSED_AT` (the default; the double's orders are processed when created),
//! `CREATED_AT`, `UPDATED_AT`, `ID`, `ORDER_NUMBER`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::graphql::{Field, GraphqlError};
use super::records::{Order, ShopifyState, gid_number};
use super::search::{self, Candidate};
use super::select::connection;

/// Shopify's largest page.
const MAX_PAGE: u64 = 250;

/// A root field's value, and the search warnings it produced.
pub(crate) struct Resolved {
    pub(crate) value: Value,
    pub(crate) search: Option<Value>,
}

#[derive(Clone, Copy)]
enum SortKey {
    ProcessedAt,
    CreatedAt,
    UpdatedAt,
    Id,
    OrderNumber,
}

impl SortKey {
    fn parse(value: Option<&Value>) -> Result<Self, GraphqlError> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(Self::ProcessedAt);
        };
        match value.as_str().unwrap_or_default() {
            "PROCESSED_AT" => Ok(Self::ProcessedAt),
            "CREATED_AT" => Ok(Self::CreatedAt),
            "UPDATED_AT" => Ok(Self::UpdatedAt),
            "ID" => Ok(Self::Id),
            "ORDER_NUMBER" => Ok(Self::OrderNumber),
            other @ ("CUSTOMER_NAME"
            | "DESTINATION"
            | "FINANCIAL_STATUS"
            | "FULFILLMENT_STATUS"
            | "PO_NUMBER"
            | "RELEVANCE"
            | "TOTAL_ITEMS_QUANTITY"
            | "TOTAL_PRICE") => Err(GraphqlError::coded(
                format!("The Shopify double does not sort orders by {other}"),
                "argumentLiteralsIncompatible",
            )),
            other => Err(GraphqlError::coded(
                format!(
                    "Argument 'sortKey' on Field 'orders' has an invalid value ({other}). Expected type 'OrderSortKeys'."
                ),
                "argumentLiteralsIncompatible",
            )),
        }
    }

    fn value(self, order: &Order) -> u64 {
        match self {
            Self::ProcessedAt | Self::CreatedAt => order.created_ms,
            Self::UpdatedAt => order.updated_ms,
            Self::Id => order.id,
            Self::OrderNumber => order.number,
        }
    }
}

fn cursor(value: u64, id: u64) -> String {
    BASE64.encode(json!({"last_id": id, "last_value": value}).to_string())
}

fn decode_cursor(cursor: &str) -> Option<(u64, u64)> {
    let json: Value = serde_json::from_slice(&BASE64.decode(cursor).ok()?).ok()?;
    Some((json["last_value"].as_u64()?, json["last_id"].as_u64()?))
}

pub(crate) fn orders(state: &ShopifyState, field: &Field) -> Result<Resolved, GraphqlError> {
    let arguments = &field.arguments;
    let present = |name: &str| arguments.get(name).is_some_and(|v| !v.is_null());
    if present("last") || present("before") {
        return Err(GraphqlError::coded("The Shopify double pages forward only (first/after)".into(), "badRequest"));
    }
    let Some(first) = arguments.get("first").and_then(Value::as_u64) else {
        return Err(GraphqlError::coded("you must provide one of first or last".into(), "badRequest"));
    };
    if first > MAX_PAGE {
        return Err(GraphqlError::coded(
            format!("The first argument ({first}) exceeds the maximum page size of {MAX_PAGE}"),
            "badRequest",
        ));
    }
    let sort = SortKey::parse(arguments.get("sortKey"))?;
    let reverse = arguments.get("reverse").and_then(Value::as_bool).unwrap_or(false);
    let query = arguments.get("query").and_then(Value::as_str).unwrap_or_default();
    let search = search::parse(query).map_err(|message| GraphqlError::coded(message, "badRequest"))?;
    let after = match arguments.get("after").and_then(Value::as_str) {
        Some(text) => Some(decode_cursor(text).ok_or_else(|| {
            GraphqlError::coded(format!("Invalid cursor for the orders connection: {text}"), "badRequest")
        })?),
        None => None,
    };

    let mut matching: Vec<&Order> = state
        .orders
        .iter()
        .filter(|o| search.matches(&Candidate { created_ms: o.created_ms, updated_ms: o.updated_ms, number: o.number }))
        .collect();
    matching.sort_by_key(|o| (sort.value(o), o.id));
    if reverse {
        matching.reverse();
    }
    let beyond = |o: &Order, (value, id): (u64, u64)| {
        let key = (sort.value(o), o.id);
        if reverse { key < (value, id) } else { key > (value, id) }
    };
    let skipped = after.map_or(0, |at| matching.iter().take_while(|o| !beyond(o, at)).count());
    let rest = &matching[skipped..];
    let page = usize::try_from(first).expect("a page of at most 250");
    let edges = rest.iter().take(page).map(|o| (cursor(sort.value(o), o.id), state.order_node(o))).collect::<Vec<_>>();
    let value = connection("OrderConnection", edges, rest.len() > page, skipped > 0);
    let warnings = (!search.warnings.is_empty())
        .then(|| json!({"path": [field.key()], "query": query, "warnings": search.warnings}));
    Ok(Resolved { value, search: warnings })
}

pub(crate) fn order(state: &ShopifyState, field: &Field) -> Result<Resolved, GraphqlError> {
    let id = field.arguments.get("id").and_then(Value::as_str).unwrap_or_default();
    let Some(number) = gid_number("Order", id) else {
        return Err(GraphqlError::coded(format!("Invalid global id '{id}'"), "argumentLiteralsIncompatible"));
    };
    let value = state.orders.iter().find(|o| o.id == number).map_or(Value::Null, |o| state.order_node(o));
    Ok(Resolved { value, search: None })
}
