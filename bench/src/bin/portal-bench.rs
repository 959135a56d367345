//! The portal's statistics at scale (a report, never a timed test): ORDERS orders over 30 days
//! in the embedded store. Ours: the 30 day items the writes keep (`OrderStore::days`), then
//! `backoffice::stats::compute`. The peer: the same statistics from every order's history, read
//! through the state index (what a portal without day counters would do, and what
//! `orderflow stats-backfill` does once). Both must give the same statistics; the report gives
//! each one's median time over RUNS runs and their ratio.
//!
//! usage: portal-bench [ORDERS]

use std::time::{Duration, Instant};

use backoffice::layout::day;
use backoffice::stats::{DAYS, Statistics, compute};
use orderflow_shared::adapters::embedded::EmbeddedOrderStore;
use orderflow_shared::day_backfill::count_days;
use orderflow_shared::day_counts::{DayCounts, days_between};
use orderflow_shared::lifecycle::{OrderRecord, StageError, State};
use orderflow_shared::ports::{Expected, MAX_DAYS, OrderStore};

const RUNS: usize = 5;
/// The dispatch target the statistics' compliance uses (the portal's default).
const TARGET_HOURS: u32 = 24;

/// `days_back` days before now, `minutes` into the day.
fn at(days_back: i64, minutes: i64) -> String {
    let today = time::OffsetDateTime::now_utc().date().midnight().assume_utc();
    let t = today - time::Duration::days(days_back) + time::Duration::minutes(minutes);
    format!("{}T{:02}:{:02}:00.000Z", day(t), t.hour(), t.minute())
}

/// `n` orders over the last 30 days: every one received and registered, a half issued, a
/// quarter dispatched, one in ten failing its broadcast.
async fn seed(store: &EmbeddedOrderStore, n: usize) {
    let sample = orderflow_e2e::sample_order();
    for i in 0..n {
        let mut order = sample.clone();
        order.renumber(format!("BENCH-{i}"));
        let days_back = (i % DAYS as usize) as i64;
        let minute = (i % 600) as i64;
        let mut record = OrderRecord::register(order, "bench", "bench", &at(days_back, minute));
        store.put(&record, None).await.expect("register");
        let step = |record: &mut OrderRecord, state: State, later: i64| {
            let expected = Expected::of(record);
            let now = at(days_back, minute + later);
            match state {
                State::Error => {
                    let error = StageError {
                        stage: State::BroadcastDte,
                        code: "provider_unavailable".into(),
                        message: "down".into(),
                        retryable: true,
                        attempt: 1,
                    };
                    record.fail(error, "bench", &now).expect("fail");
                }
                other => record.transition(other, "bench", "", &now).expect("transition"),
            }
            expected
        };
        let path: &[State] = match i % 20 {
            0 | 1 => &[State::IssuanceDte, State::Error],
            2..=6 => &[State::IssuanceDte, State::BroadcastDte, State::Dispatched],
            7..=9 => &[State::IssuanceDte],
            _ => &[],
        };
        for (k, state) in path.iter().enumerate() {
            let expected = step(&mut record, *state, 30 * (k as i64 + 1));
            store.put(&record, Some(expected)).await.expect("move");
        }
    }
}

/// The statistics from the day items, as the portal reads them.
async fn ours(store: &EmbeddedOrderStore, from: &str, to: &str) -> Statistics {
    compute(&store.days(from, to).await.expect("days"), TARGET_HOURS)
}

/// The statistics from every order's history.
async fn peer(store: &EmbeddedOrderStore, from: &str, to: &str, tomorrow: &str) -> Statistics {
    let counted = count_days(store, tomorrow, &|_| {}).await.expect("count");
    let days: Vec<DayCounts> = days_between(from, to, MAX_DAYS)
        .into_iter()
        .map(|d| {
            counted
                .days
                .iter()
                .find(|c| c.day == d)
                .cloned()
                .unwrap_or(DayCounts { day: d, counts: Default::default() })
        })
        .collect();
    compute(&days, TARGET_HOURS)
}

/// The median of `RUNS` timed runs of `run`, and its last result.
async fn timed<F: std::future::Future<Output = Statistics>>(mut run: impl FnMut() -> F) -> (Duration, Statistics) {
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        last = Some(run().await);
        times.push(started.elapsed());
    }
    times.sort();
    (times[RUNS / 2], last.expect("RUNS > 0"))
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let orders: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().map_err(|_| format!("ORDERS: {n} is not a number"))?,
        None => 100_000,
    };
    let store = EmbeddedOrderStore::new();
    let started = Instant::now();
    seed(&store, orders).await;
    println!("portal-bench: {orders} orders over {DAYS} days written in {:?}", started.elapsed());
    let now = time::OffsetDateTime::now_utc();
    let (from, to, tomorrow) =
        (day(now - time::Duration::days(DAYS - 1)), day(now), day(now + time::Duration::days(1)));
    let (our_time, our_stats) = timed(|| ours(&store, &from, &to)).await;
    let (peer_time, peer_stats) = timed(|| peer(&store, &from, &to, &tomorrow)).await;
    if our_stats != peer_stats {
        return Err(format!("the day items and the histories disagree:\n{our_stats:?}\n{peer_stats:?}"));
    }
    let received: u64 = our_stats.received_per_hour.iter().sum();
    if received != orders as u64 {
        return Err(format!("{received} orders counted as received, {orders} written"));
    }
    println!("statistics from the {DAYS} day items (ours)     {our_time:>12.3?}  (median of {RUNS})");
    println!("statistics from every order's history (peer) {peer_time:>12.3?}  (median of {RUNS})");
    println!(
        "ratio peer/ours {:.0}x; both give the same statistics ({received} orders received)",
        peer_time.as_secs_f64() / our_time.as_secs_f64().max(1e-9)
    );
    Ok(())
}
