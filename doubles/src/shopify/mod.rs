//! A Shopify GraphQL Admin API double: `POST /admin/api/<version>/graphql.json` with the
//! `X-Shopify-Access-Token` header, for the subset shop sync uses (issue 17):
//!
//! - query root `orders(first:, after:, query:, sortKey:, reverse:)` and `order(id:)`
//!   ([`orders`]), with the order's line items, customer, totals as `MoneyBag`s,
//!   `fulfillmentOrders` and `fulfillments` ([`records`]);
//! - mutation `fulfillmentCreate` ([`fulfillment`]);
//! - for catalogue sync: `productSet`, `productDelete`, `inventorySetQuantities` with
//!   `compareQuantity` and `@idempotent(key:)`, and `productVariants(query: "sku:…")` ([`catalog`]).
//!
//! A request body is JSON `{query, variables, operationName}` (or `application/graphql`); the
//! document is parsed by a small hand parser ([`graphql`]), root fields are matched by name
//! and resolved, and each answer is cut to the selection ([`select`]); any other root field is
//! answered with a GraphQL error naming it. Each answer carries `extensions.cost`, and the
//! cost bucket throttles as Shopify's does ([`cost`]). A wrong or missing token is 401 with
//! Shopify's body. Faults are scripted with [`RunningShop::script`].
//!
//! Left out: `last`/`before` paging, and every other part of the Admin API.

mod catalog;
mod cost;
mod fulfillment;
mod graphql;
mod orders;
mod records;
mod search;
mod select;

use std::ops::Deref;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::ports::Clock;
use serde_json::{Map, Value, json};

pub use catalog::{SHOPIFY_LOCATION, ShopifyProduct, ShopifyVariant};
pub use cost::{SHOPIFY_BUCKET_SIZE, SHOPIFY_RESTORE_RATE};
pub use records::{ShopifyFulfillment, ShopifyState, Tracking};

use crate::server::{App, json_response};
use crate::shop::{Call, RunningShop, SeedOrder, ShopState, answer};
use cost::Bucket;
use graphql::{GraphqlError, Kind, Operation};

/// The Admin API access token the double accepts.
pub const SHOPIFY_ACCESS_TOKEN: &str = "shpat_local-dev-only-orderflow-shopify";
/// The API version [`FakeShopify::graphql_url`] names; the double serves any `YYYY-MM` and
/// `unstable` alike.
pub const SHOPIFY_API_VERSION: &str = "2026-01";

type ShopifyApp = App<ShopifyState>;

/// The running double; stopped when dropped. The script and the log are [`RunningShop`]'s.
pub struct FakeShopify(RunningShop<ShopifyState>);

impl Deref for FakeShopify {
    type Target = RunningShop<ShopifyState>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FakeShopify {
    /// The cost bucket refills on `clock`, which the test advances; updates are stamped with it.
    pub async fn start(clock: ManualClock) -> Self {
        Self::start_on(0, clock).await.expect("bind a fake Shopify")
    }

    /// On a given loopback port.
    pub async fn start_on(port: u16, clock: ManualClock) -> std::io::Result<Self> {
        RunningShop::start(Router::new().fallback(admin), port, clock).await.map(Self)
    }

    /// The GraphQL endpoint of [`SHOPIFY_API_VERSION`].
    pub fn graphql_url(&self) -> String {
        format!("{}/admin/api/{SHOPIFY_API_VERSION}/graphql.json", self.url)
    }

    /// An order that is in the shop already, paid, with one OPEN fulfillment order holding all
    /// its lines; returns its id, `gid://shopify/Order/<id>`.
    pub fn seed_order(&self, order: &SeedOrder) -> String {
        self.app.lock().seed(order)
    }

    /// Every order as a query selecting all the double serves would read it, in seeding order.
    pub fn orders(&self) -> Vec<Value> {
        let state = self.app.lock();
        state.orders.iter().map(|o| state.order_node(o)).collect()
    }

    /// The fulfillments created, oldest first.
    pub fn fulfillments(&self) -> Vec<ShopifyFulfillment> {
        self.app.lock().fulfillments.clone()
    }

    /// The products, in creation order.
    pub fn products(&self) -> Vec<ShopifyProduct> {
        self.app.lock().catalogue.list()
    }

    /// The variant with `sku`, if the shop has one.
    pub fn variant(&self, sku: &str) -> Option<ShopifyVariant> {
        let state = self.app.lock();
        state.catalogue.variant(sku).map(|(_, v)| v.clone())
    }

    /// A product with one variant that is in the shop already, e.g. made by hand; returns the
    /// product id.
    pub fn seed_product(&self, sku: &str, title: &str, price: &str, available: i64) -> u64 {
        let mut state = self.app.lock();
        let (id, variant_id, item_id) = (state.mint(), state.mint(), state.mint());
        let price = price.parse().expect("a decimal price");
        let variant = ShopifyVariant { id: variant_id, sku: sku.into(), price, inventory_item_id: item_id, available };
        let handle = sku.to_lowercase();
        state.catalogue.put(ShopifyProduct {
            id,
            handle,
            title: title.into(),
            status: "ACTIVE".into(),
            tags: vec!["hand-made".into()],
            variants: vec![variant],
        });
        id
    }

    /// Sets a variant's `available` behind the client's back, as a sale in the shop would.
    pub fn set_available(&self, sku: &str, available: i64) {
        let mut state = self.app.lock();
        let variant = state.catalogue.variant_mut(sku);
        variant.expect("a variant with this SKU").available = available;
    }

    /// How many `inventorySetQuantities` calls changed stock (a repeat under a known
    /// idempotency key does not count).
    pub fn inventory_changes(&self) -> u32 {
        self.app.lock().catalogue.inventory_changes
    }

    /// The store's plan: a cost bucket of `maximum_available` points restored at
    /// `restore_rate` points per second; the bucket starts full.
    pub fn set_rate_limit(&self, maximum_available: f64, restore_rate: f64) {
        self.app.lock().bucket = Bucket::new(maximum_available, restore_rate);
    }

    /// Spends every point in the bucket, as other calls of the same app would: the next
    /// request is THROTTLED until the clock has moved far enough to pay for it.
    pub fn empty_bucket(&self) {
        let mut state = self.app.lock();
        state.bucket.empty(&self.app.clock);
    }
}

/// Shopify's answer when a request comes faster than its rate limit allows.
fn too_many_requests() -> Value {
    json!({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."})
}

/// The API version in `/admin/api/<version>/graphql.json`, if the path is that.
fn version(path: &str) -> Option<&str> {
    let version = path.strip_prefix("/admin/api/")?.strip_suffix("/graphql.json")?;
    let dated = version.len() == 7
        && version.as_bytes()[4] == b'-'
        && version.chars().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit());
    (dated || version == "unstable").then_some(version)
}

async fn admin(State(app): State<ShopifyApp>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let refusal = match version(&path) {
        None => Some(json_response(StatusCode::NOT_FOUND, json!({"errors": "Not Found"}))),
        Some(_) if method != Method::POST => {
            Some(json_response(StatusCode::METHOD_NOT_ALLOWED, json!({"errors": "Method Not Allowed"})))
        }
        Some(_)
            if headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()) != Some(SHOPIFY_ACCESS_TOKEN) =>
        {
            Some(json_response(
                StatusCode::UNAUTHORIZED,
                json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
            ))
        }
        Some(_) => None,
    };
    if let Some(response) = refusal {
        app.lock().desk().log(method.as_str(), &path, None, Some(response.status().as_u16()));
        return response;
    }
    let parsed = request(&headers, &body);
    let operation = match &parsed {
        Some(Ok(operation)) => Some(operation.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(",")),
        _ => None,
    };
    let clock = app.clock.clone();
    let call = Call { method: method.as_str(), path: &path, operation };
    let mut response = answer(&app, call, too_many_requests, |state| match parsed {
        // Shopify's 400 for a body that holds no query.
        None => json_response(
            StatusCode::BAD_REQUEST,
            json!({"errors": {"query": "Required parameter missing or invalid"}}),
        ),
        Some(Err(error)) => json_response(StatusCode::OK, json!({"errors": [error.0]})),
        Some(Ok(operation)) => run(state, &clock, &operation),
    })
    .await;
    let version = HeaderValue::from_str(version(&path).expect("a GraphQL path")).expect("a header value");
    response.headers_mut().insert("x-shopify-api-version", version);
    response
}

/// The operation a request body asks for; `None` when the body holds no query.
fn request(headers: &HeaderMap, body: &[u8]) -> Option<Result<Operation, GraphqlError>> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("application/graphql") {
        let document = std::str::from_utf8(body).ok()?;
        return Some(graphql::operation(document, None, &Map::new()));
    }
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let document = request.get("query").and_then(Value::as_str)?;
    let variables = request.get("variables").and_then(Value::as_object).cloned().unwrap_or_default();
    let name = request.get("operationName").and_then(Value::as_str);
    Some(graphql::operation(document, name, &variables))
}

fn plain(value: Value) -> orders::Resolved {
    orders::Resolved { value, search: None }
}

/// Runs an operation the bucket can pay for, and answers it with its cost.
fn run(state: &mut ShopifyState, clock: &ManualClock, operation: &Operation) -> Response {
    let requested = cost::requested(operation);
    if let Some(error) = cost::over_limit(requested) {
        let body = json!({"errors": [error.0], "extensions": cost::extension(requested, None, &state.bucket)});
        return json_response(StatusCode::OK, body);
    }
    if !state.bucket.take(requested, clock) {
        return json_response(StatusCode::OK, cost::throttled(requested, &state.bucket));
    }
    let mut errors = Vec::new();
    let mut data = Map::new();
    let mut searches = Vec::new();
    for field in &operation.fields {
        let value = match (operation.kind, field.name.as_str()) {
            (Kind::Query, "orders") => orders::orders(state, field),
            (Kind::Query, "order") => orders::order(state, field),
            (Kind::Mutation, "fulfillmentCreate") => match fulfillment::create(state, field, clock.now_ms()) {
                Ok(payload) => Ok(orders::Resolved { value: payload, search: None }),
                Err(found) => {
                    errors.extend(found);
                    continue;
                }
            },
            (Kind::Mutation, "productSet") => Ok(plain(catalog::product_set(state, field))),
            (Kind::Mutation, "productDelete") => Ok(plain(catalog::product_delete(state, field))),
            (Kind::Mutation, "inventorySetQuantities") => Ok(plain(catalog::inventory_set_quantities(state, field))),
            (Kind::Query, "productVariants") => Ok(plain(catalog::product_variants(state, field))),
            (_, name) => {
                let root = if operation.kind == Kind::Query { "QueryRoot" } else { "Mutation" };
                Err(GraphqlError::at(
                    format!("Field '{name}' on type '{root}' is not served by the Shopify double"),
                    field.line,
                    field.column,
                ))
            }
        };
        match value {
            Ok(resolved) => {
                searches.extend(resolved.search);
                data.insert(field.key().to_owned(), select::project(&resolved.value, field, false, &mut errors));
            }
            Err(error) => errors.push(error),
        }
    }
    let data = Value::Object(data);
    let actual = cost::actual(operation, &data);
    state.bucket.refund(requested, actual);
    let mut extensions = cost::extension(requested, Some(actual), &state.bucket);
    if !searches.is_empty() {
        extensions["search"] = Value::Array(searches);
    }
    // An answer with errors carries no data, as Shopify's does for a query it rejects.
    let body = if errors.is_empty() {
        json!({"data": data, "extensions": extensions})
    } else {
        json!({"errors": errors.into_iter().map(|e| e.0).collect::<Vec<_>>(), "extensions": extensions})
    };
    json_response(StatusCode::OK, body)
}
