//! The fault run: 30 % of the calls to the DTE provider and to the ERP fail (5xx, timeouts
//! after the work was done, 4xx refusals), seeded. Every input must end in a final state,
//! `broadcast_failed`, the pending queue, a DLQ or `rejected/`, with its reason, and the
//! ERP must hold each webhook order once or park it in its DLQ. Through moto, AWS fails too: a
//! fifth of the functions' calls to S3, SQS, DynamoDB and SES (500s, throttling, resets,
//! timeouts after the work was done), and still nothing is lost and no effect doubled.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use email_notifier::FUNCTION as NOTIFIER;
use orderflow_e2e::chaos::aws::{AwsChaosProxy, AwsFault, AwsFaults, Service};
use orderflow_e2e::chaos::{Fault, Faults};
use orderflow_e2e::dynamo::create_orders_table;
use orderflow_e2e::{create_bucket, create_fifo, drain, moto_endpoint, sdk_config, unique};
use orderflow_shared::adapters::aws::{
    self, DynamoOrderStore, S3ObjectStore, SesMailer, SqsFifoQueue, dynamodb_client,
};
use orderflow_shared::adapters::embedded::{DirObjectStore, EmbeddedFifoQueue, EmbeddedOrderStore, ManualClock};
use orderflow_shared::email;
use orderflow_shared::error::PortError;
use orderflow_shared::lifecycle::{HistoryKind, State};
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{FifoQueue, ObjectStore, OrderStore, OutgoingMessage, ReceivedMessage};
use orderflow_shared::test_dir::TestDir;

use crate::accounting::{Ledger, account};
use crate::crash::{CrashPlan, Outbox};
use crate::mail::{self, Mail, Sent};
use crate::stack::{Inspect, Queues, Reach, Resources, Stack, Time};
use crate::workload::{self, Webhook};
use crate::{logs, security};

const FAULTS: Faults = Faults { share: 0.3, seed: 0x0F1A_2026 };
const AWS_FAULTS: AwsFaults = AwsFaults { share: 0.2, seed: 0xA3_2026, kinds: &AwsFault::ALL };
/// The whole run, debug build included; exceeding it fails the test.
const RUN_LIMIT: Duration = Duration::from_secs(600);

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
    let dir = TestDir::new("reliability");
    let resources = Resources {
        store: Reach::same(Arc::new(EmbeddedOrderStore::new())),
        queues,
        bucket: Reach::same(DirObjectStore::new(dir.to_path_buf())),
        mail: Mail::Outbox(Outbox::default()),
        dir: Some(dir),
    };
    Stack::new(resources, Time::Manual(clock), faults, plan).await
}

pub type Embedded<Q> = Stack<Arc<EmbeddedOrderStore>, Q, DirObjectStore>;

/// Feeds a run's inputs, settles it under a hard time limit, and accounts for every input.
/// `aws` is the proxy the functions' AWS clients go through, when they do.
async fn run<S, Q, O>(
    stack: Stack<S, Q, O>,
    documents: usize,
    webhooks: usize,
    workers: usize,
    aws: Option<&AwsChaosProxy>,
) -> Ledger
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
    let started = Instant::now();
    tokio::time::timeout(RUN_LIMIT, stack.settle(workers)).await.expect("the run settles within its time limit");
    let settled_in = started.elapsed();

    let ledger = account(&stack, &documents, &webhooks).await;
    let injected = [&stack.dte_chaos, &stack.erp_chaos].map(|c| (c.requests(), c.injected()));
    ledger.print(&format!(
        "{} documents, {} webhooks, settled in {settled_in:.1?}; DTE and ERP (requests, faults): {injected:?}",
        documents.len(),
        webhooks.len()
    ));
    if let Some(aws) = aws {
        let tally = aws.tally();
        eprintln!("  AWS (calls, faults) by service: {tally:?}");
        for (service, tally) in &tally {
            for kind in AwsFault::ALL {
                assert!(tally.faults.get(&kind).copied().unwrap_or(0) > 0, "{service:?}: {kind:?} injected: {tally:?}");
            }
        }
    }
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
    let keys: Vec<OrderKey> =
        documents.iter().filter_map(|d| d.order_key.clone()).chain(webhooks.iter().map(Webhook::order_key)).collect();
    let lost = aws.map(|aws| aws.lost_answers(Service::Ses).iter().map(|body| mail::of_send_email(body)).collect());
    let doubled = one_folio_and_one_email_per_order(&stack, &keys, lost.unwrap_or_default()).await;
    eprintln!("  emails SES took twice after losing the answer: {doubled}");
    ledger
}

/// No two orders share a DTE folio, and every order that reached `issuance_dte` had its email
/// settled, noted once on its history: sent exactly once, or refused. SES has no idempotency
/// key, so a send that SES took but whose answer was lost goes out again (the SDK retries it, or
/// the stream does), the at-least-once the notifier chose; each such `lost` answer allows one
/// more copy of its email and nothing else does. Returns how many copies there were.
async fn one_folio_and_one_email_per_order<S, Q, O>(stack: &Stack<S, Q, O>, keys: &[OrderKey], lost: Vec<Sent>) -> usize
where
    S: OrderStore + Clone + 'static,
    Q: FifoQueue + Inspect + Clone + 'static,
    O: ObjectStore + Clone + 'static,
{
    let mut folios = std::collections::HashSet::new();
    let mut due = Vec::new();
    for key in keys {
        // An order whose registration was parked was never stored; the accounting has it.
        let Some(record) = stack.store.get(key).await.expect("store") else { continue };
        if let Some(folio) = &record.dte.folio {
            assert!(folios.insert(folio.clone()), "{key}: folio {folio} shared with another order");
        }
        if !record.history.iter().any(|h| h.to == Some(State::IssuanceDte)) {
            continue;
        }
        let notes = record.history.iter().filter(|h| h.kind == HistoryKind::Notification && h.by == NOTIFIER);
        assert_eq!(notes.count(), 1, "{key}: in issuance_dte, its email sent or refused, and noted once");
        if record.notified_at.is_some() {
            let email = email::order_processing(&record.order, stack.emails.sender()).expect("the order's email");
            due.push((email.to.as_str().to_owned(), email.subject));
        }
    }
    assert!(!due.is_empty(), "some orders got their email");
    let mut copies = stack.emails.sent().await;
    for email in &due {
        let at = copies.iter().position(|e| e == email).unwrap_or_else(|| panic!("{email:?} never went out"));
        copies.swap_remove(at);
    }
    let (doubled, mut lost) = (copies.len(), lost);
    for email in copies {
        let at = lost.iter().position(|e| *e == email);
        let at = at.unwrap_or_else(|| panic!("{email:?} went out twice, and no answer of SES was lost"));
        lost.swap_remove(at);
    }
    doubled
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_documents_and_two_hundred_webhooks_under_30_percent_faults_all_end_accounted_for() {
    let clock = ManualClock::new(1_772_409_600_000);
    let stack = embedded_stack(embedded_queues(&clock), clock, FAULTS, CrashPlan::default()).await;
    let ledger = run(stack, 1000, 200, 8, None).await;
    for outcome in ["completed", "erp_created"] {
        let count = ledger.lifecycle.get(outcome).or(ledger.erp.get(outcome)).copied().unwrap_or(0);
        assert!(count > 0, "some inputs end {outcome}: {ledger:?}");
    }
}

/// The crash tests build hundreds of stacks: each takes its bucket's directory with it.
#[tokio::test]
async fn an_embedded_stack_removes_its_directory_when_dropped() {
    let clock = ManualClock::new(1_772_409_600_000);
    let stack = embedded_stack(embedded_queues(&clock), clock, FAULTS, CrashPlan::default()).await;
    stack.upload("dropped.xml", b"<Order/>".to_vec()).await;
    let dir = stack.dir().expect("an embedded stack keeps its files in a directory").to_path_buf();
    assert!(dir.join("incoming/dropped.xml").is_file(), "the upload is in {}", dir.display());
    drop(stack);
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

/// An SQS queue in moto. The functions send through `sender`, whose client may go through the
/// AWS chaos proxy; the test's event sources (Lambda's event source mapping: receive, delete)
/// and its accounting use `queue` and `client`, straight to moto, as they are not the code under
/// test.
#[derive(Clone)]
pub struct Sqs {
    sender: Arc<SqsFifoQueue>,
    queue: Arc<SqsFifoQueue>,
    client: aws_sdk_sqs::Client,
}

impl Sqs {
    async fn create(clients: &Reach<aws_sdk_sqs::Client>, name: &str, visibility: Duration, dlq: Option<&Sqs>) -> Self {
        let client = &clients.test;
        let mut attributes = vec![(QueueAttributeName::VisibilityTimeout, visibility.as_secs().to_string())];
        if let Some(dlq) = dlq {
            let arn = dlq.attribute(QueueAttributeName::QueueArn).await;
            let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"10"}}"#);
            attributes.push((QueueAttributeName::RedrivePolicy, policy));
        }
        let url = create_fifo(client, &unique(name), &attributes).await;
        Self {
            sender: Arc::new(SqsFifoQueue::new(clients.functions.clone(), &url)),
            queue: Arc::new(SqsFifoQueue::new(client.clone(), &url)),
            client: client.clone(),
        }
    }

    async fn attribute(&self, name: QueueAttributeName) -> String {
        let out =
            self.client.get_queue_attributes().queue_url(self.queue.url()).attribute_names(name.clone()).send().await;
        // A missing attribute is a failed read, not an empty queue: "nothing left" must not
        // pass because the depth could not be read.
        let out = out.expect("queue attributes");
        out.attributes().and_then(|a| a.get(&name).cloned()).unwrap_or_else(|| panic!("no {name:?} on the queue"))
    }
}

impl FifoQueue for Sqs {
    fn send(&self, msg: OutgoingMessage) -> impl Future<Output = Result<String, PortError>> + Send {
        self.sender.send(msg)
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
            let value = self.attribute(name.clone()).await;
            total += value.parse::<usize>().unwrap_or_else(|_| panic!("{name:?} is {value:?}, not a count"));
        }
        total
    }

    async fn parked(&self) -> Vec<(String, Vec<(String, String)>)> {
        drain(&self.client, self.queue.url()).await.into_iter().map(|m| (m.body, m.attributes)).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_faults_through_moto_with_a_fifth_of_the_aws_calls_failing_leave_every_order_accounted_for() {
    let aws = AwsChaosProxy::start(&moto_endpoint(), AWS_FAULTS).await;
    let (test, functions) = (sdk_config().await, aws.sdk_config().await);
    let sqs = Reach { test: aws::sqs_client(&test), functions: aws::sqs_client(&functions) };
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
    create_orders_table(&dynamodb_client(&test), &table).await;
    let bucket = unique("reliability");
    create_bucket(&aws::s3_client(&test), &bucket).await;
    // A sender of this run's own, so that the mail read back from moto is this run's.
    let sender = format!("{}@orderflow.local", unique("orders"));
    let ses = aws::sesv2_client(&test);
    ses.create_email_identity().email_identity(&sender).send().await.expect("verify the sender");
    let resources = Resources {
        store: Reach {
            functions: DynamoOrderStore::new(dynamodb_client(&functions), &table),
            test: DynamoOrderStore::new(dynamodb_client(&test), &table),
        },
        queues,
        bucket: Reach {
            functions: S3ObjectStore::new(aws::s3_client(&functions), &bucket),
            test: S3ObjectStore::new(aws::s3_client(&test), &bucket),
        },
        mail: Mail::Ses { mailer: SesMailer::new(aws::sesv2_client(&functions), "orderflow-reliability"), sender },
        dir: None,
    };
    let stack = Stack::new(resources, Time::Real(visibility), FAULTS, CrashPlan::default()).await;
    // 60 documents: enough S3 and SES calls that each sees every kind of fault.
    run(stack, 60, 12, 4, Some(&aws)).await;
    let used: Vec<Service> = aws.tally().into_keys().collect();
    assert_eq!(used, [Service::S3, Service::Sqs, Service::DynamoDb, Service::Ses], "the services the run calls");
}
