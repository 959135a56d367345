//! The Shopify double's product and stock mutations, as catalogue sync uses them.

use orderflow_doubles::{FakeShopify, SHOPIFY_LOCATION};
use serde_json::{Value, json};

use crate::helpers::{clock, gql};

const SET: &str = r"
mutation Set($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { id handle title tags variants(first: 5) { nodes { id sku price inventoryItem { id } } } }
    userErrors { field message code }
  }
}";

const STOCK: &str = r"
mutation Stock($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}";

const FIND: &str = r"
query Find($query: String!) {
  productVariants(first: 50, query: $query) { nodes { id sku inventoryQuantity product { id } inventoryItem { id } } }
}";

fn stock(item: &str, quantity: i64, compare: i64) -> Value {
    json!({"name": "available", "reason": "correction", "quantities": [
        {"inventoryItemId": item, "locationId": SHOPIFY_LOCATION, "quantity": quantity, "compareQuantity": compare}
    ]})
}

#[tokio::test]
async fn product_set_by_handle_creates_then_updates_and_leaves_omitted_list_fields_alone() {
    let fake = FakeShopify::start(clock()).await;
    fake.seed_product("MUG-1", "Mug", "4.00", 3);
    let input = json!({"title": "Mug, blue", "variants": [{"inventoryItem": {"sku": "MUG-1"}, "price": "4.50"}]});
    let (_, body) = gql(&fake, SET, json!({"input": input, "identifier": {"handle": "mug-1"}})).await;
    let product = &body["data"]["productSet"]["product"];
    assert_eq!(product["title"], "Mug, blue", "{body}");
    assert_eq!(product["tags"], json!(["hand-made"]), "tags were not in the input: left alone");
    assert_eq!(product["variants"]["nodes"][0]["price"], "4.50");
    assert_eq!(fake.products().len(), 1, "updated, not created again");
    assert_eq!(fake.variant("MUG-1").unwrap().available, 3, "stock is not productSet's");

    let new = json!({"title": "Kettle", "variants": [{"inventoryItem": {"sku": "KET-1"}, "price": "30"}]});
    let (_, body) = gql(&fake, SET, json!({"input": new, "identifier": {"handle": "ket-1"}})).await;
    assert_eq!(body["data"]["productSet"]["product"]["handle"], "ket-1", "{body}");
    assert_eq!(fake.products().len(), 2);
}

#[tokio::test]
async fn product_set_with_a_blank_title_is_refused_with_user_errors() {
    let fake = FakeShopify::start(clock()).await;
    let (_, body) = gql(&fake, SET, json!({"input": {"title": " "}, "identifier": {"handle": "x"}})).await;
    assert_eq!(body["data"]["productSet"]["userErrors"][0]["code"], "BLANK", "{body}");
    assert!(fake.products().is_empty());
}

#[tokio::test]
async fn inventory_set_quantities_checks_compare_quantity_and_honours_the_idempotency_key() {
    let fake = FakeShopify::start(clock()).await;
    fake.seed_product("MUG-1", "Mug", "4.00", 3);
    let (_, found) = gql(&fake, FIND, json!({"query": "sku:MUG-1 OR sku:NOPE"})).await;
    let nodes = found["data"]["productVariants"]["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 1, "{found}");
    let item = nodes[0]["inventoryItem"]["id"].as_str().unwrap().to_owned();

    let (_, stale) = gql(&fake, STOCK, json!({"input": stock(&item, 9, 2), "key": "k-stale"})).await;
    assert_eq!(stale["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "COMPARE_QUANTITY_STALE", "{stale}");
    assert_eq!(fake.variant("MUG-1").unwrap().available, 3, "a stale compare changes nothing");

    let (_, set) = gql(&fake, STOCK, json!({"input": stock(&item, 9, 3), "key": "k-1"})).await;
    let changes = &set["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"];
    assert_eq!(changes[0]["delta"], 6, "{set}");
    fake.set_available("MUG-1", 8);
    let (_, again) = gql(&fake, STOCK, json!({"input": stock(&item, 9, 3), "key": "k-1"})).await;
    assert_eq!(again["data"], set["data"], "the same key answers as the first time");
    assert_eq!(fake.variant("MUG-1").unwrap().available, 8, "and changes nothing");
    assert_eq!(fake.inventory_changes(), 1);
}
