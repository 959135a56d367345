//! In-memory `OrderStore` with the orders table's semantics: conditional writes on the
//! version, state lists newest first through an index like the `by-state` GSI, and the change
//! stream that DynamoDB Streams gives with NEW_AND_OLD_IMAGES.
//!
//! Records are kept as shared, immutable [`Arc`]s: the table, its change stream and every
//! reader of the stream hold the same image. A write stores one new record and never copies
//! the old one, and following the stream costs a reference count per image, not a deep copy
//! of an order whose history grows with every transition. Only `get` and the listings copy,
//! because the port hands out records the caller may change.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::journal::Journal;
use crate::day_counts::{self, DayCounts};
use crate::error::PortError;
use crate::lifecycle::{OrderRecord, State};
use crate::order::OrderKey;
use crate::ports::{Expected, ListError, MAX_DAYS, OrderPage, OrderStore, StateChange, StateStats, WriteError};

/// The largest page `list_by_state` returns, as in the DynamoDB store.
const MAX_PAGE: usize = 100;

/// One successful write, as a stream record: the image before (none on create) and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Increases by one per write, starting at 1.
    pub sequence: u64,
    pub old: Option<Arc<OrderRecord>>,
    pub new: Arc<OrderRecord>,
}

impl From<&Change> for StateChange {
    fn from(change: &Change) -> Self {
        StateChange {
            key: Some(change.new.key.as_str().to_owned()),
            old_state: change.old.as_ref().map(|r| r.state.as_str().to_owned()),
            new_state: Some(change.new.state.as_str().to_owned()),
        }
    }
}

#[derive(Debug, Default)]
struct Table {
    records: BTreeMap<OrderKey, Arc<OrderRecord>>,
    /// state → `state_at#key` → key: the `by-state` index.
    by_state: BTreeMap<State, BTreeMap<String, OrderKey>>,
    /// Every change since the store was created; the stream's retention is the store's life.
    changes: Vec<Change>,
    /// day → counter → value: the day items of the DynamoDB table.
    days: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The orders table in memory, for `orderflow demo`, `serve` and tests; with a journal, also
/// on disk.
#[derive(Debug, Default)]
pub struct EmbeddedOrderStore {
    table: Mutex<Table>,
    /// Every record written, in order; replayed by [`EmbeddedOrderStore::open`].
    journal: Option<Journal>,
}

impl EmbeddedOrderStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The store as the journal at `path` left it (the last record written per order), writing
    /// on to it. The change stream starts empty: replayed records are not changes.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let (journal, records) = Journal::open::<OrderRecord>(path)?;
        let mut table = Table::default();
        for record in records {
            table.index(Arc::new(record));
        }
        Ok(Self { table: Mutex::new(table), journal: Some(journal) })
    }

    /// The changes after `sequence`, oldest first; pass the last `sequence` seen to poll on.
    pub fn changes_since(&self, sequence: u64) -> Vec<Change> {
        let table = self.lock();
        // Sequences are dense from 1, so change `n` sits at index `n - 1`.
        let from = usize::try_from(sequence).unwrap_or(usize::MAX).min(table.changes.len());
        table.changes[from..].to_vec()
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Every update checks first and mutates after, so a poisoned table is still whole.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Table {
    /// Stores `record` and moves it in the state index; returns the record it replaced.
    fn index(&mut self, record: Arc<OrderRecord>) -> Option<Arc<OrderRecord>> {
        let old = self.records.insert(record.key.clone(), record.clone());
        for (day, counts) in day_counts::increments(old.as_ref().map(|o| o.state), &record) {
            let stored = self.days.entry(day).or_default();
            for (name, n) in counts {
                *stored.entry(name).or_insert(0) += n;
            }
        }
        if let Some(old) = &old
            && let Some(list) = self.by_state.get_mut(&old.state)
        {
            list.remove(&state_sort(old));
        }
        self.by_state.entry(record.state).or_default().insert(state_sort(&record), record.key.clone());
        old
    }
}

/// The index sort key, as in the DynamoDB item.
fn state_sort(record: &OrderRecord) -> String {
    format!("{}#{}", record.state_at, record.key)
}

impl OrderStore for EmbeddedOrderStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<OrderRecord>, PortError> {
        // The copy is made after the lock is released: only the reference count is taken under it.
        let shared = self.lock().records.get(key).cloned();
        Ok(shared.map(Arc::unwrap_or_clone))
    }

    async fn put(&self, record: &OrderRecord, expected: Option<Expected>) -> Result<(), WriteError> {
        let mut table = self.lock();
        // As DynamoDB's condition: the stored version and state, or no order at all.
        if table.records.get(&record.key).map(Arc::as_ref).map(Expected::of) != expected {
            return Err(WriteError::VersionConflict);
        }
        // On disk first, under the table's lock: the journal is never behind an answer.
        if let Some(journal) = &self.journal {
            journal.append(record).map_err(|e| {
                PortError::transient("write order journal", format!("{}: {e}", journal.path().display()))
            })?;
        }
        let new = Arc::new(record.clone());
        let old = table.index(new.clone());
        let sequence = table.changes.len() as u64 + 1;
        table.changes.push(Change { sequence, old, new });
        Ok(())
    }

    async fn list_by_state(&self, state: State, limit: usize, cursor: Option<&str>) -> Result<OrderPage, ListError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let after = cursor.map(|c| Cursor::decode(c, state)).transpose()?;
        let table = self.lock();
        let Some(list) = table.by_state.get(&state) else {
            return Ok(OrderPage { orders: Vec::new(), cursor: None });
        };
        let upper = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let mut page: Vec<_> = list.range::<str, _>((Bound::Unbounded, upper)).rev().take(limit + 1).collect();
        let more = page.len() > limit;
        page.truncate(limit);
        let cursor = match page.last() {
            Some((sort, _)) if more => Some(Cursor::encode(state, sort)),
            _ => None,
        };
        let orders = page.iter().filter_map(|(_, key)| table.records.get(*key).map(Arc::as_ref).cloned()).collect();
        Ok(OrderPage { orders, cursor })
    }

    async fn stats(&self) -> Result<Vec<StateStats>, PortError> {
        let table = self.lock();
        let stats = State::ALL.into_iter().map(|state| {
            let list = table.by_state.get(&state);
            let oldest = list
                .and_then(BTreeMap::first_key_value)
                .and_then(|(_, key)| table.records.get(key))
                .map(|r| (r.key.clone(), r.state_at.clone()));
            StateStats { state, count: list.map_or(0, |l| l.len() as u64), oldest }
        });
        Ok(stats.collect())
    }

    async fn oldest_in_state(&self, state: State, before: &str, limit: usize) -> Result<Vec<OrderRecord>, PortError> {
        let table = self.lock();
        let Some(list) = table.by_state.get(&state) else { return Ok(Vec::new()) };
        // `state_at#key` sorts before `before` exactly when `state_at` does, as in the Query.
        let oldest = list.range::<str, _>((Bound::Unbounded, Bound::Excluded(before))).take(limit.min(MAX_PAGE));
        Ok(oldest.filter_map(|(_, key)| table.records.get(key).map(Arc::as_ref).cloned()).collect())
    }

    async fn days(&self, from: &str, to: &str) -> Result<Vec<DayCounts>, PortError> {
        let table = self.lock();
        let days = day_counts::days_between(from, to, MAX_DAYS).into_iter().map(|day| {
            let counts = table.days.get(&day).cloned().unwrap_or_default();
            DayCounts { day, counts }
        });
        Ok(days.collect())
    }
}

/// The position after the last order of a page, opaque to callers like the DynamoDB cursor.
#[derive(Deserialize)]
struct Cursor {
    state: State,
    after: String,
}

impl Cursor {
    fn encode(state: State, after: &str) -> String {
        let json = serde_json::json!({ "state": state, "after": after });
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    fn decode(cursor: &str, state: State) -> Result<String, ListError> {
        let invalid = ListError::InvalidCursor;
        let json = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid("it is not one a listing returned".into()))?;
        let decoded: Cursor =
            serde_json::from_slice(&json).map_err(|_| invalid("it is not one a listing returned".into()))?;
        if decoded.state != state {
            return Err(invalid(format!("it continues the {} list, not {state}", decoded.state)));
        }
        Ok(decoded.after)
    }
}
