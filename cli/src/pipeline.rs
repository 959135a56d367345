//! The whole pipeline in one process on embedded adapters: the same handlers as in Lambda,
//! wired to a directory bucket, in-memory FIFO queues, an in-memory orders table and the
//! simulated DTE provider. Lambda's SQS event source is emulated by polling.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use lambda_http::http::{Method, Request};
use lambda_http::{Body, RequestExt, Response};
use orderflow_shared::adapters::embedded::event_source::{Polled, poll_once};
use orderflow_shared::adapters::embedded::{
    DEFAULT_VISIBILITY_TIMEOUT, DirObjectStore, EmbeddedFifoQueue, EmbeddedOrderStore, EmbeddedRecovery, ManualClock,
};
use orderflow_shared::batch::Budget;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::config::ConverterConfig;
use orderflow_shared::dte::SimulatedDteProvider;
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

impl Pipeline {
    pub fn new(root: &Path, time: Time) -> Self {
        let pending = Arc::new(time.queue("orders-pending.fifo"));
        let orders = Arc::new(time.queue("orders.fifo").with_redrive(pending.clone(), 10));
        let bucket = DirObjectStore::new(root.join("bucket"));
        let store = Arc::new(EmbeddedOrderStore::new());
        let dte = Arc::new(SimulatedDteProvider::default());
        let recovery = EmbeddedRecovery::new().expect("the bundled recovery definition parses");
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
        Self { bucket, orders, pending, store, dte, service, time, converter, reader }
    }

    /// An S3 upload under `incoming/` and the notification that follows it.
    pub async fn upload(&self, relative: &str, bytes: Vec<u8>) -> Result<Report, String> {
        let key = format!("incoming/{relative}");
        self.bucket.put(&key, bytes, "application/xml").await.map_err(|e| e.to_string())?;
        xml_order_converter::handle(&self.converter, s3_event::put_event(BUCKET, &[&key]))
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
