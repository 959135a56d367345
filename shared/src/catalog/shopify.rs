//! Pushing dirty SKUs to Shopify (GraphQL Admin API).
//!
//! Per chunk of SKUs, those whose ids are not cached are found with one
//! `productVariants(query: "sku:'A' OR sku:'B' …")` search. Then, per SKU:
//! - the product (title, price) through `productSet`, synchronous, identified by the cached
//!   product id or else by a handle derived from the SKU, and only when the product hash
//!   changed: a stock-only change costs no product call. The input names only the fields the
//!   ERP owns; Shopify leaves omitted fields and list fields (tags, collections, metafields)
//!   alone.
//! - the stock through `inventorySetQuantities` (`name: "available"`, reason `correction`),
//!   with `compareQuantity` = the shop's quantity as last seen, and `@idempotent(key:)` derived
//!   from the run, the SKU and the quantity: a push resumed after a crash sends the same key,
//!   and Shopify answers it without a second change. On `COMPARE_QUANTITY_STALE` (someone sold
//!   or counted stock meanwhile) the quantity is read again once and set once more, under the
//!   key with `-retry`, since the first key is tied to the stale answer.
//!
//! Simplified: one location (the catalogue configuration's `location_id`); one variant per
//! product.

use serde_json::{Value, json};

use super::item::{ShopIds, Sku, StagedItem};
use super::push::{Options, Outcome};
use super::shop_calls::ShopCalls;
use crate::error::Retry;
use crate::mapping::MappingSource;
use crate::shop::ShopError;

/// SKUs per `productVariants` search: Shopify's search query stays well under its length limit.
pub(crate) const LOOKUP_CHUNK: usize = 50;

const FIND: &str = "query Find($query: String!, $first: Int!) {
  productVariants(first: $first, query: $query) {
    nodes { id sku inventoryQuantity product { id } inventoryItem { id } }
  }
}";

const SET: &str = "mutation Set($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { id variants(first: 5) { nodes { id sku inventoryQuantity inventoryItem { id } } } }
    userErrors { field message code }
  }
}";

const STOCK: &str = "mutation Stock($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}";

const DELETE: &str = "mutation Delete($input: ProductDeleteInput!) {
  productDelete(input: $input) { deletedProductId userErrors { field message } }
}";

/// The handle a SKU's product gets when the sync creates it.
pub(crate) fn handle(sku: &Sku) -> String {
    let lower: String =
        sku.as_str().chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    format!("sku-{lower}")
}

fn ids_of(node: &Value) -> Option<ShopIds> {
    Some(ShopIds {
        product_id: node["product"]["id"].as_str()?.to_owned(),
        variant_id: node["id"].as_str().map(str::to_owned),
        inventory_item_id: node["inventoryItem"]["id"].as_str().map(str::to_owned),
        quantity: node["inventoryQuantity"].as_i64(),
    })
}

/// Finds the ids of `skus`, in chunks of [`LOOKUP_CHUNK`].
pub(crate) async fn lookup<M: MappingSource>(
    calls: &ShopCalls<'_, M>,
    skus: &[&Sku],
) -> Result<Vec<(Sku, ShopIds)>, ShopError> {
    let mut found = Vec::new();
    for chunk in skus.chunks(LOOKUP_CHUNK) {
        let query =
            chunk.iter().map(|s| format!("sku:'{}'", s.as_str().replace('\'', "\\'"))).collect::<Vec<_>>().join(" OR ");
        let data = calls.graphql("productVariants", FIND, json!({"query": query, "first": 250})).await?;
        for node in data["productVariants"]["nodes"].as_array().into_iter().flatten() {
            let sku = node["sku"].as_str().and_then(|s| Sku::parse(s).ok());
            if let (Some(sku), Some(ids)) = (sku, ids_of(node)) {
                // Search is by token; keep exact matches only.
                if chunk.contains(&&sku) {
                    found.push((sku, ids));
                }
            }
        }
    }
    Ok(found)
}

fn user_errors(payload: &Value) -> Vec<(String, String)> {
    payload["userErrors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (e["code"].as_str().unwrap_or_default().to_owned(), e["message"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

fn refused(operation: &str, errors: &[(String, String)]) -> Outcome {
    let messages: Vec<String> =
        errors.iter().map(|(c, m)| if c.is_empty() { m.clone() } else { format!("{m} ({c})") }).collect();
    Outcome::Refused(format!("{operation}: {}", messages.join("; ")))
}

/// Pushes one SKU; `Err` only for a failure that should stop the run (shop down, throttled,
/// credentials refused).
pub(crate) async fn push_one<M: MappingSource>(
    calls: &ShopCalls<'_, M>,
    item: &StagedItem,
    ids: Option<ShopIds>,
    options: &Options,
    run_id: &str,
) -> Result<Outcome, ShopError> {
    let sku = item.sku();
    if item.removed {
        return match (options.allow_delete, ids) {
            (true, Some(ids)) => {
                let data = calls.graphql("productDelete", DELETE, json!({"input": {"id": ids.product_id}})).await?;
                let errors = user_errors(&data["productDelete"]);
                Ok(if errors.is_empty() { Outcome::Deleted } else { refused("productDelete", &errors) })
            }
            (true, None) | (false, _) => Ok(Outcome::Kept),
        };
    }
    if ids.is_none() && !options.create_missing {
        return Ok(Outcome::Refused("the shop has no product with this SKU and create_missing is off".into()));
    }
    let mut ids = ids;
    if ids.is_none() || item.product_changed() {
        let identifier = match &ids {
            Some(ids) => json!({"id": ids.product_id}),
            None => json!({"handle": handle(sku)}),
        };
        let input = json!({
            "title": item.product.title,
            "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
            "variants": [{
                "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                "inventoryItem": {"sku": sku.as_str(), "tracked": true},
                "price": item.product.price.to_string(),
            }],
        });
        let data = calls.graphql("productSet", SET, json!({"input": input, "identifier": identifier})).await?;
        let payload = &data["productSet"];
        let errors = user_errors(payload);
        if !errors.is_empty() {
            return Ok(refused("productSet", &errors));
        }
        let variant =
            payload["product"]["variants"]["nodes"].as_array().into_iter().flatten().find(|v| v["sku"] == sku.as_str());
        let mut found = variant.and_then(|v| {
            let mut node = v.clone();
            node["product"] = json!({"id": payload["product"]["id"]});
            ids_of(&node)
        });
        if let (Some(found), Some(before)) = (&mut found, &ids) {
            found.quantity = found.quantity.or(before.quantity);
        }
        ids = found;
    }
    let Some(mut ids) = ids else {
        return Ok(Outcome::Refused("productSet answered without a variant for this SKU".into()));
    };
    let target = item.product.shop_quantity();
    if item.stock_changed() && ids.quantity != Some(target) {
        let key = idempotency_key(run_id, sku, target);
        match set_stock(calls, &options.location_id, &ids, target, &key).await? {
            Stock::Set => {}
            Stock::Refused(outcome) => return Ok(outcome),
            Stock::Stale => {
                let fresh = lookup(calls, &[sku]).await?.into_iter().next().map(|(_, ids)| ids);
                let Some(fresh) = fresh else {
                    return Ok(Outcome::Refused("the variant vanished from the shop while its stock was set".into()));
                };
                ids.quantity = fresh.quantity;
                if ids.quantity != Some(target) {
                    match set_stock(calls, &options.location_id, &ids, target, &format!("{key}-retry")).await? {
                        Stock::Set => {}
                        Stock::Refused(outcome) => return Ok(outcome),
                        Stock::Stale => {
                            return Err(ShopError {
                                retry: Retry::Transient,
                                status: Some(200),
                                code: "COMPARE_QUANTITY_STALE".into(),
                                message: format!("{sku}: the shop's stock changed again during the retry"),
                                answer: None,
                                retry_after: None,
                            });
                        }
                    }
                }
            }
        }
        ids.quantity = Some(target);
    }
    Ok(Outcome::Pushed(Some(ids)))
}

enum Stock {
    Set,
    Stale,
    Refused(Outcome),
}

async fn set_stock<M: MappingSource>(
    calls: &ShopCalls<'_, M>,
    location: &str,
    ids: &ShopIds,
    target: i64,
    key: &str,
) -> Result<Stock, ShopError> {
    let input = json!({
        "name": "available",
        "reason": "correction",
        "quantities": [{
            "inventoryItemId": ids.inventory_item_id,
            "locationId": location,
            "quantity": target,
            "compareQuantity": ids.quantity,
        }],
    });
    let data = calls.graphql("inventorySetQuantities", STOCK, json!({"input": input, "key": key})).await?;
    let errors = user_errors(&data["inventorySetQuantities"]);
    if errors.is_empty() {
        Ok(Stock::Set)
    } else if errors.iter().any(|(code, _)| code == "COMPARE_QUANTITY_STALE" || code == "CHANGE_FROM_QUANTITY_STALE") {
        Ok(Stock::Stale)
    } else {
        Ok(Stock::Refused(refused("inventorySetQuantities", &errors)))
    }
}

/// Stable for one run, SKU and quantity: what a resumed run sends again.
pub(crate) fn idempotency_key(run_id: &str, sku: &Sku, quantity: i64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{run_id}\u{1f}{sku}\u{1f}{quantity}").as_bytes());
    format!("orderflow-stock-{}", hex::encode(&digest[..16]))
}
