//! `/products` of the REST API v3, for catalogue and stock sync (issue 18): `GET /products`
//! with `sku` (one or several, comma-separated) and `page`/`per_page`, newest first; and
//! `POST /products/batch` with `create`, `update` and `delete`, at most 100 items together
//! (WooCommerce's default limit, answered 413 beyond it). Each item fails or succeeds on its
//! own, as in WooCommerce: a duplicate SKU on create, an unknown id on update or delete, come
//! back as that item's `error`. Fields served: `name`, `sku`, `regular_price`, `manage_stock`,
//! `stock_quantity`, `status`; any other field fails its item. Delete moves to the trash.

use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::params::Params;
use super::records::{WooProduct, WooState};
use super::{not_served, query_pairs, wc_error};
use crate::server::json_response;

/// WooCommerce's default `woocommerce_rest_batch_items_limit`.
const BATCH_LIMIT: usize = 100;
const FIELDS: [&str; 6] = ["name", "sku", "regular_price", "manage_stock", "stock_quantity", "status"];
/// Collection arguments WooCommerce declares for products that the double does not serve.
const UNSERVED: [&str; 12] = [
    "search",
    "include",
    "exclude",
    "offset",
    "status",
    "type",
    "category",
    "tag",
    "stock_status",
    "featured",
    "on_sale",
    "slug",
];

pub(crate) fn list(state: &WooState, uri: &Uri) -> Response {
    let pairs = query_pairs(uri);
    if let Some((name, _)) = pairs.iter().find(|(k, _)| UNSERVED.contains(&k.as_str())) {
        return not_served(&format!("the products argument `{name}`"));
    }
    let mut params = Params::new(pairs);
    let page = params.integer("page", 1, 1, None);
    let per_page = params.integer("per_page", 10, 1, Some(100));
    let skus: Option<Vec<String>> =
        params.get("sku").map(|s| s.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect());
    if let Some(refusal) = params.refusal() {
        return json_response(StatusCode::BAD_REQUEST, refusal);
    }
    let mut found: Vec<&WooProduct> = state
        .products
        .iter()
        .filter(|p| p.status != "trash")
        .filter(|p| skus.as_ref().is_none_or(|skus| skus.contains(&p.sku)))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse((p.created_ms / 1_000, p.id)));
    let total = found.len() as u64;
    let skip = usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).expect("at most 100");
    let body: Vec<Value> = found.into_iter().skip(skip).take(take).map(WooState::product_json).collect();
    let mut response = json_response(StatusCode::OK, Value::Array(body));
    response.headers_mut().insert("x-wp-total", HeaderValue::from(total));
    response.headers_mut().insert("x-wp-totalpages", HeaderValue::from(total.div_ceil(per_page)));
    response
}

pub(crate) fn batch(state: &mut WooState, body: &Map<String, Value>, now_ms: u64) -> Response {
    let items = |action: &str| body.get(action).and_then(Value::as_array).cloned().unwrap_or_default();
    let (create, update, delete) = (items("create"), items("update"), items("delete"));
    if create.len() + update.len() + delete.len() > BATCH_LIMIT {
        return wc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "woocommerce_rest_request_entity_too_large",
            &format!("Unable to accept more than {BATCH_LIMIT} items for this request."),
        );
    }
    let mut out = Map::new();
    if body.contains_key("create") {
        let done = create.iter().map(|item| created(state, item, now_ms)).collect();
        out.insert("create".into(), Value::Array(done));
    }
    if body.contains_key("update") {
        let done = update.iter().map(|item| updated(state, item, now_ms)).collect();
        out.insert("update".into(), Value::Array(done));
    }
    if body.contains_key("delete") {
        let done = delete.iter().map(|item| deleted(state, item, now_ms)).collect();
        out.insert("delete".into(), Value::Array(done));
    }
    json_response(StatusCode::OK, Value::Object(out))
}

fn item_error(id: u64, code: &str, message: &str, data: Value) -> Value {
    json!({"id": id, "error": {"code": code, "message": message, "data": data}})
}

/// The first field of `item` the double does not serve, as that item's error.
fn unserved_field(id: u64, item: &Value) -> Option<Value> {
    let field = item.as_object()?.keys().find(|k| k.as_str() != "id" && !FIELDS.contains(&k.as_str()))?;
    let message = format!("The WooCommerce double does not serve the product field `{field}`");
    Some(item_error(id, "woocommerce_double_not_served", &message, json!({"status": 400})))
}

fn duplicate_sku(state: &WooState, sku: &str, except: u64) -> Option<Value> {
    let other = state.products.iter().find(|p| !sku.is_empty() && p.sku == sku && p.id != except)?;
    Some(item_error(
        except,
        "product_invalid_sku",
        "Invalid or duplicated SKU.",
        json!({"status": 400, "resource_id": other.id, "unique_sku": sku}),
    ))
}

/// Applies the served fields of `item` to `product`.
fn apply(product: &mut WooProduct, item: &Value) {
    if let Some(name) = item["name"].as_str() {
        name.clone_into(&mut product.name);
    }
    if let Some(sku) = item["sku"].as_str() {
        sku.clone_into(&mut product.sku);
    }
    if let Some(price) = item["regular_price"].as_str() {
        price.clone_into(&mut product.regular_price);
    }
    if let Some(manage) = item["manage_stock"].as_bool() {
        product.manage_stock = manage;
    }
    if let Some(quantity) = item["stock_quantity"].as_i64() {
        product.stock_quantity = Some(quantity);
    }
    if let Some(status) = item["status"].as_str() {
        status.clone_into(&mut product.status);
    }
}

fn created(state: &mut WooState, item: &Value, now_ms: u64) -> Value {
    if let Some(error) = unserved_field(0, item) {
        return error;
    }
    if let Some(error) = duplicate_sku(state, item["sku"].as_str().unwrap_or_default(), 0) {
        return error;
    }
    let mut product = WooProduct {
        id: state.mint(),
        name: String::new(),
        sku: String::new(),
        regular_price: String::new(),
        manage_stock: false,
        stock_quantity: None,
        status: "publish".into(),
        created_ms: now_ms,
        modified_ms: now_ms,
    };
    apply(&mut product, item);
    let body = WooState::product_json(&product);
    state.products.push(product);
    body
}

fn updated(state: &mut WooState, item: &Value, now_ms: u64) -> Value {
    let id = item["id"].as_u64().unwrap_or(0);
    let Some(index) = state.products.iter().position(|p| p.id == id) else {
        return item_error(id, "woocommerce_rest_product_invalid_id", "Invalid ID.", json!({"status": 400}));
    };
    if let Some(error) = unserved_field(id, item) {
        return error;
    }
    if let Some(sku) = item["sku"].as_str()
        && let Some(error) = duplicate_sku(state, sku, id)
    {
        return error;
    }
    let product = &mut state.products[index];
    apply(product, item);
    product.modified_ms = now_ms;
    WooState::product_json(product)
}

fn deleted(state: &mut WooState, item: &Value, now_ms: u64) -> Value {
    let id = item.as_u64().unwrap_or(0);
    match state.products.iter_mut().find(|p| p.id == id) {
        Some(product) if product.status != "trash" => {
            let body = WooState::product_json(product);
            "trash".clone_into(&mut product.status);
            product.modified_ms = now_ms;
            body
        }
        Some(_) => item_error(
            id,
            "woocommerce_rest_already_trashed",
            "The product has already been deleted.",
            json!({"status": 410}),
        ),
        None => item_error(id, "woocommerce_rest_product_invalid_id", "Invalid ID.", json!({"status": 404})),
    }
}

/// A product that is in the shop already.
pub(crate) fn seed(state: &mut WooState, sku: &str, name: &str, regular_price: &str, stock: i64, now_ms: u64) -> u64 {
    let id = state.mint();
    state.products.push(WooProduct {
        id,
        name: name.into(),
        sku: sku.into(),
        regular_price: regular_price.into(),
        manage_stock: true,
        stock_quantity: Some(stock),
        status: "publish".into(),
        created_ms: now_ms,
        modified_ms: now_ms,
    });
    id
}
