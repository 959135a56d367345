//! What both ERP fakes share: the document store with its script and request log, each
//! ERP's dialect (names and error wording), and the running server.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::Query;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use orderflow_shared::adapters::embedded::ManualClock;
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

use crate::KNOWN_ITEMS;
use crate::items::{Catalogue, ErpItem};

/// The answer to the next request on the orders endpoint.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// This status and JSON body.
    Reply(u16, Value),
    /// No answer at all: the client's timeout fires.
    Hang,
    /// A lookup that finds nothing, as if the record were not visible yet.
    EmptyLookup,
}

/// One request as the fake answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// Without the query string.
    pub path: String,
    pub status: u16,
}

/// The two document lists each fake keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Orders,
    CreditMemos,
}

/// Documents, script and log, common to both fakes.
#[derive(Default)]
pub(crate) struct Store {
    pub(crate) orders: Vec<Value>,
    pub(crate) credit_memos: Vec<Value>,
    pub(crate) script: VecDeque<Scripted>,
    log: Vec<Logged>,
    /// The items catalogue sync reads ([`crate::items`]).
    pub(crate) catalogue: Catalogue,
}

impl Store {
    fn records(&mut self, kind: Kind) -> &mut Vec<Value> {
        match kind {
            Kind::Orders => &mut self.orders,
            Kind::CreditMemos => &mut self.credit_memos,
        }
    }

    pub(crate) fn logged(&mut self, method: &Method, uri: &Uri, response: Response) -> Response {
        self.log.push(Logged {
            method: method.to_string(),
            path: uri.path().to_owned(),
            status: response.status().as_u16(),
        });
        response
    }
}

/// How one ERP names things and words its errors.
pub(crate) struct Dialect {
    pub(crate) orders: &'static str,
    pub(crate) credit_memos: &'static str,
    pub(crate) reference: &'static str,
    pub(crate) lines: &'static str,
    pub(crate) item: &'static str,
    pub(crate) error: fn(StatusCode, &str, &str) -> Response,
    /// The business refusal of an unknown item, given its number and line.
    pub(crate) unknown_item: fn(&str, usize) -> Response,
    /// SAP can block duplicate customer references, answering this; Business Central cannot.
    pub(crate) duplicate: Option<fn(&str) -> Response>,
    /// Gives a new record its ids, from its kind and position.
    pub(crate) assign_ids: fn(Kind, usize, &mut Map<String, Value>),
}

impl Dialect {
    /// The document list a path under the API root addresses.
    pub(crate) fn kind(&self, path: &str, root: &str) -> Option<Kind> {
        match path.strip_prefix(root)?.strip_prefix('/')? {
            p if p == self.orders => Some(Kind::Orders),
            p if p == self.credit_memos => Some(Kind::CreditMemos),
            _ => None,
        }
    }
}

pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// GET with `$filter=<reference> eq '<value>'`, or POST of one document.
fn documents(
    store: &mut Store,
    dialect: &Dialect,
    kind: Kind,
    method: &Method,
    uri: &Uri,
    body: &[u8],
    empty_lookup: bool,
) -> Response {
    if *method == Method::GET {
        let query: HashMap<String, String> = Query::try_from_uri(uri).map(|q| q.0).unwrap_or_default();
        let prefix = format!("{} eq '", dialect.reference);
        let Some(value) = query.get("$filter").and_then(|f| f.strip_prefix(&prefix)).and_then(|f| f.strip_suffix('\''))
        else {
            return (dialect.error)(StatusCode::BAD_REQUEST, "BadRequest", "unsupported $filter");
        };
        let value = value.replace("''", "'");
        let found: Vec<Value> = if empty_lookup {
            Vec::new()
        } else {
            store.records(kind).iter().filter(|r| r[dialect.reference] == value.as_str()).cloned().collect()
        };
        return json_response(StatusCode::OK, json!({ "value": found }));
    }
    let Ok(Value::Object(mut record)) = serde_json::from_slice::<Value>(body) else {
        return (dialect.error)(StatusCode::BAD_REQUEST, "BadRequest", "the body is not a JSON object");
    };
    let Some(reference) = record.get(dialect.reference).and_then(Value::as_str).map(str::to_owned) else {
        return (dialect.error)(StatusCode::BAD_REQUEST, "BadRequest", &format!("{} is required", dialect.reference));
    };
    let lines = record.get(dialect.lines).and_then(Value::as_array).cloned().unwrap_or_default();
    for (i, line) in lines.iter().enumerate() {
        let item = line[dialect.item].as_str().unwrap_or_default();
        if !KNOWN_ITEMS.contains(&item) {
            return (dialect.unknown_item)(item, i + 1);
        }
    }
    if let Some(duplicate) = dialect.duplicate
        && store.records(kind).iter().any(|r| r[dialect.reference] == reference.as_str())
    {
        return duplicate(&reference);
    }
    (dialect.assign_ids)(kind, store.records(kind).len(), &mut record);
    let record = Value::Object(record);
    store.records(kind).push(record.clone());
    json_response(StatusCode::CREATED, record)
}

/// The items endpoint: a scripted answer if one is queued, else `serve`; logged. An
/// `EmptyLookup` (which means nothing for a catalogue) is served as usual, so a script can let
/// the first page through and fail the second.
pub(crate) async fn items_answer<S: Documents + Default>(
    app: &App<S>,
    method: &Method,
    uri: &Uri,
    serve: impl FnOnce(&Catalogue) -> Response,
) -> Response {
    let decision = {
        let mut state = app.lock();
        let store = state.store();
        match store.script.pop_front() {
            Some(Scripted::Reply(status, body)) => {
                Some(json_response(StatusCode::from_u16(status).expect("a valid status"), body))
            }
            Some(Scripted::Hang) => None,
            Some(Scripted::EmptyLookup) | None => Some(serve(&store.catalogue)),
        }
    };
    let response = match decision {
        Some(response) => response,
        None => std::future::pending().await,
    };
    app.lock().store().logged(method, uri, response)
}

/// What a document endpoint does for this request: a scripted answer, or the default.
pub(crate) enum Next {
    Reply(Response),
    Hang,
    Default { kind: Kind, empty_lookup: bool },
}

pub(crate) fn next(store: &mut Store, kind: Kind) -> Next {
    match store.script.pop_front() {
        Some(Scripted::Reply(status, body)) => {
            Next::Reply(json_response(StatusCode::from_u16(status).expect("a valid status"), body))
        }
        Some(Scripted::Hang) => Next::Hang,
        Some(Scripted::EmptyLookup) => Next::Default { kind, empty_lookup: true },
        None => Next::Default { kind, empty_lookup: false },
    }
}

/// A fake's state, shared by its handlers, and the clock its credentials expire on.
pub(crate) struct App<S> {
    state: Arc<Mutex<S>>,
    pub(crate) clock: ManualClock,
}

// By hand: a derive would require `S: Clone`.
impl<S> Clone for App<S> {
    fn clone(&self) -> Self {
        Self { state: self.state.clone(), clock: self.clock.clone() }
    }
}

impl<S: Default> App<S> {
    pub(crate) fn new(clock: ManualClock) -> Self {
        Self { state: Arc::default(), clock }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock().expect("a double's state")
    }
}

/// Carries out a document endpoint's decision, then logs the answer.
pub(crate) async fn answer<S: Documents + Default>(
    app: &App<S>,
    dialect: &Dialect,
    decision: Next,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Response {
    let response = match decision {
        Next::Reply(response) => response,
        Next::Hang => std::future::pending().await,
        Next::Default { kind, empty_lookup } => {
            documents(app.lock().store(), dialect, kind, method, uri, body, empty_lookup)
        }
    };
    app.lock().store().logged(method, uri, response)
}

/// The state of a fake that keeps documents.
pub(crate) trait Documents {
    fn store(&mut self) -> &mut Store;
}

/// A fake's server and state, with what every fake answers about its documents; the server
/// stops when this is dropped.
#[allow(private_bounds)] // `Documents` is how the fakes reach their store, not an API.
pub struct Running<S: Documents> {
    pub(crate) url: String,
    pub(crate) app: App<S>,
    server: JoinHandle<()>,
}

#[allow(private_bounds)]
impl<S: Documents + Default + Send + 'static> Running<S> {
    pub(crate) async fn start(router: Router<App<S>>, port: u16, clock: ManualClock) -> std::io::Result<Self> {
        let app = App::new(clock);
        let (url, server) = serve(router.with_state(app.clone()), port).await?;
        Ok(Self { url, app, server })
    }

    /// The orders stored, in creation order.
    pub fn orders(&self) -> Vec<Value> {
        self.app.lock().store().orders.clone()
    }

    /// The credit memos (refunds) stored, in creation order.
    pub fn credit_memos(&self) -> Vec<Value> {
        self.app.lock().store().credit_memos.clone()
    }

    /// The answer to the next request on a document endpoint.
    pub fn script(&self, answer: Scripted) {
        self.app.lock().store().script.push_back(answer);
    }

    pub fn log(&self) -> Vec<Logged> {
        self.app.lock().store().log.clone()
    }

    /// Adds an item to the catalogue, or replaces the one with its number.
    pub fn put_item(&self, item: ErpItem) {
        self.app.lock().store().catalogue.items.insert(item.number.clone(), item);
    }

    /// Takes an item out of the catalogue, as when it is deleted in the ERP.
    pub fn remove_item(&self, number: &str) {
        self.app.lock().store().catalogue.items.remove(number);
    }

    /// The catalogue, in item-number order.
    pub fn items(&self) -> Vec<ErpItem> {
        self.app.lock().store().catalogue.items.values().cloned().collect()
    }

    /// Business Central's server-side page size for `items` (the Service Layer takes the
    /// client's `Prefer: odata.maxpagesize` instead).
    pub fn set_page_size(&self, size: usize) {
        self.app.lock().store().catalogue.bc_page_size = size;
    }
}

impl<S: Documents> Drop for Running<S> {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves on `port` of the loopback interface (0: any free port).
pub(crate) async fn serve(router: Router, port: u16) -> std::io::Result<(String, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve the double");
    });
    Ok((url, server))
}

pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).expect("a short duration")
}
