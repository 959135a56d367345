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
    let mut days: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for entry in counted {
        let (Some(to), Some(day)) = (entry.to, entry.at.get(..10)) else { continue };
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
                if let Some(error) = &new.last_error {
                    add(error_stage(error.stage));
                }
            }
            State::Dispatched => add(dispatch_name(&new.created_at, &entry.at)),
            _ => {}
        }
    }
    days
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
