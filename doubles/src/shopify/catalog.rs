//! Products and stock, for catalogue sync (issue 18):
//!
//! - `productSet(input:, identifier:, synchronous:)` creates a product, or updates the one the
//!   identifier names (`id` or `handle`). As Shopify documents, scalar fields left out of the
//!   input are left alone, and a list field that is given (`variants`, `tags`) replaces the
//!   list, while one left out is left alone. A variant is matched by its SKU
//!   (`inventoryItem.sku`, or the older `sku`); `price` is a decimal string. A blank title is
//!   refused with the `userErrors` Shopify answers (`BLANK`). Only synchronous mode is served.
//! - `inventorySetQuantities(input: {name: "available", reason, quantities: [{inventoryItemId,
//!   locationId, quantity, compareQuantity}]})`, optionally with `@idempotent(key:)`: each
//!   `compareQuantity` must equal the stored quantity, else nothing changes and the answer is a
//!   `COMPARE_QUANTITY_STALE` user error (the 2026-01 wording; from 2026-04 Shopify calls it
//!   `changeFromQuantity`). A key seen before returns the first answer and changes nothing.
//! - `productDelete(input: {id})`.
//! - `productVariants(first:, query: "sku:A OR sku:B")`: the variants with those SKUs.
//!
//! Simplified: one location ([`SHOPIFY_LOCATION`]); one quantity name stored (`available`); a
//! product's options are not modelled (each variant stands for itself).

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::graphql::Field;
use super::records::{ShopifyState, gid, gid_number};
use super::select::connection;

/// The one location the double stocks.
pub const SHOPIFY_LOCATION: &str = "gid://shopify/Location/1";

/// A product as the double holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyProduct {
    pub id: u64,
    pub handle: String,
    pub title: String,
    pub status: String,
    /// A list field the ERP does not own: kept unless an input names it.
    pub tags: Vec<String>,
    pub variants: Vec<ShopifyVariant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyVariant {
    pub id: u64,
    pub sku: String,
    pub price: Decimal,
    pub inventory_item_id: u64,
    /// `available` at [`SHOPIFY_LOCATION`].
    pub available: i64,
}

/// The catalogue part of [`ShopifyState`], indexed by handle, SKU and inventory item so a
/// 50,000-product benchmark does not spend its time in the double's lookups.
#[derive(Default)]
pub(crate) struct Catalogue {
    /// By id; ids grow, so this is creation order.
    products: BTreeMap<u64, ShopifyProduct>,
    by_handle: HashMap<String, u64>,
    by_sku: HashMap<String, u64>,
    by_item: HashMap<u64, u64>,
    /// Idempotency key → the payload first answered.
    pub(crate) idempotent: HashMap<String, Value>,
    /// How many `inventorySetQuantities` calls changed something.
    pub(crate) inventory_changes: u32,
}

impl Catalogue {
    pub(crate) fn list(&self) -> Vec<ShopifyProduct> {
        self.products.values().cloned().collect()
    }

    pub(crate) fn variant(&self, sku: &str) -> Option<(&ShopifyProduct, &ShopifyVariant)> {
        let product = self.products.get(self.by_sku.get(sku)?)?;
        Some((product, product.variants.iter().find(|v| v.sku == sku)?))
    }

    pub(crate) fn variant_mut(&mut self, sku: &str) -> Option<&mut ShopifyVariant> {
        let product = self.products.get_mut(self.by_sku.get(sku)?)?;
        product.variants.iter_mut().find(|v| v.sku == sku)
    }

    fn remove(&mut self, id: u64) -> Option<ShopifyProduct> {
        let product = self.products.remove(&id)?;
        self.by_handle.remove(&product.handle);
        for v in &product.variants {
            self.by_sku.remove(&v.sku);
            self.by_item.remove(&v.inventory_item_id);
        }
        Some(product)
    }

    /// Stores `product` (new or changed) and indexes it.
    pub(crate) fn put(&mut self, product: ShopifyProduct) {
        self.remove(product.id);
        self.by_handle.insert(product.handle.clone(), product.id);
        for v in &product.variants {
            self.by_sku.insert(v.sku.clone(), product.id);
            self.by_item.insert(v.inventory_item_id, product.id);
        }
        self.products.insert(product.id, product);
    }
}

fn user_error(field: &[&str], message: &str, code: &str) -> Value {
    json!({"__typename": "UserError", "field": field, "message": message, "code": code})
}

fn variant_node(product: &ShopifyProduct, v: &ShopifyVariant) -> Value {
    json!({
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", v.id),
        "sku": v.sku,
        "price": v.price.to_string(),
        "inventoryQuantity": v.available,
        "inventoryItem": {"__typename": "InventoryItem", "id": gid("InventoryItem", v.inventory_item_id), "sku": v.sku},
        "product": {"__typename": "Product", "id": gid("Product", product.id), "handle": product.handle, "title": product.title},
    })
}

fn product_node(product: &ShopifyProduct) -> Value {
    let variants: Vec<(String, Value)> =
        product.variants.iter().map(|v| (v.id.to_string(), variant_node(product, v))).collect();
    json!({
        "__typename": "Product",
        "id": gid("Product", product.id),
        "handle": product.handle,
        "title": product.title,
        "status": product.status,
        "tags": product.tags,
        "variants": connection("ProductVariantConnection", variants, false, false),
    })
}

/// A handle from a title, as Shopify derives one: lower case, words joined by `-`.
fn handle_of(title: &str) -> String {
    let words: Vec<String> =
        title.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    words.join("-")
}

pub(crate) fn product_set(state: &mut ShopifyState, field: &Field) -> Value {
    let empty = json!({});
    let input = field.arguments.get("input").unwrap_or(&empty);
    let identifier = field.arguments.get("identifier").unwrap_or(&empty);
    let refuse = |errors: Vec<Value>| json!({"__typename": "ProductSetPayload", "product": null, "userErrors": errors});
    if field.arguments.get("synchronous") == Some(&Value::Bool(false)) {
        return refuse(vec![user_error(
            &["synchronous"],
            "The Shopify double serves synchronous mode only",
            "INVALID",
        )]);
    }
    let found = if let Some(id) = identifier["id"].as_str() {
        match gid_number("Product", id).filter(|n| state.catalogue.products.contains_key(n)) {
            Some(id) => Some(id),
            None => {
                return refuse(vec![user_error(
                    &["identifier", "id"],
                    "Product does not exist",
                    "PRODUCT_DOES_NOT_EXIST",
                )]);
            }
        }
    } else if let Some(handle) = identifier["handle"].as_str() {
        state.catalogue.by_handle.get(handle).copied()
    } else {
        None
    };
    if let Some(title) = input.get("title")
        && title.as_str().is_none_or(|t| t.trim().is_empty())
    {
        return refuse(vec![user_error(&["input", "title"], "Title can't be blank", "BLANK")]);
    }
    if found.is_none() && input["title"].as_str().is_none() {
        return refuse(vec![user_error(&["input", "title"], "Title can't be blank", "BLANK")]);
    }
    let mut variants_in = Vec::new();
    if let Some(list) = input.get("variants").and_then(Value::as_array) {
        for (i, v) in list.iter().enumerate() {
            let sku = v["inventoryItem"]["sku"].as_str().or_else(|| v["sku"].as_str()).unwrap_or_default();
            let price = match v.get("price").map(|p| p.as_str().map(str::parse::<Decimal>)) {
                None => None,
                Some(Some(Ok(price))) if price >= Decimal::ZERO => Some(price),
                Some(_) => {
                    let index = i.to_string();
                    return refuse(vec![user_error(
                        &["input", "variants", &index, "price"],
                        "Price is invalid",
                        "INVALID_VARIANT",
                    )]);
                }
            };
            if let Some(other) = state.catalogue.by_sku.get(sku).filter(|owner| Some(**owner) != found) {
                let index = i.to_string();
                let message = format!("SKU {sku} is already used by product {other}");
                return refuse(vec![user_error(&["input", "variants", &index, "sku"], &message, "DUPLICATE_SKU")]);
            }
            variants_in.push((sku.to_owned(), price));
        }
    }
    let mut product = match found {
        Some(id) => state.catalogue.products[&id].clone(),
        None => {
            let title = input["title"].as_str().unwrap_or_default().to_owned();
            let handle = identifier["handle"]
                .as_str()
                .or_else(|| input["handle"].as_str())
                .map_or_else(|| handle_of(&title), str::to_owned);
            ShopifyProduct {
                id: state.mint(),
                handle,
                title,
                status: "ACTIVE".into(),
                tags: Vec::new(),
                variants: Vec::new(),
            }
        }
    };
    if input.get("variants").is_some() {
        let old = std::mem::take(&mut product.variants);
        for (sku, price) in variants_in {
            let variant = match old.iter().find(|v| v.sku == sku) {
                Some(v) => ShopifyVariant { price: price.unwrap_or(v.price), ..v.clone() },
                None => ShopifyVariant {
                    id: state.mint(),
                    sku,
                    price: price.unwrap_or(Decimal::ZERO),
                    inventory_item_id: state.mint(),
                    available: 0,
                },
            };
            product.variants.push(variant);
        }
    }
    if let Some(title) = input["title"].as_str() {
        title.clone_into(&mut product.title);
    }
    if let Some(status) = input["status"].as_str() {
        status.clone_into(&mut product.status);
    }
    if let Some(tags) = input["tags"].as_array() {
        product.tags = tags.iter().filter_map(Value::as_str).map(str::to_owned).collect();
    }
    let node = product_node(&product);
    state.catalogue.put(product);
    json!({"__typename": "ProductSetPayload", "product": node, "userErrors": []})
}

pub(crate) fn inventory_set_quantities(state: &mut ShopifyState, field: &Field) -> Value {
    if let Some(key) = &field.idempotency_key
        && let Some(first) = state.catalogue.idempotent.get(key)
    {
        return first.clone();
    }
    let payload = set_quantities(state, field);
    if let Some(key) = &field.idempotency_key {
        state.catalogue.idempotent.insert(key.clone(), payload.clone());
    }
    payload
}

fn set_quantities(state: &mut ShopifyState, field: &Field) -> Value {
    let empty = json!({});
    let input = field.arguments.get("input").unwrap_or(&empty);
    let refuse = |errors: Vec<Value>| json!({"__typename": "InventorySetQuantitiesPayload", "inventoryAdjustmentGroup": null, "userErrors": errors});
    if input["name"] != "available" && input["name"] != "on_hand" {
        return refuse(vec![user_error(
            &["input", "name"],
            "The quantity name must be either 'available' or 'on_hand'.",
            "INVALID_NAME",
        )]);
    }
    let ignore_compare = input["ignoreCompareQuantity"].as_bool().unwrap_or(false);
    let mut planned = Vec::new();
    let mut errors = Vec::new();
    for (i, q) in input["quantities"].as_array().into_iter().flatten().enumerate() {
        let index = i.to_string();
        let path =
            |leaf: &'static str| vec!["input".to_owned(), "quantities".to_owned(), index.clone(), leaf.to_owned()];
        let item = q["inventoryItemId"].as_str().and_then(|g| gid_number("InventoryItem", g));
        let place = item.and_then(|item| {
            let product = *state.catalogue.by_item.get(&item)?;
            let v = state.catalogue.products[&product].variants.iter().position(|v| v.inventory_item_id == item)?;
            Some((product, v))
        });
        let Some((p, v)) = place else {
            errors.push(json!({"__typename": "UserError", "field": path("inventoryItemId"), "message": "The specified inventory item could not be found.", "code": "INVALID_INVENTORY_ITEM"}));
            continue;
        };
        if q["locationId"] != SHOPIFY_LOCATION {
            errors.push(json!({"__typename": "UserError", "field": path("locationId"), "message": "The specified location could not be found.", "code": "INVALID_LOCATION"}));
            continue;
        }
        let Some(quantity) = q["quantity"].as_i64().filter(|n| *n >= 0) else {
            errors.push(json!({"__typename": "UserError", "field": path("quantity"), "message": "The quantity can't be negative.", "code": "INVALID_QUANTITY_NEGATIVE"}));
            continue;
        };
        let current = state.catalogue.products[&p].variants[v].available;
        if !ignore_compare {
            match q["compareQuantity"].as_i64() {
                None => {
                    errors.push(json!({"__typename": "UserError", "field": path("compareQuantity"), "message": "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.", "code": "COMPARE_QUANTITY_REQUIRED"}));
                    continue;
                }
                Some(compare) if compare != current => {
                    errors.push(json!({"__typename": "UserError", "field": path("compareQuantity"), "message": "The compareQuantity value does not match persisted value.", "code": "COMPARE_QUANTITY_STALE"}));
                    continue;
                }
                Some(_) => {}
            }
        }
        planned.push((p, v, quantity, current, q["inventoryItemId"].clone()));
    }
    if !errors.is_empty() {
        return refuse(errors);
    }
    let mut changes = Vec::new();
    for (p, v, quantity, current, item) in planned {
        state.catalogue.products.get_mut(&p).expect("a planned product").variants[v].available = quantity;
        changes.push(json!({"__typename": "InventoryChange", "name": "available", "delta": quantity - current, "quantityAfterChange": quantity, "item": {"__typename": "InventoryItem", "id": item}}));
    }
    state.catalogue.inventory_changes += 1;
    let group = json!({"__typename": "InventoryAdjustmentGroup", "id": gid("InventoryAdjustmentGroup", state.mint()), "reason": input["reason"], "changes": changes});
    json!({"__typename": "InventorySetQuantitiesPayload", "inventoryAdjustmentGroup": group, "userErrors": []})
}

pub(crate) fn product_delete(state: &mut ShopifyState, field: &Field) -> Value {
    let id = field.arguments.get("input").and_then(|i| i["id"].as_str()).and_then(|g| gid_number("Product", g));
    match id.and_then(|n| state.catalogue.remove(n)) {
        Some(product) => {
            json!({"__typename": "ProductDeletePayload", "deletedProductId": gid("Product", product.id), "userErrors": []})
        }
        None => {
            json!({"__typename": "ProductDeletePayload", "deletedProductId": null, "userErrors": [user_error(&["id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]})
        }
    }
}

/// The SKUs a `productVariants` search names: `sku:A`, `sku:'B C'`, joined by `OR`.
fn skus(query: &str) -> Vec<String> {
    query
        .split(" OR ")
        .filter_map(|term| term.trim().strip_prefix("sku:"))
        .map(|s| s.trim_matches(|c| c == '\'' || c == '"').to_owned())
        .collect()
}

pub(crate) fn product_variants(state: &ShopifyState, field: &Field) -> Value {
    let wanted = field.arguments.get("query").and_then(Value::as_str).map(skus).unwrap_or_default();
    let first = field.arguments.get("first").and_then(Value::as_u64).unwrap_or(50);
    let nodes: Vec<(String, Value)> = wanted
        .iter()
        .filter_map(|sku| state.catalogue.variant(sku))
        .take(usize::try_from(first).unwrap_or(usize::MAX))
        .map(|(p, v)| (v.id.to_string(), variant_node(p, v)))
        .collect();
    connection("ProductVariantConnection", nodes, false, false)
}
