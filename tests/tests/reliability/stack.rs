//! The whole pipeline in one process, over either the embedded adapters or moto: converter,
//! webhook receiver, queue reader → state router, erp-sync worker, recovery workflow and
//! email notifier, with the DTE provider and Business Central reached over HTTP through
//! [`ChaosProxy`]s. Every effectful port is [`Crashy`]. [`Stack::settle`] plays Lambda's event
//! sources and the platforms' retries until nothing is left to do.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use email_notifier::{Notified, Notifier};
use error_handler::backoff::Backoff;
use error_handler::config::AlertConfig;
use error_handler::local::LocalTasks;
use error_handler::not_granted::NotGranted;
use orderflow_cli::pipeline::deliver_in_process;
use orderflow_e2e::chaos::{ChaosProxy, Faults};
use orderflow_e2e::fake_dte::FakeDte;
use orderflow_e2e::fake_erp::{self, FakeBc};
use orderflow_e2e::{local_runtime, repo_path};
use orderflow_shared::adapters::embedded::MemoryReplayGuard;
use orderflow_shared::adapters::embedded::event_source::poll_once;
use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, EmbeddedRecovery, ManualClock};
use orderflow_shared::apps::Runtime;
use orderflow_shared::asl::SkipSleeper;
use orderflow_shared::batch::Budget;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::config::ConverterConfig;
use orderflow_shared::dte::{DteAuth, HttpDteProvider};
use orderflow_shared::email::EmailAddress;
use orderflow_shared::erp::HttpConnector;
use orderflow_shared::lifecycle::State;
use orderflow_shared::mapping::FileSource;
use orderflow_shared::order::OrderKey;
use orderflow_shared::order_service::OrderService;
use orderflow_shared::orders_api::{ApiFailure, Delivered};
use orderflow_shared::ports::Clock;
use orderflow_shared::ports::{FifoQueue, ObjectStore, OrderStore};
use orderflow_shared::s3_event;
use orderflow_shared::secrets::Secret;
use orderflow_shared::test_dir::TestDir;
use orderflow_shared::ubl::Limits;
use queue_reader::{OrdersApi, QueueReader};
use webhook_bridge::OffsetDateTime;
use webhook_bridge::{Receiver, StaticKeys, Worker};
use xml_order_converter::Converter;

use crate::crash::{CrashPlan, Crashy, Outbox};
use crate::mail::Mail;
use crate::workload::Webhook;

pub const BUCKET: &str = "orderflow-reliability";
const ARN: &str = "arn:aws:sqs:local:000000000000:queue.fifo";
/// Client timeout towards the DTE provider and the ERP; the chaos proxy holds answers longer.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(150);
const HOLD: Duration = Duration::from_millis(300);
/// Rounds without progress allowed while time passes (visibility timeouts, claim leases).
const IDLE_ROUNDS: usize = 40;

/// How time passes for queues, replay claims and webhook signatures.
#[derive(Clone)]
pub enum Time {
    /// Embedded queues: advanced past the visibility timeout instead of waited for.
    Manual(ManualClock),
    /// moto: queues created with this visibility timeout, waited out for real.
    Real(Duration),
}

impl Time {
    pub fn now(&self) -> OffsetDateTime {
        match self {
            Self::Manual(clock) => OffsetDateTime::from_unix_timestamp_nanos(i128::from(clock.now_ms()) * 1_000_000)
                .expect("clock in range"),
            Self::Real(_) => OffsetDateTime::now_utc(),
        }
    }

    async fn pass(&self) {
        match self {
            Self::Manual(clock) => clock.advance(Duration::from_secs(31)),
            Self::Real(visibility) => tokio::time::sleep(*visibility + Duration::from_millis(100)).await,
        }
    }
}

/// A table, a bucket or an SDK client as the pipeline's functions reach it, and as the test
/// itself does (uploads, event sources, the stream's filter, the accounting). The same adapter
/// on embedded runs; under AWS faults the functions' clients go through the AWS chaos proxy and
/// the test's straight to moto, so that the faults fall on the code under test only.
#[derive(Clone)]
pub struct Reach<T> {
    pub functions: T,
    pub test: T,
}

impl<T: Clone> Reach<T> {
    pub fn same(value: T) -> Self {
        Self { functions: value.clone(), test: value }
    }
}

/// What the pipeline keeps and sends through AWS (or the embedded adapters).
pub struct Resources<S, Q, O> {
    pub store: Reach<S>,
    /// Sent to by the functions; received from, deleted from and inspected by the test's event
    /// sources and accounting (see `Sqs` for the split on moto).
    pub queues: Queues<Q>,
    pub bucket: Reach<O>,
    pub mail: Mail,
    /// The directory the embedded resources keep their files in, if any: removed with the stack.
    pub dir: Option<TestDir>,
}

/// The four queues of the pipeline, raw (not crash-wrapped), for the accounting.
pub struct Queues<Q> {
    pub orders: Q,
    pub pending: Q,
    pub erp_sync: Q,
    pub erp_dlq: Q,
}

type Dte = Crashy<Arc<HttpDteProvider>>;
type Service<S, Q> = OrderService<Crashy<S>, Crashy<Q>, Dte, Arc<EmbeddedRecovery>>;

/// The Orders API in process, like `orderflow serve` minus HTTP; the delivery is an effect
/// whose acknowledgement is the queue delete.
pub struct LocalApi<S, Q> {
    service: Arc<Service<S, Q>>,
    plan: Arc<CrashPlan>,
}

impl<S: OrderStore, Q: FifoQueue> OrdersApi for LocalApi<S, Q> {
    async fn deliver(&self, command: &OrderCommand) -> Result<Delivered, ApiFailure> {
        let delivered = deliver_in_process(&*self.service, command).await?;
        self.plan.effect("orders-api").await;
        Ok(delivered)
    }
}

/// What is still waiting for a retry by its sender.
#[derive(Default)]
struct Inbox {
    uploads: Vec<String>,
    webhooks: Vec<Webhook>,
}

pub struct Stack<S, Q, O> {
    pub plan: Arc<CrashPlan>,
    pub time: Time,
    pub store: S,
    pub bucket: O,
    pub queues: Queues<Q>,
    pub dte: FakeDte,
    pub dte_chaos: ChaosProxy,
    pub erp: FakeBc,
    pub erp_chaos: ChaosProxy,
    pub emails: Mail,
    /// Every signature header value sent, for the log scan.
    pub signatures: Mutex<Vec<String>>,
    /// The answers that ended each delivery of a webhook, by dedup id.
    pub answers: Mutex<HashMap<String, Vec<u16>>>,
    /// Orders the notifier was asked about.
    notify_keys: Mutex<Vec<OrderKey>>,
    /// Whether the last round left an email to retry, as the stream would.
    notifications_pending: Mutex<bool>,
    inbox: Mutex<Inbox>,
    recovery: Arc<EmbeddedRecovery>,
    errors: error_handler::Deps<Crashy<S>, Crashy<Q>, Dte, NotGranted, Outbox>,
    converter: Converter<Crashy<O>, Crashy<Q>>,
    reader: QueueReader<Crashy<O>, Crashy<Q>, LocalApi<S, Q>>,
    receiver: Receiver<Arc<Runtime>, StaticKeys, MemoryReplayGuard, Crashy<Q>, Crashy<Q>>,
    worker: Worker<Crashy<HttpConnector<FileSource>>, Crashy<Q>>,
    notifier: Notifier<Crashy<S>, Crashy<Mail>>,
    /// Last, so that it goes after everything that writes into it.
    dir: Option<TestDir>,
}

/// The local connections (the shipped app definitions bound to `config/connections.local.json`),
/// bound once for the whole run.
pub fn local_apps() -> Arc<Runtime> {
    static APPS: OnceLock<Arc<Runtime>> = OnceLock::new();
    APPS.get_or_init(|| Arc::new(local_runtime(&[]))).clone()
}

pub fn webhook_keys() -> StaticKeys {
    let secrets = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    StaticKeys::from_local_secrets(&serde_json::from_str(&secrets).unwrap())
}

/// The local Business Central connection's connector, pointed at the fake through the chaos
/// proxy, with the client timeout of the run.
fn business_central(chaos: &ChaosProxy, clock: ManualClock) -> HttpConnector<FileSource> {
    let mut runtime =
        local_runtime(&[("http://127.0.0.1:18080", chaos.url()), ("\"timeout_ms\": 5000", "\"timeout_ms\": 150")]);
    let config = runtime.connectors.connectors.remove("business-central").unwrap();
    assert_eq!(config.timeout_ms, CLIENT_TIMEOUT.as_millis() as u64);
    let secrets: HashMap<String, Secret> =
        [("local:bc-client-secret".to_owned(), Secret::new(fake_erp::BC_CLIENT_SECRET))].into();
    let mapping = FileSource::new(repo_path("config/mappings/business-central.json"));
    HttpConnector::new("business-central", &config, &secrets, mapping, Arc::new(clock)).unwrap()
}

impl<S, Q, O> Stack<S, Q, O>
where
    S: OrderStore + Clone + 'static,
    Q: FifoQueue + Inspect + Clone + 'static,
    O: ObjectStore + Clone + 'static,
{
    /// `faults` applies to both the DTE provider and the ERP.
    pub async fn new(resources: Resources<S, Q, O>, time: Time, faults: Faults, plan: CrashPlan) -> Self {
        let Resources { store, queues, bucket, mail: emails, dir } = resources;
        let plan = Arc::new(plan);
        let clock = match &time {
            Time::Manual(clock) => clock.clone(),
            Time::Real(_) => ManualClock::new(1_772_409_600_000),
        };
        let dte = FakeDte::start().await;
        let dte_chaos = ChaosProxy::start(dte.url(), faults, HOLD).await;
        let erp = FakeBc::start(clock.clone()).await;
        let erp_origin = erp.token_url().trim_end_matches("/token").to_owned();
        let erp_chaos = ChaosProxy::start(&erp_origin, Faults { seed: faults.seed ^ 0xE59, ..faults }, HOLD).await;
        let provider = HttpDteProvider::new(dte_chaos.url(), DteAuth::None, CLIENT_TIMEOUT).unwrap();
        let dte_port = Crashy::new(Arc::new(provider), &plan, "dte");
        let recovery = Arc::new(EmbeddedRecovery::new().unwrap());
        let crashy_store = Crashy::new(store.functions, &plan, "orders-table");
        let orders = Crashy::new(queues.orders.clone(), &plan, "orders-queue");
        let service = Arc::new(OrderService {
            store: crashy_store.clone(),
            queue: orders.clone(),
            dte: dte_port.clone(),
            recovery: recovery.clone(),
        });
        let errors = error_handler::Deps {
            service: OrderService {
                store: crashy_store.clone(),
                queue: orders.clone(),
                dte: dte_port,
                recovery: NotGranted,
            },
            backoff: Backoff { base_seconds: 30, cap_seconds: 600, max_attempts: 4 },
            mailer: Outbox::default(),
            alert: AlertConfig {
                to: EmailAddress::parse("ops@orderflow.local").unwrap(),
                from: "orders@orderflow.local".into(),
                configuration_set: "local".into(),
            },
        };
        let crashy_bucket = Crashy::new(bucket.functions, &plan, "bucket");
        let converter = Converter {
            store: crashy_bucket.clone(),
            queue: orders.clone(),
            config: ConverterConfig {
                bucket: BUCKET.into(),
                orders_queue_url: "local://orders.fifo".into(),
                incoming_prefix: "incoming/".into(),
                rejected_prefix: "rejected/".into(),
                limits: Limits::default(),
            },
        };
        let reader = QueueReader {
            store: crashy_bucket,
            pending: Crashy::new(queues.pending.clone(), &plan, "pending-queue"),
            api: LocalApi { service: service.clone(), plan: plan.clone() },
        };
        let receiver = Receiver {
            apps: local_apps(),
            keys: webhook_keys(),
            guard: MemoryReplayGuard::new(),
            erp_sync: Crashy::new(queues.erp_sync.clone(), &plan, "erp-sync-queue"),
            orders,
            retention: Duration::from_secs(72 * 3600),
        };
        let worker = Worker {
            connector: Crashy::new(business_central(&erp_chaos, clock), &plan, "erp"),
            dlq: Crashy::new(queues.erp_dlq.clone(), &plan, "erp-dlq"),
        };
        let notifier = Notifier {
            store: crashy_store,
            mailer: Crashy::new(emails.clone(), &plan, "email"),
            sender: emails.sender().to_owned(),
            // A claim left by a crash is taken over on the next round, not after five minutes.
            claim_timeout: Duration::ZERO,
        };
        Self {
            plan,
            time,
            store: store.test,
            bucket: bucket.test,
            queues,
            dte,
            dte_chaos,
            erp,
            erp_chaos,
            emails,
            signatures: Mutex::default(),
            answers: Mutex::default(),
            notify_keys: Mutex::default(),
            notifications_pending: Mutex::default(),
            inbox: Mutex::default(),
            recovery,
            errors,
            converter,
            reader,
            receiver,
            worker,
            notifier,
            dir,
        }
    }

    /// The directory of the embedded resources' files, if they have one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Stores a document under `incoming/` (not an effect of ours: the sender's upload) and
    /// queues its notification for the converter.
    pub async fn upload(&self, relative: &str, bytes: Vec<u8>) {
        let key = format!("incoming/{relative}");
        self.bucket.put(&key, bytes, "application/xml").await.expect("upload");
        self.inbox.lock().unwrap().uploads.push(key);
    }

    /// Queues a webhook for delivery; it is signed at each attempt, as platforms do.
    pub fn deliver(&self, webhook: Webhook) {
        self.inbox.lock().unwrap().webhooks.push(webhook);
    }

    /// An order whose customer email is due once it reaches `issuance_dte` (none for a
    /// document that will be rejected).
    pub fn expect_notification_of(&self, key: Option<OrderKey>) {
        self.notify_keys.lock().unwrap().extend(key);
    }

    /// Runs rounds until nothing is left to do. A crash drops the round it happened in;
    /// the next rounds are the retries.
    pub async fn settle(self: &Arc<Self>, workers: usize) {
        let mut idle = 0;
        while idle < IDLE_ROUNDS {
            let progress = tokio::select! {
                progress = self.round(workers) => progress,
                () = self.plan.crash() , if self.plan.crashed().is_none() => true,
            };
            if progress {
                idle = 0;
            } else if self.is_quiet().await {
                return;
            } else {
                idle += 1;
                self.time.pass().await;
            }
        }
        panic!("the pipeline did not settle in {IDLE_ROUNDS} idle rounds");
    }

    async fn is_quiet(&self) -> bool {
        let inbox_empty = {
            let inbox = self.inbox.lock().unwrap();
            inbox.uploads.is_empty() && inbox.webhooks.iter().all(|w| w.id.is_empty())
        };
        // Nothing visible now; anything in flight would show up after the visibility timeout.
        inbox_empty
            && !*self.notifications_pending.lock().unwrap()
            && self.queues.orders.depth().await == 0
            && self.queues.erp_sync.depth().await == 0
    }

    async fn round(self: &Arc<Self>, workers: usize) -> bool {
        let mut progress = self.convert_uploads().await;
        progress |= self.post_webhooks().await;
        progress |= self.poll(workers, |s| async move { s.poll_orders().await }).await;
        progress |= self.poll(workers, |s| async move { s.poll_erp_sync().await }).await;
        progress |= self.recover().await;
        progress | self.notify().await
    }

    /// Each upload's notification until the converter succeeds: Lambda retries a failed
    /// asynchronous invocation, and a crashed one. Taken off the inbox only once handled.
    async fn convert_uploads(&self) -> bool {
        let uploads = self.inbox.lock().unwrap().uploads.clone();
        let mut progress = false;
        for key in uploads {
            if xml_order_converter::handle(&self.converter, s3_event::put_event(BUCKET, &[&key])).await.is_ok() {
                let mut inbox = self.inbox.lock().unwrap();
                let at = inbox.uploads.iter().position(|k| *k == key).expect("still in the inbox");
                inbox.uploads.remove(at);
                progress = true;
            }
        }
        progress
    }

    /// Each webhook until it gets an answer the platform does not retry (409, 429 and 5xx
    /// are retried later).
    async fn post_webhooks(&self) -> bool {
        let webhooks = {
            let mut inbox = self.inbox.lock().unwrap();
            inbox.webhooks.retain(|w| !w.id.is_empty());
            inbox.webhooks.clone()
        };
        let mut progress = false;
        for (i, webhook) in webhooks.iter().enumerate() {
            let now = self.time.now();
            let headers = webhook.signed_headers(now.unix_timestamp());
            let signatures = headers.iter().filter(|(k, _)| is_signature(k)).map(|(_, v)| v.clone());
            self.signatures.lock().unwrap().extend(signatures);
            let reply = self.receiver.receive(&webhook.source, &headers, &webhook.body, now).await;
            let status = reply.status.as_u16();
            if !matches!(status, 409 | 429 | 500..=599) {
                self.answers.lock().unwrap().entry(webhook.id.clone()).or_default().push(status);
                // Delivered: marked rather than removed, so a crash later in this round keeps
                // the positions of the others.
                self.inbox.lock().unwrap().webhooks[i].id.clear();
                progress = true;
            }
        }
        self.inbox.lock().unwrap().webhooks.retain(|w| !w.id.is_empty());
        progress
    }

    /// `workers` concurrent pollers, like Lambda's concurrency on one event source mapping.
    async fn poll<F, Fut>(self: &Arc<Self>, workers: usize, poll: F) -> bool
    where
        F: Fn(Arc<Self>) -> Fut,
        Fut: Future<Output = bool> + Send + 'static,
    {
        let mut progress = false;
        loop {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..workers {
                set.spawn(poll(self.clone()));
            }
            let received = set.join_all().await.into_iter().any(|r| r);
            if !received {
                return progress;
            }
            progress = true;
        }
    }

    async fn poll_orders(self: Arc<Self>) -> bool {
        let polled = poll_once(&self.queues.orders, 10, ARN, |event| async {
            Ok::<_, std::convert::Infallible>(queue_reader::handle(&self.reader, event, Budget::unlimited()).await)
        })
        .await
        .expect("orders queue");
        polled.received > 0
    }

    async fn poll_erp_sync(self: Arc<Self>) -> bool {
        let polled = poll_once(&self.queues.erp_sync, 10, ARN, |event| async {
            Ok::<_, std::convert::Infallible>(
                webhook_bridge::worker::handle(&self.worker, event, Budget::unlimited()).await,
            )
        })
        .await
        .expect("erp-sync queue");
        polled.received > 0
    }

    async fn recover(&self) -> bool {
        let runs = self.recovery.run_pending(&LocalTasks::new(&self.errors, 7), &SkipSleeper::default()).await;
        !runs.is_empty()
    }

    /// The orders table stream's filter (state became `issuance_dte`), played over the orders
    /// expected to get an email. The stream hands the notifier a record until it succeeds: a
    /// failed one comes back on the next round, a handled one is done with.
    async fn notify(&self) -> bool {
        let keys = self.notify_keys.lock().unwrap().clone();
        let (mut progress, mut pending) = (false, false);
        for key in keys {
            let reached = match self.store.get(&key).await.expect("store") {
                Some(record) => record.history.iter().any(|h| h.to == Some(State::IssuanceDte)),
                None => false,
            };
            if !reached {
                continue;
            }
            match email_notifier::notify(&self.notifier, &key).await {
                Ok(outcome) => {
                    progress |= matches!(outcome, Notified::Sent { .. });
                    self.notify_keys.lock().unwrap().retain(|k| *k != key);
                }
                Err(_) => pending = true,
            }
        }
        *self.notifications_pending.lock().unwrap() = pending;
        progress
    }
}

pub fn is_signature(header: &str) -> bool {
    let header = header.to_ascii_lowercase();
    header.contains("signature") || header.contains("hmac")
}

/// A queue read for the accounting, without taking part in the run.
pub trait Inspect {
    /// Messages on the queue, visible or in flight.
    fn depth(&self) -> impl Future<Output = usize> + Send;
    /// Body and attributes of every message, for a queue nobody consumes (pending, DLQ).
    fn parked(&self) -> impl Future<Output = Vec<(String, Vec<(String, String)>)>> + Send;
}

impl Inspect for Arc<EmbeddedFifoQueue> {
    async fn depth(&self) -> usize {
        self.len()
    }

    async fn parked(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.peek_all().into_iter().map(|m| (m.body, m.attributes)).collect()
    }
}
