//! The fault run: 30 % of the calls to the DTE provider and to the ERP fail (5xx, timeouts
//! after the work was done, 4xx refusals), seeded. Every input must end in a final state,
//! `broadcast_failed`, the pending queue, a DLQ or `rejected/`, with its reason, and the
//! ERP must hold each webhook order once or park it in its DLQ.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use orderflow_e2e::chaos::{Fault, Faults};
use orderflow_e2e::dynamo::create_orders_table;
use orderflow_e2e::{create_bucket, create_fifo, drain, sdk_config, unique};
use orderflow_shared::adapters::aws::{self, DynamoOrderStore, S3ObjectStore, SqsFifoQueue, dynamodb_client};
use orderflow_shared::adapters::embedded::{DirObjectStore, EmbeddedFifoQueue, EmbeddedOrderStore, ManualClock};
use orderflow_shared::error::PortError;
use orderflow_shared::ports::{FifoQueue, ObjectStore, OrderStore, OutgoingMessage, ReceivedMessage};

use crate::accounting::{Ledger, account};
use crate::crash::CrashPlan;
use crate::stack::{Inspect, Queues, Stack, Time};
use crate::workload::{self, Webhook};
use crate::{logs, security};

const FAULTS: Faults = Faults { share: 0.3, seed: 0x0F1A_2026 };
/// The whole run, debug build included; exceeding it fails the test.
const RUN_LIMIT: Duration = Duration::from_secs(600);

pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique(name));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn embedded_queues(clock: &ManualClock) -> Queues<Arc<EmbeddedFifoQueue>> {
    let queue = |name: &str| Arc::new(EmbeddedFifoQueue::new(name).with_clock(clock.clone()));
    let (pending, erp_dlq) = (queue("orders-pending.fifo"), queue("erp-dlq.fifo"));
    let redriven = |name: &str, dlq: &Arc<EmbeddedFifoQueue>| {
        Arc::new(EmbeddedFifoQueue::new(name).with_clock(clock.clone()).with_redrive(dlq.clone(), 10))
    };
    Queues {
        orders: redriven("orders.fifo", &pending),
        erp_sync: redriven("erp-sync.fifo", &erp_dlq),
        pending,
        erp_dlq,
    }
}

/// The pipeline on embedded adapters, its queues on `clock`.
pub async fn embedded_stack<Q>(queues: Queues<Q>, clock: ManualClock, faults: Faults, plan: CrashPlan) -> Embedded<Q>
where
    Q: FifoQueue + Inspect + Clone + 'static,
{
    let bucket = DirObjectStore::new(temp_dir("reliability"));
    Stack::new(Arc::new(EmbeddedOrderStore::new()), queues, bucket, Time::Manual(clock), faults, plan).await
}

pub type Embedded<Q> = Stack<Arc<EmbeddedOrderStore>, Q, DirObjectStore>;

/// Feeds a run's inputs, settles it under a hard time limit, and accounts for every input.
async fn run<S, Q, O>(stack: Stack<S, Q, O>, documents: usize, webhooks: usize, workers: usize) -> Ledger
where
    S: OrderStore + Clone + 'static,
    Q: FifoQueue + Inspect + Clone + 'static,
    O: ObjectStore + Clone + 'static,
{
    logs::capture();
    // The same order numbers every run, so the seeded faults fall on the same requests.
    let run = format!("faults{documents}");
    let documents = workload::documents(&run, documents);
    let webhooks: Vec<Webhook> = (0..webhooks).map(|n| workload::order_webhook(&run, n)).collect();
    for document in &documents {
        stack.upload(&document.name, document.bytes.clone()).await;
        stack.expect_notification_of(document.order_key.clone());
    }
    for webhook in &webhooks {
        stack.deliver(webhook.clone());
        stack.expect_notification_of(Some(webhook.order_key()));
    }
    let stack = Arc::new(stack);
    tokio::time::timeout(RUN_LIMIT, stack.settle(workers)).await.expect("the run settles within its time limit");

    let ledger = account(&stack, &documents, &webhooks).await;
    let injected = [&stack.dte_chaos, &stack.erp_chaos].map(|c| (c.requests(), c.injected()));
    ledger.print(&format!(
        "{} documents, {} webhooks; DTE and ERP (requests, faults): {injected:?}",
        documents.len(),
        webhooks.len()
    ));
    for (requests, faults) in &injected {
        let failed: u32 = faults.values().sum();
        assert!(*requests > 0 && failed > 0, "faults were injected: {requests} requests, {faults:?}");
        for kind in [Fault::ServerError, Fault::Timeout, Fault::Refused] {
            assert!(faults.get(&kind).copied().unwrap_or(0) > 0, "{kind:?} injected: {faults:?}");
        }
    }
    assert!(ledger.missing.is_empty(), "missing or doubled: {:#?}", ledger.missing);
    let valid = documents.iter().filter(|d| d.order_key.is_some()).count();
    assert_eq!(ledger.lifecycle_total(), valid + webhooks.len(), "every order counted once");
    assert_eq!(ledger.rejected.values().sum::<usize>(), documents.len() - valid);
    assert_eq!(ledger.erp.values().sum::<usize>(), webhooks.len());
    let answers = stack.answers.lock().unwrap().clone();
    assert!(
        webhooks.iter().all(|w| answers.get(&w.id) == Some(&vec![202])),
        "every webhook accepted once: {answers:?}"
    );
    let mut needles = security::secrets();
    needles.extend(stack.signatures.lock().unwrap().iter().map(|s| ("signature header".to_owned(), s.clone())));
    needles.extend(security::input_needles(&documents, &webhooks));
    logs::assert_none_contains(&needles);
    let emails = stack.emails.sent();
    let mut subjects: Vec<_> = emails.iter().map(|e| (e.to.to_string(), e.subject.clone())).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), emails.len(), "no customer gets the same email twice");
    ledger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_documents_and_two_hundred_webhooks_under_30_percent_faults_all_end_accounted_for() {
    let clock = ManualClock::new(1_772_409_600_000);
    let stack = embedded_stack(embedded_queues(&clock), clock, FAULTS, CrashPlan::default()).await;
    let ledger = run(stack, 1000, 200, 8).await;
    for outcome in ["completed", "erp_created"] {
        let count = ledger.lifecycle.get(outcome).or(ledger.erp.get(outcome)).copied().unwrap_or(0);
        assert!(count > 0, "some inputs end {outcome}: {ledger:?}");
    }
}

/// An SQS queue in moto that the accounting can read.
#[derive(Clone)]
pub struct Sqs {
    queue: Arc<SqsFifoQueue>,
    client: aws_sdk_sqs::Client,
}

impl Sqs {
    async fn create(client: &aws_sdk_sqs::Client, name: &str, visibility: Duration, dlq: Option<&Sqs>) -> Self {
        let mut attributes = vec![(QueueAttributeName::VisibilityTimeout, visibility.as_secs().to_string())];
        if let Some(dlq) = dlq {
            let arn = dlq.attribute(QueueAttributeName::QueueArn).await;
            let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"10"}}"#);
            attributes.push((QueueAttributeName::RedrivePolicy, policy));
        }
        let url = create_fifo(client, &unique(name), &attributes).await;
        Self { queue: Arc::new(SqsFifoQueue::new(client.clone(), &url)), client: client.clone() }
    }

    async fn attribute(&self, name: QueueAttributeName) -> String {
        let out =
            self.client.get_queue_attributes().queue_url(self.queue.url()).attribute_names(name.clone()).send().await;
        out.expect("queue attributes").attributes().and_then(|a| a.get(&name).cloned()).unwrap_or_default()
    }
}

impl FifoQueue for Sqs {
    fn send(&self, msg: OutgoingMessage) -> impl Future<Output = Result<String, PortError>> + Send {
        self.queue.send(msg)
    }
    fn receive(&self, max: usize) -> impl Future<Output = Result<Vec<ReceivedMessage>, PortError>> + Send {
        self.queue.receive(max)
    }
    fn delete(&self, receipt_handle: &str) -> impl Future<Output = Result<(), PortError>> + Send {
        self.queue.delete(receipt_handle)
    }
    fn release(&self, receipt_handle: &str) -> impl Future<Output = Result<(), PortError>> + Send {
        self.queue.release(receipt_handle)
    }
}

impl Inspect for Sqs {
    async fn depth(&self) -> usize {
        let mut total = 0;
        for name in
            [QueueAttributeName::ApproximateNumberOfMessages, QueueAttributeName::ApproximateNumberOfMessagesNotVisible]
        {
            total += self.attribute(name).await.parse::<usize>().unwrap_or(0);
        }
        total
    }

    async fn parked(&self) -> Vec<(String, Vec<(String, String)>)> {
        drain(&self.client, self.queue.url()).await.into_iter().map(|m| (m.body, m.attributes)).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_faults_through_moto_leave_every_order_accounted_for() {
    let sdk = sdk_config().await;
    let (sqs, s3, dynamo) = (aws::sqs_client(&sdk), aws::s3_client(&sdk), dynamodb_client(&sdk));
    let visibility = Duration::from_secs(1);
    let pending = Sqs::create(&sqs, "pending", visibility, None).await;
    let erp_dlq = Sqs::create(&sqs, "erp-dlq", visibility, None).await;
    let queues = Queues {
        orders: Sqs::create(&sqs, "orders", visibility, Some(&pending)).await,
        erp_sync: Sqs::create(&sqs, "erp-sync", visibility, Some(&erp_dlq)).await,
        pending,
        erp_dlq,
    };
    let table = unique("orders");
    create_orders_table(&dynamo, &table).await;
    let bucket = unique("reliability");
    create_bucket(&s3, &bucket).await;
    let stack = Stack::new(
        Arc::new(DynamoOrderStore::new(dynamo, &table)),
        queues,
        S3ObjectStore::new(s3, &bucket),
        Time::Real(visibility),
        FAULTS,
        CrashPlan::default(),
    )
    .await;
    run(stack, 40, 12, 4).await;
}
