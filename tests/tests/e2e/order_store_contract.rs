//! One contract for `OrderStore`, run against the embedded store and against DynamoDB on moto:
//! the handlers are tested locally on the first, so it must behave like the second.

use orderflow_e2e::dynamo::create_orders_table;
use orderflow_e2e::{order_suffixed as order, repo_path, sdk_config, unique};
use orderflow_shared::adapters::aws::{DynamoOrderStore, dynamodb_client};
use orderflow_shared::adapters::embedded::EmbeddedOrderStore;
use orderflow_shared::day_counts;
use orderflow_shared::lifecycle::{HistoryKind, OrderRecord, State};
use orderflow_shared::order::{CanonicalOrder, OrderKey};
use orderflow_shared::ports::{Expected, ListError, OrderStore, WriteError};
use orderflow_shared::ubl::{Limits, parse_order};

/// Instantiates every case once per store, as `embedded::<case>` and `dynamodb::<case>`.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(orderflow_shared::adapters::embedded::EmbeddedOrderStore::new()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::dynamo_store().await).await;
                }
            )*
        }
    };
}

contract!(
    creating_twice_conflicts,
    a_stale_version_conflicts_and_the_right_one_wins,
    get_of_an_unknown_key_is_none,
    two_concurrent_writers_from_the_same_version_exactly_one_wins,
    listing_pages_newest_first_without_duplicates_or_gaps,
    an_order_moves_between_state_lists_after_a_transition,
    stats_give_counts_and_the_oldest_per_state,
    an_invalid_cursor_is_a_clear_error,
    a_large_order_round_trips,
    day_counters_count_each_transition_once_on_its_day,
    orders_in_a_state_before_a_time_list_oldest_first,
);

/// A fresh, uniquely named table on moto, so tests and earlier runs never share rows.
async fn dynamo_store() -> DynamoOrderStore {
    let client = dynamodb_client(&sdk_config().await);
    let table = unique("orders");
    create_orders_table(&client, &table).await;
    DynamoOrderStore::new(client, table)
}

fn parse_sample(name: &str) -> CanonicalOrder {
    let path = repo_path(&format!("events/orders/{name}"));
    let xml = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse_order(&xml, &Limits::default()).unwrap_or_else(|e| panic!("parse {name}: {e}"))
}

/// Distinct, ordered timestamps: the listing sorts on them.
fn at(second: u32) -> String {
    format!("2026-03-01T10:00:{second:02}.000Z")
}

fn registered(n: u32, second: u32) -> OrderRecord {
    OrderRecord::register(order(n), "test", "contract", &at(second))
}

fn issued(mut record: OrderRecord, second: u32) -> OrderRecord {
    record.transition(State::IssuanceDte, "contract", "DTE issued", &at(second)).expect("registered → issuance_dte");
    record
}

/// The expectation of a write over a stored order at `version` in `state`.
fn was(version: u64, state: State) -> Option<Expected> {
    Some(Expected { version, state })
}

async fn create(store: &impl OrderStore, record: &OrderRecord) {
    store.put(record, None).await.unwrap_or_else(|e| panic!("create {}: {e}", record.key));
}

fn keys(records: &[OrderRecord]) -> Vec<&OrderKey> {
    records.iter().map(|r| &r.key).collect()
}

async fn creating_twice_conflicts(store: impl OrderStore) {
    let first = registered(1, 1);
    create(&store, &first).await;
    let mut second = first.clone();
    second.source = "another door".into();
    assert!(matches!(store.put(&second, None).await, Err(WriteError::VersionConflict)));
    assert_eq!(store.get(&first.key).await.unwrap(), Some(first));
}

async fn a_stale_version_conflicts_and_the_right_one_wins(store: impl OrderStore) {
    let v1 = registered(1, 1);
    create(&store, &v1).await;
    let v2 = issued(v1.clone(), 2);
    store.put(&v2, was(1, State::Registered)).await.unwrap();

    let mut stale = v1.clone();
    stale.transition(State::Cancelled, "contract", "too late", &at(3)).unwrap();
    assert!(matches!(store.put(&stale, was(1, State::Registered)).await, Err(WriteError::VersionConflict)));

    let mut v3 = v2.clone();
    v3.transition(State::BroadcastDte, "contract", "DTE broadcast", &at(4)).unwrap();
    store.put(&v3, was(2, State::IssuanceDte)).await.unwrap();
    assert_eq!(store.get(&v1.key).await.unwrap(), Some(v3.clone()));

    // The right version in the wrong state is stale: the condition covers both.
    let mut v4 = v3.clone();
    v4.transition(State::Dispatched, "contract", "dispatched", &at(5)).unwrap();
    assert!(matches!(store.put(&v4, was(3, State::IssuanceDte)).await, Err(WriteError::VersionConflict)));
    store.put(&v4, was(3, State::BroadcastDte)).await.unwrap();

    // An expected version for an order that was never created is stale too.
    let never_created = issued(registered(2, 5), 6);
    assert!(matches!(store.put(&never_created, was(1, State::Registered)).await, Err(WriteError::VersionConflict)));
    assert_eq!(store.get(&never_created.key).await.unwrap(), None);
}

async fn get_of_an_unknown_key_is_none(store: impl OrderStore) {
    create(&store, &registered(1, 1)).await;
    assert_eq!(store.get(&order(2).order_key).await.unwrap(), None);
}

async fn two_concurrent_writers_from_the_same_version_exactly_one_wins(store: impl OrderStore) {
    let v1 = registered(1, 1);
    create(&store, &v1).await;
    let issue = issued(v1.clone(), 2);
    let mut cancel = v1.clone();
    cancel.transition(State::Cancelled, "contract", "customer cancelled", &at(2)).unwrap();

    let (a, b) =
        tokio::join!(store.put(&issue, was(1, State::Registered)), store.put(&cancel, was(1, State::Registered)));
    let winner = match (a, b) {
        (Ok(()), Err(WriteError::VersionConflict)) => issue,
        (Err(WriteError::VersionConflict), Ok(())) => cancel,
        other => panic!("expected exactly one winner, got {other:?}"),
    };
    assert_eq!(store.get(&v1.key).await.unwrap(), Some(winner));
}

async fn listing_pages_newest_first_without_duplicates_or_gaps(store: impl OrderStore) {
    let records: Vec<_> = (1..=5).map(|n| registered(n, n)).collect();
    for r in &records {
        create(&store, r).await;
    }
    let newest_first: Vec<_> = records.iter().rev().map(|r| &r.key).collect();

    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_by_state(State::Registered, 2, cursor.as_deref()).await.unwrap();
        pages.push(page.orders);
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
        assert!(pages.len() < 5, "the listing does not end");
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let listed: Vec<_> = pages.iter().flat_map(|p| keys(p)).collect();
    assert_eq!(listed, newest_first);
    assert_eq!(pages[0][0], records[4], "pages carry whole records");

    // A page that holds exactly the rest is the last one too.
    let all = store.list_by_state(State::Registered, 5, None).await.unwrap();
    assert_eq!(keys(&all.orders), newest_first);
    assert_eq!(all.cursor, None);
}

async fn an_order_moves_between_state_lists_after_a_transition(store: impl OrderStore) {
    let v1 = registered(1, 1);
    let other = registered(2, 2);
    create(&store, &v1).await;
    create(&store, &other).await;
    let v2 = issued(v1.clone(), 3);
    store.put(&v2, was(1, State::Registered)).await.unwrap();

    let registered = store.list_by_state(State::Registered, 10, None).await.unwrap();
    assert_eq!(keys(&registered.orders), [&other.key]);
    let issued = store.list_by_state(State::IssuanceDte, 10, None).await.unwrap();
    assert_eq!(issued.orders, [v2]);
}

async fn stats_give_counts_and_the_oldest_per_state(store: impl OrderStore) {
    let records: Vec<_> = (1..=3).map(|n| registered(n, n)).collect();
    for r in &records {
        create(&store, r).await;
    }
    store.put(&issued(records[0].clone(), 4), was(1, State::Registered)).await.unwrap();

    let stats = store.stats().await.unwrap();
    assert_eq!(stats.iter().map(|s| s.state).collect::<Vec<_>>(), State::ALL);
    for s in &stats {
        let expected = match s.state {
            State::Registered => (2, Some((records[1].key.clone(), at(2)))),
            State::IssuanceDte => (1, Some((records[0].key.clone(), at(4)))),
            _ => (0, None),
        };
        assert_eq!((s.count, s.oldest.clone()), expected, "{}", s.state);
    }
}

async fn day_counters_count_each_transition_once_on_its_day(store: impl OrderStore) {
    // Registered on 1 March (received and registered at 10:00), issued on 2 March.
    let v1 = registered(1, 1);
    create(&store, &v1).await;
    create(&store, &registered(2, 2)).await;
    let mut v2 = v1.clone();
    v2.transition(State::IssuanceDte, "contract", "DTE issued", "2026-03-02T08:00:00.000Z").unwrap();
    store.put(&v2, was(1, State::Registered)).await.unwrap();
    // A write that keeps the state (a note) counts nothing.
    let mut v3 = v2.clone();
    v3.note(HistoryKind::Notification, "contract", "email sent", "2026-03-02T08:01:00.000Z");
    store.put(&v3, was(2, State::IssuanceDte)).await.unwrap();

    let days = store.days("2026-02-28", "2026-03-03").await.unwrap();
    assert_eq!(
        days.iter().map(|d| d.day.as_str()).collect::<Vec<_>>(),
        ["2026-02-28", "2026-03-01", "2026-03-02", "2026-03-03"]
    );
    assert!(days[0].counts.is_empty() && days[3].counts.is_empty(), "{days:?}");
    assert_eq!(days[1].entered(State::Received), 2, "{:?}", days[1]);
    assert_eq!(days[1].entered(State::Registered), 2);
    assert_eq!(days[1].get(&day_counts::received_hour(10)), 2);
    assert_eq!(days[1].entered(State::IssuanceDte), 0);
    assert_eq!(days[2].counts, [(day_counts::entered(State::IssuanceDte), 1)].into_iter().collect());
}

async fn orders_in_a_state_before_a_time_list_oldest_first(store: impl OrderStore) {
    let records: Vec<_> = (1..=4).map(|n| registered(n, n)).collect();
    for r in &records {
        create(&store, r).await;
    }
    let old = store.oldest_in_state(State::Registered, &at(4), 10).await.unwrap();
    assert_eq!(keys(&old), [&records[0].key, &records[1].key, &records[2].key]);
    let two = store.oldest_in_state(State::Registered, &at(4), 2).await.unwrap();
    assert_eq!(keys(&two), [&records[0].key, &records[1].key]);
    assert!(store.oldest_in_state(State::Registered, &at(1), 10).await.unwrap().is_empty());
    assert!(store.oldest_in_state(State::Error, &at(9), 10).await.unwrap().is_empty());
}

async fn an_invalid_cursor_is_a_clear_error(store: impl OrderStore) {
    for n in 1..=2 {
        create(&store, &registered(n, n)).await;
    }
    let issued_cursor = store.list_by_state(State::Registered, 1, None).await.unwrap().cursor.expect("a next page");
    // Not base64; base64 of `{}`; a real cursor from another state's list.
    for (cursor, state) in
        [("not a cursor!", State::Registered), ("e30", State::Registered), (issued_cursor.as_str(), State::Cancelled)]
    {
        let err = store.list_by_state(state, 1, Some(cursor)).await.expect_err(cursor);
        assert!(matches!(err, ListError::InvalidCursor(_)), "{cursor}: {err:?}");
        assert!(err.to_string().contains("invalid cursor"), "{cursor}: {err}");
    }
}

/// The large sample's 1,500 lines three times over: about 600 KB of JSON.
fn large_order() -> CanonicalOrder {
    let mut order = parse_sample("large-clp.xml");
    let sample_lines = order.lines.clone();
    for copy in 1..=2 {
        order.lines.extend(sample_lines.iter().cloned().map(|mut line| {
            line.line_id = format!("{}-{copy}", line.line_id).into();
            line
        }));
    }
    order
}

async fn a_large_order_round_trips(store: impl OrderStore) {
    let large = OrderRecord::register(large_order(), "test", "contract", &at(1));
    assert_eq!(large.order.lines.len(), 4500);
    let json_len = serde_json::to_vec(&large).unwrap().len();
    assert!(json_len > 400 * 1024, "the sample should exceed DynamoDB's item limit as JSON, is {json_len} bytes");
    create(&store, &large).await;
    assert_eq!(store.get(&large.key).await.unwrap().as_ref(), Some(&large));
    let listed = store.list_by_state(State::Registered, 1, None).await.unwrap();
    assert_eq!(listed.orders, [large]);
}

#[tokio::test]
async fn the_embedded_change_stream_yields_old_and_new_images_in_order() {
    let store = EmbeddedOrderStore::new();
    let a1 = registered(1, 1);
    let b1 = registered(2, 2);
    let a2 = issued(a1.clone(), 3);
    create(&store, &a1).await;
    create(&store, &b1).await;
    store.put(&a2, was(1, State::Registered)).await.unwrap();
    // A refused write is not a change.
    assert!(store.put(&a1, None).await.is_err());

    let changes = store.changes_since(0);
    let seen: Vec<_> = changes.iter().map(|c| (c.sequence, c.old.as_deref(), &*c.new)).collect();
    assert_eq!(seen, [(1, None, &a1), (2, None, &b1), (3, Some(&a1), &a2)]);
    assert_eq!(store.changes_since(2), changes[2..]);
    assert!(store.changes_since(3).is_empty());
}
