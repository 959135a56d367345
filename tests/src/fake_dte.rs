//! A local HTTP server standing in for the DTE provider. By default it issues folios and
//! track ids, answering a repeated `Idempotency-Key` with the id it gave the first time;
//! queued [`Scripted`] answers take precedence, one per request. Every request is recorded.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The answer to the next request.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// This status and JSON body.
    Reply(u16, Value),
    /// The default answer, but only after this long: longer than the client timeout forces one.
    Delay(Duration),
}

impl Scripted {
    /// The provider's error shape, `{"error": {"code", "message"}}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::Reply(status, json!({"error": {"code": code, "message": message}}))
    }
}

/// A request as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// `Null` when the body was not JSON.
    pub body: Value,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Scripted>,
    requests: Vec<Request>,
    /// Idempotency key → the id answered for it.
    answered: HashMap<String, String>,
    folios: HashSet<String>,
    next_folio: u64,
    /// When set, only `Authorization: Bearer <token>` is accepted; anything else is 401.
    token: Option<String>,
}

type Shared = Arc<Mutex<Inner>>;

/// The running server; stopped when dropped.
pub struct FakeDte {
    url: String,
    inner: Shared,
    server: JoinHandle<()>,
}

impl FakeDte {
    /// Serves on a free localhost port.
    pub async fn start() -> Self {
        let inner = Shared::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake DTE provider");
        let addr = listener.local_addr().expect("local address");
        let app = Router::new().fallback(answer).with_state(inner.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake DTE provider serves");
        });
        Self { url: format!("http://{addr}"), inner, server }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Queues the answer to a later request, after those already queued.
    pub fn enqueue(&self, answer: Scripted) {
        lock(&self.inner).script.push_back(answer);
    }

    /// Accepts only this bearer token from now on, as a provider does after a rotation.
    pub fn require_token(&self, token: &str) {
        lock(&self.inner).token = Some(token.to_owned());
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.inner).requests.clone()
    }
}

impl Drop for FakeDte {
    fn drop(&mut self) {
        self.server.abort();
    }
}

// A failed assertion in another test thread must not hide this fake's state.
fn lock(inner: &Shared) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn answer(
    State(inner): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let request = Request {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let (scripted, authorized) = {
        let mut inner = lock(&inner);
        inner.requests.push(request.clone());
        let authorized =
            inner.token.as_ref().is_none_or(|t| request.header("authorization") == Some(&format!("Bearer {t}")));
        // A refused request consumes no scripted answer.
        (if authorized { inner.script.pop_front() } else { None }, authorized)
    };
    if !authorized {
        let error = json!({"error": {"code": "unauthorized", "message": "invalid or expired token"}});
        return (StatusCode::UNAUTHORIZED, Json(error));
    }
    let (status, body) = match scripted {
        Some(Scripted::Reply(status, body)) => (status, body),
        Some(Scripted::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            lock(&inner).default_answer(&request)
        }
        None => lock(&inner).default_answer(&request),
    };
    (StatusCode::from_u16(status).expect("scripted status is valid"), Json(body))
}

impl Inner {
    fn default_answer(&mut self, request: &Request) -> (u16, Value) {
        let segments: Vec<&str> = request.path.split('/').collect();
        let (status, field, id) = match (request.method.as_str(), &segments[..]) {
            ("POST", ["", "v1", "dte"]) => {
                let id = self.id_for(request, |inner| {
                    inner.next_folio += 1;
                    let folio = (1000 + inner.next_folio).to_string();
                    inner.folios.insert(folio.clone());
                    folio
                });
                (201, "folio", id)
            }
            ("POST", ["", "v1", "dte", folio, "broadcast"]) if self.folios.contains(*folio) => {
                let track_id = format!("TRK-{folio}");
                (202, "track_id", self.id_for(request, |_| track_id))
            }
            ("POST", ["", "v1", "dte", _, "broadcast"]) => {
                return (404, json!({"error": {"code": "folio_unknown", "message": "no such folio"}}));
            }
            _ => {
                return (404, json!({"error": {"code": "not_found", "message": "no such route"}}));
            }
        };
        (status, json!({ field: id }))
    }

    /// The id answered before for this request's idempotency key, or a new one.
    fn id_for(&mut self, request: &Request, new: impl FnOnce(&mut Self) -> String) -> String {
        let Some(key) = request.header("idempotency-key") else {
            return new(self);
        };
        if let Some(id) = self.answered.get(key) {
            return id.clone();
        }
        let id = new(self);
        self.answered.insert(key.to_owned(), id.clone());
        id
    }
}
