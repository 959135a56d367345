//! A local HTTP server standing in for the Orders API: it answers each order key as scripted
//! (201 by default) and hands every request it receives to the test, in arrival order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The stage prefix the fake serves under, as API Gateway does (`…/prod/orders`).
pub const STAGE: &str = "/prod";

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    body: Value,
    delay: Duration,
}

impl Reply {
    pub fn created() -> Self {
        Self { status: 201, body: json!({"state": "registered"}), delay: Duration::ZERO }
    }

    /// The API's answer to a command it has already applied.
    pub fn duplicate() -> Self {
        Self { status: 200, body: json!({"duplicate": true}), delay: Duration::ZERO }
    }

    /// The API's error shape, `{"error": {"code", "message"}}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self { status, body: json!({"error": {"code": code, "message": message}}), delay: Duration::ZERO }
    }

    /// Answers only after `delay`, to outlast a client timeout.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// From the path of a stage call, or the body of a registration.
    pub order_key: String,
    pub api_key: Option<String>,
    pub source: Option<String>,
    pub body: Value,
}

struct Shared {
    script: HashMap<String, Reply>,
    requests: mpsc::UnboundedSender<Received>,
}

/// The running server; stopped when dropped.
pub struct FakeApi {
    base_url: String,
    requests: mpsc::UnboundedReceiver<Received>,
    server: JoinHandle<()>,
}

impl FakeApi {
    /// Serves on a free localhost port; `script` maps order keys to their answer.
    pub async fn start(script: impl IntoIterator<Item = (String, Reply)>) -> Self {
        let (tx, requests) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared { script: script.into_iter().collect(), requests: tx });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake Orders API");
        let addr = listener.local_addr().expect("local address");
        let app = Router::new().fallback(answer).with_state(shared);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Orders API serves");
        });
        Self { base_url: format!("http://{addr}{STAGE}"), requests, server }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every request received since the last call.
    pub fn received(&mut self) -> Vec<Received> {
        std::iter::from_fn(|| self.requests.try_recv().ok()).collect()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_owned();
    let order_key = match path.strip_prefix(STAGE).unwrap_or(&path).split('/').collect::<Vec<_>>()[..] {
        ["", "orders", key, _stage] => key.to_owned(),
        _ => body["order_key"].as_str().unwrap_or_default().to_owned(),
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let reply = shared.script.get(&order_key).cloned().unwrap_or_else(Reply::created);
    let received = Received {
        method: method.to_string(),
        path,
        order_key,
        api_key: header("x-api-key"),
        source: header("x-orderflow-source"),
        body,
    };
    // The test may have finished (a timed-out call); nobody listening is fine then.
    let _ = shared.requests.send(received);
    tokio::time::sleep(reply.delay).await;
    (StatusCode::from_u16(reply.status).expect("scripted status is valid"), axum::Json(reply.body))
}
