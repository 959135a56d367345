//! The push phase: only dirty SKUs, read through the staging store's dirty index in SKU
//! order, in chunks the platform batches well (Shopify: one `productVariants` search per 50,
//! WooCommerce: one `products/batch` per 100). After each chunk, what the shop accepted is
//! marked clean with the shop's ids cached, and the checkpoint moves on.
//!
//! Outcome policy: a refusal (`userErrors`, a batch item's error, a SKU the shop does not know
//! and may not create) marks that SKU refused with its reason and the run goes on; a failure
//! that a retry may cure (shop down, throttled, timed out) or refused credentials stops the
//! run, and every SKU not yet marked stays dirty for the next one. Nothing is deleted in the
//! shop unless `allow_delete` is on.

use std::collections::HashMap;

use serde::Deserialize;

use super::audit::{AuditLog, Recorder};
use super::item::{ItemState, ShopIds, Sku, StagedItem};
use super::run::Settings;
use super::shop_calls::ShopCalls;
use super::staging::{Checkpoint, StagingStore};
use super::{SyncError, shopify, woocommerce};
use crate::error::Retry;
use crate::mapping::MappingSource;
use crate::ports::Clock;
use crate::shop::{Platform, ShopConnector, ShopError};

/// What the push may do, from the catalogue configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Delete in the shop the products of SKUs the ERP no longer lists.
    #[serde(default)]
    pub allow_delete: bool,
    /// Create in the shop the SKUs it does not know; off: each is an exception.
    #[serde(default = "yes")]
    pub create_missing: bool,
    /// Shopify: the location whose `available` quantity the ERP's stock sets.
    #[serde(default = "default_location")]
    pub location_id: String,
}

fn yes() -> bool {
    true
}

fn default_location() -> String {
    "gid://shopify/Location/1".into()
}

impl Default for Options {
    fn default() -> Self {
        Self { allow_delete: false, create_missing: true, location_id: default_location() }
    }
}

/// What the shop did with one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pushed(Option<ShopIds>),
    Deleted,
    /// Gone from the ERP and nothing sent: `allow_delete` is off, or the shop never had it.
    Kept,
    Refused(String),
}

/// What a push did.
#[derive(Debug, Default)]
pub struct Pushed {
    pub pushed: u64,
    pub refused: u64,
    pub failed: u64,
    /// Left dirty because the run reached `stop_at_ms`.
    pub deferred: u64,
    pub shop_calls: u64,
    pub items_written: u64,
    pub error: Option<String>,
}

/// What a dry run would send: one line per dirty SKU.
pub async fn plan(store: &impl StagingStore, options: &Options) -> Result<Vec<String>, SyncError> {
    let mut lines = Vec::new();
    let mut after: Option<Sku> = None;
    loop {
        let batch = store.dirty(after.as_ref(), 500).await?;
        let Some(last) = batch.last() else {
            return Ok(lines);
        };
        after = Some(last.sku().clone());
        for item in &batch {
            let what = match (item.removed, &item.shop) {
                (true, _) if options.allow_delete => "delete".to_owned(),
                (true, _) => "keep (gone from the ERP; allow_delete is off)".to_owned(),
                (false, None) => format!(
                    "create or update: title {:?}, price {}, stock {}",
                    item.product.title,
                    item.product.price,
                    item.product.shop_quantity()
                ),
                (false, Some(_)) => {
                    let mut parts = Vec::new();
                    if item.product_changed() {
                        parts.push(format!("title {:?}, price {}", item.product.title, item.product.price));
                    }
                    if item.stock_changed() {
                        parts.push(format!("stock {}", item.product.shop_quantity()));
                    }
                    format!("update: {}", parts.join(", "))
                }
            };
            lines.push(format!("{}: {what}", item.sku()));
        }
    }
}

/// The shop's answer applied to the staged item.
fn settle(item: &StagedItem, outcome: Outcome, found: Option<ShopIds>, now_ms: u64) -> StagedItem {
    let mut next = item.clone();
    next.updated_ms = now_ms;
    match outcome {
        Outcome::Pushed(ids) => {
            next.shop = ids.or(found);
            next.state = ItemState::Clean;
            next.refusal = None;
        }
        Outcome::Deleted => {
            next.shop = None;
            next.state = ItemState::Clean;
        }
        Outcome::Kept => next.state = ItemState::Clean,
        Outcome::Refused(why) => {
            next.shop = found;
            next.state = ItemState::Refused;
            next.refusal = Some(why);
            return next;
        }
    }
    next.pushed_product_hash = Some(next.product_hash.clone());
    next.pushed_stock_hash = Some(next.stock_hash.clone());
    next
}

/// Pushes every dirty SKU under `checkpoint.run_id`.
#[allow(clippy::too_many_arguments)] // Each is one collaborator of the phase.
pub async fn push<M: MappingSource>(
    store: &impl StagingStore,
    log: &impl AuditLog,
    shop: &ShopConnector<M>,
    settings: &Settings,
    audit: &Recorder,
    clock: &dyn Clock,
    mut checkpoint: Checkpoint,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Pushed, SyncError> {
    let options = &settings.options;
    let platform = shop.config().platform;
    let chunk = match platform {
        Platform::Shopify => shopify::LOOKUP_CHUNK,
        Platform::Woocommerce => woocommerce::BATCH_LIMIT,
        Platform::Generic => {
            return Err(SyncError::Config(
                "catalogue sync serves Shopify and WooCommerce shops, not generic ones".into(),
            ));
        }
    };
    let calls = ShopCalls::new(shop, audit, clock);
    let mut done = Pushed::default();
    let mut after: Option<Sku> = None;
    store.set_checkpoint(Some(&checkpoint)).await?;
    loop {
        if settings.stop_at_ms.is_some_and(|stop| clock.now_ms() >= stop) {
            done.deferred = remaining(store, after.as_ref()).await?;
            break;
        }
        let batch = store.dirty(after.as_ref(), chunk).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.sku().clone());
        let (outcomes, stop) = push_batch(&calls, platform, &batch, options, audit.run_id()).await;
        let now = clock.now_ms();
        let settled: Vec<StagedItem> = outcomes
            .into_iter()
            .map(|(item, outcome, found)| {
                match &outcome {
                    Outcome::Refused(_) => done.refused += 1,
                    Outcome::Pushed(_) | Outcome::Deleted => done.pushed += 1,
                    // Nothing went to the shop: not pushed, and settled clean below.
                    Outcome::Kept => {}
                }
                settle(item, outcome, found, now)
            })
            .collect();
        store.put(&settled).await?;
        done.items_written += settled.len() as u64;
        if let Some(item) = settled.last() {
            checkpoint.last_sku = Some(item.sku().clone());
            checkpoint.pushed += settled.len() as u64;
            store.set_checkpoint(Some(&checkpoint)).await?;
        }
        audit.flush(log).await?;
        progress(done.pushed + done.refused);
        if let Some(error) = stop {
            done.failed = (batch.len() - settled.len()) as u64 + remaining(store, after.as_ref()).await?;
            done.error = Some(error.to_string());
            break;
        }
    }
    done.shop_calls = calls.count();
    if done.error.is_none() && done.deferred == 0 {
        store.set_checkpoint(None).await?;
    }
    Ok(done)
}

/// Dirty SKUs after `after`, counted through the index.
async fn remaining(store: &impl StagingStore, after: Option<&Sku>) -> Result<u64, SyncError> {
    let mut count = 0;
    let mut after = after.cloned();
    loop {
        let batch = store.dirty(after.as_ref(), 1_000).await?;
        let Some(last) = batch.last() else { return Ok(count) };
        after = Some(last.sku().clone());
        count += batch.len() as u64;
    }
}

type Settled<'a> = (&'a StagedItem, Outcome, Option<ShopIds>);

/// One chunk: the lookups, then the pushes; the outcomes known, and the failure that stopped it.
async fn push_batch<'a, M: MappingSource>(
    calls: &ShopCalls<'_, M>,
    platform: Platform,
    batch: &'a [StagedItem],
    options: &Options,
    run_id: &str,
) -> (Vec<Settled<'a>>, Option<ShopError>) {
    let unknown: Vec<&Sku> = batch
        .iter()
        .filter(|i| i.shop.is_none() && (!i.removed || options.allow_delete))
        .map(StagedItem::sku)
        .collect();
    let found = if unknown.is_empty() {
        Ok(Vec::new())
    } else if platform == Platform::Shopify {
        shopify::lookup(calls, &unknown).await
    } else {
        woocommerce::lookup(calls, &unknown).await
    };
    let found: HashMap<Sku, ShopIds> = match found {
        Ok(found) => found.into_iter().collect(),
        Err(e) => return (Vec::new(), Some(e)),
    };
    let ids = |item: &StagedItem| item.shop.clone().or_else(|| found.get(item.sku()).cloned());
    let mut settled = Vec::new();
    if platform == Platform::Woocommerce {
        let items: Vec<(StagedItem, Option<ShopIds>)> = batch.iter().map(|i| (i.clone(), ids(i))).collect();
        return match woocommerce::push_chunk(calls, &items, options).await {
            Ok(outcomes) => (batch.iter().zip(outcomes).map(|(i, o)| (i, o, ids(i))).collect(), None),
            Err(e) => (Vec::new(), Some(e)),
        };
    }
    for item in batch {
        match shopify::push_one(calls, item, ids(item), options, run_id).await {
            Ok(outcome) => settled.push((item, outcome, ids(item))),
            Err(e) if e.retry == Retry::Permanent => settled.push((item, Outcome::Refused(e.to_string()), ids(item))),
            Err(e) => return (settled, Some(e)),
        }
    }
    (settled, None)
}
