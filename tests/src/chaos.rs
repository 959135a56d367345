//! A fault-injecting HTTP proxy in front of a test server (the fake DTE provider, the fake ERP).
//!
//! A seeded share of requests fails: a 5xx without reaching the upstream, a 4xx refusal without
//! reaching it, or a timeout *after* the upstream did the work (the answer is held back past
//! the client's timeout), which is the case that tests idempotency. Each decision depends only
//! on the seed, the request (method, path, query, idempotency key, body) and how many times
//! that request was seen before, never on arrival order, so concurrent runs replay the same
//! faults (`dice.rs`). [`aws`] puts the same draws and forwarding in front of moto.

pub mod aws;
mod dice;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

use dice::{Dice, Draws};

/// How an injected failure presents itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// 503 with an error body; the upstream never sees the request.
    ServerError,
    /// The upstream answers, the proxy holds the answer past the client's timeout.
    Timeout,
    /// 422 with an error body: a refusal a retry would repeat.
    Refused,
}

/// `share` of the requests fail: 40 % of those with 5xx, 30 % time out, 30 % are refused.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub share: f64,
    pub seed: u64,
}

impl Faults {
    fn draw(&self, draws: &mut Draws) -> Option<Fault> {
        if draws.unit() >= self.share {
            return None;
        }
        Some(match draws.unit() {
            x if x < 0.4 => Fault::ServerError,
            x if x < 0.7 => Fault::Timeout,
            _ => Fault::Refused,
        })
    }
}

struct Inner {
    upstream: String,
    client: reqwest::Client,
    faults: Faults,
    dice: Dice,
    hold: Duration,
    injected: Mutex<HashMap<Fault, u32>>,
    requests: Mutex<u32>,
}

/// The running proxy; stopped when dropped.
pub struct ChaosProxy {
    url: String,
    inner: Arc<Inner>,
    server: JoinHandle<()>,
}

impl ChaosProxy {
    /// Proxies to `upstream` (scheme and authority, no trailing slash). `hold` must exceed the
    /// client's timeout.
    pub async fn start(upstream: &str, faults: Faults, hold: Duration) -> Self {
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: crate::http(),
            faults,
            dice: Dice::new(faults.seed),
            hold,
            injected: Mutex::default(),
            requests: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the chaos proxy");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let app = Router::new().fallback(proxy).with_state(inner.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("chaos proxy serves");
        });
        Self { url, inner, server }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Faults injected so far, by kind.
    pub fn injected(&self) -> HashMap<Fault, u32> {
        lock(&self.inner.injected).clone()
    }

    /// Requests received so far, failed or not.
    pub fn requests(&self) -> u32 {
        *lock(&self.inner.requests)
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn fingerprint(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    (method.as_str(), uri.path(), uri.query(), headers.get("idempotency-key").map(|v| v.as_bytes()), body).hash(&mut h);
    h.finish()
}

fn injected_error(status: StatusCode, code: &str) -> Response {
    let body = serde_json::json!({"error": {"code": code, "message": "fault injected by the chaos proxy"}});
    (status, axum::Json(body)).into_response()
}

async fn proxy(State(inner): State<Arc<Inner>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    *lock(&inner.requests) += 1;
    let fault = inner.faults.draw(&mut inner.dice.roll(fingerprint(&method, &uri, &headers, &body)));
    if let Some(fault) = fault {
        *lock(&inner.injected).entry(fault).or_default() += 1;
    }
    match fault {
        Some(Fault::ServerError) => injected_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        Some(Fault::Refused) => injected_error(StatusCode::UNPROCESSABLE_ENTITY, "refused"),
        Some(Fault::Timeout) => {
            let answer = forward(&inner.client, &inner.upstream, method, &uri, &headers, body).await;
            tokio::time::sleep(inner.hold).await;
            answer
        }
        None => forward(&inner.client, &inner.upstream, method, &uri, &headers, body).await,
    }
}

/// Sends the request on to `upstream` and hands back its answer, or a 502 when it gave none.
async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let target = format!("{upstream}{}", uri.path_and_query().map_or("/", |p| p.as_str()));
    let hop_by_hop =
        |name: &HeaderName| matches!(name.as_str(), "host" | "content-length" | "connection" | "transfer-encoding");
    let mut request = client.request(method, target).body(body);
    for (name, value) in headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
        request = request.header(name, value);
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(e) => return injected_error(StatusCode::BAD_GATEWAY, &format!("upstream: {e}")),
    };
    let status = answer.status();
    let mut out = HeaderMap::new();
    for (name, value) in answer.headers().iter().filter(|(n, _)| !hop_by_hop(n)) {
        out.append(name, value.clone());
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    (status, out, bytes).into_response()
}
