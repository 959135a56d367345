//! In-memory `FifoQueue` with the SQS FIFO semantics the handlers rely on: per-group order with
//! one group batch in flight at a time, deduplication window, visibility timeout, receive
//! counts and redrive to a dead-letter queue.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::PortError;
use crate::ports::{Clock, SystemClock, duration_ms};
use crate::ports::{FifoQueue, OutgoingMessage, ReceivedMessage, is_fifo_id};

/// SQS FIFO deduplication interval.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(5 * 60);
/// SQS default visibility timeout.
pub const DEFAULT_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);
/// SQS `MaxNumberOfMessages` upper bound.
pub const MAX_RECEIVE_BATCH: usize = 10;

/// A message as the queue holds it, for operator tools; reading it changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub message_id: String,
    pub body: String,
    pub group_id: String,
    pub receive_count: u32,
    /// Epoch milliseconds of the first send (kept across redrive).
    pub sent_at_ms: u64,
    pub attributes: Vec<(String, String)>,
    /// Received, not deleted, and its visibility timeout has not lapsed.
    pub in_flight: bool,
}

#[derive(Debug)]
struct Redrive {
    dlq: Arc<EmbeddedFifoQueue>,
    max_receive_count: u32,
}

#[derive(Debug)]
struct Stored {
    message_id: String,
    body: String,
    group_id: String,
    attributes: Vec<(String, String)>,
    sent_at_ms: u64,
    /// When it entered this queue; differs from `sent_at_ms` after a redrive, as the age of a
    /// DLQ's oldest message counts from the move for FIFO queues.
    enqueued_at_ms: u64,
    receive_count: u32,
    /// The latest receive: only its handle deletes, and only until `visible_at_ms`.
    receipt: Option<Receipt>,
}

#[derive(Debug)]
struct Receipt {
    handle: String,
    visible_at_ms: u64,
}

impl Stored {
    fn in_flight(&self, now_ms: u64) -> bool {
        self.receipt.as_ref().is_some_and(|r| now_ms < r.visible_at_ms)
    }

    fn snapshot(&self, now_ms: u64) -> QueuedMessage {
        QueuedMessage {
            message_id: self.message_id.clone(),
            body: self.body.clone(),
            group_id: self.group_id.clone(),
            receive_count: self.receive_count,
            sent_at_ms: self.sent_at_ms,
            attributes: self.attributes.clone(),
            in_flight: self.in_flight(now_ms),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// Every undeleted message in send order; per-group order follows from it.
    messages: VecDeque<Stored>,
    /// dedup id → (message id, first send). Outlives deletion, as in SQS.
    dedup: HashMap<String, (String, u64)>,
    /// The dedup ids by first send, oldest first, so expiry looks only at those due rather
    /// than at every id on every send (which made a long run quadratic).
    dedup_expiry: VecDeque<(u64, String)>,
    sent: u64,
    receipts: u64,
}

/// An in-process SQS FIFO queue. Configure with the `with_*` methods before sharing it.
#[derive(Debug)]
pub struct EmbeddedFifoQueue {
    name: String,
    clock: Arc<dyn Clock>,
    visibility_timeout: Duration,
    redrive: Option<Redrive>,
    state: Mutex<State>,
}

impl EmbeddedFifoQueue {
    /// A queue on the system clock with the default visibility timeout and no redrive.
    /// The name prefixes message ids, so give each queue a distinct one.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            clock: Arc::new(SystemClock),
            visibility_timeout: DEFAULT_VISIBILITY_TIMEOUT,
            redrive: None,
            state: Mutex::default(),
        }
    }

    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn with_visibility_timeout(mut self, timeout: Duration) -> Self {
        self.visibility_timeout = timeout;
        self
    }

    /// A message about to be received for the `max_receive_count + 1`-th time moves to `dlq`.
    pub fn with_redrive(mut self, dlq: Arc<EmbeddedFifoQueue>, max_receive_count: u32) -> Self {
        self.redrive = Some(Redrive { dlq, max_receive_count });
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Visible plus in-flight messages.
    pub fn len(&self) -> usize {
        self.lock().messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every message in send order, without changing visibility or receive counts.
    pub fn peek_all(&self) -> Vec<QueuedMessage> {
        let now = self.clock.now_ms();
        self.lock().messages.iter().map(|m| m.snapshot(now)).collect()
    }

    /// Age of the message that has been in this queue longest, in flight or not.
    pub fn approximate_age_of_oldest(&self) -> Option<Duration> {
        let now = self.clock.now_ms();
        let oldest = self.lock().messages.iter().map(|m| m.enqueued_at_ms).min()?;
        Some(Duration::from_millis(now.saturating_sub(oldest)))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock, and every update leaves the state whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn accept_redriven(&self, mut moved: Vec<Stored>) {
        let now = self.clock.now_ms();
        for m in &mut moved {
            m.receipt = None;
            m.enqueued_at_ms = now;
        }
        self.lock().messages.extend(moved);
    }
}

impl FifoQueue for EmbeddedFifoQueue {
    async fn send(&self, msg: OutgoingMessage) -> Result<String, PortError> {
        // As SQS: both ids are required, and only in the characters it takes.
        if !is_fifo_id(&msg.group_id) || !is_fifo_id(&msg.dedup_id) {
            return Err(PortError::permanent("send", "a FIFO queue needs a valid group id and dedup id"));
        }
        let now = self.clock.now_ms();
        let window = duration_ms(DEDUP_WINDOW);
        let mut state = self.lock();
        while let Some((first, _)) = state.dedup_expiry.front()
            && now.saturating_sub(*first) >= window
        {
            if let Some((_, id)) = state.dedup_expiry.pop_front() {
                state.dedup.remove(&id);
            }
        }
        if let Some((id, _)) = state.dedup.get(&msg.dedup_id) {
            return Ok(id.clone());
        }
        state.sent += 1;
        let message_id = format!("{}-{:06}", self.name, state.sent);
        state.dedup_expiry.push_back((now, msg.dedup_id.clone()));
        state.dedup.insert(msg.dedup_id, (message_id.clone(), now));
        state.messages.push_back(Stored {
            message_id: message_id.clone(),
            body: msg.body,
            group_id: msg.group_id,
            attributes: msg.attributes,
            sent_at_ms: now,
            enqueued_at_ms: now,
            receive_count: 0,
            receipt: None,
        });
        Ok(message_id)
    }

    async fn receive(&self, max: usize) -> Result<Vec<ReceivedMessage>, PortError> {
        if !(1..=MAX_RECEIVE_BATCH).contains(&max) {
            return Err(PortError::permanent("receive", format!("max must be 1 to {MAX_RECEIVE_BATCH}, got {max}")));
        }
        let now = self.clock.now_ms();
        let visible_at_ms = now.saturating_add(duration_ms(self.visibility_timeout));
        let mut batch = Vec::new();
        let mut dead = Vec::new();
        {
            let mut guard = self.lock();
            let state = &mut *guard;
            // Groups blocked before this call stay blocked; a group first delivered in this
            // call may contribute further messages, in order, as SQS batches do.
            let blocked: HashSet<String> =
                state.messages.iter().filter(|m| m.in_flight(now)).map(|m| m.group_id.clone()).collect();
            let mut i = 0;
            while i < state.messages.len() && batch.len() < max {
                let m = &mut state.messages[i];
                if blocked.contains(&m.group_id) {
                    i += 1;
                    continue;
                }
                if let Some(redrive) = &self.redrive
                    && m.receive_count >= redrive.max_receive_count
                {
                    dead.extend(state.messages.remove(i));
                    continue;
                }
                state.receipts += 1;
                let handle = format!("{}#{}", m.message_id, state.receipts);
                m.receive_count += 1;
                m.receipt = Some(Receipt { handle: handle.clone(), visible_at_ms });
                batch.push(ReceivedMessage {
                    message_id: m.message_id.clone(),
                    receipt_handle: handle,
                    body: m.body.clone(),
                    group_id: m.group_id.clone(),
                    receive_count: m.receive_count,
                    sent_at_ms: m.sent_at_ms,
                    attributes: m.attributes.clone(),
                });
                i += 1;
            }
        }
        // Outside our lock, so two queues redriving into each other cannot deadlock.
        if let Some(redrive) = &self.redrive
            && !dead.is_empty()
        {
            redrive.dlq.accept_redriven(dead);
        }
        Ok(batch)
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), PortError> {
        let unknown = || PortError::not_found("delete", format!("unknown receipt handle {receipt_handle}"));
        let (message_id, _) = receipt_handle.rsplit_once('#').ok_or_else(unknown)?;
        let now = self.clock.now_ms();
        let mut state = self.lock();
        let i = state.messages.iter().position(|m| m.message_id == message_id).ok_or_else(unknown)?;
        match &state.messages[i].receipt {
            Some(r) if r.handle == receipt_handle && now < r.visible_at_ms => {
                state.messages.remove(i);
                Ok(())
            }
            // SQS FIFO refuses these too: the message may already be in other hands.
            Some(r) if r.handle == receipt_handle => {
                Err(PortError::permanent("delete", format!("receipt handle {receipt_handle} has expired")))
            }
            _ => Err(PortError::permanent(
                "delete",
                format!("stale receipt handle {receipt_handle}: the message was received again"),
            )),
        }
    }

    async fn release(&self, receipt_handle: &str) -> Result<(), PortError> {
        let unknown = || PortError::not_found("release", format!("unknown receipt handle {receipt_handle}"));
        let (message_id, _) = receipt_handle.rsplit_once('#').ok_or_else(unknown)?;
        let now = self.clock.now_ms();
        let mut state = self.lock();
        let message = state.messages.iter_mut().find(|m| m.message_id == message_id).ok_or_else(unknown)?;
        match &mut message.receipt {
            Some(r) if r.handle == receipt_handle => {
                r.visible_at_ms = r.visible_at_ms.min(now);
                Ok(())
            }
            _ => Err(PortError::permanent("release", format!("stale receipt handle {receipt_handle}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::ManualClock;
    use crate::error::Retry;

    const START_MS: u64 = 1_700_000_000_000;

    fn queue(clock: &ManualClock) -> EmbeddedFifoQueue {
        EmbeddedFifoQueue::new("orders").with_clock(clock.clone())
    }

    fn msg(body: &str, group: &str) -> OutgoingMessage {
        OutgoingMessage::new(body.to_owned(), group, body)
    }

    fn bodies(batch: &[ReceivedMessage]) -> Vec<&str> {
        batch.iter().map(|m| m.body.as_str()).collect()
    }

    #[tokio::test]
    async fn messages_of_one_group_arrive_in_send_order() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        for body in ["a1", "a2", "a3"] {
            q.send(msg(body, "a")).await.unwrap();
        }
        for expected in ["a1", "a2", "a3"] {
            let batch = q.receive(1).await.unwrap();
            assert_eq!(bodies(&batch), [expected]);
            q.delete(&batch[0].receipt_handle).await.unwrap();
        }
        assert!(q.receive(10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_released_message_is_visible_again_at_once() {
        let q = EmbeddedFifoQueue::new("q.fifo");
        q.send(OutgoingMessage::new("a".into(), "g", "d")).await.unwrap();
        let first = q.receive(10).await.unwrap();
        assert!(q.receive(10).await.unwrap().is_empty());
        q.release(&first[0].receipt_handle).await.unwrap();
        let again = q.receive(10).await.unwrap();
        assert_eq!((again[0].body.as_str(), again[0].receive_count), ("a", 2));
    }

    #[tokio::test]
    async fn later_message_of_a_group_waits_while_the_first_is_in_flight() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        q.send(msg("a1", "a")).await.unwrap();
        let first = q.receive(1).await.unwrap();
        q.send(msg("a2", "a")).await.unwrap();
        assert!(q.receive(10).await.unwrap().is_empty());
        q.delete(&first[0].receipt_handle).await.unwrap();
        assert_eq!(bodies(&q.receive(10).await.unwrap()), ["a2"]);
    }

    #[tokio::test]
    async fn groups_interleave() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        q.send(msg("a1", "a")).await.unwrap();
        q.send(msg("a2", "a")).await.unwrap();
        q.send(msg("b1", "b")).await.unwrap();
        let first = q.receive(1).await.unwrap();
        assert_eq!(bodies(&first), ["a1"]);
        // Group a is blocked, group b is not.
        assert_eq!(bodies(&q.receive(10).await.unwrap()), ["b1"]);
    }

    #[tokio::test]
    async fn one_batch_carries_several_messages_of_a_group_in_order_all_in_flight() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        for (body, group) in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("a3", "a")] {
            q.send(msg(body, group)).await.unwrap();
        }
        let batch = q.receive(3).await.unwrap();
        assert_eq!(bodies(&batch), ["a1", "b1", "a2"]);
        // a3 waits: its group has messages in flight.
        assert!(q.receive(10).await.unwrap().is_empty());
        assert_eq!(q.peek_all().iter().filter(|m| m.in_flight).count(), 3);
    }

    #[tokio::test]
    async fn receive_returns_at_most_max_and_rejects_more_than_ten() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        for i in 0..12 {
            q.send(msg(&format!("m{i}"), &format!("g{i}"))).await.unwrap();
        }
        assert_eq!(q.receive(10).await.unwrap().len(), 10);
        assert_eq!(q.receive(10).await.unwrap().len(), 2);
        assert_eq!(q.receive(11).await.unwrap_err().retry, Retry::Permanent);
        assert_eq!(q.receive(0).await.unwrap_err().retry, Retry::Permanent);
    }

    #[tokio::test]
    async fn duplicate_dedup_id_within_window_returns_the_first_id() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        let first = q.send(OutgoingMessage::new("one".into(), "a", "d")).await.unwrap();
        clock.advance(DEDUP_WINDOW - Duration::from_millis(1));
        let second = q.send(OutgoingMessage::new("two".into(), "b", "d")).await.unwrap();
        assert_eq!(first, second);
        assert_eq!(q.len(), 1);
        assert_eq!(q.peek_all()[0].body, "one");
    }

    #[tokio::test]
    async fn dedup_window_outlives_deletion() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        let first = q.send(msg("a1", "a")).await.unwrap();
        let batch = q.receive(1).await.unwrap();
        q.delete(&batch[0].receipt_handle).await.unwrap();
        assert_eq!(q.send(msg("a1", "a")).await.unwrap(), first);
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn dedup_expires_after_five_minutes() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        let first = q.send(msg("a1", "a")).await.unwrap();
        clock.advance(DEDUP_WINDOW);
        let second = q.send(msg("a1", "a")).await.unwrap();
        assert_ne!(first, second);
        assert_eq!(q.len(), 2);
    }

    #[tokio::test]
    async fn dedup_window_counts_from_the_first_send_not_the_duplicate() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        let first = q.send(msg("a1", "a")).await.unwrap();
        clock.advance(Duration::from_secs(200));
        assert_eq!(q.send(msg("a1", "a")).await.unwrap(), first);
        clock.advance(Duration::from_secs(100));
        assert_ne!(q.send(msg("a1", "a")).await.unwrap(), first);
    }

    #[tokio::test]
    async fn message_returns_after_visibility_timeout_with_higher_receive_count() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock).with_visibility_timeout(Duration::from_secs(10));
        q.send(msg("a1", "a")).await.unwrap();
        let first = q.receive(1).await.unwrap();
        assert_eq!(first[0].receive_count, 1);
        clock.advance(Duration::from_millis(9_999));
        assert!(q.receive(1).await.unwrap().is_empty());
        clock.advance(Duration::from_millis(1));
        let again = q.receive(1).await.unwrap();
        assert_eq!(again[0].message_id, first[0].message_id);
        assert_eq!(again[0].receive_count, 2);
        assert_ne!(again[0].receipt_handle, first[0].receipt_handle);
    }

    #[tokio::test]
    async fn default_visibility_timeout_is_thirty_seconds() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        q.send(msg("a1", "a")).await.unwrap();
        q.receive(1).await.unwrap();
        clock.advance(Duration::from_secs(29));
        assert!(q.receive(1).await.unwrap().is_empty());
        clock.advance(Duration::from_secs(1));
        assert_eq!(q.receive(1).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn eleventh_receive_moves_message_to_dlq_when_max_is_ten() {
        let clock = ManualClock::new(START_MS);
        let dlq = Arc::new(EmbeddedFifoQueue::new("orders-dlq").with_clock(clock.clone()));
        let q = queue(&clock).with_redrive(dlq.clone(), 10);
        let sent = OutgoingMessage::new("a1".into(), "a", "d1").with_attribute("reason", "timeout");
        let id = q.send(sent).await.unwrap();
        q.send(msg("a2", "a")).await.unwrap();
        for n in 1..=10 {
            let batch = q.receive(1).await.unwrap();
            assert_eq!((batch[0].body.as_str(), batch[0].receive_count), ("a1", n));
            clock.advance(DEFAULT_VISIBILITY_TIMEOUT);
        }
        // The 11th receive moves a1 and delivers the next message of its group instead.
        assert_eq!(bodies(&q.receive(1).await.unwrap()), ["a2"]);
        assert_eq!(q.len(), 1);
        let dead = dlq.receive(10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].message_id, id);
        assert_eq!(dead[0].body, "a1");
        assert_eq!(dead[0].group_id, "a");
        assert_eq!(dead[0].sent_at_ms, START_MS);
        assert_eq!(dead[0].attribute("reason"), Some("timeout"));
        assert_eq!(dead[0].receive_count, 11);
    }

    #[tokio::test]
    async fn redriven_message_keeps_its_receive_count_in_the_dlq() {
        let clock = ManualClock::new(START_MS);
        let dlq = Arc::new(EmbeddedFifoQueue::new("orders-dlq").with_clock(clock.clone()));
        let q = queue(&clock).with_redrive(dlq.clone(), 2);
        q.send(msg("a1", "a")).await.unwrap();
        for _ in 0..2 {
            q.receive(1).await.unwrap();
            clock.advance(DEFAULT_VISIBILITY_TIMEOUT);
        }
        assert!(q.receive(1).await.unwrap().is_empty());
        let peeked = dlq.peek_all();
        assert_eq!(peeked.len(), 1);
        assert_eq!(peeked[0].receive_count, 2);
        assert!(!peeked[0].in_flight);
    }

    #[tokio::test]
    async fn without_redrive_a_message_is_received_indefinitely() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        q.send(msg("a1", "a")).await.unwrap();
        for _ in 0..20 {
            q.receive(1).await.unwrap();
            clock.advance(DEFAULT_VISIBILITY_TIMEOUT);
        }
        assert_eq!(q.receive(1).await.unwrap()[0].receive_count, 21);
    }

    #[tokio::test]
    async fn stale_receipt_handle_does_not_delete() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        q.send(msg("a1", "a")).await.unwrap();
        let first = q.receive(1).await.unwrap();
        clock.advance(DEFAULT_VISIBILITY_TIMEOUT);
        let second = q.receive(1).await.unwrap();
        let err = q.delete(&first[0].receipt_handle).await.unwrap_err();
        assert_eq!(err.retry, Retry::Permanent);
        assert!(!err.not_found);
        assert_eq!(q.len(), 1);
        q.delete(&second[0].receipt_handle).await.unwrap();
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn expired_receipt_handle_does_not_delete() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        q.send(msg("a1", "a")).await.unwrap();
        let batch = q.receive(1).await.unwrap();
        clock.advance(DEFAULT_VISIBILITY_TIMEOUT);
        let err = q.delete(&batch[0].receipt_handle).await.unwrap_err();
        assert_eq!(err.retry, Retry::Permanent);
        assert_eq!(q.len(), 1);
    }

    #[tokio::test]
    async fn deleting_an_unknown_or_already_deleted_handle_is_not_found() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        assert!(q.delete("no-such-handle").await.unwrap_err().not_found);
        q.send(msg("a1", "a")).await.unwrap();
        let batch = q.receive(1).await.unwrap();
        q.delete(&batch[0].receipt_handle).await.unwrap();
        assert!(q.delete(&batch[0].receipt_handle).await.unwrap_err().not_found);
    }

    #[tokio::test]
    async fn received_message_carries_body_group_attributes_and_sent_time() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        let sent = OutgoingMessage::new("{}".into(), "order-1", "d1")
            .with_attribute("status", "registered")
            .with_attribute("reason", "none");
        let id = q.send(sent).await.unwrap();
        clock.advance(Duration::from_secs(5));
        let got = q.receive(1).await.unwrap().remove(0);
        assert_eq!(got.message_id, id);
        assert_eq!(got.body, "{}");
        assert_eq!(got.group_id, "order-1");
        assert_eq!(got.sent_at_ms, START_MS);
        assert_eq!(
            got.attributes,
            [("status".to_owned(), "registered".to_owned()), ("reason".to_owned(), "none".to_owned())]
        );
    }

    #[tokio::test]
    async fn message_ids_and_receipt_handles_are_unique() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        let mut ids = HashSet::new();
        for i in 0..5 {
            ids.insert(q.send(msg(&format!("m{i}"), "a")).await.unwrap());
        }
        assert_eq!(ids.len(), 5);
        let mut handles = HashSet::new();
        for _ in 0..3 {
            for m in q.receive(10).await.unwrap() {
                handles.insert(m.receipt_handle);
            }
            clock.advance(DEFAULT_VISIBILITY_TIMEOUT);
        }
        assert_eq!(handles.len(), 15);
    }

    #[tokio::test]
    async fn send_without_valid_group_or_dedup_ids_is_rejected() {
        let q = EmbeddedFifoQueue::new("orders");
        // Built field by field: `OutgoingMessage::new` makes any text a valid id.
        let raw = |group: &str, dedup: &str| OutgoingMessage {
            body: "b".into(),
            group_id: group.into(),
            dedup_id: dedup.into(),
            attributes: Vec::new(),
        };
        for (group, dedup) in [("", "d"), ("g", ""), ("a group", "d"), ("g", "ñ")] {
            assert_eq!(q.send(raw(group, dedup)).await.unwrap_err().retry, Retry::Permanent, "{group:?} {dedup:?}");
        }
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn peek_all_changes_neither_visibility_nor_counts() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        q.send(msg("a1", "a")).await.unwrap();
        q.send(msg("b1", "b")).await.unwrap();
        q.receive(1).await.unwrap();
        let peeked = q.peek_all();
        assert_eq!(
            peeked.iter().map(|m| (m.body.as_str(), m.in_flight, m.receive_count)).collect::<Vec<_>>(),
            [("a1", true, 1), ("b1", false, 0)]
        );
        let _ = q.peek_all();
        let next = q.receive(10).await.unwrap();
        assert_eq!((bodies(&next), next[0].receive_count), (vec!["b1"], 1));
    }

    #[tokio::test]
    async fn len_counts_visible_and_in_flight_messages() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        q.send(msg("a1", "a")).await.unwrap();
        q.send(msg("b1", "b")).await.unwrap();
        q.receive(1).await.unwrap();
        assert_eq!(q.len(), 2);
    }

    #[tokio::test]
    async fn age_of_oldest_counts_from_the_oldest_undeleted_message() {
        let clock = ManualClock::new(START_MS);
        let q = queue(&clock);
        assert_eq!(q.approximate_age_of_oldest(), None);
        q.send(msg("a1", "a")).await.unwrap();
        clock.advance(Duration::from_secs(40));
        q.send(msg("b1", "b")).await.unwrap();
        clock.advance(Duration::from_secs(20));
        assert_eq!(q.approximate_age_of_oldest(), Some(Duration::from_secs(60)));
        let batch = q.receive(1).await.unwrap();
        q.delete(&batch[0].receipt_handle).await.unwrap();
        assert_eq!(q.approximate_age_of_oldest(), Some(Duration::from_secs(20)));
    }

    #[tokio::test]
    async fn dlq_age_counts_from_the_move_while_sent_time_is_kept() {
        let clock = ManualClock::new(START_MS);
        let dlq = Arc::new(EmbeddedFifoQueue::new("orders-dlq").with_clock(clock.clone()));
        let q = queue(&clock).with_redrive(dlq.clone(), 1);
        q.send(msg("a1", "a")).await.unwrap();
        q.receive(1).await.unwrap();
        clock.advance(Duration::from_secs(100));
        assert!(q.receive(1).await.unwrap().is_empty());
        clock.advance(Duration::from_secs(7));
        assert_eq!(dlq.approximate_age_of_oldest(), Some(Duration::from_secs(7)));
        assert_eq!(dlq.peek_all()[0].sent_at_ms, START_MS);
    }

    #[test]
    fn queue_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<EmbeddedFifoQueue>();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_senders_lose_nothing_and_each_sender_keeps_group_order() {
        let clock = ManualClock::new(START_MS);
        let q = Arc::new(queue(&clock));
        let senders: Vec<_> = (0..4)
            .map(|t| {
                let q = q.clone();
                tokio::spawn(async move {
                    for i in 0..50 {
                        let group = format!("g{}", i % 7);
                        q.send(msg(&format!("{t}-{i}"), &group)).await.unwrap();
                    }
                })
            })
            .collect();
        for s in senders {
            s.await.unwrap();
        }
        // (sender, group) → last sequence number delivered
        let mut last: HashMap<(String, String), u32> = HashMap::new();
        let mut delivered = 0;
        loop {
            let batch = q.receive(10).await.unwrap();
            if batch.is_empty() {
                break;
            }
            for m in batch {
                let (sender, seq) = m.body.split_once('-').unwrap();
                let seq: u32 = seq.parse().unwrap();
                let previous = last.insert((sender.to_owned(), m.group_id.clone()), seq);
                assert!(previous.is_none_or(|p| p < seq), "{} out of order", m.body);
                q.delete(&m.receipt_handle).await.unwrap();
                delivered += 1;
            }
        }
        assert_eq!(delivered, 200);
        assert!(q.is_empty());
    }
}
