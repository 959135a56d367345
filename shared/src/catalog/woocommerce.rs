//! Pushing dirty SKUs to WooCommerce (REST API v3): per chunk of at most 100 SKUs (the
//! platform's default `woocommerce_rest_batch_items_limit`), one `GET /products?sku=a,b,…`
//! for the SKUs whose ids are not cached, then one `POST /products/batch` with `update` for
//! the known, `create` for the new (when `create_missing`) and `delete` for those the ERP
//! dropped (when `allow_delete`). Each item of the batch answer stands on its own: an item
//! with an `error` is that SKU's refusal.

use reqwest::Method;
use serde_json::{Value, json};

use super::item::{ShopIds, Sku, StagedItem};
use super::push::{Options, Outcome};
use super::shop_calls::ShopCalls;
use crate::mapping::MappingSource;
use crate::shop::ShopError;

/// WooCommerce's default batch limit.
pub(crate) const BATCH_LIMIT: usize = 100;

/// Product ids by SKU, for the SKUs of one chunk.
pub(crate) async fn lookup<M: MappingSource>(
    calls: &ShopCalls<'_, M>,
    skus: &[&Sku],
) -> Result<Vec<(Sku, ShopIds)>, ShopError> {
    let mut found = Vec::new();
    for chunk in skus.chunks(BATCH_LIMIT) {
        let list: Vec<String> = chunk.iter().map(|s| crate::erp::http::encode(s.as_str())).collect();
        let path = format!("/products?sku={}&per_page=100", list.join(","));
        let answer = calls.json("products.by_sku", Method::GET, &path, None).await?;
        for product in answer.as_array().into_iter().flatten() {
            let (Some(sku), Some(id)) =
                (product["sku"].as_str().and_then(|s| Sku::parse(s).ok()), product["id"].as_u64())
            else {
                continue;
            };
            let ids = ShopIds {
                product_id: id.to_string(),
                variant_id: None,
                inventory_item_id: None,
                quantity: product["stock_quantity"].as_i64(),
            };
            found.push((sku, ids));
        }
    }
    Ok(found)
}

fn fields(item: &StagedItem) -> Value {
    json!({
        "name": item.product.title,
        "regular_price": item.product.price.to_string(),
        "manage_stock": true,
        "stock_quantity": item.product.shop_quantity(),
    })
}

/// The WooCommerce product id staging cached for a SKU; a cached id that is not one (never
/// sent as product 0) refuses the SKU, so an operator sees it.
fn product_id(ids: &ShopIds) -> Result<u64, String> {
    ids.product_id
        .parse()
        .map_err(|_| format!("the cached shop id {:?} is not a WooCommerce product id", ids.product_id))
}

/// Pushes one chunk (at most [`BATCH_LIMIT`]) in one batch request.
pub(crate) async fn push_chunk<M: MappingSource>(
    calls: &ShopCalls<'_, M>,
    items: &[(StagedItem, Option<ShopIds>)],
    options: &Options,
) -> Result<Vec<Outcome>, ShopError> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; items.len()];
    let (mut create, mut update, mut delete) = (Vec::new(), Vec::new(), Vec::new());
    for (index, (item, ids)) in items.iter().enumerate() {
        match (item.removed, ids) {
            (true, Some(ids)) if options.allow_delete => match product_id(ids) {
                Ok(id) => delete.push((index, id)),
                Err(why) => outcomes[index] = Some(Outcome::Refused(why)),
            },
            (true, _) => outcomes[index] = Some(Outcome::Kept),
            (false, Some(ids)) => match product_id(ids) {
                Ok(id) => {
                    let mut body = fields(item);
                    body["id"] = json!(id);
                    update.push((index, body));
                }
                Err(why) => outcomes[index] = Some(Outcome::Refused(why)),
            },
            (false, None) if options.create_missing => {
                let mut body = fields(item);
                body["sku"] = json!(item.sku().as_str());
                body["status"] = json!("publish");
                create.push((index, body));
            }
            (false, None) => {
                outcomes[index] =
                    Some(Outcome::Refused("the shop has no product with this SKU and create_missing is off".into()));
            }
        }
    }
    if !(create.is_empty() && update.is_empty() && delete.is_empty()) {
        let mut body = serde_json::Map::new();
        let bodies = |list: &[(usize, Value)]| Value::Array(list.iter().map(|(_, b)| b.clone()).collect());
        if !create.is_empty() {
            body.insert("create".into(), bodies(&create));
        }
        if !update.is_empty() {
            body.insert("update".into(), bodies(&update));
        }
        if !delete.is_empty() {
            let ids = delete.iter().map(|(_, id)| json!(id)).collect();
            body.insert("delete".into(), Value::Array(ids));
        }
        let answer = calls.json("products.batch", Method::POST, "/products/batch", Some(&Value::Object(body))).await?;
        let results = |key: &str| answer[key].as_array().cloned().unwrap_or_default();
        for (action, list) in [("create", &create), ("update", &update)] {
            let done = results(action);
            for (n, (index, _)) in list.iter().enumerate() {
                outcomes[*index] = Some(match done.get(n) {
                    Some(result) if result.get("error").is_some() => Outcome::Refused(format!(
                        "products/batch {action}: {} ({})",
                        result["error"]["message"].as_str().unwrap_or_default(),
                        result["error"]["code"].as_str().unwrap_or_default()
                    )),
                    Some(result) => match result["id"].as_u64() {
                        Some(id) => Outcome::Pushed(Some(ShopIds {
                            product_id: id.to_string(),
                            variant_id: None,
                            inventory_item_id: None,
                            quantity: result["stock_quantity"].as_i64(),
                        })),
                        None => Outcome::Refused(format!("products/batch {action} answered no product id")),
                    },
                    None => Outcome::Refused(format!("products/batch answered no {action} result for this SKU")),
                });
            }
        }
        let done = results("delete");
        for (n, (index, _)) in delete.iter().enumerate() {
            outcomes[*index] = Some(match done.get(n) {
                Some(result) if result.get("error").is_some() => Outcome::Refused(format!(
                    "products/batch delete: {}",
                    result["error"]["message"].as_str().unwrap_or_default()
                )),
                Some(_) => Outcome::Deleted,
                None => Outcome::Refused("products/batch answered no delete result for this SKU".into()),
            });
        }
    }
    Ok(outcomes.into_iter().map(|o| o.expect("every item has an outcome")).collect())
}
