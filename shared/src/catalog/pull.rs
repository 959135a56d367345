//! The pull phase: the whole ERP catalogue is read first, then compared with staging, and only
//! items whose content hash changed (new, changed, or no longer listed) are written, dirty.
//! An ERP that fails during the read leaves staging as it was.

use std::collections::{HashMap, HashSet};

use super::SyncError;
use super::audit::Recorder;
use super::item::{ItemState, Sku, StagedItem};
use super::source::{ErpItems, Invalid, ItemFields};
use super::staging::StagingStore;
use crate::ports::Clock;

/// Staging writes per call.
const PUT_CHUNK: usize = 1_000;

#[derive(Debug, Default)]
pub struct Pulled {
    pub read: u64,
    pub changed: u64,
    pub invalid: Vec<Invalid>,
    pub erp_calls: u64,
    pub items_written: u64,
}

pub async fn pull(
    store: &impl StagingStore,
    erp: &ErpItems,
    fields: &ItemFields,
    audit: &Recorder,
    clock: &dyn Clock,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Pulled, SyncError> {
    let read = erp.read_all(fields, audit, progress).await?;
    let mut staged: HashMap<Sku, StagedItem> = store.all().await?.into_iter().map(|i| (i.sku().clone(), i)).collect();
    let now = clock.now_ms();
    let mut pulled =
        Pulled { read: read.products.len() as u64, invalid: read.invalid, erp_calls: read.calls, ..Pulled::default() };
    let mut seen = HashSet::new();
    let mut changes = Vec::new();
    for product in read.products {
        if !seen.insert(product.sku.clone()) {
            pulled.invalid.push(Invalid {
                row: product.sku.to_string(),
                why: "the ERP lists this SKU twice; the first row was kept".into(),
            });
            continue;
        }
        match staged.remove(&product.sku) {
            None => changes.push(StagedItem::new(product, now)),
            Some(item) => changes.extend(item.restaged(product, now)),
        }
    }
    for (_, item) in staged {
        if !item.removed {
            changes.push(StagedItem { removed: true, state: ItemState::Dirty, refusal: None, updated_ms: now, ..item });
        }
    }
    changes.sort_by(|a, b| a.sku().cmp(b.sku()));
    for chunk in changes.chunks(PUT_CHUNK) {
        store.put(chunk).await?;
    }
    pulled.changed = changes.len() as u64;
    pulled.items_written = pulled.changed;
    Ok(pulled)
}
