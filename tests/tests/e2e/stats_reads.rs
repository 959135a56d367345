//! `GET /stats` reads a bounded number of items whatever the table's size: the per-state counts
//! come from counter items the writes keep in step, not from counting the index. Shown on moto
//! with 10,000 orders in the index and a client that counts every item DynamoDB reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::scan::ScanOutput;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use orderflow_e2e::dynamo::create_orders_table;
use orderflow_e2e::{sample_order, sdk_config, unique};
use orderflow_shared::adapters::aws::{
    ATTR_PK, ATTR_STATE, ATTR_STATE_AT, ATTR_STATE_SORT, COUNTER_SHARDS, DynamoOrderStore, dynamodb_client,
};
use orderflow_shared::lifecycle::{OrderRecord, State};
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{Expected, OrderStore};

/// Adds up the items each DynamoDB answer says it read: a Query's or Scan's `ScannedCount` (a
/// `Select: COUNT` query included), a GetItem's one item, a BatchGetItem's returned items.
#[derive(Debug, Clone, Default)]
pub(crate) struct ItemsRead(pub(crate) Arc<AtomicU64>);

impl Intercept for ItemsRead {
    fn name(&self) -> &'static str {
        "ItemsRead"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let read = if let Some(query) = output.downcast_ref::<QueryOutput>() {
            u64::try_from(query.scanned_count()).unwrap_or_default()
        } else if let Some(scan) = output.downcast_ref::<ScanOutput>() {
            u64::try_from(scan.scanned_count()).unwrap_or_default()
        } else if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            u64::from(get.item().is_some())
        } else if let Some(batch) = output.downcast_ref::<BatchGetItemOutput>() {
            batch.responses().map_or(0, |tables| tables.values().map(|items| items.len() as u64).sum())
        } else {
            0
        };
        self.0.fetch_add(read, Ordering::SeqCst);
        Ok(())
    }
}

const SEEDED: usize = 10_000;

#[tokio::test]
async fn stats_read_a_bounded_number_of_items_with_ten_thousand_orders_stored() {
    // A region of its own: moto copies every table of a region for each transaction (its
    // rollback), so 10,000 items beside the other tests' tables would slow all their writes.
    let sdk = sdk_config().await.into_builder().region(aws_sdk_dynamodb::config::Region::new("eu-west-3")).build();
    let plain = dynamodb_client(&sdk);
    let table = unique("orders-stats");
    create_orders_table(&plain, &table).await;

    let sample = sample_order();
    // Three orders written the way the service writes them: these the counters know. Written
    // first, because moto copies the whole table for each transaction, which takes seconds
    // with 10,000 items in it.
    let counted = ItemsRead::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(counted.clone()).build();
    let store = DynamoOrderStore::new(aws_sdk_dynamodb::Client::from_conf(config), &table);
    let mut written = Vec::new();
    for n in 0..3 {
        let mut order = sample.clone();
        order.renumber(format!("STATS-{n}"));
        let record = OrderRecord::register(order, "test", "test", "2026-12-01T00:00:00.000Z");
        store.put(&record, None).await.unwrap();
        written.push(record);
    }
    let mut issued = written[0].clone();
    let registered = Expected::of(&issued);
    issued.transition(State::IssuanceDte, "test", "folio 1", "2026-12-01T00:01:00.000Z").unwrap();
    store.put(&issued, Some(registered)).await.unwrap();

    // 10,000 index entries in `registered`, written in bulk (25 per BatchWriteItem): what a
    // count of the index would have to read. Only the attributes the index and `stats` see.
    let entries: Vec<WriteRequest> = (0..SEEDED)
        .map(|n| {
            let pk = OrderKey::derive(&sample.seller, &sample.buyer, &format!("SEED-{n}")).to_string();
            let at = format!("2026-11-01T00:00:{:02}.{:03}Z", n / 1000 % 60, n % 1000);
            let item = [
                (ATTR_PK, pk.clone()),
                (ATTR_STATE, State::Registered.as_str().to_owned()),
                (ATTR_STATE_AT, at.clone()),
                (ATTR_STATE_SORT, format!("{at}#{pk}")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), AttributeValue::S(v)))
            .collect();
            WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build()
        })
        .collect();
    for chunk in entries.chunks(25) {
        let out = plain.batch_write_item().request_items(&table, chunk.to_vec()).send().await.expect("seed");
        assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()), "moto left items unprocessed");
    }

    counted.0.store(0, Ordering::SeqCst);
    let stats = store.stats().await.unwrap();
    let read = counted.0.load(Ordering::SeqCst);
    let count = |state| stats.iter().find(|s| s.state == state).map(|s| s.count);
    assert_eq!(count(State::Registered), Some(2), "the counters, not the 10,002 entries of the index");
    assert_eq!(count(State::IssuanceDte), Some(1));
    assert_eq!(count(State::Dispatched), Some(0));
    // The counter shards, then the oldest entry of each of the two states with orders.
    let bound = u64::from(COUNTER_SHARDS) + 2;
    assert!(read > 0, "the counting client saw the reads");
    assert!(read <= bound, "stats read {read} items with {SEEDED} orders stored; the bound is {bound}");
    println!("stats over {SEEDED} stored orders read {read} items (bound {bound})");
    plain.delete_table().table_name(&table).send().await.expect("drop the seeded table");
}
