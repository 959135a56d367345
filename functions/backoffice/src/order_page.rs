//! One order: its timeline (each entry with time, actor and detail), its canonical JSON, the
//! original document, and the actions its state allows.

use axum::Extension;
use axum::extract::{Path, State as AxumState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use orderflow_shared::lifecycle::{HistoryKind, OrderRecord, State};
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{ObjectStore, OrderStore};

use crate::originals::Originals;

use crate::layout::{self, render, render_status};
use crate::portal::{App, Ports, Visitor};

#[derive(serde::Serialize)]
struct Entry {
    at: String,
    actor: String,
    actor_kind: &'static str,
    kind: HistoryKind,
    from: Option<State>,
    to: Option<State>,
    detail: String,
}

/// Who an entry's `by` names, in the words of the timeline.
fn actor_kind(by: &str) -> &'static str {
    if by.starts_with("operator:") {
        "operator"
    } else if by.contains("webhook") {
        "webhook"
    } else {
        "system"
    }
}

/// Where the original document is: an object of the bucket the converter read.
pub fn has_original(record: &OrderRecord) -> bool {
    record.source.starts_with("incoming/") || record.source.starts_with("rejected/")
}

pub async fn page<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    Extension(me): Extension<Visitor>,
    Path(key): Path<String>,
) -> Response {
    let record = match load::<P>(&portal, &me, &key).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    let timeline: Vec<Entry> = record
        .history
        .iter()
        .map(|e| Entry {
            at: e.at.clone(),
            actor: e.by.clone(),
            actor_kind: actor_kind(&e.by),
            kind: e.kind,
            from: e.from,
            to: e.to,
            detail: e.detail.clone(),
        })
        .collect();
    let canonical = serde_json::to_string_pretty(&record.order).unwrap_or_default();
    let retryable = crate::actions::retry_stage(&record).is_some();
    let cancellable = record.check(State::Cancelled).is_ok();
    let page = crate::page! {
        "title": format!("Order {}", record.order.order_number),
        "order": record,
        "timeline": timeline,
        "canonical": canonical,
        "original": has_original(&record),
        "retryable": retryable,
        "cancellable": cancellable,
    };
    render(&portal.config, &me, "order.html", "search", page)
}

/// The original document, as the bucket holds it, downloaded as a file rather than rendered.
pub async fn original<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    Extension(me): Extension<Visitor>,
    Path(key): Path<String>,
) -> Response {
    let record = match load::<P>(&portal, &me, &key).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    if !has_original(&record) {
        return not_found::<P>(&portal, &me, "This order came through a webhook; it has no original document.");
    }
    match portal.originals.link(&record.source).await {
        Ok(Some(url)) => return axum::response::Redirect::to(&url).into_response(),
        Ok(None) => {}
        Err(e) => return layout::unavailable(&portal.config, &me, "The original document", &e),
    }
    match portal.originals.get(&record.source).await {
        Ok(bytes) => {
            let name = record.source.rsplit('/').next().unwrap_or("original.xml").replace('"', "");
            (
                [
                    (header::CONTENT_TYPE, "application/xml".to_owned()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => layout::unavailable(&portal.config, &me, "The original document", &e),
    }
}

async fn load<P: Ports>(portal: &App<P>, me: &Visitor, key: &str) -> Result<OrderRecord, Response> {
    let Ok(key) = OrderKey::parse(key) else {
        return Err(not_found::<P>(portal, me, "No order has that key."));
    };
    match portal.service.store.get(&key).await {
        Ok(Some(record)) => Ok(record),
        Ok(None) => Err(not_found::<P>(portal, me, "No order has that key.")),
        Err(e) => Err(layout::unavailable(&portal.config, me, "The order", &e)),
    }
}

fn not_found<P: Ports>(portal: &App<P>, me: &Visitor, message: &str) -> Response {
    let page = crate::page! { "title": "Not found", "outcome": "failed", "message": message };
    render_status(StatusCode::NOT_FOUND, &portal.config, me, "outcome.html", "", page)
}
