//! The pending-queue and ERP-DLQ operator tools against SQS FIFO queues in moto.

use orderflow_e2e::*;
use orderflow_shared::adapters::aws::{self, SqsFifoQueue};
use orderflow_shared::operator::{self, Selection};
use orderflow_shared::ports::{FifoQueue, OutgoingMessage};

async fn queues() -> (SqsFifoQueue, SqsFifoQueue, aws_sdk_sqs::Client) {
    let sqs = aws::sqs_client(&sdk_config().await);
    let (orders, pending) = create_fifo_with_dlq(&sqs, &unique("ops"), 10).await;
    (SqsFifoQueue::new(sqs.clone(), pending), SqsFifoQueue::new(sqs.clone(), orders), sqs)
}

async fn park(pending: &SqsFifoQueue, body: &str, group: &str) -> String {
    let msg = OutgoingMessage::new(body.into(), group, body)
        .with_attribute("orderflow.status", "404")
        .with_attribute("orderflow.error", "not_found: order does not exist");
    pending.send(msg).await.unwrap()
}

#[tokio::test]
async fn listing_shows_each_parked_message_with_its_reason_and_takes_nothing() {
    let (pending, _, _) = queues().await;
    park(&pending, "{\"a\":1}", "order-a").await;
    park(&pending, "{\"b\":1}", "order-b").await;
    let waiting = operator::list(&pending, u64::MAX).await.unwrap();
    let mut groups: Vec<_> = waiting.iter().map(|w| w.group_id.as_str()).collect();
    groups.sort();
    assert_eq!(groups, ["order-a", "order-b"]);
    assert!(waiting.iter().all(|w| w.reason == "HTTP 404: not_found: order does not exist"));
    assert_eq!(operator::list(&pending, u64::MAX).await.unwrap().len(), 2, "still there after a look");
}

#[tokio::test]
async fn redrive_moves_the_chosen_message_keeping_its_group_and_leaves_the_rest() {
    let (pending, orders, sqs) = queues().await;
    let a = park(&pending, "{\"a\":1}", "order-a").await;
    park(&pending, "{\"b\":1}", "order-b").await;
    let report =
        operator::redrive(&pending, &orders, &Selection::Ids(vec![a.clone(), "missing".into()]), 1).await.unwrap();
    assert_eq!(report.moved, [a]);
    assert_eq!(report.not_found, ["missing"]);
    assert!(report.failed.is_empty());
    let moved = drain(&sqs, orders.url()).await;
    assert_eq!(moved.len(), 1);
    assert_eq!((moved[0].body.as_str(), moved[0].group_id.as_str()), ("{\"a\":1}", "order-a"));
    assert!(moved[0].dedup_id.starts_with("redrive-"), "a fresh deduplication id");
    let left = operator::list(&pending, u64::MAX).await.unwrap();
    assert_eq!(left.iter().map(|w| w.group_id.as_str()).collect::<Vec<_>>(), ["order-b"]);

    let report = operator::redrive(&pending, &orders, &Selection::All, 2).await.unwrap();
    assert_eq!(report.moved.len(), 1);
    assert!(operator::list(&pending, u64::MAX).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_send_keeps_the_message_in_the_dead_letter_queue() {
    let (pending, _, _) = queues().await;
    park(&pending, "{\"a\":1}", "order-a").await;
    let sdk = sdk_config().await;
    let down = aws_sdk_sqs::config::Builder::from(&sdk).endpoint_url("http://127.0.0.1:9").build();
    let unreachable = SqsFifoQueue::new(aws_sdk_sqs::Client::from_conf(down), "http://127.0.0.1:9/q.fifo");
    let report = operator::redrive(&pending, &unreachable, &Selection::All, 1).await.unwrap();
    assert!(report.moved.is_empty());
    assert_eq!(report.failed.len(), 1);
    assert_eq!(operator::list(&pending, u64::MAX).await.unwrap().len(), 1, "nothing lost");
}
