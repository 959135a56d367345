//! Lambda's SQS event source mapping, in process: receive a batch, hand it to a handler as an
//! `SqsEvent`, delete what succeeded and leave the reported failures to come back after their
//! visibility timeout — the contract `ReportBatchItemFailures` gives in AWS.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};

use crate::error::PortError;
use crate::ports::{FifoQueue, ReceivedMessage};

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Polled {
    pub received: usize,
    pub deleted: usize,
    pub failed: usize,
}

/// The event Lambda would deliver for these messages.
pub fn sqs_event(messages: &[ReceivedMessage], source_arn: &str) -> SqsEvent {
    let records = messages
        .iter()
        .map(|m| {
            let mut attributes: HashMap<String, String> = HashMap::new();
            attributes.insert("MessageGroupId".into(), m.group_id.clone());
            attributes.insert("ApproximateReceiveCount".into(), m.receive_count.to_string());
            attributes.insert("SentTimestamp".into(), m.sent_at_ms.to_string());
            let mut record = SqsMessage::default();
            record.message_id = Some(m.message_id.clone());
            record.receipt_handle = Some(m.receipt_handle.clone());
            record.body = Some(m.body.clone());
            record.attributes = attributes;
            record.event_source = Some("aws:sqs".into());
            record.event_source_arn = Some(source_arn.to_owned());
            record
        })
        .collect();
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

/// Receives up to `max` messages and runs `handler` on them. A handler error fails the whole
/// batch (nothing deleted), as a function error does in Lambda.
pub async fn poll_once<Q, F, Fut, E>(queue: &Q, max: usize, source_arn: &str, handler: F) -> Result<Polled, PortError>
where
    Q: FifoQueue,
    F: FnOnce(SqsEvent) -> Fut,
    Fut: Future<Output = Result<SqsBatchResponse, E>>,
{
    let messages = queue.receive(max).await?;
    if messages.is_empty() {
        return Ok(Polled::default());
    }
    let failed: HashSet<String> = match handler(sqs_event(&messages, source_arn)).await {
        Ok(response) => response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect(),
        Err(_) => messages.iter().map(|m| m.message_id.clone()).collect(),
    };
    let mut deleted = 0;
    for m in messages.iter().filter(|m| !failed.contains(&m.message_id)) {
        queue.delete(&m.receipt_handle).await?;
        deleted += 1;
    }
    Ok(Polled { received: messages.len(), deleted, failed: messages.len() - deleted })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::EmbeddedFifoQueue;
    use crate::ports::OutgoingMessage;
    use aws_lambda_events::event::sqs::BatchItemFailure;

    #[tokio::test]
    async fn successes_are_deleted_and_reported_failures_stay() {
        let queue = EmbeddedFifoQueue::new("q.fifo");
        for (body, group) in [("a", "g1"), ("b", "g2")] {
            queue.send(OutgoingMessage::new(body.into(), group, body)).await.unwrap();
        }
        let polled = poll_once(&queue, 10, "arn:q", |event: SqsEvent| async move {
            let failing = event.records.iter().find(|r| r.body.as_deref() == Some("b")).unwrap();
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = failing.message_id.clone().unwrap();
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures.push(failure);
            Ok::<_, ()>(response)
        })
        .await
        .unwrap();
        assert_eq!(polled, Polled { received: 2, deleted: 1, failed: 1 });
        let left: Vec<_> = queue.peek_all().into_iter().map(|m| m.body).collect();
        assert_eq!(left, ["b"]);
    }

    #[tokio::test]
    async fn a_handler_error_keeps_the_whole_batch() {
        let queue = EmbeddedFifoQueue::new("q.fifo");
        queue.send(OutgoingMessage::new("a".into(), "g", "a")).await.unwrap();
        let polled = poll_once(&queue, 10, "arn:q", |_| async { Err::<SqsBatchResponse, _>("boom") }).await.unwrap();
        assert_eq!(polled.failed, 1);
        assert_eq!(queue.len(), 1);
    }
}
