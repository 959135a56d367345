//! Duplicates and crashes, on the embedded pipeline with no injected faults: whatever is
//! delivered twice, late, or retried after a crash, each order exists once, with one history
//! entry per real transition, one DTE folio, one ERP record and one email.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use orderflow_e2e::chaos::Faults;
use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, ManualClock};
use orderflow_shared::command::OrderCommand;
use orderflow_shared::error::PortError;
use orderflow_shared::lifecycle::{HistoryKind, State};
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{FifoQueue, OrderStore, OutgoingMessage, ReceivedMessage};

use crate::crash::CrashPlan;
use crate::faults::{Embedded, embedded_queues, embedded_stack};
use crate::stack::{Inspect, Queues, Stack};
use crate::workload::{self, Document, Webhook};

const NO_FAULTS: Faults = Faults { share: 0.0, seed: 0 };

/// A queue that delivers every message twice: the send goes through as is, and again under
/// another deduplication id, as when a sender retries after the window or a consumer's ack
/// is lost. Every send is kept, for a late replay of the whole run.
#[derive(Clone)]
struct Doubling {
    inner: Arc<EmbeddedFifoQueue>,
    sent: Arc<Mutex<Vec<OutgoingMessage>>>,
}

impl Doubling {
    fn new(inner: Arc<EmbeddedFifoQueue>) -> Self {
        Self { inner, sent: Arc::default() }
    }

    /// Sends everything again, under new deduplication ids, in a seeded order that keeps each
    /// message group's order (FIFO allows no more) but interleaves the groups differently.
    async fn replay_late(&self, seed: u64) {
        let sent = self.sent.lock().unwrap().clone();
        let mut groups: BTreeMap<&str, Vec<&OutgoingMessage>> = BTreeMap::new();
        for m in &sent {
            groups.entry(m.group_id.as_str()).or_default().push(m);
        }
        let mut groups: Vec<_> = groups.into_values().map(|g| g.into_iter().rev().collect::<Vec<_>>()).collect();
        let mut state = seed;
        while !groups.is_empty() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let g = (state >> 33) as usize % groups.len();
            let m = groups[g].pop().expect("groups are never empty");
            let late = OutgoingMessage { dedup_id: format!("{}#late", m.dedup_id), ..m.clone() };
            self.inner.send(late).await.expect("late send");
            if groups[g].is_empty() {
                groups.swap_remove(g);
            }
        }
    }
}

impl FifoQueue for Doubling {
    async fn send(&self, msg: OutgoingMessage) -> Result<String, PortError> {
        let id = self.inner.send(msg.clone()).await?;
        let again = OutgoingMessage { dedup_id: format!("{}#again", msg.dedup_id), ..msg.clone() };
        self.inner.send(again).await?;
        self.sent.lock().unwrap().push(msg);
        Ok(id)
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

impl Inspect for Doubling {
    fn depth(&self) -> impl Future<Output = usize> + Send {
        self.inner.depth()
    }
    fn parked(&self) -> impl Future<Output = Vec<(String, Vec<(String, String)>)>> + Send {
        self.inner.parked()
    }
}

async fn embedded<Q>(queues: Queues<Q>, clock: ManualClock, plan: CrashPlan) -> Embedded<Q>
where
    Q: FifoQueue + Inspect + Clone + 'static,
{
    embedded_stack(queues, clock, NO_FAULTS, plan).await
}

/// Two documents and two webhooks (a standard and a Shopify one): every kind of effect.
fn inputs(run: &str) -> (Vec<Document>, Vec<Webhook>) {
    let documents: Vec<Document> = workload::documents(run, 2);
    (documents, (0..2).map(|n| workload::order_webhook(run, n)).collect())
}

/// What an order's history says happened, without times: the transitions in order, then the
/// other entries (the email's notification, which may come before or after the broadcast).
type Trail = (Vec<(Option<State>, Option<State>)>, Vec<HistoryKind>);

fn trail(history: &[orderflow_shared::lifecycle::HistoryEntry]) -> Trail {
    let transitions = history.iter().filter(|h| h.kind == HistoryKind::Transition).map(|h| (h.from, h.to)).collect();
    let mut others: Vec<HistoryKind> =
        history.iter().filter(|h| h.kind != HistoryKind::Transition).map(|h| h.kind).collect();
    others.sort_by_key(|k| format!("{k:?}"));
    (transitions, others)
}

/// The order trails after a run, checked for exactly-once effects everywhere else.
async fn exactly_once<Q>(
    stack: &Embedded<Q>,
    keys: &[OrderKey],
    webhooks: &[Webhook],
    emails_expected: usize,
) -> HashMap<OrderKey, Trail>
where
    Q: FifoQueue + Inspect + Clone + 'static,
{
    let stats = stack.store.stats().await.unwrap();
    let stored: u64 = stats.iter().map(|s| s.count).sum();
    assert_eq!(stored, keys.len() as u64, "one stored order per input: {stats:?}");
    let mut trails = HashMap::new();
    let mut folios = HashSet::new();
    for key in keys {
        let record = stack.store.get(key).await.unwrap().expect("stored");
        assert_eq!(record.state, State::BroadcastDte, "{key}");
        assert!(folios.insert(record.dte.folio.clone().expect("a folio")), "{key}: folio shared");
        trails.insert(key.clone(), trail(&record.history));
    }
    let issued: HashSet<String> = stack
        .dte
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/dte")
        .filter_map(|r| r.header("idempotency-key").map(str::to_owned))
        .collect();
    assert_eq!(issued.len(), keys.len(), "one DTE document per order, however often it was asked for");
    let mut in_erp: HashMap<String, usize> = HashMap::new();
    for record in stack.erp.orders() {
        *in_erp.entry(record["externalDocumentNumber"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let expected_erp: HashMap<String, usize> = webhooks.iter().map(|w| (w.order_key().to_string(), 1)).collect();
    assert_eq!(in_erp, expected_erp, "one ERP record per webhook order");
    assert_eq!(stack.emails.sent().await.len(), emails_expected, "customer emails");
    assert_eq!(stack.queues.erp_dlq.depth().await, 0, "nothing parked in the ERP DLQ");
    trails
}

fn keys_of(documents: &[Document], webhooks: &[Webhook]) -> Vec<OrderKey> {
    documents.iter().filter_map(|d| d.order_key.clone()).chain(webhooks.iter().map(Webhook::order_key)).collect()
}

async fn feed<S, Q, O>(stack: &Stack<S, Q, O>, documents: &[Document], webhooks: &[Webhook], times: usize)
where
    S: OrderStore + Clone + 'static,
    Q: FifoQueue + Inspect + Clone + 'static,
    O: orderflow_shared::ports::ObjectStore + Clone + 'static,
{
    for document in documents {
        stack.upload(&document.name, document.bytes.clone()).await;
        for _ in 1..times {
            // The same notification again: S3 delivers events at least once.
            stack.upload(&document.name, document.bytes.clone()).await;
        }
        stack.expect_notification_of(document.order_key.clone());
    }
    for webhook in webhooks {
        for _ in 0..times {
            stack.deliver(webhook.clone());
        }
        stack.expect_notification_of(Some(webhook.order_key()));
    }
}

/// One run without duplicates or crashes: the trails every other run must reproduce, and how
/// many effects the run has.
async fn reference(run: &str) -> (HashMap<OrderKey, Trail>, usize) {
    let (documents, webhooks) = inputs(run);
    let clock = ManualClock::new(1_772_409_600_000);
    let stack = Arc::new(embedded(embedded_queues(&clock), clock, CrashPlan::default()).await);
    feed(&stack, &documents, &webhooks, 1).await;
    stack.settle(1).await;
    let keys = keys_of(&documents, &webhooks);
    let trails = exactly_once(&stack, &keys, &webhooks, keys.len()).await;
    assert_eq!(stack.queues.pending.depth().await, 0, "nothing parked");
    (trails, stack.plan.effects())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_delivered_twice_and_again_late_out_of_order_changes_nothing() {
    let run = "dup";
    let (expected, _) = reference(run).await;
    let (documents, webhooks) = inputs(run);
    let clock = ManualClock::new(1_772_409_600_000);
    let Queues { orders, pending, erp_sync, erp_dlq } = embedded_queues(&clock);
    let (orders, erp_sync) = (Doubling::new(orders), Doubling::new(erp_sync));
    let queues = Queues {
        orders: orders.clone(),
        erp_sync: erp_sync.clone(),
        pending: Doubling::new(pending),
        erp_dlq: Doubling::new(erp_dlq),
    };
    let stack = Arc::new(embedded(queues, clock, CrashPlan::default()).await);
    feed(&stack, &documents, &webhooks, 2).await;
    stack.settle(2).await;
    orders.replay_late(7).await;
    erp_sync.replay_late(11).await;
    stack.settle(2).await;

    let keys = keys_of(&documents, &webhooks);
    assert_eq!(
        exactly_once(&stack, &keys, &webhooks, keys.len()).await,
        expected,
        "one history entry per real transition"
    );
    let answers = stack.answers.lock().unwrap().clone();
    for webhook in &webhooks {
        assert_eq!(answers[&webhook.id], [202, 200], "{}: queued once, then answered as a duplicate", webhook.id);
    }
    // The late replay carried stage commands of stages every order had passed by then; each is
    // a duplicate (the order's history has the transition): acknowledged, never applied again,
    // and nothing is parked for an operator.
    let stages: Vec<OrderCommand> = orders
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter_map(|m| serde_json::from_str::<OrderCommand>(&m.body).ok())
        .filter(|c| matches!(c, OrderCommand::Stage { .. }))
        .collect();
    assert!(!stages.is_empty(), "the late replay included stage commands");
    for command in &stages {
        let OrderCommand::Stage { order_key, stage, .. } = command else { unreachable!() };
        let record = stack.store.get(order_key).await.unwrap().unwrap();
        assert!(record.history.iter().any(|h| h.to == Some(stage.target())), "{stage:?} was passed by {order_key}");
    }
    let parked = stack.queues.pending.parked().await;
    assert!(parked.is_empty(), "late duplicates are not parked: {parked:?}");
    let sent = orders.sent.lock().unwrap().len() + erp_sync.sent.lock().unwrap().len();
    assert!(sent >= 3 * keys.len(), "every command was duplicated ({sent} sends)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_any_effect_is_retried_to_the_same_end_without_repeating_the_effect() {
    let run = "crash";
    let (expected, effects) = reference(run).await;
    assert!(effects >= 20, "the reference run has {effects} effects");
    let (documents, webhooks) = inputs(run);
    let keys = keys_of(&documents, &webhooks);
    let mut crashed_at = Vec::new();
    for effect in 0..effects {
        let clock = ManualClock::new(1_772_409_600_000);
        let stack = Arc::new(embedded(embedded_queues(&clock), clock, CrashPlan::crashing_after(effect)).await);
        feed(&stack, &documents, &webhooks, 1).await;
        stack.settle(1).await;
        let crash = stack.plan.crashed().unwrap_or_else(|| panic!("no crash after effect {effect} of {effects}"));
        // SES has no idempotency key: a crash between its acceptance and the settle write is
        // the one documented window where the customer gets the email twice.
        let emails = if crash.ends_with(" email") { keys.len() + 1 } else { keys.len() };
        let trails = exactly_once(&stack, &keys, &webhooks, emails).await;
        assert_eq!(trails, expected, "after a crash at {crash}");
        assert_eq!(stack.queues.pending.depth().await, 0, "after a crash at {crash}: nothing parked");
        crashed_at.push(crash);
    }
    eprintln!("crashed once after each of {effects} effects: {crashed_at:?}");
}
