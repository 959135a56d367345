//! `/orders`, `/orders/{id}` and `/orders/{id}/notes` of the REST API v3.
//!
//! `GET /orders` filters by `status` (a list; `any`, the default, is every status but
//! `trash`), `modified_after`/`modified_before` and `after`/`before` (exclusive bounds, to the
//! second, as WordPress's date query), sorts by `orderby` (`date`, the default, `modified` or
//! `id`; ties broken by id in the same direction, as WooCommerce adds `ID` to the sort) and
//! `order` (`desc` by default), and pages by `page`/`per_page` (10 by default, at most 100)
//! with `X-WP-Total`, `X-WP-TotalPages` and `Link`. Paging is by offset, as WooCommerce's is:
//! an order modified between two page reads moves in the sort and can be seen twice or not
//! at all. Arguments WooCommerce declares and the double does not filter on (`search`,
//! `include`, `offset`, `customer`, …) are refused with a 400 instead of being ignored.
//!
//! `PUT /orders/{id}` changes `status` (any other field is refused); a change stamps the
//! modified date and leaves the system note WooCommerce leaves. `POST /orders/{id}/notes`
//! takes `note` (required), `customer_note` and `added_by_user`; `GET` lists the notes newest
//! first, by `type` (`any`, `customer`, `internal`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::params::{Params, wp_list};
use super::records::{ORDER_STATUSES, WooState};
use super::{not_served, query_pairs, wc_error};
use crate::server::json_response;

/// Collection arguments WooCommerce declares for orders that the double does not serve.
const UNSERVED: [&str; 10] =
    ["search", "exclude", "include", "offset", "parent", "parent_exclude", "customer", "product", "dp", "created_via"];

pub(crate) fn list(state: &WooState, uri: &Uri, headers: &HeaderMap) -> Response {
    let pairs = query_pairs(uri);
    if let Some((name, _)) = pairs.iter().find(|(k, _)| UNSERVED.contains(&k.trim_end_matches("[]"))) {
        return not_served(&format!("the orders argument `{name}`"));
    }
    // In the order WooCommerce declares them, which the refusal's message keeps.
    let mut params = Params::new(pairs);
    let page = params.integer("page", 1, 1, None);
    let per_page = params.integer("per_page", 10, 1, Some(100));
    let bounds = [
        (params.date("after"), Bound::CreatedAfter),
        (params.date("before"), Bound::CreatedBefore),
        (params.date("modified_after"), Bound::ModifiedAfter),
        (params.date("modified_before"), Bound::ModifiedBefore),
    ];
    params.boolean("dates_are_gmt");
    let order = params.one_of("order", "desc", &["asc", "desc"]);
    let orderby = params.one_of("orderby", "date", &["date", "id", "include", "title", "slug", "modified"]);
    let statuses_allowed: Vec<&'static str> = ["any", "trash"].into_iter().chain(ORDER_STATUSES).collect();
    let statuses = params.list_of("status", "any", &statuses_allowed);
    if let Some(refusal) = params.refusal() {
        return json_response(StatusCode::BAD_REQUEST, refusal);
    }
    if matches!(orderby, "include" | "title" | "slug") {
        return not_served(&format!("orderby={orderby}"));
    }

    let mut found: Vec<_> = state
        .orders
        .iter()
        .filter(|o| if statuses.contains(&"any") { o.status != "trash" } else { statuses.contains(&o.status) })
        .filter(|o| bounds.iter().all(|(at, bound)| at.is_none_or(|at| bound.holds(o.created_ms, o.modified_ms, at))))
        .collect();
    found.sort_by_key(|o| match orderby {
        "modified" => (o.modified_ms / 1_000, o.id),
        "id" => (0, o.id),
        _ => (o.created_ms / 1_000, o.id),
    });
    if order == "desc" {
        found.reverse();
    }
    let total = found.len() as u64;
    let pages = total.div_ceil(per_page);
    let skip = usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).expect("at most 100");
    let body: Vec<Value> = found.into_iter().skip(skip).take(take).map(WooState::order_json).collect();
    let mut response = json_response(StatusCode::OK, Value::Array(body));
    let out = response.headers_mut();
    out.insert("x-wp-total", HeaderValue::from(total));
    out.insert("x-wp-totalpages", HeaderValue::from(pages));
    if let Some(link) = links(uri, headers, page, pages) {
        out.insert(header::LINK, HeaderValue::from_str(&link).expect("a header value"));
    }
    response
}

#[derive(Clone, Copy)]
enum Bound {
    CreatedAfter,
    CreatedBefore,
    ModifiedAfter,
    ModifiedBefore,
}

impl Bound {
    /// WordPress compares dates to the second, and `after`/`before` exclude the bound.
    fn holds(self, created_ms: u64, modified_ms: u64, at: u64) -> bool {
        let (created, modified, at) = (created_ms / 1_000, modified_ms / 1_000, at / 1_000);
        match self {
            Self::CreatedAfter => created > at,
            Self::CreatedBefore => created < at,
            Self::ModifiedAfter => modified > at,
            Self::ModifiedBefore => modified < at,
        }
    }
}

/// The `Link` header: the previous and next pages, the other arguments kept.
fn links(uri: &Uri, headers: &HeaderMap, page: u64, pages: u64) -> Option<String> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let others: Vec<String> = query_pairs(uri)
        .into_iter()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| format!("{}={}", encode(&k), encode(&v)))
        .collect();
    let url = |n: u64| {
        let query = others.iter().cloned().chain([format!("page={n}")]).collect::<Vec<_>>().join("&");
        format!("<http://{host}{}?{query}>", uri.path())
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url((page - 1).min(pages.max(1)))));
    }
    if pages > page {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'[' | b']' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn position(state: &WooState, id: u64) -> Option<usize> {
    state.orders.iter().position(|o| o.id == id)
}

pub(crate) fn get(state: &WooState, id: u64) -> Response {
    match position(state, id) {
        Some(index) => json_response(StatusCode::OK, WooState::order_json(&state.orders[index])),
        None => wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
    }
}

pub(crate) fn update(state: &mut WooState, id: u64, body: &Map<String, Value>, now_ms: u64) -> Response {
    let Some(index) = position(state, id) else {
        return wc_error(StatusCode::BAD_REQUEST, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.");
    };
    if let Some(field) = body.keys().find(|k| k.as_str() != "status" && k.as_str() != "id") {
        return not_served(&format!("changing `{field}` of an order"));
    }
    if let Some(status) = body.get("status") {
        let Some(status) = ORDER_STATUSES.iter().find(|s| status.as_str() == Some(**s)) else {
            let message = format!("status is not one of {}.", wp_list(&ORDER_STATUSES));
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({
                    "code": "rest_invalid_param",
                    "message": "Invalid parameter(s): status",
                    "data": {
                        "status": 400,
                        "params": {"status": message},
                        "details": {"status": {"code": "rest_not_in_enum", "message": message, "data": null}},
                    },
                }),
            );
        };
        state.change_status(index, status, now_ms);
    }
    json_response(StatusCode::OK, WooState::order_json(&state.orders[index]))
}

pub(crate) fn notes(state: &WooState, id: u64, uri: &Uri) -> Response {
    if position(state, id).is_none() {
        return wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_shop_order_invalid_id", "Invalid order ID.");
    }
    let mut params = Params::new(query_pairs(uri));
    let kind = params.one_of("type", "any", &["any", "customer", "internal"]);
    if let Some(refusal) = params.refusal() {
        return json_response(StatusCode::BAD_REQUEST, refusal);
    }
    let found: Vec<Value> = state
        .notes
        .iter()
        .rev()
        .filter(|n| n.order_id == id)
        .filter(|n| match kind {
            "customer" => n.customer_note,
            "internal" => !n.customer_note,
            _ => true,
        })
        .map(WooState::note_json)
        .collect();
    json_response(StatusCode::OK, Value::Array(found))
}

pub(crate) fn add_note(state: &mut WooState, id: u64, body: &Map<String, Value>, now_ms: u64, path: &str) -> Response {
    let Some(note) = body.get("note").and_then(Value::as_str).filter(|n| !n.is_empty()) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"code": "rest_missing_callback_param", "message": "Missing parameter(s): note", "data": {"status": 400, "params": ["note"]}}),
        );
    };
    if position(state, id).is_none() {
        return wc_error(StatusCode::NOT_FOUND, "woocommerce_rest_order_invalid_id", "Invalid order ID.");
    }
    let flag = |name: &str| body.get(name).and_then(Value::as_bool).unwrap_or(false);
    let note = state.add_note(id, note.to_owned(), flag("customer_note"), flag("added_by_user"), now_ms);
    let mut response = json_response(StatusCode::CREATED, WooState::note_json(&note));
    let location = HeaderValue::from_str(&format!("{path}/{}", note.id)).expect("a header value");
    response.headers_mut().insert(header::LOCATION, location);
    response
}
