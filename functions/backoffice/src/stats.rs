//! Statistics over the last 30 days, from the day counters alone (one item per day, so the
//! page costs the same on 100 orders or 100 million): orders entering each state per day,
//! orders received per hour of the day, dispatch-time compliance per day, and the exception
//! rate per stage. Drawn as SVG on the server, and downloadable as CSV with the same numbers.

use axum::Extension;
use axum::extract::State as AxumState;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use orderflow_shared::day_counts::{self, DayCounts};
use orderflow_shared::lifecycle::State;
use orderflow_shared::ports::OrderStore;

use crate::charts;
use crate::layout::{self, day, render};
use crate::portal::{App, Ports, Visitor};

pub const DAYS: i64 = 30;

/// The stages whose failures are counted (the states an order enters when a stage succeeds).
const STAGES: [State; 4] = [State::IssuanceDte, State::BroadcastDte, State::Dispatched, State::Delivered];

/// The numbers behind the page and the CSV.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Statistics {
    pub days: Vec<String>,
    /// Per state, orders that entered it each day.
    pub entered: Vec<(State, Vec<u64>)>,
    /// Orders received in each hour of the day (UTC) over the period.
    pub received_per_hour: [u64; 24],
    /// Per day: dispatched, dispatched within the target, and the share in percent (none
    /// without dispatches).
    pub compliance: Vec<(u64, u64, Option<f64>)>,
    /// Per stage: failures, successes, and the failure share in percent.
    pub exception_rate: Vec<(State, u64, u64, Option<f64>)>,
    pub target_hours: u32,
}

/// The statistics of `days` (oldest first).
pub fn compute(days: &[DayCounts], target_hours: u32) -> Statistics {
    let entered = State::ALL.into_iter().map(|s| (s, days.iter().map(|d| d.entered(s)).collect())).collect();
    let mut received_per_hour = [0; 24];
    for (hour, slot) in received_per_hour.iter_mut().enumerate() {
        *slot = days.iter().map(|d| d.get(&day_counts::received_hour(hour as u32))).sum();
    }
    let compliance = days
        .iter()
        .map(|d| {
            let (all, within) = (d.entered(State::Dispatched), d.dispatched_within(target_hours));
            (all, within, percent(within, all))
        })
        .collect();
    let exception_rate = STAGES
        .into_iter()
        .map(|stage| {
            let failed: u64 = days.iter().map(|d| d.get(&day_counts::error_stage(stage))).sum();
            let passed: u64 = days.iter().map(|d| d.entered(stage)).sum();
            (stage, failed, passed, percent(failed, failed + passed))
        })
        .collect();
    Statistics {
        days: days.iter().map(|d| d.day.clone()).collect(),
        entered,
        received_per_hour,
        compliance,
        exception_rate,
        target_hours,
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

async fn read<P: Ports>(portal: &App<P>) -> Result<Statistics, orderflow_shared::error::PortError> {
    let today = time::OffsetDateTime::now_utc();
    let from = day(today - time::Duration::days(DAYS - 1));
    let days = portal.service.store.days(&from, &day(today)).await?;
    Ok(compute(&days, portal.config.dispatch_target_hours))
}

pub async fn page<P: Ports>(AxumState(portal): AxumState<App<P>>, Extension(me): Extension<Visitor>) -> Response {
    let stats = match read::<P>(&portal).await {
        Ok(stats) => stats,
        Err(e) => return layout::unavailable(&portal.config, &me, "The statistics", &e),
    };
    let short: Vec<String> = stats.days.iter().map(|d| d[5..].to_owned()).collect();
    let series: Vec<(String, Vec<f64>)> = stats
        .entered
        .iter()
        .filter(|(_, v)| v.iter().any(|n| *n > 0))
        .map(|(s, v)| (s.to_string(), v.iter().map(|n| *n as f64).collect()))
        .collect();
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let per_hour: Vec<f64> = stats.received_per_hour.iter().map(|n| *n as f64).collect();
    let compliance: Vec<f64> = stats.compliance.iter().map(|(_, _, p)| p.unwrap_or(0.0)).collect();
    let stage_names: Vec<String> = stats.exception_rate.iter().map(|(s, ..)| s.to_string()).collect();
    let rates: Vec<f64> = stats.exception_rate.iter().map(|(.., p)| p.unwrap_or(0.0)).collect();
    let page = crate::page! {
        "title": "Statistics",
        "stats": stats,
        "per_state_svg": charts::lines("Orders entering each state per day", &short, &series),
        "per_hour_svg": charts::bars("Orders received per hour of the day (UTC)", &hours, &per_hour, ""),
        "compliance_svg": charts::bars(&format!("Dispatched within {} h of registration", stats.target_hours), &short, &compliance, "%"),
        "rate_svg": charts::bars("Exception rate per stage", &stage_names, &rates, "%"),
    };
    render(&portal.config, &me, "stats.html", "stats", page)
}

/// The same numbers as the page: `series,label,value` rows.
pub async fn csv<P: Ports>(AxumState(portal): AxumState<App<P>>, Extension(me): Extension<Visitor>) -> Response {
    let stats = match read::<P>(&portal).await {
        Ok(stats) => stats,
        Err(e) => return layout::unavailable(&portal.config, &me, "The statistics", &e),
    };
    let body = to_csv(&stats);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"orderflow-statistics.csv\""),
        ],
        body,
    )
        .into_response()
}

pub fn to_csv(stats: &Statistics) -> String {
    let mut out = String::from("series,label,value\n");
    let share = |p: &Option<f64>| p.map_or_else(String::new, |p| format!("{p:.1}"));
    for (state, values) in &stats.entered {
        for (day, n) in stats.days.iter().zip(values) {
            out.push_str(&format!("entered_{state},{day},{n}\n"));
        }
    }
    for (hour, n) in stats.received_per_hour.iter().enumerate() {
        out.push_str(&format!("received_per_hour,{hour:02},{n}\n"));
    }
    for (day, (all, within, p)) in stats.days.iter().zip(&stats.compliance) {
        out.push_str(&format!("dispatched,{day},{all}\n"));
        out.push_str(&format!("dispatched_within_{}h,{day},{within}\n", stats.target_hours));
        out.push_str(&format!("dispatch_compliance_pct,{day},{}\n", share(p)));
    }
    for (stage, failed, passed, p) in &stats.exception_rate {
        out.push_str(&format!("stage_failures,{stage},{failed}\n"));
        out.push_str(&format!("stage_successes,{stage},{passed}\n"));
        out.push_str(&format!("exception_rate_pct,{stage},{}\n", share(p)));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn compliance_and_exception_rates_come_from_the_day_counters() {
        let day = DayCounts {
            day: "2026-03-01".into(),
            counts: BTreeMap::from([
                ("entered_dispatched".into(), 4),
                ("dispatch_le_4h".into(), 3),
                (day_counts::DISPATCH_LATER.into(), 1),
                ("entered_broadcast_dte".into(), 9),
                ("error_broadcast_dte".into(), 1),
                ("received_h10".into(), 7),
            ]),
        };
        let stats = compute(&[day], 24);
        assert_eq!(stats.compliance, [(4, 3, Some(75.0))]);
        assert_eq!(stats.received_per_hour[10], 7);
        let broadcast = stats.exception_rate.iter().find(|r| r.0 == State::BroadcastDte).unwrap();
        assert_eq!(broadcast, &(State::BroadcastDte, 1, 9, Some(10.0)));
        let csv = to_csv(&stats);
        assert!(csv.contains("dispatch_compliance_pct,2026-03-01,75.0\n"), "{csv}");
        assert!(csv.contains("exception_rate_pct,broadcast_dte,10.0\n"), "{csv}");
    }
}
