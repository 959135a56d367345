//! The overview: orders per state now, in process, received and dispatched today, and the early
//! warnings (orders longer in a state than its threshold, oldest first).
//!
//! Reads: the per-state counts (`stats`, bounded), today's day counters (one item), and per
//! configured state at most [`WARNINGS_PER_STATE`] orders from the state index.

use axum::Extension;
use axum::extract::State as AxumState;
use axum::response::Response;
use orderflow_shared::lifecycle::State;
use orderflow_shared::order::Text;
use orderflow_shared::ports::OrderStore;

use crate::layout::{self, day, parse_time, render, rfc3339, waited};
use crate::portal::{App, Ports, Visitor};

pub const WARNINGS_PER_STATE: usize = 20;

/// States an order passes through on its way (not yet dispatched, not stopped).
pub const IN_PROCESS: [State; 4] = [State::Received, State::Registered, State::IssuanceDte, State::BroadcastDte];

#[derive(serde::Serialize)]
struct Warning {
    key: String,
    number: Text,
    state: State,
    since: String,
    waited: String,
    threshold: String,
}

pub async fn page<P: Ports>(AxumState(portal): AxumState<App<P>>, Extension(me): Extension<Visitor>) -> Response {
    let store = &portal.service.store;
    let now = time::OffsetDateTime::now_utc();
    let stats = match store.stats().await {
        Ok(stats) => stats,
        Err(e) => return layout::unavailable(&portal.config, &me, "The counts per state", &e),
    };
    let today = day(now);
    let today_counts = match store.days(&today, &today).await {
        Ok(mut days) => days.pop().unwrap_or_default(),
        Err(e) => return layout::unavailable(&portal.config, &me, "Today's counters", &e),
    };
    let mut warnings = Vec::new();
    for (state, threshold) in &portal.config.thresholds {
        let before = rfc3339(now - *threshold);
        let late = match store.oldest_in_state(*state, &before, WARNINGS_PER_STATE).await {
            Ok(late) => late,
            Err(e) => return layout::unavailable(&portal.config, &me, "The early warnings", &e),
        };
        for record in late {
            let since = parse_time(&record.state_at).unwrap_or(now);
            warnings.push(Warning {
                key: record.key.to_string(),
                number: record.order.order_number.clone(),
                state: record.state,
                since: record.state_at.clone(),
                waited: waited((now - since).whole_seconds()),
                threshold: waited(threshold.as_secs() as i64),
            });
        }
    }
    warnings.sort_by(|a, b| a.since.cmp(&b.since));
    let in_process: u64 = stats.iter().filter(|s| IN_PROCESS.contains(&s.state)).map(|s| s.count).sum();
    let page = crate::page! {
        "title": "Overview",
        "states": stats,
        "in_process": in_process,
        "received_today": today_counts.entered(State::Received),
        "dispatched_today": today_counts.entered(State::Dispatched),
        "warnings": warnings,
        "now": rfc3339(now),
    };
    render(&portal.config, &me, "overview.html", "overview", page)
}
