//! shop-sync on the real AWS SDK clients against moto: the orders table's own stream in, the
//! shop-sync FIFO queue and its DLQ in moto, the Shopify double as the shop.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use orderflow_cli::bridge::origin_of;
use orderflow_doubles::{FakeShopify, SeedOrder};
use orderflow_e2e::dynamo::{create_orders_table, stream_batch};
use orderflow_e2e::{create_fifo_with_dlq, local_runtime, order_numbered as order, repo_path, sdk_config, unique};
use orderflow_shared::adapters::aws::{self, DynamoOrderStore, SqsFifoQueue};
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::adapters::embedded::event_source::poll_once;
use orderflow_shared::batch::Budget;
use orderflow_shared::lifecycle::{HistoryKind, OrderRecord, State, Tracking, now_rfc3339};
use orderflow_shared::mapping::{FileSource, MappingRef};
use orderflow_shared::operator::{self, Selection};
use orderflow_shared::ports::{Expected, OrderStore, SystemClock};
use orderflow_shared::secrets::Secret;
use orderflow_shared::shop::BuiltShops;
use shop_sync::ShopSync;
use shop_sync::stream::forward;
use shop_sync::worker::handle;

type Deps = ShopSync<DynamoOrderStore, BuiltShops<FileSource>, SqsFifoQueue>;

struct Setup {
    shopify: FakeShopify,
    deps: Deps,
    queue: SqsFifoQueue,
    table: String,
}

async fn setup() -> Setup {
    let sdk = sdk_config().await;
    let dynamodb = aws::dynamodb_client(&sdk);
    let table = unique("shop-sync-orders");
    create_orders_table(&dynamodb, &table).await;
    let sqs = aws::sqs_client(&sdk);
    let (queue_url, dlq_url) = create_fifo_with_dlq(&sqs, &unique("shop-sync"), 10).await;
    let shopify = FakeShopify::start(ManualClock::new(1_772_359_200_000)).await;
    let file = local_runtime(&[("http://127.0.0.1:18090", origin_of(&shopify.graphql_url()).unwrap())]).shops;
    assert_eq!(file.shops["shopify"].base_url, shopify.graphql_url().trim_end_matches("/graphql.json"));
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    let values: HashMap<String, String> = serde_json::from_str(&text).unwrap();
    let secrets: HashMap<String, Secret> =
        values.into_iter().map(|(k, v)| (format!("local:{k}"), Secret::new(v))).collect();
    let mapping = |r: &MappingRef| match r {
        MappingRef::File(path) => Ok(FileSource::new(path.clone())),
        other => Err(format!("{other:?}")),
    };
    let deps = ShopSync {
        store: DynamoOrderStore::new(dynamodb, &table),
        shops: BuiltShops::new(&file, &secrets, mapping, Arc::new(SystemClock)).unwrap(),
        dlq: SqsFifoQueue::new(sqs.clone(), &dlq_url),
        claim_timeout: Duration::from_secs(300),
    };
    Setup { shopify, deps, queue: SqsFifoQueue::new(sqs, &queue_url), table }
}

/// A Shopify order stored in moto and walked to `dispatched` with tracking, as the router does.
async fn dispatched(s: &Setup, shopify_id: u64) -> OrderRecord {
    let now = now_rfc3339();
    let source = format!("webhook:shopify/order/{shopify_id}");
    let mut record = OrderRecord::register(order(&format!("SH-{shopify_id}")), &source, "test", &now);
    s.deps.store.put(&record, None).await.unwrap();
    for state in [State::IssuanceDte, State::BroadcastDte, State::Dispatched] {
        let expected = Expected::of(&record);
        if state == State::Dispatched {
            record.tracking = Some(Tracking { number: Some(format!("TRK-{shopify_id}")), ..Tracking::default() });
        }
        record.transition(state, "test", "", &now).unwrap();
        s.deps.store.put(&record, Some(expected)).await.unwrap();
    }
    record
}

fn seed(s: &Setup, shopify_id: u64) {
    s.shopify.seed_order(&SeedOrder::new(shopify_id, "2026-03-01T09:00:00Z").number(1001).line("A-1", "A", 1, "10"));
}

/// Receives what waits on `queue` and runs the worker on it as the event source mapping would.
async fn run_worker(s: &Setup, queue: &SqsFifoQueue) -> usize {
    let polled = poll_once(queue, 10, "arn:aws:sqs:us-west-2:0:shop-sync.fifo", |event| async {
        Ok::<_, std::convert::Infallible>(handle(&s.deps, event, Budget::unlimited()).await)
    });
    polled.await.unwrap().received
}

#[tokio::test]
async fn the_moto_stream_becomes_one_fulfilment_even_when_the_batch_is_delivered_twice() {
    let s = setup().await;
    seed(&s, 6_100_000_001);
    let record = dispatched(&s, 6_100_000_001).await;
    let batch = stream_batch(&s.table).await;
    assert!(batch.records.len() >= 4, "insert and three transitions are on the stream");
    assert!(forward(&s.queue, &batch).await.batch_item_failures.is_empty());
    assert!(forward(&s.queue, &batch).await.batch_item_failures.is_empty(), "the stream's retry of the batch");
    assert_eq!(run_worker(&s, &s.queue).await, 1, "one message: the entry into dispatched, deduplicated");
    assert_eq!(run_worker(&s, &s.queue).await, 0);
    let fulfillments = s.shopify.fulfillments();
    assert_eq!(fulfillments.len(), 1);
    assert_eq!(fulfillments[0].tracking.as_ref().and_then(|t| t.number.as_deref()), Some("TRK-6100000001"));

    // The stream now also holds shop-sync's own claim and settle writes: nothing more is queued.
    let again = stream_batch(&s.table).await;
    assert!(again.records.len() > batch.records.len());
    forward(&s.queue, &again).await;
    run_worker(&s, &s.queue).await;
    assert_eq!(s.shopify.fulfillments().len(), 1);
    let stored = s.deps.store.get(&record.key).await.unwrap().unwrap();
    assert!(stored.shop_sync[&State::Dispatched].done_at.is_some());
    let notes: Vec<_> = stored.history.iter().filter(|h| h.kind == HistoryKind::ShopAction).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].detail.contains("gid://shopify/Fulfillment/"), "{}", notes[0].detail);
}

#[tokio::test]
async fn a_refusal_waits_in_the_moto_dlq_with_the_shops_answer_until_redriven() {
    let s = setup().await;
    let record = dispatched(&s, 6_100_000_002).await;
    forward(&s.queue, &stream_batch(&s.table).await).await;
    assert_eq!(run_worker(&s, &s.queue).await, 1);
    let parked = operator::list(&s.deps.dlq, u64::MAX).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].class.as_str(), parked[0].group_id.as_str()), ("refused", record.key.as_str()));
    let answer = parked[0].attributes.iter().find(|(k, _)| k == "orderflow.shop_answer").map(|(_, v)| v.as_str());
    assert!(answer.is_some_and(|a| a.contains("\"order\":null")), "{answer:?}");
    assert!(s.shopify.fulfillments().is_empty());

    seed(&s, 6_100_000_002);
    let report = operator::redrive(&s.deps.dlq, &s.queue, &Selection::Class("refused".into()), 1).await.unwrap();
    assert_eq!(report.moved.len(), 1);
    assert_eq!(run_worker(&s, &s.queue).await, 1);
    assert_eq!(s.shopify.fulfillments().len(), 1);
    assert!(operator::list(&s.deps.dlq, u64::MAX).await.unwrap().is_empty());
}
