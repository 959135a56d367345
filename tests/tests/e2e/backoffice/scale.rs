//! The statistics and the overview on 100,000 orders in the embedded store: they read the day
//! counters and the per-state counts, not the orders. The test checks what they show; the time
//! each page took is printed for the record, never asserted (a shared CI machine's timing is no
//! verdict on the code). The DynamoDB items each page reads are counted in `moto.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use orderflow_shared::adapters::embedded::EmbeddedOrderStore;
use orderflow_shared::lifecycle::{OrderRecord, State};
use orderflow_shared::ports::{Expected, OrderStore};

use super::helpers::{Browser, VIEWER, embedded_with_store, order};

const ORDERS: usize = 100_000;

/// `n` days back from today at `hour`, as the records hold times.
fn at(days_back: i64, hour: usize, n: usize) -> String {
    let day = time::OffsetDateTime::now_utc() - time::Duration::days(days_back);
    format!("{}T{hour:02}:{:02}:{:02}.{:03}Z", &backoffice::layout::day(day), n / 60 % 60, n % 60, n % 1000)
}

#[tokio::test]
async fn statistics_and_overview_on_100_000_orders_count_every_order_once() {
    let store = Arc::new(EmbeddedOrderStore::new());
    let sample = order("SCALE");
    for n in 0..ORDERS {
        let mut o = sample.clone();
        o.renumber(format!("SCALE-{n}"));
        let days_back = (n % 30) as i64;
        let mut record = OrderRecord::register(o, "test", "test", &at(days_back, n % 24, n));
        store.put(&record, None).await.unwrap();
        // A third move on to issuance, so the day counters hold more than one state.
        if n % 3 == 0 {
            let expected = Expected::of(&record);
            record.transition(State::IssuanceDte, "test", "folio", &at(days_back, n % 24, n + 1)).unwrap();
            store.put(&record, Some(expected)).await.unwrap();
        }
    }
    let portal = embedded_with_store(store, 0).await;
    let mut vic = Browser::signed_in(&portal.url, VIEWER).await;
    for path in ["/console/stats", "/console/stats.csv", "/console/"] {
        // The first request of a path warms nothing the second does not: time the slower.
        let mut slowest = Duration::ZERO;
        for _ in 0..2 {
            let started = Instant::now();
            let page = vic.get(path).await;
            slowest = slowest.max(started.elapsed());
            assert_eq!(page.status, 200, "{path}");
        }
        println!("{path} on {ORDERS} orders: {slowest:?}");
    }
    let csv = vic.get("/console/stats.csv").await.body;
    let registered: u64 = csv
        .lines()
        .filter(|l| l.starts_with("entered_registered,"))
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(registered, ORDERS as u64, "every order counted once on its day");
}
