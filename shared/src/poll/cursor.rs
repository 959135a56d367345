//! Where a source's polling stands: the latest `updated_at` taken, and the orders already taken
//! inside the lookback window below it.
//!
//! Every poll reads from `high_water - lookback` (inclusive), so:
//! - two orders with the same `updated_at` split across two polls (the first poll saw one, the
//!   second sees both) are each taken once: the first is in `seen` with that time;
//! - an order that shows up late with an `updated_at` below the high water (a slow commit on
//!   the platform's side, a replica behind) is still read while it is inside the window;
//! - an order updated again (a new `updated_at`) is taken again; its content decides whether
//!   that changes anything (the same content is a duplicate downstream).
//!
//! The cursor is keyed by source name only, never by a hash of the source's configuration, so
//! a redeploy or a changed filter, page size or URL continues from where it stood.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// The latest `updated_at` read, in ms since the epoch; 0 before the first poll.
    pub high_water_ms: i64,
    /// Platform order id → the `updated_at` (ms) at which it was taken, for orders inside the
    /// lookback window below `high_water_ms`.
    pub seen: BTreeMap<String, i64>,
}

impl Cursor {
    /// Where a poll starts reading: the lookback window below the high water, or `start_ms`
    /// for a source never polled before.
    pub fn window_start(&self, lookback_ms: i64, start_ms: i64) -> i64 {
        if self.high_water_ms == 0 { start_ms } else { self.high_water_ms.saturating_sub(lookback_ms).max(0) }
    }

    /// Whether an order read at `updated_ms` is still to be taken: not taken at this or a later
    /// time, and not below `window_start` (older than the window: an earlier poll covered it,
    /// and the platform's date filter only let it through by rounding).
    pub fn wants(&self, id: &str, updated_ms: i64, window_start: i64) -> bool {
        updated_ms >= window_start && self.seen.get(id).is_none_or(|&taken| updated_ms > taken)
    }

    /// Notes an order as read (taken, or filtered out) at `updated_ms`. Only taken orders enter
    /// `seen`; a filtered-out one is read again within the window and filtered again.
    pub fn read(&mut self, updated_ms: i64) {
        self.high_water_ms = self.high_water_ms.max(updated_ms);
    }

    pub fn taken(&mut self, id: &str, updated_ms: i64) {
        self.read(updated_ms);
        let entry = self.seen.entry(id.to_owned()).or_insert(updated_ms);
        *entry = (*entry).max(updated_ms);
    }

    /// Drops what fell out of the window, so the record stays small.
    pub fn prune(&mut self, lookback_ms: i64) {
        let floor = self.high_water_ms.saturating_sub(lookback_ms);
        self.seen.retain(|_, at| *at >= floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tie_at_the_boundary_is_taken_once_each() {
        let mut cursor = Cursor::default();
        let start = cursor.window_start(0, 1_000);
        assert!(cursor.wants("a", 5_000, start));
        cursor.taken("a", 5_000);
        cursor.prune(0);
        let start = cursor.window_start(0, 1_000);
        assert_eq!(start, 5_000);
        assert!(!cursor.wants("a", 5_000, start), "a was taken at 5000");
        assert!(cursor.wants("b", 5_000, start), "b shares a's time and was not taken");
    }

    #[test]
    fn a_late_record_inside_the_lookback_is_wanted_and_one_outside_is_not() {
        let mut cursor = Cursor::default();
        cursor.taken("a", 100_000);
        cursor.prune(60_000);
        let start = cursor.window_start(60_000, 0);
        assert!(cursor.wants("late", 50_000, start));
        assert!(!cursor.wants("older", 39_999, start));
    }

    #[test]
    fn an_update_after_taking_is_taken_again_and_pruning_keeps_the_window() {
        let mut cursor = Cursor::default();
        cursor.taken("a", 1_000);
        assert!(cursor.wants("a", 2_000, 0));
        cursor.taken("b", 90_000);
        cursor.prune(60_000);
        assert_eq!(cursor.seen.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(cursor.high_water_ms, 90_000);
    }
}
