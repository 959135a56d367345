//! The day counters of orders written before the counters existed, counted again from every
//! order's history (`orderflow stats backfill`) on DynamoDB: the days before the cutoff get
//! what the live writes would have given them, the cutoff day keeps its live counts.

use orderflow_e2e::dynamo::create_orders_table;
use orderflow_e2e::{order_numbered, sdk_config, unique};
use orderflow_shared::adapters::aws::{DynamoOrderStore, dynamodb_client};
use orderflow_shared::day_backfill::count_days;
use orderflow_shared::day_counts::{DayCounts, days_between};
use orderflow_shared::lifecycle::{OrderRecord, StageError, State, now_rfc3339};
use orderflow_shared::ports::{Expected, OrderStore};

/// `days_back` days before today at `hour`, as records hold times.
fn at(days_back: i64, hour: u32) -> String {
    let day = time::OffsetDateTime::now_utc().date() - time::Duration::days(days_back);
    format!("{day}T{hour:02}:15:00.000Z")
}

/// An order received `days_back` days ago and taken as far as `n` decides: some stay
/// registered, some reach issuance, some fail their broadcast, some are dispatched.
async fn written(store: &DynamoOrderStore, n: u32, days_back: i64) {
    let mut record =
        OrderRecord::register(order_numbered(&format!("BF-{n}")), "incoming/bf.xml", "test", &at(days_back, n % 24));
    store.put(&record, None).await.unwrap();
    let steps: &[State] = match n % 4 {
        0 => &[],
        1 => &[State::IssuanceDte],
        2 => &[State::IssuanceDte, State::Error],
        _ => &[State::IssuanceDte, State::BroadcastDte, State::Dispatched],
    };
    for (i, state) in steps.iter().enumerate() {
        let expected = Expected::of(&record);
        let now = at(days_back, (n % 24 + 1 + i as u32).min(23));
        if *state == State::Error {
            let error = StageError {
                stage: State::BroadcastDte,
                code: "provider_unavailable".into(),
                message: "down".into(),
                retryable: true,
                attempt: 1,
            };
            record.fail(error, "test", &now).unwrap();
        } else {
            record.transition(*state, "test", "", &now).unwrap();
        }
        store.put(&record, Some(expected)).await.unwrap();
    }
}

#[tokio::test]
async fn a_backfill_gives_the_days_before_the_counters_what_the_live_writes_would_have() {
    let sdk = sdk_config().await;
    let client = dynamodb_client(&sdk);
    let table = unique("backfill-orders");
    create_orders_table(&client, &table).await;
    let store = DynamoOrderStore::new(client.clone(), &table);
    for n in 0..16 {
        written(&store, n, i64::from(n % 5) + 1).await;
    }
    let today = now_rfc3339()[..10].to_owned();
    let from = at(7, 0)[..10].to_owned();
    let live = store.days(&from, &today).await.unwrap();
    let counted_live: u64 = live.iter().map(|d| d.entered(State::Registered)).sum();
    assert_eq!(counted_live, 16, "the live writes counted every order: {live:?}");
    assert_eq!(live.iter().map(|d| d.get("error_broadcast_dte")).sum::<u64>(), 4, "the failed broadcasts: {live:?}");
    assert_eq!(live.iter().map(|d| d.dispatched_within(72)).sum::<u64>(), 4, "the dispatches: {live:?}");

    // A table from before the portal: its orders, no day items.
    for day in days_between(&from, &today, 10) {
        let key = aws_sdk_dynamodb::types::AttributeValue::S(format!("days#{day}"));
        client.delete_item().table_name(&table).key("pk", key).send().await.unwrap();
    }
    assert!(store.days(&from, &today).await.unwrap().iter().all(|d| d.counts.is_empty()));
    // One order today, after the portal came: today's item holds the live count alone.
    written(&store, 100, 0).await;
    let today_live = store.days(&today, &today).await.unwrap();

    for run in 0..2 {
        let counted = count_days(&store, &today, &|_| {}).await.unwrap();
        assert_eq!(counted.orders, 17, "run {run}");
        store.replace_days(&counted.days).await.unwrap();
        let after = store.days(&from, &today).await.unwrap();
        let before_today = |days: &[DayCounts]| days.iter().filter(|d| d.day < today).cloned().collect::<Vec<_>>();
        assert_eq!(
            before_today(&after),
            before_today(&live),
            "run {run}: the days before today as the live writes left them"
        );
        assert_eq!(store.days(&today, &today).await.unwrap(), today_live, "run {run}: today is the live counts'");
    }
}
