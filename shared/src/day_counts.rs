//! Per-day counters behind the portal's statistics: what each write adds to the day it
//! happened on, so the statistics read one small item per day instead of every order.
//!
//! A write's increments come from the history entries it appends (the transitions only): one
//! per state entered, the hour an order was received, the stage that failed on a move to
//! `error`, and on a dispatch how long the order took since it was created, in
//! [`DISPATCH_BUCKETS_HOURS`]. The stores add them in the same write as the record (DynamoDB:
//! the same transaction), so the counters are exact.

use std::collections::BTreeMap;

use crate::lifecycle::{HistoryEntry, HistoryKind, OrderRecord, State};

/// Upper bounds, in hours, of the dispatch-time buckets; a dispatch later than the last one
/// counts in `dispatch_later`. Compliance with a threshold sums the buckets up to it.
pub const DISPATCH_BUCKETS_HOURS: [u32; 8] = [1, 2, 4, 8, 12, 24, 48, 72];

/// The counters of one day (UTC), by name: `entered_<state>`, `received_h<HH>`,
/// `error_<stage>`, `dispatch_le_<h>h`, `dispatch_later`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DayCounts {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub counts: BTreeMap<String, u64>,
}

impl DayCounts {
    pub fn get(&self, name: &str) -> u64 {
        self.counts.get(name).copied().unwrap_or(0)
    }

    pub fn entered(&self, state: State) -> u64 {
        self.get(&entered(state))
    }

    /// Dispatches within `hours` (rounded down to a bucket bound).
    pub fn dispatched_within(&self, hours: u32) -> u64 {
        DISPATCH_BUCKETS_HOURS.iter().filter(|b| **b <= hours).map(|b| self.get(&dispatch_bucket(*b))).sum()
    }
}

pub fn entered(state: State) -> String {
    format!("entered_{state}")
}

pub fn received_hour(hour: u32) -> String {
    format!("received_h{hour:02}")
}

pub fn error_stage(stage: State) -> String {
    format!("error_{stage}")
}

fn dispatch_bucket(hours: u32) -> String {
    format!("dispatch_le_{hours}h")
}

pub const DISPATCH_LATER: &str = "dispatch_later";

/// What writing `new` adds, per day, given the state the stored order had (`None`: the write
/// creates it). A creation counts every transition it carries (`received`, `registered`); a
/// move counts the transition into the new state; a write that keeps the state counts nothing.
/// Both stores call this with what their conditional write knows, so they count alike.
pub fn increments(previous: Option<State>, new: &OrderRecord) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut transitions = new.history.iter().filter(|e| e.kind == HistoryKind::Transition && e.to.is_some());
    let counted: Vec<&HistoryEntry> = match previous {
        None => transitions.collect(),
        Some(state) if state == new.state => Vec::new(),
        Some(_) => transitions.rfind(|e| e.to == Some(new.state)).into_iter().collect(),
    };
    let mut days = BTreeMap::new();
    for entry in counted {
        count(entry, new.last_error.as_ref().map(|e| e.stage), &new.created_at, &mut days);
    }
    days
}

/// What an order's whole history adds to the days before `before` (`YYYY-MM-DD`): the counts
/// its writes would have made had the counters existed then (the backfill of the days before
/// the portal). A move to `error` counts the stage its entry names, as [`OrderRecord::fail`]
/// writes it (`<stage> failed: …`): the record's `last_error` is only the latest one.
pub fn from_history(record: &OrderRecord, before: &str) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut days = BTreeMap::new();
    let transitions = record.history.iter().filter(|e| e.kind == HistoryKind::Transition && e.to.is_some());
    for entry in transitions.filter(|e| e.at.get(..10).is_some_and(|day| day < before)) {
        let failed = entry.detail.split_once(" failed: ").and_then(|(stage, _)| State::parse(stage));
        count(entry, failed, &record.created_at, &mut days);
    }
    days
}

/// Adds one transition's counts to its day: the state entered, and the hour received, the
/// stage that failed (`failed`, on a move to `error`) or the dispatch's time bucket.
fn count(
    entry: &HistoryEntry,
    failed: Option<State>,
    created_at: &str,
    days: &mut BTreeMap<String, BTreeMap<String, u64>>,
) {
    let (Some(to), Some(day)) = (entry.to, entry.at.get(..10)) else { return };
    let counts = days.entry(day.to_owned()).or_default();
    let mut add = |name: String| *counts.entry(name).or_insert(0) += 1;
    add(entered(to));
    match to {
        State::Received => {
            if let Some(hour) = entry.at.get(11..13).and_then(|h| h.parse().ok()) {
                add(received_hour(hour));
            }
        }
        State::Error => {
            if let Some(stage) = failed {
                add(error_stage(stage));
            }
        }
        State::Dispatched => add(dispatch_name(created_at, &entry.at)),
        _ => {}
    }
}

/// The bucket of a dispatch at `at` of an order created at `created`.
fn dispatch_name(created: &str, at: &str) -> String {
    let hours = match (parse(created), parse(at)) {
        (Some(c), Some(a)) => (a - c).whole_seconds().max(0) as f64 / 3600.0,
        _ => f64::INFINITY,
    };
    DISPATCH_BUCKETS_HOURS
        .iter()
        .find(|b| hours <= f64::from(**b))
        .map_or_else(|| DISPATCH_LATER.to_owned(), |b| dispatch_bucket(*b))
}

fn parse(at: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
}

/// The days from `from` to `to` inclusive (`YYYY-MM-DD`), at most `max` of them.
pub fn days_between(from: &str, to: &str, max: usize) -> Vec<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let (Ok(mut day), Ok(last)) = (time::Date::parse(from, &format), time::Date::parse(to, &format)) else {
        return Vec::new();
    };
    let mut days = Vec::new();
    while day <= last && days.len() < max {
        days.extend(day.format(&format).ok());
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_counts_the_days_before_the_cutoff_with_each_failed_stage_it_names() {
        let xml = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/orders/small-clp.xml")).unwrap();
        let order = crate::ubl::parse_order(&xml, &crate::ubl::Limits::default()).unwrap();
        let mut record = OrderRecord::register(order, "incoming/a.xml", "test", "2026-03-01T10:00:00.000Z");
        record.transition(State::IssuanceDte, "test", "", "2026-03-01T11:00:00.000Z").unwrap();
        let error = |stage| crate::lifecycle::StageError {
            stage,
            code: "down".into(),
            message: "down".into(),
            retryable: true,
            attempt: 1,
        };
        record.fail(error(State::BroadcastDte), "test", "2026-03-02T09:00:00.000Z").unwrap();
        record.transition(State::BroadcastDte, "recovery", "", "2026-03-02T10:00:00.000Z").unwrap();
        record.fail(error(State::Dispatched), "test", "2026-03-03T09:00:00.000Z").unwrap();
        let days = from_history(&record, "2026-03-03");
        assert_eq!(days.keys().collect::<Vec<_>>(), ["2026-03-01", "2026-03-02"], "the cutoff day is left out");
        assert_eq!(days["2026-03-01"]["entered_registered"], 1);
        assert_eq!(days["2026-03-01"]["received_h10"], 1);
        // The first failure was the broadcast's, though the record's last error is the dispatch's.
        assert_eq!(days["2026-03-02"]["error_broadcast_dte"], 1);
        assert_eq!(days["2026-03-02"]["entered_broadcast_dte"], 1);
        assert!(!days["2026-03-02"].contains_key("error_dispatched"));
    }

    #[test]
    fn days_between_is_inclusive_and_bounded() {
        assert_eq!(days_between("2026-02-27", "2026-03-01", 10), ["2026-02-27", "2026-02-28", "2026-03-01"]);
        assert_eq!(days_between("2026-01-01", "2026-12-31", 31).len(), 31);
        assert!(days_between("2026-03-02", "2026-03-01", 10).is_empty());
    }

    #[test]
    fn a_dispatch_falls_in_the_first_bucket_that_holds_it() {
        assert_eq!(dispatch_name("2026-03-01T10:00:00.000Z", "2026-03-01T10:30:00.000Z"), "dispatch_le_1h");
        assert_eq!(dispatch_name("2026-03-01T10:00:00.000Z", "2026-03-01T13:00:00.000Z"), "dispatch_le_4h");
        assert_eq!(dispatch_name("2026-03-01T10:00:00.000Z", "2026-03-05T10:00:00.000Z"), DISPATCH_LATER);
        let day = DayCounts {
            day: "2026-03-01".into(),
            counts: BTreeMap::from([("dispatch_le_1h".into(), 2), ("dispatch_le_4h".into(), 3)]),
        };
        assert_eq!(day.dispatched_within(2), 2);
        assert_eq!(day.dispatched_within(4), 5);
    }
}
