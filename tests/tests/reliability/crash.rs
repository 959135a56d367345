//! Crash injection: every port that has an effect outside the process (queue sends, table
//! writes, object writes, DTE calls, ERP pushes, emails, Orders API deliveries) is wrapped in
//! [`Crashy`]. After the wrapped call succeeded, [`CrashPlan::effect`] may "crash": it never
//! returns, and the driver drops the whole step, so nothing after the effect runs — neither
//! the acknowledgement (queue delete, claim completion, settle write) nor anything else.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use orderflow_shared::email::Email;
use orderflow_shared::erp::{ErpConnector, ErpError, PushOutcome};
use orderflow_shared::error::PortError;
use orderflow_shared::lifecycle::{OrderRecord, State};
use orderflow_shared::order::{CanonicalOrder, OrderKey};
use orderflow_shared::ports::{
    DteError, DteProvider, Expected, FifoQueue, ListError, MailError, Mailer, ObjectStore, OrderPage, OrderStore,
    OutgoingMessage, ReceivedMessage, StateStats, WriteError,
};
use orderflow_shared::webhook::Refund;
use tokio::sync::Notify;

/// Counts effects and crashes once, after the effect numbered `crash_at` (0-based).
#[derive(Debug, Default)]
pub struct CrashPlan {
    effects: AtomicUsize,
    crash_at: Mutex<Option<usize>>,
    crashed: Mutex<Option<String>>,
    notify: Notify,
}

impl CrashPlan {
    pub fn crashing_after(effect: usize) -> Self {
        Self { crash_at: Mutex::new(Some(effect)), ..Self::default() }
    }

    /// Effects counted so far.
    pub fn effects(&self) -> usize {
        self.effects.load(Ordering::SeqCst)
    }

    /// The effect after which the crash happened, once it has.
    pub fn crashed(&self) -> Option<String> {
        self.crashed.lock().unwrap().clone()
    }

    /// Resolves when the crash happens; the driver races every step against it.
    pub async fn crash(&self) {
        loop {
            let notified = self.notify.notified();
            if self.crashed().is_some() {
                return;
            }
            notified.await;
        }
    }

    /// Called after each successful effect; at the planned one it records the crash and hangs.
    pub async fn effect(&self, label: &str) {
        let n = self.effects.fetch_add(1, Ordering::SeqCst);
        let hit = {
            let mut at = self.crash_at.lock().unwrap();
            let hit = *at == Some(n);
            if hit {
                *at = None;
                *self.crashed.lock().unwrap() = Some(format!("#{n} {label}"));
            }
            hit
        };
        if hit {
            self.notify.notify_waiters();
            std::future::pending::<()>().await;
        }
    }
}

/// A port whose effects go through a [`CrashPlan`].
#[derive(Debug, Clone)]
pub struct Crashy<T> {
    pub inner: T,
    pub plan: Arc<CrashPlan>,
    pub label: &'static str,
}

impl<T> Crashy<T> {
    pub fn new(inner: T, plan: &Arc<CrashPlan>, label: &'static str) -> Self {
        Self { inner, plan: plan.clone(), label }
    }

    async fn after<R>(&self, result: R, ok: bool) -> R {
        if ok {
            self.plan.effect(self.label).await;
        }
        result
    }
}

impl<T: FifoQueue> FifoQueue for Crashy<T> {
    async fn send(&self, msg: OutgoingMessage) -> Result<String, PortError> {
        let result = self.inner.send(msg).await;
        let ok = result.is_ok();
        self.after(result, ok).await
    }
    fn receive(&self, max: usize) -> impl Future<Output = Result<Vec<ReceivedMessage>, PortError>> + Send {
        self.inner.receive(max)
    }
    fn delete(&self, receipt_handle: &str) -> impl Future<Output = Result<(), PortError>> + Send {
        self.inner.delete(receipt_handle)
    }
    fn release(&self, receipt_handle: &str) -> impl Future<Output = Result<(), PortError>> + Send {
        self.inner.release(receipt_handle)
    }
}

impl<T: OrderStore> OrderStore for Crashy<T> {
    fn get(&self, key: &OrderKey) -> impl Future<Output = Result<Option<OrderRecord>, PortError>> + Send {
        self.inner.get(key)
    }
    async fn put(&self, record: &OrderRecord, expected: Option<Expected>) -> Result<(), WriteError> {
        let result = self.inner.put(record, expected).await;
        let ok = result.is_ok();
        self.after(result, ok).await
    }
    fn list_by_state(
        &self,
        state: State,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<OrderPage, ListError>> + Send {
        self.inner.list_by_state(state, limit, cursor)
    }
    fn stats(&self) -> impl Future<Output = Result<Vec<StateStats>, PortError>> + Send {
        self.inner.stats()
    }
    fn oldest_in_state(
        &self,
        state: State,
        before: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OrderRecord>, PortError>> + Send {
        self.inner.oldest_in_state(state, before, limit)
    }
    fn days(
        &self,
        from: &str,
        to: &str,
    ) -> impl Future<Output = Result<Vec<orderflow_shared::day_counts::DayCounts>, PortError>> + Send {
        self.inner.days(from, to)
    }
}

impl<T: ObjectStore> ObjectStore for Crashy<T> {
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, PortError>> + Send {
        self.inner.get(key)
    }
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), PortError> {
        let result = self.inner.put(key, body, content_type).await;
        let ok = result.is_ok();
        self.after(result, ok).await
    }
    async fn copy(&self, from: &str, to: &str) -> Result<(), PortError> {
        let result = self.inner.copy(from, to).await;
        let ok = result.is_ok();
        self.after(result, ok).await
    }
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send {
        self.inner.list(prefix)
    }
}

impl<T: DteProvider> DteProvider for Crashy<T> {
    async fn issue(&self, record: &OrderRecord) -> Result<String, DteError> {
        let result = self.inner.issue(record).await;
        let ok = result.is_ok();
        self.after(result, ok).await
    }
    async fn broadcast(&self, record: &OrderRecord) -> Result<String, DteError> {
        let result = self.inner.broadcast(record).await;
        let ok = result.is_ok();
        self.after(result, ok).await
    }
}

impl<T: ErpConnector> ErpConnector for Crashy<T> {
    async fn push(&self, order: &CanonicalOrder) -> Result<PushOutcome, ErpError> {
        let result = self.inner.push(order).await;
        let ok = result.is_ok();
        self.after(result, ok).await
    }
    async fn refund(&self, refund: &Refund, order_key: &str) -> Result<PushOutcome, ErpError> {
        let result = self.inner.refund(refund, order_key).await;
        let ok = result.is_ok();
        self.after(result, ok).await
    }
}

impl<T: Mailer> Mailer for Crashy<T> {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let result = self.inner.send(email).await;
        let ok = result.is_ok();
        self.after(result, ok).await
    }
}

/// Emails kept in memory, cheap to clone and share.
#[derive(Debug, Clone, Default)]
pub struct Outbox(Arc<Mutex<Vec<Email>>>);

impl Outbox {
    pub fn sent(&self) -> Vec<Email> {
        self.0.lock().unwrap().clone()
    }
}

impl Mailer for Outbox {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let mut sent = self.0.lock().unwrap();
        sent.push(email.clone());
        Ok(format!("outbox-{}", sent.len()))
    }
}
