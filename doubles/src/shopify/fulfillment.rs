//! `fulfillmentCreate(fulfillment: FulfillmentInput!)`: fulfils fulfillment order line items of
//! one order, with optional tracking (`number`/`numbers`, `url`/`urls`, `company`; the first of
//! each list is kept) and `notifyCustomer`. A fulfillment order listed without line items is
//! fulfilled in full, as Shopify documents. A fulfillment order left with nothing to fulfil is
//! CLOSED, one partly fulfilled IN_PROGRESS; the order's `updatedAt` moves to now.
//!
//! A request Shopify would refuse is answered with `userErrors` and no fulfillment, never an
//! HTTP error: a fulfillment order that is not OPEN or IN_PROGRESS (`Fulfillment order <n> has
//! an unfulfillable status= closed.`, the wording Shopify answers), an unknown id, a quantity
//! over what remains, fulfillment orders of two orders. Only the closed-status wording is
//! Shopify's; the `field` paths and the other messages are the double's.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::graphql::{Field, GraphqlError};
use super::records::{ShopifyFulfillment, ShopifyState, Tracking, gid, gid_number};
use super::select;

/// One fulfillment order line item to fulfil: indexes into the state, and how many.
struct Part {
    fulfillment_order: usize,
    line: usize,
    quantity: u32,
}

struct Plan {
    order_id: u64,
    parts: Vec<Part>,
    tracking: Option<Tracking>,
    notify_customer: bool,
}

/// The payload, or the GraphQL errors that stop the mutation before it changes anything.
pub(crate) fn create(state: &mut ShopifyState, field: &Field, now_ms: u64) -> Result<Value, Vec<GraphqlError>> {
    // The selection is checked on a payload of the same shape before anything changes.
    let mut errors = Vec::new();
    select::project(&payload_template(state), field, false, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(input) = field.arguments.get("fulfillment").filter(|v| v.is_object()) else {
        return Err(vec![GraphqlError::at(
            "Field 'fulfillmentCreate' is missing required arguments: fulfillment".into(),
            field.line,
            field.column,
        )]);
    };
    let payload = match plan(state, input) {
        Err(user_errors) => {
            json!({"__typename": "FulfillmentCreatePayload", "fulfillment": null, "userErrors": user_errors})
        }
        Ok(plan) => {
            let fulfillment = apply(state, plan, now_ms);
            json!({"__typename": "FulfillmentCreatePayload", "fulfillment": fulfillment, "userErrors": []})
        }
    };
    Ok(payload)
}

fn user_error(field: &[&str], message: String) -> Value {
    json!({"__typename": "UserError", "field": field, "message": message})
}

fn payload_template(state: &ShopifyState) -> Value {
    json!({
        "__typename": "FulfillmentCreatePayload",
        "fulfillment": state.fulfillment_template(),
        "userErrors": [user_error(&["fulfillment"], String::new())],
    })
}

fn plan(state: &ShopifyState, input: &Value) -> Result<Plan, Vec<Value>> {
    let groups = input["lineItemsByFulfillmentOrder"].as_array().filter(|g| !g.is_empty()).ok_or_else(|| {
        vec![user_error(
            &["fulfillment", "lineItemsByFulfillmentOrder"],
            "At least one fulfillment order is required.".into(),
        )]
    })?;
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    let mut order_id = None;
    // What this request already takes from each fulfillment order line, listed twice or not.
    let mut claimed: HashMap<(usize, usize), u32> = HashMap::new();
    for (index, group) in groups.iter().enumerate() {
        let position = index.to_string();
        let path = ["fulfillment", "lineItemsByFulfillmentOrder", position.as_str()];
        let id = group["fulfillmentOrderId"].as_str().unwrap_or_default();
        let found =
            gid_number("FulfillmentOrder", id).and_then(|n| state.fulfillment_orders.iter().position(|fo| fo.id == n));
        let Some(fo_index) = found else {
            errors.push(user_error(
                &[&path[..], &["fulfillmentOrderId"]].concat(),
                "Fulfillment order does not exist.".into(),
            ));
            continue;
        };
        let fo = &state.fulfillment_orders[fo_index];
        if !matches!(fo.status, "OPEN" | "IN_PROGRESS") {
            let message =
                format!("Fulfillment order {} has an unfulfillable status= {}.", fo.id, fo.status.to_lowercase());
            errors.push(user_error(&[&path[..], &["fulfillmentOrderId"]].concat(), message));
            continue;
        }
        if *order_id.get_or_insert(fo.order_id) != fo.order_id {
            errors.push(user_error(&path, "All fulfillment orders must belong to the same order.".into()));
            continue;
        }
        match group["fulfillmentOrderLineItems"].as_array().filter(|l| !l.is_empty()) {
            None => {
                for line in 0..fo.lines.len() {
                    let taken = claimed.entry((fo_index, line)).or_default();
                    let quantity = fo.lines[line].remaining - *taken;
                    if quantity > 0 {
                        *taken += quantity;
                        parts.push(Part { fulfillment_order: fo_index, line, quantity });
                    }
                }
            }
            Some(items) => {
                for (item_index, item) in items.iter().enumerate() {
                    let item_position = item_index.to_string();
                    let item_path = [&path[..], &["fulfillmentOrderLineItems", item_position.as_str()]].concat();
                    let line_id = item["id"].as_str().and_then(|g| gid_number("FulfillmentOrderLineItem", g));
                    let Some(line) = line_id.and_then(|n| fo.lines.iter().position(|l| l.id == n)) else {
                        errors.push(user_error(&item_path, "Fulfillment order line item does not exist.".into()));
                        continue;
                    };
                    let quantity = item["quantity"].as_u64().and_then(|q| u32::try_from(q).ok()).unwrap_or(0);
                    let taken = claimed.entry((fo_index, line)).or_default();
                    if quantity == 0 || quantity > fo.lines[line].remaining - *taken {
                        errors.push(user_error(
                            &item_path,
                            "Invalid fulfillment order line item quantity requested.".into(),
                        ));
                        continue;
                    }
                    *taken += quantity;
                    parts.push(Part { fulfillment_order: fo_index, line, quantity });
                }
            }
        }
    }
    if errors.is_empty() && parts.is_empty() {
        errors.push(user_error(&["fulfillment"], "Nothing is left to fulfill on these fulfillment orders.".into()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let tracking = input.get("trackingInfo").filter(|t| t.is_object()).map(|t| {
        let first = |one: &str, many: &str| {
            t[one].as_str().or_else(|| t[many].get(0).and_then(Value::as_str)).map(str::to_owned)
        };
        let company = t["company"].as_str().map(str::to_owned);
        Tracking { number: first("number", "numbers"), url: first("url", "urls"), company }
    });
    Ok(Plan {
        order_id: order_id.expect("a fulfillment order was found"),
        parts,
        tracking,
        notify_customer: input["notifyCustomer"].as_bool().unwrap_or(false),
    })
}

fn apply(state: &mut ShopifyState, plan: Plan, now_ms: u64) -> Value {
    let mut line_items = Vec::new();
    let mut parts = Vec::new();
    for part in &plan.parts {
        let fo = &mut state.fulfillment_orders[part.fulfillment_order];
        let line = &mut fo.lines[part.line];
        line.remaining -= part.quantity;
        let line_item_id = line.line_item_id;
        fo.status = if fo.lines.iter().all(|l| l.remaining == 0) { "CLOSED" } else { "IN_PROGRESS" };
        fo.updated_ms = now_ms;
        let order = state.orders.iter().find(|o| o.id == plan.order_id).expect("the order of a fulfillment order");
        let sku = order.lines.iter().find(|l| l.id == line_item_id).map(|l| l.sku.clone()).unwrap_or_default();
        line_items.push((sku, part.quantity));
        parts.push((state.mint(), line_item_id));
    }
    let order_gid = gid("Order", plan.order_id);
    let ordinal = state.fulfillments.iter().filter(|f| f.order_id == order_gid).count() + 1;
    let fulfillment = ShopifyFulfillment {
        id: gid("Fulfillment", state.mint()),
        order_id: order_gid,
        status: "SUCCESS".into(),
        tracking: plan.tracking,
        notify_customer: plan.notify_customer,
        line_items,
        created_ms: now_ms,
        ordinal,
        parts,
    };
    let order = state.orders.iter_mut().find(|o| o.id == plan.order_id).expect("the fulfilled order");
    order.updated_ms = now_ms;
    state.fulfillments.push(fulfillment);
    let order = state.orders.iter().find(|o| o.id == plan.order_id).expect("the fulfilled order");
    state.fulfillment_node(order, state.fulfillments.last().expect("the fulfillment just created"))
}
