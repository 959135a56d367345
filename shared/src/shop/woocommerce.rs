//! WooCommerce REST API v3: set the order's status, and leave a private note with the tracking.
//!
//! `PUT /orders/{id}` with the status is idempotent by itself. The note is not, so it carries
//! the action's idempotency key, and the order's notes are read before one is added: a repeat
//! after a crash finds its note and adds none (WooCommerce takes no idempotency key).

use reqwest::Method;
use serde_json::{Value, json};

use super::connector::ShopConnector;
use super::error::ShopError;
use super::{ActionDone, ActionRequest};
use crate::error::Retry;
use crate::mapping::MappingSource;

pub(crate) async fn set_status<M: MappingSource>(
    shop: &ShopConnector<M>,
    request: &ActionRequest<'_>,
    status: &str,
    note: bool,
) -> Result<ActionDone, ShopError> {
    let order = format!("/orders/{}", request.shop.order_id);
    let body = serde_json::to_vec(&json!({"status": status})).expect("JSON serialises");
    shop.call("PUT orders/{id}", Method::PUT, &order, Some(body), Vec::new()).await?;
    let mut sent = format!("status {status} on order {}", request.shop.order_id);
    if !note {
        return Ok(ActionDone { sent, platform_id: None });
    }
    let marker = format!("[{}]", request.idempotency_key);
    let notes = shop.call("GET orders/{id}/notes", Method::GET, &format!("{order}/notes"), None, Vec::new()).await?;
    let notes: Value = serde_json::from_str(&notes.body)
        .map_err(|e| ShopError::local(Retry::Transient, "bad_answer", format!("GET orders/{{id}}/notes: {e}")))?;
    let existing =
        notes.as_array().into_iter().flatten().find(|n| n["note"].as_str().is_some_and(|t| t.contains(&marker)));
    let note_id = match existing {
        Some(found) => found["id"].as_u64(),
        None => {
            let text = note_text(request, status, &marker);
            let body = serde_json::to_vec(&json!({"note": text, "customer_note": false, "added_by_user": true}))
                .expect("JSON serialises");
            let made = shop
                .call("POST orders/{id}/notes", Method::POST, &format!("{order}/notes"), Some(body), Vec::new())
                .await?;
            serde_json::from_str::<Value>(&made.body).ok().and_then(|n| n["id"].as_u64())
        }
    };
    sent.push_str(" and a note");
    Ok(ActionDone { sent, platform_id: note_id.map(|id| format!("note {id}")) })
}

fn note_text(request: &ActionRequest<'_>, status: &str, marker: &str) -> String {
    let mut text = format!("Order {} is {} ({status}).", request.record.order.order_number, request.state);
    if let Some(tracking) = &request.record.tracking {
        if let Some(number) = &tracking.number {
            text.push_str(&format!(" Tracking: {number}"));
        }
        if let Some(company) = &tracking.company {
            text.push_str(&format!(" ({company})"));
        }
        if let Some(url) = &tracking.url {
            text.push_str(&format!(" {url}"));
        }
    }
    format!("{text} {marker}")
}
