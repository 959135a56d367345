//! The portal on DynamoDB and SQS (moto): the pages and an operator's retry work the same, and
//! each page reads a bounded number of DynamoDB items whatever the table holds, counted by the
//! SDK interceptor of the `/stats` test.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use aws_sdk_sqs::types::QueueAttributeName;
use backoffice::session::LocalSessions;
use backoffice::{Gate, Portal, Queues};
use orderflow_e2e::dynamo::create_orders_table;
use orderflow_e2e::{sdk_config, unique};
use orderflow_shared::adapters::aws::{
    DynamoOrderStore, S3ObjectStore, SqsFifoQueue, dynamodb_client, s3_client, sqs_client,
};
use orderflow_shared::adapters::embedded::{EmbeddedRecovery, MemoryAppStore};
use orderflow_shared::dte::{Failure, Operation, SimulatedDteProvider};
use orderflow_shared::lifecycle::State;
use orderflow_shared::order_service::OrderService;
use orderflow_shared::ports::OrderStore;

use super::helpers::{Browser, OPERATOR, VIEWER, accounts, broadcast_failed, serve};
use crate::stats_reads::ItemsRead;

async fn fifo(client: &aws_sdk_sqs::Client, name: &str) -> SqsFifoQueue {
    let url = client
        .create_queue()
        .queue_name(format!("{}.fifo", unique(name)))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    SqsFifoQueue::new(client.clone(), url)
}

#[tokio::test]
async fn pages_and_a_retry_work_on_dynamodb_and_each_page_reads_a_bounded_number_of_items() {
    let sdk = sdk_config().await.into_builder().region(aws_sdk_dynamodb::config::Region::new("eu-north-1")).build();
    let table = unique("portal-orders");
    create_orders_table(&dynamodb_client(&sdk), &table).await;
    let counted = ItemsRead::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(counted.clone()).build();
    let store = DynamoOrderStore::new(aws_sdk_dynamodb::Client::from_conf(config), &table);
    // S3 and SQS in the usual region: a bucket elsewhere needs a location constraint.
    let home = sdk_config().await;
    let sqs = sqs_client(&home);
    let dte = SimulatedDteProvider::default().with_first_failures(Operation::Broadcast, Failure::Transient, 1);
    let service = Arc::new(OrderService {
        store,
        queue: fifo(&sqs, "orders").await,
        dte,
        recovery: EmbeddedRecovery::new().unwrap(),
    });
    let bucket = unique("portal-bucket");
    orderflow_e2e::create_bucket(&s3_client(&home), &bucket).await;
    let original = std::fs::read(orderflow_e2e::repo_path("events/orders/small-clp.xml")).unwrap();
    let originals = S3ObjectStore::new(s3_client(&home), &bucket);
    orderflow_shared::ports::ObjectStore::put(&originals, "incoming/sample.xml", original.clone(), "application/xml")
        .await
        .unwrap();
    // The apps page reads the shipped definitions and the local connections.
    let apps = MemoryAppStore::new(orderflow_e2e::local_config(None).registry(&[]).unwrap());
    let url = serve(Portal {
        apps: backoffice::apps_page::reader(std::sync::Arc::new(apps)),
        service: service.clone(),
        queues: Queues {
            pending: fifo(&sqs, "pending").await,
            erp_dlq: fifo(&sqs, "erp-dlq").await,
            erp_sync: fifo(&sqs, "erp-sync").await,
        },
        originals,
        config: Default::default(),
        gate: Gate::Local { accounts: accounts(), sessions: LocalSessions::default() },
    })
    .await;

    let mut failed = Vec::new();
    for n in 0..12 {
        failed.push(broadcast_failed(&*service, &format!("MOTO-{n}")).await);
    }
    let mut vic = Browser::signed_in(&url, VIEWER).await;
    let mut reads = Vec::new();
    for path in ["/console/", "/console/stats", "/console/stats.csv", "/console/search?state=broadcast_failed"] {
        counted.0.store(0, Ordering::SeqCst);
        let page = vic.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        reads.push((path, counted.0.load(Ordering::SeqCst)));
    }
    println!("DynamoDB items read per page with 12 orders: {reads:?}");
    // Statistics: one day item per day with writes (all today here), never an order.
    assert!(reads[1].1 <= 30, "{reads:?}");
    assert!(reads[2].1 <= 30, "{reads:?}");
    // Overview: 8 counter shards, one oldest entry per non-empty state, today's day item, and at
    // most 20 late orders per configured state (none are late here).
    assert!(reads[0].1 <= 8 + 10 + 1 + 20 * 6, "{reads:?}");
    // Search reads pages of the index: at most 10 pages of 25.
    assert!(reads[3].1 <= 250 + 10, "{reads:?}");

    // The same pages read the same number of items with more orders stored.
    for n in 12..24 {
        failed.push(broadcast_failed(&*service, &format!("MOTO-{n}")).await);
    }
    counted.0.store(0, Ordering::SeqCst);
    assert_eq!(vic.get("/console/stats").await.status, 200);
    assert_eq!(counted.0.load(Ordering::SeqCst), reads[1].1, "statistics read the same items with twice the orders");

    // The original document: a short-lived presigned link, which works without credentials.
    let link = vic.get(&format!("/console/orders/{}/original", failed[0].key)).await;
    assert_eq!(link.status, 303, "{}", link.body);
    let location = link.location.unwrap();
    assert!(location.contains("X-Amz-Signature=") && location.contains("X-Amz-Expires=300"), "{location}");
    let fetched = orderflow_e2e::http().get(&location).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), original.as_slice());

    let mut ana = Browser::signed_in(&url, OPERATOR).await;
    let csrf = ana.get("/console/exceptions").await.csrf();
    let key = failed[0].key.to_string();
    let page = ana
        .post(
            &format!("/console/orders/{key}/retry"),
            &[("csrf", &csrf), ("action_id", "moto-1"), ("seen", "broadcast_failed")],
        )
        .await;
    assert!(page.body.contains("1 done"), "{}", page.body);
    let stored = service.store.get(&failed[0].key).await.unwrap().unwrap();
    assert_eq!(stored.state, State::BroadcastDte);
    assert!(stored.history.iter().any(|e| e.by == "operator:ana"));
}
