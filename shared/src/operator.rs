//! Operator tools over a dead-letter FIFO queue (the orders pending queue, the ERP DLQ): look at
//! what waits there without taking it, and move chosen messages back to the queue they came
//! from. A message leaves the dead-letter queue only after its copy was sent.

use crate::error::PortError;
use crate::parking::attributes;
use crate::ports::{FifoQueue, OutgoingMessage, ReceivedMessage};

/// Stops a scan of a huge queue; an operator pages through that with the AWS console instead.
pub const MAX_SCAN: usize = 1000;

/// One waiting message as an operator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub message_id: String,
    /// The order key (or external order id) the message belongs to.
    pub group_id: String,
    pub receive_count: u32,
    pub age_ms: u64,
    /// Why it is here: the refusal the reader attached, or the receive limit SQS applied.
    pub reason: String,
    /// The refusal's class ([`crate::parking::class`]).
    pub class: String,
    pub body: String,
    pub attributes: Vec<(String, String)>,
}

impl Waiting {
    fn of(m: &ReceivedMessage, now_ms: u64) -> Self {
        let reason = match (m.attribute(attributes::STATUS), m.attribute(attributes::ERROR)) {
            (Some(status), Some(error)) => format!("HTTP {status}: {error}"),
            (None, Some(error)) => error.to_owned(),
            _ => "failed every delivery until the receive limit moved it here".to_owned(),
        };
        Self {
            message_id: m.message_id.clone(),
            group_id: m.group_id.clone(),
            // Our own receive during the scan counts too; report the deliveries before it.
            receive_count: m.receive_count.saturating_sub(1),
            age_ms: now_ms.saturating_sub(m.sent_at_ms),
            reason,
            class: class_of(m).to_owned(),
            body: m.body.clone(),
            attributes: m.attributes.clone(),
        }
    }
}

/// The class a parker attached; a message SQS moved after its receive limit carries none, and
/// only failures a retry might cure get there.
fn class_of(m: &ReceivedMessage) -> &str {
    m.attribute(attributes::CLASS).unwrap_or("unavailable")
}

/// Every waiting message, left where it was.
pub async fn list<Q: FifoQueue>(queue: &Q, now_ms: u64) -> Result<Vec<Waiting>, PortError> {
    let held = hold_all(queue).await?;
    let waiting = held.iter().map(|m| Waiting::of(m, now_ms)).collect();
    release_all(queue, &held).await?;
    Ok(waiting)
}

/// Which messages to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    All,
    Ids(Vec<String>),
    /// Every message of one class, e.g. `auth` once the refused secret is fixed.
    Class(String),
}

/// Exactly what a redrive did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Redriven {
    pub moved: Vec<String>,
    /// Message id and why it stayed.
    pub failed: Vec<(String, String)>,
    pub not_found: Vec<String>,
}

/// Sends the selected messages back to `target` with their group id and a fresh deduplication
/// id (the original one may still be inside the target's window), then deletes each from the
/// dead-letter queue. One failure does not stop the others.
pub async fn redrive<D: FifoQueue, T: FifoQueue>(
    dead_letters: &D,
    target: &T,
    selection: &Selection,
    now_ms: u64,
) -> Result<Redriven, PortError> {
    let held = hold_all(dead_letters).await?;
    let chosen = |m: &ReceivedMessage| match selection {
        Selection::All => true,
        Selection::Ids(ids) => ids.contains(&m.message_id),
        Selection::Class(class) => class_of(m) == class,
    };
    let mut report = Redriven::default();
    let mut keep = Vec::new();
    for m in &held {
        if !chosen(m) {
            keep.push(m.clone());
            continue;
        }
        let copy = OutgoingMessage::new(m.body.clone(), &m.group_id, format!("redrive-{}-{now_ms}", m.message_id));
        match target.send(copy).await {
            Ok(_) => match dead_letters.delete(&m.receipt_handle).await {
                Ok(()) => report.moved.push(m.message_id.clone()),
                Err(e) => report.failed.push((m.message_id.clone(), format!("sent, but not deleted: {e}"))),
            },
            Err(e) => {
                report.failed.push((m.message_id.clone(), e.to_string()));
                keep.push(m.clone());
            }
        }
    }
    if let Selection::Ids(ids) = selection {
        report.not_found = ids.iter().filter(|id| !held.iter().any(|m| &m.message_id == *id)).cloned().collect();
    }
    release_all(dead_letters, &keep).await?;
    Ok(report)
}

/// Receives everything visible, keeping it invisible to others until released or deleted.
async fn hold_all<Q: FifoQueue>(queue: &Q) -> Result<Vec<ReceivedMessage>, PortError> {
    let mut held = Vec::new();
    while held.len() < MAX_SCAN {
        let batch = queue.receive(10).await?;
        if batch.is_empty() {
            break;
        }
        held.extend(batch);
    }
    Ok(held)
}

async fn release_all<Q: FifoQueue>(queue: &Q, held: &[ReceivedMessage]) -> Result<(), PortError> {
    for m in held {
        queue.release(&m.receipt_handle).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::EmbeddedFifoQueue;

    async fn park(queue: &EmbeddedFifoQueue, body: &str, group: &str) -> String {
        let msg = OutgoingMessage::new(body.into(), group, body)
            .with_attribute("orderflow.status", "409")
            .with_attribute("orderflow.error", "conflict");
        queue.send(msg).await.unwrap()
    }

    #[tokio::test]
    async fn listing_leaves_every_message_in_place_with_its_reason() {
        let pending = EmbeddedFifoQueue::new("pending.fifo");
        park(&pending, "a", "g1").await;
        park(&pending, "b", "g2").await;
        let first = list(&pending, u64::MAX).await.unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].reason, "HTTP 409: conflict");
        assert_eq!(list(&pending, u64::MAX).await.unwrap().len(), 2, "nothing was taken");
    }

    #[tokio::test]
    async fn redrive_moves_only_the_chosen_messages_and_reports_unknown_ids() {
        let (pending, orders) = (EmbeddedFifoQueue::new("pending.fifo"), EmbeddedFifoQueue::new("orders.fifo"));
        let a = park(&pending, "a", "g1").await;
        park(&pending, "b", "g2").await;
        let report = redrive(&pending, &orders, &Selection::Ids(vec![a.clone(), "nope".into()]), 1).await.unwrap();
        assert_eq!(report.moved, [a]);
        assert_eq!(report.not_found, ["nope"]);
        let moved = orders.receive(10).await.unwrap();
        assert_eq!((moved[0].body.as_str(), moved[0].group_id.as_str()), ("a", "g1"));
        assert_eq!(pending.len(), 1);
    }

    #[tokio::test]
    async fn a_class_is_redriven_whole_once_its_cause_is_fixed() {
        let (pending, orders) = (EmbeddedFifoQueue::new("pending.fifo"), EmbeddedFifoQueue::new("orders.fifo"));
        let auth = |body: &str| OutgoingMessage::new(body.into(), body, body).with_attribute(attributes::CLASS, "auth");
        let refused = [pending.send(auth("a")).await.unwrap(), pending.send(auth("b")).await.unwrap()];
        park(&pending, "c", "g3").await;
        let listed: Vec<String> = list(&pending, u64::MAX).await.unwrap().into_iter().map(|w| w.class).collect();
        assert_eq!(listed, ["auth", "auth", "unavailable"]);
        let report = redrive(&pending, &orders, &Selection::Class("auth".into()), 1).await.unwrap();
        assert_eq!(report.moved, refused);
        assert_eq!(pending.len(), 1, "the other class stays");
    }
}
