//! A fault-injecting proxy in front of moto, for the AWS SDK clients of the code under test.
//!
//! A seeded share of the calls to S3, SQS, DynamoDB, SES and Secrets Manager fails in one of the
//! ways AWS calls fail ([`AwsFault`]): a 500 or a throttling refusal, each as the service's own
//! protocol spells it; a connection closed without an answer; or a timeout *after* moto did the
//! work, the answer held past the client's attempt timeout so that the SDK retries a call that
//! already took effect. Only the last one reaches moto: the proxy never resets a connection after
//! forwarding, the timeout stands for every answer lost after the work. Calls to any other
//! service pass through.
//!
//! Whether a call fails is drawn with the HTTP proxy's dice (`dice.rs`), from the seed, the
//! call's fingerprint (service, method, path, query, `X-Amz-Target`, body; never the signature,
//! the date or the SDK's attempt header, which change on every try) and how often it was seen.
//! Which way it fails rotates through the configured kinds per service, so that a service that
//! sees a handful of faults sees every kind; which call gets which kind then follows arrival
//! order. AWS runs replay less than the HTTP proxy's anyway: item timestamps, receipt handles
//! and MIME message ids make the bodies differ from run to run.
//!
//! DynamoDB calls reach moto one at a time per table. moto applies a TransactWriteItems on a copy of its
//! tables and, when the transaction is cancelled (a condition failed), puts that copy back:
//! any write to the table that another request made in between is lost. DynamoDB isolates
//! transactions; the orders table writes in transactions (the per-state counters), so without
//! this a retried or racing write could erase another order's transition in moto only. With no
//! faults ([`AwsFaults::NONE`]) the proxy is just that gate, and every test reaches moto through
//! one ([`crate::sdk_config`]).

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::task::JoinHandle;

use super::dice::Dice;
use super::{forward, lock};

/// The clients' timeouts through the proxy, far below the product's (`adapters::aws`), so a held
/// answer costs a run half a second rather than three; the retry policy stays the product's.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(300);
/// Three attempts and the backoff between them fit.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2000);
/// How long a [`AwsFault::Timeout`] answer is held: past the attempt timeout.
const HOLD: Duration = Duration::from_millis(500);

/// The services the proxy fails calls to, named as SigV4 credential scopes name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    S3,
    Sqs,
    DynamoDb,
    /// SES v2 (REST-JSON), the API of `SesMailer`; its signing name is `ses`, as v1's.
    Ses,
    SecretsManager,
}

impl Service {
    pub const ALL: [Service; 5] = [Self::S3, Self::Sqs, Self::DynamoDb, Self::Ses, Self::SecretsManager];

    /// From `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/<service>/aws4_request, ...`.
    fn of(headers: &HeaderMap) -> Option<Self> {
        let auth = headers.get("authorization")?.to_str().ok()?;
        let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
        match scope.split('/').nth(3)? {
            "s3" => Some(Self::S3),
            "sqs" => Some(Self::Sqs),
            "dynamodb" => Some(Self::DynamoDb),
            "ses" => Some(Self::Ses),
            "secretsmanager" => Some(Self::SecretsManager),
            _ => None,
        }
    }

    /// The status and code of an internal error, and of throttling, as the service answers them
    /// (from each service's API reference: common errors and the operations' error lists); for
    /// the other kinds, those of an internal error.
    pub fn error(self, fault: AwsFault) -> (StatusCode, &'static str) {
        let throttled = fault == AwsFault::Throttled;
        match self {
            Self::S3 if throttled => (StatusCode::SERVICE_UNAVAILABLE, "SlowDown"),
            Self::S3 => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
            // Table-level throttling; the account-level `RequestLimitExceeded` and control-plane
            // `ThrottlingException` are also 400s that the SDK and the product read alike.
            Self::DynamoDb if throttled => (StatusCode::BAD_REQUEST, "ProvisionedThroughputExceededException"),
            Self::DynamoDb => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError"),
            Self::Sqs if throttled => (StatusCode::BAD_REQUEST, "RequestThrottled"),
            Self::Sqs => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure"),
            // SES v2's modelled throttle; the developer guide also names a `ThrottlingException`
            // for the sending-rate quota, which the product reads as transient too.
            Self::Ses if throttled => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException"),
            Self::Ses => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure"),
            Self::SecretsManager if throttled => (StatusCode::BAD_REQUEST, "ThrottlingException"),
            Self::SecretsManager => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServiceError"),
        }
    }

    /// The error in the service's protocol. Simplified: code, message and request id only (no
    /// S3 `HostId` or `Resource`, no `Date` header).
    fn answer(self, fault: AwsFault) -> Response {
        let (status, code) = self.error(fault);
        let message = "fault injected by the AWS chaos proxy";
        let request_id = "00000000-0000-0000-0000-00000000c4a0";
        let json = |content_type: &'static str, body: serde_json::Value| {
            let headers = [("content-type", content_type), ("x-amzn-requestid", request_id)];
            (status, headers, body.to_string()).into_response()
        };
        match self {
            // REST-XML.
            Self::S3 => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                     <Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
                );
                (status, [("content-type", "application/xml"), ("x-amz-request-id", request_id)], body).into_response()
            }
            // AWS JSON 1.0; the type is namespaced, as the service sends it.
            Self::DynamoDb => json(
                "application/x-amz-json-1.0",
                serde_json::json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": message}),
            ),
            // AWS JSON 1.0, query-compatible: the SDK takes the code from `x-amzn-query-error`.
            Self::Sqs => {
                let blame = if status.is_server_error() { "Receiver" } else { "Sender" };
                let mut answer = json(
                    "application/x-amz-json-1.0",
                    serde_json::json!({"__type": format!("com.amazonaws.sqs#{code}"), "message": message}),
                );
                let query_error = HeaderValue::from_str(&format!("{code};{blame}")).expect("an ASCII header");
                answer.headers_mut().insert("x-amzn-query-error", query_error);
                answer
            }
            // AWS JSON 1.1.
            Self::SecretsManager => {
                json("application/x-amz-json-1.1", serde_json::json!({"__type": code, "message": message}))
            }
            // REST-JSON: the code in `x-amzn-ErrorType`, the message in the body.
            Self::Ses => {
                let mut answer = json("application/json", serde_json::json!({"message": message}));
                answer.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static(code));
                answer
            }
        }
    }
}

/// How an injected AWS failure presents itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AwsFault {
    /// The service's internal error (HTTP 500); moto never sees the call.
    ServerError,
    /// The service's throttling refusal; moto never sees the call.
    Throttled,
    /// The connection closes without an answer; moto never sees the call.
    Reset,
    /// moto does the work, and the answer is held past the client's attempt timeout.
    Timeout,
}

impl AwsFault {
    pub const ALL: [AwsFault; 4] = [Self::ServerError, Self::Throttled, Self::Reset, Self::Timeout];
}

/// `share` of the calls fail, in the `kinds` given, in turn per service.
#[derive(Debug, Clone, Copy)]
pub struct AwsFaults {
    pub share: f64,
    pub seed: u64,
    pub kinds: &'static [AwsFault],
}

impl AwsFaults {
    /// Every call passes.
    pub const NONE: AwsFaults = AwsFaults { share: 0.0, seed: 0, kinds: &AwsFault::ALL };
}

/// Calls seen and faults injected for one service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub calls: u32,
    pub faults: BTreeMap<AwsFault, u32>,
}

struct Inner {
    upstream: String,
    client: reqwest::Client,
    faults: AwsFaults,
    dice: Dice,
    tally: Mutex<BTreeMap<Service, Tally>>,
    /// Bodies of the calls whose answers were held after moto did the work.
    lost_answers: Mutex<Vec<(Service, Bytes)>>,
    /// One gate per DynamoDB table, held while a call on it is in moto (see the module's comment).
    tables: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Every call with its answer, kept only by a [`AwsChaosProxy::recording`] proxy.
    exchanges: Option<Mutex<Vec<Exchange>>>,
}

/// One call as the proxy passed it to moto, and moto's answer (a recording proxy's).
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The SigV4 signing name of the credential scope (`dynamodb`, `sqs`, `s3`, `ses`, `states`…).
    pub service: String,
    pub method: String,
    pub path: String,
    /// `X-Amz-Target` (the JSON protocols' operation), when the call has one.
    pub target: Option<String>,
    pub request: Bytes,
    pub status: u16,
    pub response: Bytes,
}

/// The running proxy; stops accepting connections when dropped.
pub struct AwsChaosProxy {
    url: String,
    inner: Arc<Inner>,
    server: JoinHandle<()>,
}

impl AwsChaosProxy {
    /// Proxies to `upstream` (moto: scheme and authority, no trailing slash).
    pub async fn start(upstream: &str, faults: AwsFaults) -> Self {
        Self::launch(upstream, faults, false).await
    }

    /// A proxy that fails nothing and keeps every call and answer, for counting what code
    /// asks of AWS ([`Self::take_exchanges`]).
    pub async fn recording(upstream: &str) -> Self {
        Self::launch(upstream, AwsFaults::NONE, true).await
    }

    async fn launch(upstream: &str, faults: AwsFaults, recording: bool) -> Self {
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: crate::http(),
            faults,
            dice: Dice::new(faults.seed),
            tally: Mutex::default(),
            lost_answers: Mutex::default(),
            tables: Mutex::default(),
            exchanges: recording.then(Mutex::default),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the AWS chaos proxy");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let server = tokio::spawn(serve(listener, inner.clone()));
        Self { url, inner, server }
    }

    /// The product's SDK configuration (its retry policy) with this proxy as the endpoint and
    /// the short timeouts above.
    pub async fn sdk_config(&self) -> SdkConfig {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        // Through the product's loader (its HTTP client and retry policy), so that the endpoint
        // set here wins over `AWS_ENDPOINT_URL` (moto): a service client takes the environment's
        // over an endpoint set on a built SdkConfig.
        let loader = orderflow_shared::adapters::aws::loader();
        loader.endpoint_url(&self.url).timeout_config(timeouts).load().await
    }

    /// The calls recorded since the last take, in the order they reached the proxy (empty
    /// unless the proxy is [`Self::recording`]).
    pub fn take_exchanges(&self) -> Vec<Exchange> {
        self.inner.exchanges.as_ref().map(|e| std::mem::take(&mut *lock(e))).unwrap_or_default()
    }

    /// Where the proxy listens.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls and faults so far, by service.
    pub fn tally(&self) -> BTreeMap<Service, Tally> {
        lock(&self.inner.tally).clone()
    }

    /// The bodies of the calls to `service` that took effect in moto but whose answers the
    /// client never got.
    pub fn lost_answers(&self, service: Service) -> Vec<Bytes> {
        lock(&self.inner.lost_answers).iter().filter(|(s, _)| *s == service).map(|(_, b)| b.clone()).collect()
    }
}

impl Drop for AwsChaosProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A connection closed on purpose, without an answer.
#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by the AWS chaos proxy")
    }
}

impl std::error::Error for Reset {}

/// hyper rather than axum: a service error is what makes hyper drop a connection unanswered.
async fn serve(listener: tokio::net::TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // No descriptor left, or a connection that failed before it was accepted: pause, so
            // that a lasting cause does not spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let inner = inner.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| call(inner.clone(), request));
            let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            // The connection's end is no news: a reset is injected, and a client that timed out
            // goes away before its held answer.
            let _ = connection.await;
        });
    }
}

fn fingerprint(service: Service, parts: &Parts, body: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    let target = parts.headers.get("x-amz-target").map(|v| v.as_bytes());
    (service, parts.method.as_str(), parts.uri.path(), parts.uri.query(), target, body).hash(&mut h);
    h.finish()
}

impl Inner {
    /// Waits until no other call on the tables this DynamoDB call names is in moto, and keeps
    /// them to itself until the guards are dropped; taken in name order, so two calls on the
    /// same tables never wait for each other.
    async fn gate(&self, body: &[u8]) -> Vec<tokio::sync::OwnedMutexGuard<()>> {
        let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let mut names = Vec::new();
        table_names(&json, &mut names);
        names.sort();
        names.dedup();
        let gates: Vec<_> = {
            let mut tables = lock(&self.tables);
            names.iter().map(|n| tables.entry(n.clone()).or_default().clone()).collect()
        };
        let mut held = Vec::with_capacity(gates.len());
        for gate in gates {
            held.push(gate.lock_owned().await);
        }
        held
    }

    /// Counts the call and decides its fate.
    fn draw(&self, service: Service, fingerprint: u64) -> Option<AwsFault> {
        let fails = self.dice.roll(fingerprint).unit() < self.faults.share;
        let mut tally = lock(&self.tally);
        let tally = tally.entry(service).or_default();
        tally.calls += 1;
        if !fails {
            return None;
        }
        let so_far: u32 = tally.faults.values().sum();
        let fault = self.faults.kinds[so_far as usize % self.faults.kinds.len()];
        *tally.faults.entry(fault).or_default() += 1;
        Some(fault)
    }
}

/// Every table a DynamoDB request names: `TableName` anywhere (transactions name one per item)
/// and the keys of `RequestItems` (batches).
fn table_names(json: &serde_json::Value, names: &mut Vec<String>) {
    match json {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("TableName", serde_json::Value::String(name)) => names.push(name.clone()),
                    ("RequestItems", serde_json::Value::Object(tables)) => names.extend(tables.keys().cloned()),
                    _ => table_names(value, names),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| table_names(item, names)),
        _ => {}
    }
}

async fn call(inner: Arc<Inner>, request: Request<Incoming>) -> Result<Response, Reset> {
    let (parts, incoming) = request.into_parts();
    // A body that breaks off: the client is gone, there is nobody to answer.
    let body = axum::body::to_bytes(Body::new(incoming), usize::MAX).await.map_err(|_| Reset)?;
    if let Some(exchanges) = &inner.exchanges {
        // A recording proxy injects nothing: forward, keep the call and its answer.
        let _one_at_a_time = match Service::of(&parts.headers) {
            Some(Service::DynamoDb) => inner.gate(&body).await,
            _ => Vec::new(),
        };
        let answer =
            forward(&inner.client, &inner.upstream, parts.method.clone(), &parts.uri, &parts.headers, body.clone());
        let (answer_parts, answer_body) = answer.await.into_parts();
        let response = axum::body::to_bytes(answer_body, usize::MAX).await.unwrap_or_default();
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let service = header("authorization")
            .and_then(|auth| Some(auth.split("Credential=").nth(1)?.split('/').nth(3)?.to_owned()))
            .unwrap_or_default();
        lock(exchanges).push(Exchange {
            service,
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            target: header("x-amz-target"),
            request: body,
            status: answer_parts.status.as_u16(),
            response: response.clone(),
        });
        return Ok(Response::from_parts(answer_parts, Body::from(response)));
    }
    let service = Service::of(&parts.headers);
    let pass = |body: Bytes| async {
        let _one_at_a_time = match service {
            Some(Service::DynamoDb) => inner.gate(&body).await,
            _ => Vec::new(),
        };
        forward(&inner.client, &inner.upstream, parts.method.clone(), &parts.uri, &parts.headers, body).await
    };
    let Some(service) = service else {
        return Ok(pass(body).await);
    };
    match inner.draw(service, fingerprint(service, &parts, &body)) {
        None => Ok(pass(body).await),
        Some(AwsFault::Reset) => Err(Reset),
        Some(AwsFault::Timeout) => {
            lock(&inner.lost_answers).push((service, body.clone()));
            let answer = pass(body).await;
            tokio::time::sleep(HOLD).await;
            Ok(answer)
        }
        Some(fault) => Ok(service.answer(fault)),
    }
}
