//! One contract for the catalogue `StagingStore` and `AuditLog`, on the embedded adapters and
//! on DynamoDB (moto): sync runs are tested on the first, so it must behave like the second.

use orderflow_e2e::dynamo::{create_keyed_table, create_staging_table};
use orderflow_e2e::{sdk_config, unique};
use orderflow_shared::adapters::aws::{DynamoAuditLog, DynamoStaging, dynamodb_client};
use orderflow_shared::adapters::embedded::MemoryAuditLog;
use orderflow_shared::catalog::{
    AuditLog, Checkpoint, Exchange, ItemState, Product, RunSummary, Sku, StagedItem, StagingStore,
};

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(orderflow_shared::adapters::embedded::MemoryStaging::default()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::dynamo_staging().await).await;
                }
            )*
        }
    };
}

contract!(
    items_round_trip_whole,
    dirty_skus_are_listed_in_order_after_a_bound_and_clean_ones_are_not,
    refused_items_are_listed_with_their_reasons,
    the_checkpoint_is_set_read_and_cleared,
    runs_come_back_newest_first,
);

async fn dynamo_staging() -> DynamoStaging {
    let client = dynamodb_client(&sdk_config().await);
    let table = unique("staging");
    create_staging_table(&client, &table).await;
    DynamoStaging::new(client, table)
}

fn staged(n: u32, state: ItemState) -> StagedItem {
    let product = Product {
        sku: Sku::parse(&format!("SKU-{n:03}")).unwrap(),
        title: format!("Item {n}, \"quoted\""),
        price: "12.50".parse().unwrap(),
        stock: "3.25".parse().unwrap(),
    };
    let mut item = StagedItem::new(product, 1_000 + u64::from(n));
    item.state = state;
    if state == ItemState::Refused {
        item.refusal = Some(format!("productSet: Title can't be blank ({n})"));
    }
    item
}

async fn items_round_trip_whole(store: impl StagingStore) {
    let items: Vec<StagedItem> = (1..=30).map(|n| staged(n, ItemState::Clean)).collect();
    store.put(&items).await.unwrap();
    let mut all = store.all().await.unwrap();
    all.sort_by(|a, b| a.sku().cmp(b.sku()));
    assert_eq!(all, items, "more than one write batch, read back whole (decimal scale kept)");
    assert_eq!(all[0].product.price.to_string(), "12.50");
}

async fn dirty_skus_are_listed_in_order_after_a_bound_and_clean_ones_are_not(store: impl StagingStore) {
    let items: Vec<StagedItem> =
        (1..=6).map(|n| staged(n, if n % 2 == 0 { ItemState::Dirty } else { ItemState::Clean })).collect();
    store.put(&items).await.unwrap();
    let skus = |list: Vec<StagedItem>| list.iter().map(|i| i.sku().to_string()).collect::<Vec<_>>();
    assert_eq!(skus(store.dirty(None, 10).await.unwrap()), ["SKU-002", "SKU-004", "SKU-006"]);
    let after = Sku::parse("SKU-002").unwrap();
    assert_eq!(skus(store.dirty(Some(&after), 1).await.unwrap()), ["SKU-004"]);
    let mut clean = staged(4, ItemState::Clean);
    clean.pushed_stock_hash = Some(clean.stock_hash.clone());
    store.put(&[clean]).await.unwrap();
    assert_eq!(skus(store.dirty(None, 10).await.unwrap()), ["SKU-002", "SKU-006"], "a cleaned item leaves the index");
}

async fn refused_items_are_listed_with_their_reasons(store: impl StagingStore) {
    store
        .put(&[staged(1, ItemState::Refused), staged(2, ItemState::Dirty), staged(3, ItemState::Refused)])
        .await
        .unwrap();
    let refused = store.refused().await.unwrap();
    assert_eq!(refused.len(), 2);
    assert!(refused.iter().all(|i| i.refusal.as_deref().is_some_and(|r| r.contains("Title can't be blank"))));
}

async fn the_checkpoint_is_set_read_and_cleared(store: impl StagingStore) {
    assert_eq!(store.checkpoint().await.unwrap(), None);
    let checkpoint =
        Checkpoint { run_id: "run-1".into(), started_ms: 5, last_sku: Some(Sku::parse("SKU-9").unwrap()), pushed: 9 };
    store.set_checkpoint(Some(&checkpoint)).await.unwrap();
    assert_eq!(store.checkpoint().await.unwrap(), Some(checkpoint));
    store.set_checkpoint(None).await.unwrap();
    assert_eq!(store.checkpoint().await.unwrap(), None);
}

async fn runs_come_back_newest_first(store: impl StagingStore) {
    for n in 1..=3_u64 {
        let summary = RunSummary {
            run_id: format!("run-{n}"),
            phase: "both".into(),
            started_ms: n * 1_000,
            read: n,
            ..RunSummary::default()
        };
        store.record_run(&summary).await.unwrap();
    }
    let runs = store.runs(2).await.unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["run-3", "run-2"]);
    assert!(store.all().await.unwrap().is_empty(), "run records are not items");
}

fn exchange(seq: u64) -> Exchange {
    Exchange {
        run_id: "run-1".into(),
        seq,
        at_ms: 1_000_000,
        system: "shop".into(),
        operation: "productSet".into(),
        method: "POST".into(),
        url: "https://shop.example/admin/api/2026-01/graphql.json".into(),
        status: Some(200),
        duration_ms: 12,
        request: Some("{}".into()),
        answer: Some("{}".into()),
        expires_at: 1_000 + 86_400,
    }
}

#[tokio::test]
async fn the_dynamodb_request_log_keeps_each_exchange_with_its_expiry() {
    let client = dynamodb_client(&sdk_config().await);
    let table = unique("audit");
    create_keyed_table(&client, &table).await;
    let log = DynamoAuditLog::new(client.clone(), table.clone());
    let exchanges: Vec<Exchange> = (1..=30).map(exchange).collect();
    log.record(&exchanges).await.unwrap();
    let out = client.scan().table_name(&table).send().await.unwrap();
    assert_eq!(out.items().len(), 30);
    assert!(out.items().iter().all(|i| i["expires_at"].as_n().unwrap() == "87400"));
}

#[tokio::test]
async fn the_embedded_request_log_drops_what_expired() {
    let log = MemoryAuditLog::default();
    log.record(&[exchange(1)]).await.unwrap();
    let mut later = exchange(2);
    later.at_ms = (86_400 + 2_000) * 1_000;
    log.record(&[later]).await.unwrap();
    let seqs: Vec<u64> = log.exchanges().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [2]);
}
