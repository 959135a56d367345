//! The whole pipeline in one process on embedded adapters: the same handlers as in Lambda,
//! wired to a directory bucket, in-memory FIFO queues, an in-memory orders table and the
//! simulated DTE provider. Lambda's SQS event source is emulated by polling.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use error_handler::backoff::Backoff;
use error_handler::config::AlertConfig;
use error_handler::not_granted::NotGranted;

use lambda_http::http::{Method, Request};
use lambda_http::{Body, RequestExt, Response};
use orderflow_shared::adapters::embedded::event_source::{Polled, poll_once};
use orderflow_shared::adapters::embedded::{
    DEFAULT_VISIBILITY_TIMEOUT, DirObjectStore, EmbeddedFifoQueue, EmbeddedOrderStore, EmbeddedRecovery, ManualClock,
    OutboxMailer,
};
use orderflow_shared::batch::Budget;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::config::ConverterConfig;
use orderflow_shared::dte::SimulatedDteProvider;
use orderflow_shared::email::EmailAddress;
use orderflow_shared::error::PortError;
use orderflow_shared::order_service::OrderService;
use orderflow_shared::orders_api::{ApiFailure, Call, Delivered, SOURCE_HEADER};
use orderflow_shared::ports::{Clock, DteProvider, FifoQueue, ObjectStore, OrderStore, RecoveryStarter};
use orderflow_shared::s3_event;
use orderflow_shared::ubl::Limits;
use queue_reader::{OrdersApi, QueueReader};
use xml_order_converter::{Converter, Report};

pub const BUCKET: &str = "orderflow-local";
const ORDERS_ARN: &str = "arn:aws:sqs:local:000000000000:orders.fifo";
/// Stops a queue that keeps failing from spinning forever; far above any real run's need.
const MAX_POLLS: usize = 100_000;

pub type Queue = Arc<EmbeddedFifoQueue>;
pub type Service = OrderService<Arc<EmbeddedOrderStore>, Queue, Arc<SimulatedDteProvider>, EmbeddedRecovery>;
/// The error handler in process: recovery tasks run against the pipeline's orders; the retry
/// task may not start another recovery ([`NotGranted`]), as in the deployed workflow.
pub type ErrorHandler =
    error_handler::Deps<Arc<EmbeddedOrderStore>, Queue, Arc<SimulatedDteProvider>, NotGranted, OutboxMailer>;

/// How time passes for the queues: real time for `serve`, or a manual clock that a run
/// advances past visibility timeouts instead of waiting them out.
pub enum Time {
    Real,
    Manual(ManualClock),
}

pub struct Pipeline {
    pub bucket: DirObjectStore,
    pub orders: Queue,
    pub pending: Queue,
    pub store: Arc<EmbeddedOrderStore>,
    pub dte: Arc<SimulatedDteProvider>,
    pub service: Arc<Service>,
    time: Time,
    converter: Converter<DirObjectStore, Queue>,
    reader: QueueReader<DirObjectStore, Queue, LocalOrdersApi>,
}

impl Time {
    /// An embedded queue on this time.
    pub fn queue(&self, name: &str) -> EmbeddedFifoQueue {
        match self {
            Time::Real => EmbeddedFifoQueue::new(name),
            Time::Manual(clock) => EmbeddedFifoQueue::new(name).with_clock(clock.clone()),
        }
    }

    fn share(&self) -> Self {
        match self {
            Time::Real => Time::Real,
            Time::Manual(clock) => Time::Manual(clock.clone()),
        }
    }
}

/// Where the pipeline keeps its orders and its recovery executions.
pub enum Storage {
    /// In memory, for the life of the process (`demo`, tests).
    Memory,
    /// Journaled under `<root>/orders.jsonl` and `<root>/recovery.jsonl`, so a restarted
    /// `serve` picks up its orders and resumes the recovery workflows that were waiting.
    Journaled,
}

impl Pipeline {
    /// In memory, with a simulated DTE provider that always answers.
    pub fn new(root: &Path, time: Time) -> Self {
        Self::open(root, time, Storage::Memory, SimulatedDteProvider::default()).expect("in-memory stores open")
    }

    /// With `storage` and the given simulated DTE provider.
    pub fn open(root: &Path, time: Time, storage: Storage, dte: SimulatedDteProvider) -> Result<Self, String> {
        let pending = Arc::new(time.queue("orders-pending.fifo"));
        let orders = Arc::new(time.queue("orders.fifo").with_redrive(pending.clone(), 10));
        let bucket = DirObjectStore::new(root.join("bucket"));
        let (store, recovery) = match storage {
            Storage::Memory => {
                (EmbeddedOrderStore::new(), EmbeddedRecovery::new().expect("the bundled recovery definition parses"))
            }
            Storage::Journaled => (
                EmbeddedOrderStore::open(&root.join("orders.jsonl")).map_err(|e| format!("order journal: {e}"))?,
                EmbeddedRecovery::open(&root.join("recovery.jsonl")).map_err(|e| e.to_string())?,
            ),
        };
        let (store, dte) = (Arc::new(store), Arc::new(dte));
        let service =
            Arc::new(OrderService { store: store.clone(), queue: orders.clone(), dte: dte.clone(), recovery });
        let converter = Converter {
            store: bucket.clone(),
            queue: orders.clone(),
            config: ConverterConfig {
                bucket: BUCKET.into(),
                orders_queue_url: "embedded://orders.fifo".into(),
                incoming_prefix: "incoming/".into(),
                rejected_prefix: "rejected/".into(),
                limits: Limits::default(),
            },
        };
        let reader = QueueReader {
            store: bucket.clone(),
            pending: pending.clone(),
            api: LocalOrdersApi { service: service.clone() },
        };
        Ok(Self { bucket, orders, pending, store, dte, service, time, converter, reader })
    }

    /// The error handler's task handlers over this pipeline's orders, as the recovery workflow
    /// calls them; operator alerts go to `outbox` as `.eml` files.
    pub fn error_handler(&self, outbox: PathBuf, backoff: Backoff) -> Result<ErrorHandler, String> {
        Ok(error_handler::Deps {
            service: OrderService {
                store: self.store.clone(),
                queue: self.orders.clone(),
                dte: self.dte.clone(),
                recovery: NotGranted,
            },
            backoff,
            mailer: OutboxMailer::new(outbox),
            alert: AlertConfig {
                to: EmailAddress::parse("ops@orderflow.local").map_err(|e| e.to_string())?,
                from: "orders@orderflow.local".into(),
                configuration_set: "local".into(),
            },
        })
    }

    /// An S3 upload under `incoming/` and the notification that follows it.
    pub async fn upload(&self, relative: &str, bytes: Vec<u8>) -> Result<Report, String> {
        let key = self.put_incoming(relative, bytes).await?;
        self.notify(&key).await
    }

    /// The upload alone, as a client does it: the object's key.
    pub async fn put_incoming(&self, relative: &str, bytes: Vec<u8>) -> Result<String, String> {
        let key = format!("incoming/{relative}");
        self.bucket.put(&key, bytes, "application/xml").await.map_err(|e| e.to_string())?;
        Ok(key)
    }

    /// The converter on the S3 notification of one object that is in the bucket.
    pub async fn notify(&self, key: &str) -> Result<Report, String> {
        xml_order_converter::handle(&self.converter, s3_event::put_event(BUCKET, &[key]))
            .await
            .map_err(|e| e.to_string())
    }

    /// Feeds the orders queue to the queue reader until nothing is left to deliver.
    pub async fn drain(&self) -> Result<Polled, String> {
        drain_queue(&self.orders, &self.time, |queue| {
            poll_once(queue, 10, ORDERS_ARN, |event| async {
                Ok::<_, std::convert::Infallible>(queue_reader::handle(&self.reader, event, Budget::unlimited()).await)
            })
        })
        .await
    }

    /// The time the pipeline's queues run on, for components that join it.
    pub fn time(&self) -> Time {
        self.time.share()
    }

    /// One Orders API request, answered in process.
    pub async fn api(&self, req: lambda_http::Request) -> Response<Body> {
        state_router::handle(&*self.service, req).await.unwrap_or_else(|e| internal_error(&e.to_string()))
    }
}

/// Polls `queue` until it is empty, as Lambda's event source would. With a manual clock,
/// in-flight failures are waited out by advancing time instead of sleeping.
pub async fn drain_queue<'q, F, Fut>(queue: &'q Queue, time: &Time, mut poll: F) -> Result<Polled, String>
where
    F: FnMut(&'q EmbeddedFifoQueue) -> Fut,
    Fut: Future<Output = Result<Polled, PortError>>,
{
    let mut total = Polled::default();
    for _ in 0..MAX_POLLS {
        let polled = poll(queue).await.map_err(|e| e.to_string())?;
        total.received += polled.received;
        total.deleted += polled.deleted;
        total.failed += polled.failed;
        if polled.received == 0 {
            match time {
                Time::Manual(clock) if !queue.is_empty() => clock.advance(DEFAULT_VISIBILITY_TIMEOUT),
                _ => return Ok(total),
            }
        }
    }
    Err(format!("the queue did not drain in {MAX_POLLS} polls"))
}

/// What a handler error becomes, as API Gateway answers a failed integration.
pub fn internal_error(message: &str) -> Response<Body> {
    orderflow_shared::api::error(lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
}

/// The Orders API as the queue reader sees it, called in process instead of over HTTPS.
pub struct LocalOrdersApi {
    service: Arc<Service>,
}

impl OrdersApi for LocalOrdersApi {
    async fn deliver(&self, command: &OrderCommand) -> Result<Delivered, ApiFailure> {
        deliver_in_process(&*self.service, command).await
    }
}

/// One command delivered to the state router in process, answered as the Orders API would.
pub async fn deliver_in_process<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    command: &OrderCommand,
) -> Result<Delivered, ApiFailure> {
    let call = Call::of(command);
    let mut builder =
        Request::builder().method(Method::POST).uri(call.path.as_str()).header("content-type", "application/json");
    if let Some(source) = &call.source {
        builder = builder.header(SOURCE_HEADER, source);
    }
    let req = builder.body(Body::Binary(call.body)).expect("valid request").with_raw_http_path(call.path);
    let resp = state_router::handle(service, req)
        .await
        .map_err(|e| ApiFailure::from_response(500, e.to_string().as_bytes()))?;
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        Ok(Delivered { status })
    } else {
        Err(ApiFailure::from_response(status, resp.body().as_ref()))
    }
}

/// The clock type the pipeline's queues need, for callers that build their own.
pub fn manual_clock() -> ManualClock {
    ManualClock::new(orderflow_shared::ports::SystemClock.now_ms())
}
