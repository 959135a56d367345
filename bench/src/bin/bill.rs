//! The AWS requests of one order, counted on the real AWS adapters against moto:
//! `bill ORDERS OUT_JSON`.
//!
//! The functions' handlers run in process on the product's adapters, built on an SDK
//! configuration whose endpoint is a recording proxy in front of moto
//! (`AwsChaosProxy::recording`): every request an adapter makes, retries included, is recorded
//! with its answer and billed by `orderflow_bench::bill`. The driver plays what AWS itself does
//! between the functions and counts it: the S3 notification, the SQS event source (its receive
//! and delete go through the same recording client, since SQS bills them), API Gateway in front
//! of the state router and the webhook route, the stream's filter in front of the email
//! notifier (stream reads by Lambda are free), Step Functions running the recovery workflow's
//! ASL with the real task handlers (the embedded interpreter: moto's cannot call them).
//!
//! Four paths, each first with one warm-up order whose lines are kept apart, then ORDERS orders
//! averaged: the UBL door; the webhook door (Shopify `orders/create`); the webhook door with the
//! delivery repeated (a platform retry, answered as a duplicate); the UBL door with the DTE
//! broadcast failing once, recovered by the workflow. Every order must reach its email and
//! `broadcast_dte` with nothing refused, or the run fails.
//!
//! Writes JSON to OUT_JSON; `bench/bill.sh` turns it into tables.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use email_notifier::Notifier;
use error_handler::backoff::Backoff;
use error_handler::config::AlertConfig;
use error_handler::local::LocalTasks;
use orderflow_cli::pipeline::deliver_in_process;
use orderflow_e2e::chaos::aws::{AwsChaosProxy, Exchange};
use orderflow_e2e::dynamo::{create_keyed_table, create_orders_table, stream_batch};
use orderflow_e2e::{create_bucket, create_fifo_with_dlq, moto_endpoint, repo_path, sdk_config_via, unique};
use orderflow_shared::adapters::aws::{
    self, DynamoOrderStore, DynamoReplayGuard, S3ObjectStore, SesMailer, SqsFifoQueue, dynamodb_client,
};
use orderflow_shared::adapters::embedded::EmbeddedRecovery;
use orderflow_shared::adapters::embedded::recovery::BROADCAST_RETRY_RESOURCE;
use orderflow_shared::apps::Runtime;
use orderflow_shared::asl::{SkipSleeper, Status, TaskFailure, TaskInvoker};
use orderflow_shared::batch::Budget;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::config::ConverterConfig;
use orderflow_shared::dte::SimulatedDteProvider;
use orderflow_shared::dte::{Failure, Operation};
use orderflow_shared::email::EmailAddress;
use orderflow_shared::erp::{ErpConnector, ErpError, PushOutcome};
use orderflow_shared::order::CanonicalOrder;
use orderflow_shared::order_service::OrderService;
use orderflow_shared::orders_api::{ApiFailure, Delivered};
use orderflow_shared::ports::{FifoQueue, ObjectStore, ReceivedMessage, StateChange};
use orderflow_shared::webhook::Refund;
use queue_reader::{OrdersApi, QueueReader};
use serde_json::{Value, json};
use webhook_bridge::{OffsetDateTime, Receiver, StaticKeys, Worker};
use xml_order_converter::Converter;

use orderflow_bench::bill::{Billed, Unit, bill_call};

const SAMPLE: &str = include_str!("../../../events/orders/small-clp.xml");
const ORDER_NUMBER: &str = "<cbc:ID>OC-2026-00417</cbc:ID>";
const SHOPIFY_ORDER: &str = include_str!("../../../events/webhooks/shopify-order-created.json");
const SENDER: &str = "orders@example.com";
const INCOMING: &str = "incoming/";

type Service = OrderService<DynamoOrderStore, SqsFifoQueue, Arc<SimulatedDteProvider>, Arc<EmbeddedRecovery>>;
type Deps =
    error_handler::Deps<DynamoOrderStore, SqsFifoQueue, Arc<SimulatedDteProvider>, Arc<EmbeddedRecovery>, SesMailer>;

/// The Orders API as API Gateway and the state router Lambda serve it: one REST request and
/// one state-router invocation per delivery, each counted.
struct Api<'a> {
    service: &'a Service,
    run: &'a Run,
}

impl OrdersApi for Api<'_> {
    async fn deliver(&self, command: &OrderCommand) -> Result<Delivered, ApiFailure> {
        // The queue reader's own calls so far belong to it; what follows is the router's.
        self.run.take("queue-reader");
        self.run.count("API Gateway", "REST request (Orders API)", Unit::ApiGatewayRestRequest, 1.0);
        let started = Instant::now();
        let delivered = deliver_in_process(self.service, command).await;
        self.run.invoked("state-router", started.elapsed());
        self.run.take("state-router");
        delivered
    }
}

/// Step Functions' Lambda tasks, each an invocation of the error-handler or the broadcast-retry
/// function, run by the embedded interpreter of the same ASL file (moto's interpreter cannot
/// call our handlers); each state the execution enters is a billed transition.
struct Tasks<'a> {
    local: LocalTasks<'a, DynamoOrderStore, SqsFifoQueue, Arc<SimulatedDteProvider>, Arc<EmbeddedRecovery>, SesMailer>,
    run: &'a Run,
}

impl TaskInvoker for Tasks<'_> {
    async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure> {
        let function = if resource == BROADCAST_RETRY_RESOURCE { "broadcast-retry" } else { "error-handler" };
        let started = Instant::now();
        let out = self.local.invoke(resource, input).await;
        self.run.invoked(function, started.elapsed());
        self.run.take(function);
        out
    }
}

/// The ERP is not on the AWS bill: the worker's push answers at once.
struct NoErp;

impl ErpConnector for NoErp {
    async fn push(&self, _: &CanonicalOrder) -> Result<PushOutcome, ErpError> {
        Ok(PushOutcome::Created { erp_id: "ERP-1".into() })
    }
    async fn refund(&self, _: &Refund, _: &str) -> Result<PushOutcome, ErpError> {
        Ok(PushOutcome::Created { erp_id: "ERP-1".into() })
    }
}

/// What a run has counted so far: the recorded calls, attributed as they are taken, and the
/// invocations and requests the driver plays.
struct Run {
    proxy: AwsChaosProxy,
    lines: std::sync::Mutex<Vec<Billed>>,
    /// Handler durations measured here, by function (this build, moto on this machine).
    durations: std::sync::Mutex<BTreeMap<String, Vec<f64>>>,
}

impl Run {
    /// Attributes the calls recorded since the last take to `by`.
    fn take(&self, by: &str) {
        let calls: Vec<Exchange> = self.proxy.take_exchanges();
        let mut lines = self.lines.lock().unwrap();
        for call in calls {
            lines.push(bill_call(
                by,
                &call.service,
                &call.method,
                call.target.as_deref(),
                &call.request,
                &call.response,
            ));
        }
    }

    fn count(&self, by: &str, operation: &str, unit: Unit, units: f64) {
        let line = Billed { by: by.into(), operation: operation.into(), requests: 1.0, unit, units };
        self.lines.lock().unwrap().push(line);
    }

    fn invoked(&self, function: &str, took: Duration) {
        self.count(function, "Lambda invocation", Unit::LambdaRequest, 1.0);
        self.durations.lock().unwrap().entry(function.into()).or_default().push(took.as_secs_f64() * 1000.0);
    }

    fn drain(&self) -> (Vec<Billed>, BTreeMap<String, Vec<f64>>) {
        (std::mem::take(&mut *self.lines.lock().unwrap()), std::mem::take(&mut *self.durations.lock().unwrap()))
    }
}

fn sqs_record(m: &ReceivedMessage) -> SqsMessage {
    let mut r = SqsMessage::default();
    r.message_id = Some(m.message_id.clone());
    r.receipt_handle = Some(m.receipt_handle.clone());
    r.body = Some(m.body.clone());
    r.attributes.insert("MessageGroupId".into(), m.group_id.clone());
    r.attributes.insert("ApproximateReceiveCount".into(), m.receive_count.to_string());
    r.event_source = Some("aws:sqs".into());
    r
}

fn sqs_event(messages: &[ReceivedMessage]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages.iter().map(sqs_record).collect();
    event
}

fn stream_event(record: aws_lambda_events::event::dynamodb::EventRecord) -> Event {
    let mut event = Event::default();
    event.records = vec![record];
    event
}

/// The stack: every function on the recording SDK configuration.
struct Stack {
    run: Run,
    table: String,
    deps: Deps,
    dte: Arc<SimulatedDteProvider>,
    recovery: Arc<EmbeddedRecovery>,
    converter: Converter<S3ObjectStore, SqsFifoQueue>,
    /// Where the queue reader parks refused commands.
    pending: SqsFifoQueue,
    notifier: Notifier<DynamoOrderStore, SesMailer>,
    receiver: Receiver<Arc<Runtime>, StaticKeys, DynamoReplayGuard, SqsFifoQueue, SqsFifoQueue>,
    worker: Worker<NoErp, SqsFifoQueue>,
    orders: SqsFifoQueue,
    erp_sync: SqsFifoQueue,
    bucket: S3ObjectStore,
    /// Stream records already handed to the notifier.
    seen: BTreeSet<String>,
}

impl Stack {
    async fn new() -> Self {
        let proxy = AwsChaosProxy::recording(&moto_endpoint()).await;
        let sdk = sdk_config_via(proxy.url()).await;
        let (s3, sqs, dynamo) = (aws::s3_client(&sdk), aws::sqs_client(&sdk), dynamodb_client(&sdk));
        let ses = aws::sesv2_client(&sdk);
        let bucket_name = unique("bill");
        create_bucket(&s3, &bucket_name).await;
        let (orders_url, pending_url) = create_fifo_with_dlq(&sqs, &unique("bill-orders"), 10).await;
        let (erp_url, erp_dlq_url) = create_fifo_with_dlq(&sqs, &unique("bill-erp-sync"), 10).await;
        let table = unique("bill-orders");
        create_orders_table(&dynamo, &table).await;
        let dedup = unique("bill-webhooks");
        create_keyed_table(&dynamo, &dedup).await;
        ses.create_email_identity().email_identity(SENDER).send().await.expect("verify the sender in moto");
        // The connections as the bridge holds them between two reads of the apps table: one
        // Scan per warm instance every 30 s (APPS_CACHE_SECONDS), not per order, so not billed here.
        let apps = Arc::new(orderflow_e2e::local_runtime(&[]));
        let secrets = std::fs::read_to_string(repo_path("config/local-secrets.json")).expect("local secrets");
        let keys = StaticKeys::from_local_secrets(&serde_json::from_str(&secrets).expect("local secrets parse"));
        let bucket = S3ObjectStore::new(s3.clone(), &bucket_name);
        let queue = |url: &str| SqsFifoQueue::new(sqs.clone(), url);
        let dte = Arc::new(SimulatedDteProvider::default());
        let recovery = Arc::new(EmbeddedRecovery::new().expect("the bundled workflow parses"));
        let stack = Self {
            table: table.clone(),
            deps: Deps {
                service: OrderService {
                    store: DynamoOrderStore::new(dynamo.clone(), &table),
                    queue: queue(&orders_url),
                    dte: dte.clone(),
                    recovery: recovery.clone(),
                },
                // The template's defaults: BROADCAST_MAX_ATTEMPTS 5, 30 s doubling to 10 min.
                backoff: Backoff { base_seconds: 30, cap_seconds: 600, max_attempts: 5 },
                mailer: SesMailer::new(ses.clone(), "orderflow-bill-alerts"),
                alert: AlertConfig {
                    to: EmailAddress::parse("ops@example.com").expect("an address"),
                    from: SENDER.into(),
                    configuration_set: "orderflow-bill-alerts".into(),
                },
            },
            dte,
            recovery,
            converter: Converter {
                store: bucket.clone(),
                queue: queue(&orders_url),
                config: ConverterConfig {
                    bucket: bucket_name.clone(),
                    orders_queue_url: orders_url.clone(),
                    incoming_prefix: INCOMING.into(),
                    rejected_prefix: "rejected/".into(),
                    limits: Default::default(),
                },
            },
            pending: queue(&pending_url),
            notifier: Notifier {
                store: DynamoOrderStore::new(dynamo.clone(), &table),
                mailer: SesMailer::new(ses.clone(), "orderflow-bill"),
                sender: SENDER.into(),
                claim_timeout: Duration::from_secs(300),
            },
            receiver: Receiver {
                apps,
                keys,
                guard: DynamoReplayGuard::new(dynamo.clone(), dedup),
                erp_sync: queue(&erp_url),
                orders: queue(&orders_url),
                retention: webhook_bridge::receiver::DEFAULT_RETENTION,
            },
            worker: Worker { connector: NoErp, dlq: queue(&erp_dlq_url) },
            orders: queue(&orders_url),
            erp_sync: queue(&erp_url),
            bucket,
            seen: BTreeSet::new(),
            run: Run { proxy, lines: Default::default(), durations: Default::default() },
        };
        stack.run.proxy.take_exchanges(); // the set-up is not an order's
        stack
    }

    /// One order in through the UBL door, to its email and `broadcast_dte`.
    async fn ubl_order(&mut self, number: &str) {
        let key = format!("{INCOMING}{number}.xml");
        let xml = SAMPLE.replacen(ORDER_NUMBER, &format!("<cbc:ID>{number}</cbc:ID>"), 1);
        // The sender's upload: a PUT the bucket owner pays for.
        self.bucket.put(&key, xml.into_bytes(), "application/xml").await.expect("upload");
        self.run.take("sender's upload (bucket owner pays)");
        let started = Instant::now();
        let report = xml_order_converter::handle(
            &self.converter,
            orderflow_shared::s3_event::put_event(self.bucket.bucket(), &[&key]),
        )
        .await
        .expect("the converter queues the order");
        self.run.invoked("xml-order-converter", started.elapsed());
        self.run.take("xml-order-converter");
        assert!(matches!(report.outcomes.as_slice(), [xml_order_converter::handler::Outcome::Queued { .. }]));
        self.settle().await;
    }

    /// One order in through the UBL door whose DTE broadcast fails once (the provider is
    /// unavailable): the router records the error and hands the order to the recovery
    /// workflow, which waits, retries the broadcast and succeeds.
    async fn recovered_order(&mut self, number: &str) {
        let xml = SAMPLE.replacen(ORDER_NUMBER, &format!("<cbc:ID>{number}</cbc:ID>"), 1);
        let order = orderflow_shared::ubl::parse_order(xml.as_bytes(), &Default::default()).expect("the sample");
        self.dte.fail_order(&order.order_key, Operation::Broadcast, Failure::Transient, Some(1));
        self.ubl_order(number).await;
        let tasks = Tasks { local: LocalTasks::new(&self.deps, 11), run: &self.run };
        let runs = self.recovery.run_pending(&tasks, &SkipSleeper::default()).await;
        assert_eq!(runs.len(), 1, "one recovery execution");
        let (_, execution) = &runs[0];
        assert_eq!(execution.status, Status::Succeeded, "{execution:?}");
        for state in &execution.path {
            self.run.count("Step Functions", &format!("transition ({state})"), Unit::StepFunctionsTransition, 1.0);
        }
        self.settle().await;
    }

    /// One order in through the webhook door (Shopify `orders/create`), to its ERP push, its
    /// email and `broadcast_dte`; `twice`: the platform delivers it again afterwards (a retry
    /// after a lost answer), which is answered as a duplicate.
    async fn webhook_order(&mut self, n: u64, twice: bool) {
        let mut body: Value = serde_json::from_str(SHOPIFY_ORDER).expect("sample webhook");
        body["id"] = json!(9_000_000_000_000u64 + n);
        body["name"] = json!(format!("#BILL-{n}"));
        let body = body.to_string().into_bytes();
        let secrets: Value =
            serde_json::from_str(&std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap()).unwrap();
        let signature = webhook_bridge::sign::body_base64(secrets["shopify"].as_str().expect("shopify secret"), &body);
        let headers: Vec<(String, String)> = [
            ("content-type", "application/json".to_owned()),
            ("X-Shopify-Topic", "orders/create".to_owned()),
            ("X-Shopify-Hmac-Sha256", signature),
            ("X-Shopify-Event-Id", format!("bill-{n}")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        self.run.count("API Gateway", "REST request (webhook route)", Unit::ApiGatewayRestRequest, 1.0);
        let started = Instant::now();
        let reply = self.receiver.receive("shopify", &headers, &body, OffsetDateTime::now_utc()).await;
        self.run.invoked("webhook-bridge", started.elapsed());
        self.run.take("webhook-bridge");
        assert_eq!(reply.status.as_u16(), 202, "{}", reply.body);
        if twice {
            self.run.count("API Gateway", "REST request (webhook route)", Unit::ApiGatewayRestRequest, 1.0);
            let started = Instant::now();
            let again = self.receiver.receive("shopify", &headers, &body, OffsetDateTime::now_utc()).await;
            self.run.invoked("webhook-bridge", started.elapsed());
            self.run.take("webhook-bridge");
            assert_eq!(again.body, json!({"status": "duplicate"}));
        }
        // erp-sync.fifo → erp-sync-worker.
        let messages = self.receive(&self.erp_sync).await;
        let started = Instant::now();
        let event = sqs_event(&messages);
        let out = webhook_bridge::worker::handle(&self.worker, event, Budget::unlimited()).await;
        self.run.invoked("erp-sync-worker", started.elapsed());
        self.run.take("erp-sync-worker");
        assert!(out.batch_item_failures.is_empty());
        self.delete(&self.erp_sync, &messages).await;
        self.settle().await;
    }

    /// The SQS event source's receive, billed as SQS requests. An empty receive is the
    /// driver looking for more work: the Lambda poller's idle long polls cost the same whether
    /// orders come or not (a fixed monthly amount per queue, not a cost per order), so it is
    /// not counted.
    async fn receive(&self, queue: &SqsFifoQueue) -> Vec<ReceivedMessage> {
        let messages = queue.receive(10).await.expect("receive");
        if messages.is_empty() {
            self.run.proxy.take_exchanges();
        } else {
            self.run.take("SQS event source (Lambda poller)");
        }
        messages
    }

    /// The event source deletes a batch's records with one DeleteMessageBatch; the adapter
    /// deletes one at a time, so a batch of one is the same one request.
    async fn delete(&self, queue: &SqsFifoQueue, messages: &[ReceivedMessage]) {
        for m in messages {
            queue.delete(&m.receipt_handle).await.expect("delete");
        }
        self.run.take("SQS event source (Lambda poller)");
    }

    /// orders.fifo → queue-reader → Orders API → state-router, and the stream → email-notifier,
    /// until nothing is left: the rest of the order's automatic path.
    async fn settle(&mut self) {
        loop {
            let messages = self.receive(&self.orders).await;
            let progressed = !messages.is_empty();
            if progressed {
                let reader = QueueReader {
                    store: self.bucket.clone(),
                    pending: self.pending.clone(),
                    api: Api { service: &self.deps.service, run: &self.run },
                };
                let started = Instant::now();
                let event = sqs_event(&messages);
                let out = queue_reader::handle(&reader, event, Budget::unlimited()).await;
                // The reader's time includes the router's answer: it waits on the API.
                self.run.invoked("queue-reader", started.elapsed());
                self.run.take("queue-reader");
                assert!(out.batch_item_failures.is_empty(), "every command delivered");
                self.delete(&self.orders, &messages).await;
            }
            let notified = self.notify().await;
            if !progressed && !notified {
                return;
            }
        }
    }

    /// New stream records that pass the template's filter (into `issuance_dte`), one
    /// invocation per record, as a batch size of 1 would (the worst case).
    async fn notify(&mut self) -> bool {
        let batch = stream_batch(&self.table).await;
        let mut any = false;
        for record in batch.records {
            let sequence = record.change.sequence_number.clone().unwrap_or_default();
            if !self.seen.insert(sequence) || !StateChange::from(&record).enters("issuance_dte") {
                continue;
            }
            any = true;
            let started = Instant::now();
            let out = email_notifier::handle(&self.notifier, stream_event(record)).await;
            self.run.invoked("email-notifier", started.elapsed());
            self.run.take("email-notifier");
            assert!(out.batch_item_failures.is_empty(), "the email went out");
        }
        any
    }
}

/// Sums lines by (by, operation, unit), divided by `orders`.
fn per_order(lines: &[Billed], orders: usize) -> Vec<Billed> {
    let mut sums: BTreeMap<(String, String, Unit), (f64, f64)> = BTreeMap::new();
    for line in lines {
        let entry = sums.entry((line.by.clone(), line.operation.clone(), line.unit)).or_default();
        entry.0 += line.requests;
        entry.1 += line.units;
    }
    let n = orders as f64;
    sums.into_iter()
        .map(|((by, operation, unit), (requests, units))| Billed {
            by,
            operation,
            requests: requests / n,
            unit,
            units: units / n,
        })
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bill ORDERS OUT_JSON";
    let orders: usize = args.first().ok_or(usage)?.parse().map_err(|e| format!("ORDERS: {e}"))?;
    let out = args.get(1).ok_or(usage)?;
    let mut stack = Stack::new().await;
    let run_id = std::process::id();
    let mut doors = Vec::new();
    let doors_run = ["ubl", "webhook", "webhook, delivered twice", "ubl, broadcast recovered once"];
    for door in doors_run {
        for i in 0..=orders {
            match door {
                "ubl" => stack.ubl_order(&format!("BILL-{run_id}-{i}")).await,
                "webhook" => stack.webhook_order(u64::from(run_id) * 1000 + i as u64, false).await,
                "webhook, delivered twice" => {
                    stack.webhook_order(u64::from(run_id) * 1000 + 500 + i as u64, true).await
                }
                _ => stack.recovered_order(&format!("BILL-R-{run_id}-{i}")).await,
            }
            if i == 0 {
                let (warm_up, _) = stack.run.drain();
                doors.push(json!({ "door": door, "warm_up": per_order(&warm_up, 1) }));
            }
        }
        let (lines, durations) = stack.run.drain();
        let last = doors.last_mut().expect("the warm-up entry");
        last["orders"] = json!(orders);
        last["per_order"] = json!(per_order(&lines, orders));
        last["handler_ms"] = json!(
            durations
                .iter()
                .map(|(f, samples)| (f.clone(), orderflow_bench::stats::Summary::of(samples)))
                .collect::<BTreeMap<_, _>>()
        );
    }
    // A file, not stdout: the handlers write their metric lines there.
    let text = serde_json::to_string_pretty(&json!({ "doors": doors })).expect("JSON");
    std::fs::write(out, text).map_err(|e| format!("{out}: {e}"))?;
    Ok(())
}
