//! One SKU as staging holds it: the product the ERP describes, its content hashes, where it
//! stands against the shop, and the shop's ids for it once a search found them.

use std::fmt;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A stock keeping unit: non-empty, at most 255 characters, no control characters. Shopify
/// and WooCommerce both key products by it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the SKU is empty".into());
        }
        if text.chars().count() > 255 {
            return Err(format!("the SKU `{}…` is longer than 255 characters", &text[..32.min(text.len())]));
        }
        if text.chars().any(char::is_control) {
            return Err(format!("the SKU {text:?} holds a control character"));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> Self {
        sku.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the ERP says about one SKU, mapped. Price and stock are decimals as the ERP keeps
/// them (a stock may be fractional for goods sold by weight); both serialise as strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Sku,
    pub title: String,
    pub price: Decimal,
    pub stock: Decimal,
}

impl Product {
    /// Hash of what `productSet` / a product update sends: title and price.
    pub fn product_hash(&self) -> String {
        hash(&[self.sku.as_str(), &self.title, &self.price.normalize().to_string()])
    }

    /// Hash of the stock level, apart, so a stock-only change costs one stock call.
    pub fn stock_hash(&self) -> String {
        hash(&[self.sku.as_str(), &self.stock.normalize().to_string()])
    }

    /// The whole units a shop can sell: the stock cut toward zero, never below zero.
    pub fn shop_quantity(&self) -> i64 {
        self.stock.trunc().to_i64().unwrap_or(if self.stock.is_sign_negative() { 0 } else { i64::MAX }).max(0)
    }
}

fn hash(parts: &[&str]) -> String {
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part.as_bytes());
        digest.update([0x1f]);
    }
    hex::encode(&digest.finalize()[..12])
}

/// Where a SKU stands. Only `Dirty` items are pushed; `Refused` waits for the ERP data to
/// change (or an operator) and is listed as an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Clean,
    Dirty,
    Refused,
}

/// The shop's ids for a SKU, found by a search once and cached.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShopIds {
    /// Shopify `gid://shopify/Product/…`, or the WooCommerce product id.
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_item_id: Option<String>,
    /// The shop's stock as last seen or set: Shopify's `compareQuantity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
}

/// One item of the staging table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedItem {
    pub product: Product,
    pub product_hash: String,
    pub stock_hash: String,
    /// The hashes of what the shop last accepted; `None` before the first push.
    #[serde(default)]
    pub pushed_product_hash: Option<String>,
    #[serde(default)]
    pub pushed_stock_hash: Option<String>,
    pub state: ItemState,
    /// Why the shop refused it, for `sync exceptions`.
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default)]
    pub shop: Option<ShopIds>,
    /// The ERP no longer lists it: deleted in the shop only when `allow_delete` is on.
    #[serde(default)]
    pub removed: bool,
    pub updated_ms: u64,
}

impl StagedItem {
    /// A SKU seen for the first time: dirty.
    pub fn new(product: Product, now_ms: u64) -> Self {
        Self {
            product_hash: product.product_hash(),
            stock_hash: product.stock_hash(),
            product,
            pushed_product_hash: None,
            pushed_stock_hash: None,
            state: ItemState::Dirty,
            refusal: None,
            shop: None,
            removed: false,
            updated_ms: now_ms,
        }
    }

    pub fn sku(&self) -> &Sku {
        &self.product.sku
    }

    /// `product` as the ERP lists it now; `None` when nothing changed (no write needed).
    pub fn restaged(&self, product: Product, now_ms: u64) -> Option<Self> {
        let (product_hash, stock_hash) = (product.product_hash(), product.stock_hash());
        if product_hash == self.product_hash && stock_hash == self.stock_hash && !self.removed {
            return None;
        }
        Some(Self {
            product,
            product_hash,
            stock_hash,
            state: ItemState::Dirty,
            refusal: None,
            removed: false,
            updated_ms: now_ms,
            ..self.clone()
        })
    }

    pub fn product_changed(&self) -> bool {
        self.pushed_product_hash.as_deref() != Some(&self.product_hash)
    }

    pub fn stock_changed(&self) -> bool {
        self.pushed_stock_hash.as_deref() != Some(&self.stock_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(stock: &str) -> Product {
        Product {
            sku: Sku::parse("A-1").unwrap(),
            title: "A".into(),
            price: "1.50".parse().unwrap(),
            stock: stock.parse().unwrap(),
        }
    }

    #[test]
    fn skus_refuse_empty_and_control_characters() {
        assert!(Sku::parse(" ").is_err());
        assert!(Sku::parse("A\n1").is_err());
        assert_eq!(Sku::parse(" A-1 ").unwrap().as_str(), "A-1");
    }

    #[test]
    fn a_stock_change_leaves_the_product_hash_and_the_scale_does_not_count() {
        assert_eq!(product("3").product_hash(), product("4").product_hash());
        assert_ne!(product("3").stock_hash(), product("4").stock_hash());
        assert_eq!(product("3.00").stock_hash(), product("3").stock_hash());
    }

    #[test]
    fn shop_quantities_are_whole_and_never_negative() {
        assert_eq!(product("7.9").shop_quantity(), 7);
        assert_eq!(product("-2").shop_quantity(), 0);
        assert_eq!(product("12").shop_quantity(), 12);
    }
}
