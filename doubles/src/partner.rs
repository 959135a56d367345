//! A B2B partner's order API, for the order poller's generic source: `GET /v1/purchase-orders`
//! with `updated_since` (RFC 3339, inclusive), `limit` (at most 100) and an opaque `cursor`,
//! answering `{"data": [...], "next_cursor": "..." | null}`, records sorted by `updated_at`
//! then id, authenticated by an `X-Api-Key` header.
//!
//! Not modelled on one product: it is the shape many partner portals give (a list endpoint, an
//! update-time filter, a continuation cursor). The cursor holds the last record's update time
//! and id, so a page starts strictly after it wherever records moved since. Faults are scripted
//! with [`RunningShop::script`]; the 429 body is the double's.

use std::ops::Deref;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use orderflow_shared::adapters::embedded::ManualClock;
use serde_json::{Value, json};

use crate::server::{App, json_response};
use crate::shop::{Call, Desk, RunningShop, SeedOrder, ShopState, answer, rfc3339_ms, utc_text};

/// The key the double accepts in `X-Api-Key`.
pub const PARTNER_API_KEY: &str = "pk_local-dev-only-orderflow-partner";
const LIST_PATH: &str = "/v1/purchase-orders";
const MAX_LIMIT: usize = 100;

#[derive(Default)]
pub struct PartnerState {
    desk: Desk,
    orders: Vec<(SeedOrder, String)>,
}

impl ShopState for PartnerState {
    fn desk(&mut self) -> &mut Desk {
        &mut self.desk
    }
}

/// The running double; stopped when dropped.
pub struct FakePartner(RunningShop<PartnerState>);

impl Deref for FakePartner {
    type Target = RunningShop<PartnerState>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FakePartner {
    pub async fn start(clock: ManualClock) -> Self {
        Self::start_on(0, clock).await.expect("bind a fake partner")
    }

    pub async fn start_on(port: u16, clock: ManualClock) -> std::io::Result<Self> {
        RunningShop::start(Router::new().fallback(list), port, clock).await.map(Self)
    }

    /// The API root; the list is at `…/v1/purchase-orders`.
    pub fn base_url(&self) -> String {
        self.url.clone()
    }

    /// A purchase order in `status` (the partner's own words, e.g. `confirmed`, `draft`).
    pub fn seed_order(&self, order: &SeedOrder, status: &str) {
        self.app.lock().orders.push((order.clone(), status.to_owned()));
    }
}

fn record(order: &SeedOrder, status: &str) -> Value {
    let items: Vec<Value> = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({"line": (i + 1).to_string(), "item_code": l.sku, "description": l.name,
                   "qty": l.quantity.to_string(), "unit_price": l.unit_price.to_string(), "amount": l.total().to_string()})
        })
        .collect();
    let c = &order.customer;
    json!({
        "id": order.id.to_string(),
        "po_number": format!("PO-{}", order.number),
        "status": status,
        "order_date": utc_text(order.created_ms, false)[..10],
        "created_at": utc_text(order.created_ms, true),
        "updated_at": utc_text(order.updated_ms, true),
        "currency": order.currency,
        "buyer": {"name": format!("{} {}", c.first_name, c.last_name).trim(), "email": c.email, "company": c.company},
        "items": items,
        "total": order.total().to_string(),
    })
}

fn cursor_of(order: &SeedOrder) -> String {
    format!("{}-{}", order.updated_ms / 1_000, order.id)
}

fn parse_cursor(text: &str) -> Option<(u64, u64)> {
    let (at, id) = text.split_once('-')?;
    Some((at.parse().ok()?, id.parse().ok()?))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({"error": {"code": status.as_u16().to_string(), "message": message}}))
}

async fn list(State(app): State<App<PartnerState>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let refusal = if method != Method::GET || path != LIST_PATH {
        Some(refuse(StatusCode::NOT_FOUND, "no such route"))
    } else if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(PARTNER_API_KEY) {
        Some(refuse(StatusCode::UNAUTHORIZED, "missing or unknown API key"))
    } else {
        None
    };
    if let Some(response) = refusal {
        app.lock().desk().log(method.as_str(), &path, None, Some(response.status().as_u16()));
        return response;
    }
    let params = Query::<Vec<(String, String)>>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let since = get("updated_since").map(|t| rfc3339_ms(&t));
    let limit = get("limit").map_or(Some(MAX_LIMIT), |l| l.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)));
    let after = get("cursor").map(|c| parse_cursor(&c));
    let call = Call { method: method.as_str(), path: &path, operation: None };
    answer(
        &app,
        call,
        || json!({"error": {"code": "429", "message": "slow down"}}),
        |state| {
            let (Some(since), Some(limit), Some(after)) =
                (since.unwrap_or(Some(0)), limit, after.map_or(Some(None), |a| a.map(Some)))
            else {
                return refuse(StatusCode::BAD_REQUEST, "updated_since must be RFC 3339, limit 1-100, cursor as given");
            };
            // Compared to the second, as the dates are written.
            let mut found: Vec<&(SeedOrder, String)> =
                state.orders.iter().filter(|(o, _)| o.updated_ms / 1_000 >= since / 1_000).collect();
            found.sort_by_key(|(o, _)| (o.updated_ms / 1_000, o.id));
            let rest: Vec<_> =
                found.into_iter().filter(|(o, _)| after.is_none_or(|a| (o.updated_ms / 1_000, o.id) > a)).collect();
            let page: Vec<_> = rest.iter().take(limit).collect();
            let next = (rest.len() > limit).then(|| page.last().map(|(o, _)| cursor_of(o))).flatten();
            let data: Vec<Value> = page.iter().map(|(o, s)| record(o, s)).collect();
            json_response(StatusCode::OK, json!({"data": data, "next_cursor": next}))
        },
    )
    .await
}
