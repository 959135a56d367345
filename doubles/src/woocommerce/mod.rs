//! A WooCommerce REST API v3 double (`/wp-json/wc/v3/…`) for the subsets shop sync (issue 17)
//! and catalogue sync (issue 18) use: orders with their notes ([`orders`]) and products
//! ([`products`]). Errors have WooCommerce's shape, `{"code": "woocommerce_rest_…", "message",
//! "data": {"status"}}`, with its codes and wording; a route it does not have is WordPress's
//! `rest_no_route`.
//!
//! Authentication is by consumer key and secret, as HTTP Basic or as the `consumer_key` and
//! `consumer_secret` query parameters. WooCommerce takes those only over HTTPS (over HTTP it
//! wants OAuth 1.0a signatures); the double serves plain HTTP on the loopback and takes them
//! there. A wrong secret for the known key is 401 `woocommerce_rest_authentication_error`; a
//! missing or unknown key leaves the request anonymous, and the route refuses it with its own
//! 401 (`woocommerce_rest_cannot_view`, `…_cannot_edit`, …), as WooCommerce does. Faults are
//! scripted with [`RunningShop::script`]; the 429 body is the double's, since WooCommerce has no
//! rate limit of its own and a 429 comes from the host in front of it.

mod orders;
mod params;
mod products;
mod records;

use std::ops::Deref;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::ports::Clock;
use serde_json::{Map, Value, json};

pub use records::{StatusChange, WooNote, WooState};

use crate::server::{App, json_response};
use crate::shop::{Call, RunningShop, SeedOrder, ShopState, answer};
use records::ORDER_STATUSES;

pub const WOO_CONSUMER_KEY: &str = "ck_local-dev-only-orderflow-woo";
pub const WOO_CONSUMER_SECRET: &str = "cs_local-dev-only-orderflow-woo";
/// The WordPress user the keys belong to: the author of notes `added_by_user`.
const WOO_USER: &str = "orderflow";
const WOO_ROOT: &str = "/wp-json/wc/v3";

type WooApp = App<WooState>;

/// The running double; stopped when dropped. The script and the log are [`RunningShop`]'s.
pub struct FakeWoo(RunningShop<WooState>);

impl Deref for FakeWoo {
    type Target = RunningShop<WooState>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FakeWoo {
    /// Changes are stamped with `clock`, which the test advances.
    pub async fn start(clock: ManualClock) -> Self {
        Self::start_on(0, clock).await.expect("bind a fake WooCommerce")
    }

    /// On a given loopback port.
    pub async fn start_on(port: u16, clock: ManualClock) -> std::io::Result<Self> {
        RunningShop::start(Router::new().fallback(rest), port, clock).await.map(Self)
    }

    /// The API root, `…/wp-json/wc/v3`.
    pub fn base_url(&self) -> String {
        format!("{}{WOO_ROOT}", self.url)
    }

    /// An order that is in the shop already, with `status`; returns its id.
    ///
    /// # Panics
    /// When `status` is not one of WooCommerce's order statuses.
    pub fn seed_order(&self, order: &SeedOrder, status: &str) -> u64 {
        let status = ORDER_STATUSES.into_iter().find(|s| *s == status).expect("a WooCommerce order status");
        self.app.lock().seed(order, status)
    }

    /// A simple product with managed stock; returns its id.
    pub fn seed_product(&self, sku: &str, name: &str, regular_price: &str, stock: i64) -> u64 {
        let now = self.app.clock.now_ms();
        products::seed(&mut self.app.lock(), sku, name, regular_price, stock, now)
    }

    /// Every order as `GET /orders/{id}` reads it, in seeding order.
    pub fn orders(&self) -> Vec<Value> {
        self.app.lock().orders.iter().map(WooState::order_json).collect()
    }

    /// Every note of every order, oldest first, including those status changes left.
    pub fn notes(&self) -> Vec<WooNote> {
        self.app.lock().notes.clone()
    }

    /// The status changes made through the API, oldest first.
    pub fn status_changes(&self) -> Vec<StatusChange> {
        self.app.lock().status_changes.clone()
    }

    /// Every product, trashed ones too, as `GET /products` reads them, in creation order.
    pub fn products(&self) -> Vec<Value> {
        self.app.lock().products.iter().map(WooState::product_json).collect()
    }
}

pub(crate) fn wc_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, json!({"code": code, "message": message, "data": {"status": status.as_u16()}}))
}

/// A 400 for what WooCommerce serves and the double does not, rather than a silent ignore.
pub(crate) fn not_served(what: &str) -> Response {
    wc_error(
        StatusCode::BAD_REQUEST,
        "woocommerce_double_not_served",
        &format!("The WooCommerce double does not serve {what}"),
    )
}

pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    Query::<Vec<(String, String)>>::try_from_uri(uri).map(|q| q.0).unwrap_or_default()
}

fn too_many_requests() -> Value {
    json!({"code": "too_many_requests", "message": "Too many requests.", "data": {"status": 429}})
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Orders,
    Order(u64),
    UpdateOrder(u64),
    Notes(u64),
    AddNote(u64),
    Products,
    ProductsBatch,
}

impl Route {
    fn find(method: &Method, path: &str) -> Option<Self> {
        let editable = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        // Ids are digits, as WooCommerce's routes' `(?P<id>[\d]+)`.
        let id = |s: &str| s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse().ok()).flatten();
        match (segments.as_slice(), editable) {
            (["orders"], false) if *method == Method::GET => Some(Self::Orders),
            (["orders", n], false) if *method == Method::GET => id(n).map(Self::Order),
            (["orders", n], true) => id(n).map(Self::UpdateOrder),
            (["orders", n, "notes"], false) if *method == Method::GET => id(n).map(Self::Notes),
            (["orders", n, "notes"], true) if *method == Method::POST => id(n).map(Self::AddNote),
            (["products"], false) if *method == Method::GET => Some(Self::Products),
            (["products", "batch"], true) => Some(Self::ProductsBatch),
            _ => None,
        }
    }

    /// What WooCommerce's permission check answers an anonymous request on this route.
    fn anonymous(self) -> Response {
        let (code, message) = match self {
            Self::Orders | Self::Notes(_) | Self::Products => {
                ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
            }
            Self::Order(_) => ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
            Self::UpdateOrder(_) => {
                ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
            }
            Self::AddNote(_) => ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
            Self::ProductsBatch => {
                ("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource.")
            }
        };
        wc_error(StatusCode::UNAUTHORIZED, code, message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credentials {
    Valid,
    /// The known key with another secret, by Basic (`true`) or by query.
    WrongSecret(bool),
    /// None, or a key WooCommerce does not know: the request goes on anonymous.
    Anonymous,
}

fn credentials(headers: &HeaderMap, uri: &Uri) -> Credentials {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| BASE64.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| pair.split_once(':').map(|(k, s)| (k.to_owned(), s.to_owned())));
    let (pair, by_basic) = match basic {
        Some(pair) => (Some(pair), true),
        None => {
            let pairs = query_pairs(uri);
            let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            (get("consumer_key").zip(get("consumer_secret")), false)
        }
    };
    match pair {
        Some((key, secret)) if key == WOO_CONSUMER_KEY && secret == WOO_CONSUMER_SECRET => Credentials::Valid,
        Some((key, _)) if key == WOO_CONSUMER_KEY => Credentials::WrongSecret(by_basic),
        _ => Credentials::Anonymous,
    }
}

async fn rest(State(app): State<WooApp>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let route = path.strip_prefix(WOO_ROOT).and_then(|rest| Route::find(&method, rest));
    let refusal = match (credentials(&headers, &uri), route) {
        (Credentials::WrongSecret(by_basic), _) => {
            let mut response = wc_error(
                StatusCode::UNAUTHORIZED,
                "woocommerce_rest_authentication_error",
                "Consumer secret is invalid.",
            );
            if by_basic {
                let challenge = r#"Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field.""#;
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
            Some(response)
        }
        (_, None) => Some(wc_error(
            StatusCode::NOT_FOUND,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        )),
        (Credentials::Anonymous, Some(route)) => Some(route.anonymous()),
        (Credentials::Valid, Some(_)) => None,
    };
    let Some(route) = route.filter(|_| refusal.is_none()) else {
        let response = refusal.expect("a refusal when no route may run");
        app.lock().desk().log(method.as_str(), &path, None, Some(response.status().as_u16()));
        return response;
    };
    let now = app.clock.now_ms();
    let call = Call { method: method.as_str(), path: &path, operation: None };
    answer(&app, call, too_many_requests, |state| match route {
        Route::Orders => orders::list(state, &uri, &headers),
        Route::Order(id) => orders::get(state, id),
        Route::Notes(id) => orders::notes(state, id, &uri),
        Route::Products => products::list(state, &uri),
        Route::UpdateOrder(id) => with_json(&body, |fields| orders::update(state, id, fields, now)),
        Route::AddNote(id) => with_json(&body, |fields| orders::add_note(state, id, fields, now, &path)),
        Route::ProductsBatch => with_json(&body, |fields| products::batch(state, fields, now)),
    })
    .await
}

/// Runs `write` on the JSON object body; an empty body is an empty object.
fn with_json(body: &[u8], write: impl FnOnce(&Map<String, Value>) -> Response) -> Response {
    if body.iter().all(u8::is_ascii_whitespace) {
        return write(&Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => write(&fields),
        _ => json_response(
            StatusCode::BAD_REQUEST,
            json!({"code": "rest_invalid_json", "message": "Invalid JSON body passed.", "data": {"status": 400}}),
        ),
    }
}
