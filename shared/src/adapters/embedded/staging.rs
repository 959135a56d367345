//! The staging table and the request log in memory, for `orderflow sync`, tests and the
//! benchmark. The dirty and refused "indexes" are sets of SKUs kept beside the items, as the
//! DynamoDB table's sparse index holds only the items that carry its key.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::catalog::{AuditLog, Checkpoint, Exchange, ItemState, RunSummary, Sku, StagedItem, StagingStore};
use crate::error::PortError;

#[derive(Default, Serialize, Deserialize)]
struct Tables {
    items: BTreeMap<Sku, StagedItem>,
    dirty: BTreeSet<Sku>,
    refused: BTreeSet<Sku>,
    checkpoint: Option<Checkpoint>,
    runs: Vec<RunSummary>,
    #[serde(skip)]
    writes: u64,
}

/// Clones share the table.
#[derive(Clone, Default)]
pub struct MemoryStaging(Arc<Mutex<Tables>>);

impl MemoryStaging {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.0.lock().expect("the staging table")
    }

    /// Items written since the table was made (what DynamoDB would bill as writes).
    pub fn writes(&self) -> u64 {
        self.lock().writes
    }

    /// The table as JSON, for a local run to keep between invocations.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&*self.lock()).expect("JSON serialises")
    }

    /// A table saved by [`Self::to_json`].
    pub fn from_json(text: &str) -> Result<Self, String> {
        let tables: Tables =
            serde_json::from_str(text).map_err(|e| format!("the saved staging table is unreadable: {e}"))?;
        Ok(Self(Arc::new(Mutex::new(tables))))
    }

    pub fn item(&self, sku: &str) -> Option<StagedItem> {
        let sku = Sku::parse(sku).ok()?;
        self.lock().items.get(&sku).cloned()
    }
}

impl StagingStore for MemoryStaging {
    async fn all(&self) -> Result<Vec<StagedItem>, PortError> {
        Ok(self.lock().items.values().cloned().collect())
    }

    async fn put(&self, items: &[StagedItem]) -> Result<(), PortError> {
        let mut tables = self.lock();
        for item in items {
            let sku = item.sku().clone();
            tables.dirty.remove(&sku);
            tables.refused.remove(&sku);
            match item.state {
                ItemState::Dirty => tables.dirty.insert(sku.clone()),
                ItemState::Refused => tables.refused.insert(sku.clone()),
                ItemState::Clean => false,
            };
            tables.items.insert(sku, item.clone());
            tables.writes += 1;
        }
        Ok(())
    }

    async fn dirty(&self, after: Option<&Sku>, limit: usize) -> Result<Vec<StagedItem>, PortError> {
        let tables = self.lock();
        let skus = tables.dirty.iter().filter(|s| after.is_none_or(|a| *s > a)).take(limit);
        Ok(skus.map(|s| tables.items[s].clone()).collect())
    }

    async fn refused(&self) -> Result<Vec<StagedItem>, PortError> {
        let tables = self.lock();
        Ok(tables.refused.iter().map(|s| tables.items[s].clone()).collect())
    }

    async fn checkpoint(&self) -> Result<Option<Checkpoint>, PortError> {
        Ok(self.lock().checkpoint.clone())
    }

    async fn set_checkpoint(&self, checkpoint: Option<&Checkpoint>) -> Result<(), PortError> {
        self.lock().checkpoint = checkpoint.cloned();
        Ok(())
    }

    async fn record_run(&self, summary: &RunSummary) -> Result<(), PortError> {
        self.lock().runs.push(summary.clone());
        Ok(())
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, PortError> {
        Ok(self.lock().runs.iter().rev().take(limit).cloned().collect())
    }
}

/// The request log in memory; exchanges past their `expires_at` are dropped on each write,
/// as DynamoDB's TTL drops them (there, within a day or two).
#[derive(Clone, Default)]
pub struct MemoryAuditLog(Arc<Mutex<Vec<Exchange>>>);

impl MemoryAuditLog {
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.0.lock().expect("the audit log").clone()
    }
}

impl AuditLog for MemoryAuditLog {
    async fn record(&self, exchanges: &[Exchange]) -> Result<(), PortError> {
        let mut log = self.0.lock().expect("the audit log");
        let now = exchanges.iter().map(|e| e.at_ms / 1_000).max().unwrap_or(0);
        log.retain(|e| e.expires_at > now);
        log.extend_from_slice(exchanges);
        Ok(())
    }
}
