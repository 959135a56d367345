//! Local HTTP servers that behave like the two ERP APIs the shipped connector profiles target:
//!
//! - [`FakeBc`], Dynamics 365 Business Central: an OAuth2 token endpoint whose tokens expire
//!   on the test's clock, and `salesOrders` and `salesCreditMemos` (POST, and GET with
//!   `$filter`); an order with an unknown item number is refused with a business 400. Like the real API it does not enforce a unique
//!   `externalDocumentNumber`. The same orders also sit behind Basic, API key (header
//!   `Ocp-Apim-Subscription-Key` or query `subscription-key`) and Digest auth, under
//!   `/basic`, `/apikey` and `/digest` instead of `/api`.
//! - [`FakeSap`], SAP Business One Service Layer: `Login` answering with `B1SESSION` and
//!   `ROUTEID` cookies, sessions that time out on the test's clock, and `Orders` and
//!   `CreditNotes` (POST, GET with `$filter`) that refuse an unknown item and a duplicate
//!   `NumAtCard` with SAP's 400.
//!
//! Both store what they accept, so a test can assert one order in, one ERP record out, and
//! log every request. Queued [`Scripted`] answers take precedence on the document endpoints.
//! They listen on an ephemeral port, or on a given one for `orderflow erp-doubles`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use digest_auth::{AuthContext, AuthorizationHeader, HttpMethod};
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::ports::Clock;
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

/// Item numbers both fakes know: the SKUs of `events/orders/small-clp.xml`, then those of
/// `events/webhooks/standard-order-created.json`.
pub const KNOWN_ITEMS: [&str; 5] = ["DLA-CAFE-1000", "7801234567897", "PN-TE-07", "CAF-GRANO-1KG", "FILT-102"];

pub const BC_CLIENT_ID: &str = "orderflow-local";
pub const BC_CLIENT_SECRET: &str = "local-dev-only-bc-client-secret";
/// How long a Business Central token lives, as the token answer's `expires_in`.
pub const BC_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
pub const BASIC_USER: &str = "orderflow";
pub const BASIC_PASSWORD: &str = "basic-s3cret";
pub const API_KEY: &str = "key-s3cret";
pub const DIGEST_USER: &str = "orderflow";
pub const DIGEST_PASSWORD: &str = "digest-s3cret";
pub const SAP_COMPANY: &str = "SBODEMOUS";
pub const SAP_USER: &str = "manager";
pub const SAP_PASSWORD: &str = "local-dev-only-sap-b1-password";
/// SAP's default idle timeout, after which a session is refused with 401.
pub const SAP_SESSION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

const DIGEST_REALM: &str = "orderflow-fake-erp";
/// `Basic base64("orderflow:basic-s3cret")`; the tests crate has no base64 of its own.
const BASIC_HEADER: &str = "Basic b3JkZXJmbG93OmJhc2ljLXMzY3JldA==";

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
enum Kind {
    Orders,
    CreditMemos,
}

/// Documents, script and log, common to both fakes.
#[derive(Default)]
struct Store {
    orders: Vec<Value>,
    credit_memos: Vec<Value>,
    script: VecDeque<Scripted>,
    log: Vec<Logged>,
}

impl Store {
    fn records(&mut self, kind: Kind) -> &mut Vec<Value> {
        match kind {
            Kind::Orders => &mut self.orders,
            Kind::CreditMemos => &mut self.credit_memos,
        }
    }

    fn logged(&mut self, method: &Method, uri: &Uri, response: Response) -> Response {
        self.log.push(Logged {
            method: method.to_string(),
            path: uri.path().to_owned(),
            status: response.status().as_u16(),
        });
        response
    }
}

/// How one ERP names things and words its errors.
struct Dialect {
    orders: &'static str,
    credit_memos: &'static str,
    reference: &'static str,
    lines: &'static str,
    item: &'static str,
    error: fn(StatusCode, &str, &str) -> Response,
    /// The business refusal of an unknown item, given its number and line.
    unknown_item: fn(&str, usize) -> Response,
    /// SAP can block duplicate customer references, answering this; Business Central cannot.
    duplicate: Option<fn(&str) -> Response>,
    /// Gives a new record its ids, from its kind and position.
    assign_ids: fn(Kind, usize, &mut Map<String, Value>),
}

impl Dialect {
    /// The document list a path under the API root addresses.
    fn kind(&self, path: &str, root: &str) -> Option<Kind> {
        match path.strip_prefix(root)?.strip_prefix('/')? {
            p if p == self.orders => Some(Kind::Orders),
            p if p == self.credit_memos => Some(Kind::CreditMemos),
            _ => None,
        }
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
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

/// What a document endpoint does for this request: a scripted answer, or the default.
enum Next {
    Reply(Response),
    Hang,
    Default { kind: Kind, empty_lookup: bool },
}

fn next(store: &mut Store, kind: Kind) -> Next {
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
struct App<S> {
    state: Arc<Mutex<S>>,
    clock: ManualClock,
}

// By hand: a derive would require `S: Clone`.
impl<S> Clone for App<S> {
    fn clone(&self) -> Self {
        Self { state: self.state.clone(), clock: self.clock.clone() }
    }
}

impl<S: Default> App<S> {
    fn new(clock: ManualClock) -> Self {
        Self { state: Arc::default(), clock }
    }

    fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock().expect("fake ERP state")
    }
}

/// The state of a fake that keeps documents.
trait Documents {
    fn store(&mut self) -> &mut Store;
}

impl Documents for BcState {
    fn store(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl Documents for SapState {
    fn store(&mut self) -> &mut Store {
        &mut self.store
    }
}

/// A fake's server and state, with what every fake answers about its documents; the server
/// stops when this is dropped.
#[allow(private_bounds)] // `Documents` is how the fakes reach their store, not an API.
pub struct Running<S: Documents> {
    url: String,
    app: App<S>,
    server: JoinHandle<()>,
}

#[allow(private_bounds)]
impl<S: Documents + Default + Send + 'static> Running<S> {
    async fn start(router: Router<App<S>>, port: u16, clock: ManualClock) -> std::io::Result<Self> {
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
}

impl<S: Documents> Drop for Running<S> {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves on `port` of the loopback interface (0: any free port).
async fn serve(router: Router, port: u16) -> std::io::Result<(String, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve the fake ERP");
    });
    Ok((url, server))
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).expect("a short duration")
}

// ---------------------------------------------------------------------------------------------
// Business Central

/// The company segment of every Business Central path.
const BC_COMPANY: &str = "/v2.0/companies(orderflow-local)";

/// How a request to the fake Business Central proves itself; each has its own base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BcAuth {
    Bearer,
    Basic,
    ApiKey,
    Digest,
}

impl BcAuth {
    fn segment(self) -> &'static str {
        match self {
            Self::Bearer => "api",
            Self::Basic => "basic",
            Self::ApiKey => "apikey",
            Self::Digest => "digest",
        }
    }
}

/// Business Central's documents, tokens and Digest nonces.
#[derive(Default)]
pub struct BcState {
    store: Store,
    /// Token → expiry in clock milliseconds.
    tokens: HashMap<String, u64>,
    tokens_issued: u32,
    nonces: HashSet<String>,
}

type BcApp = App<BcState>;

const BC_DIALECT: Dialect = Dialect {
    orders: "salesOrders",
    credit_memos: "salesCreditMemos",
    reference: "externalDocumentNumber",
    lines: "salesOrderLines",
    item: "lineObjectNumber",
    error: bc_error,
    unknown_item: |item, _| {
        let message = format!("The Item does not exist. Identification fields and values: No.='{item}'");
        bc_error(StatusCode::BAD_REQUEST, "Internal_RecordNotFound", &message)
    },
    duplicate: None,
    assign_ids: |kind, n, record| {
        let (id_series, number) = match kind {
            Kind::Orders => ("44e3", format!("S-ORD{:06}", 101_001 + n)),
            Kind::CreditMemos => ("55f4", format!("S-CR{:06}", 104_001 + n)),
        };
        record.insert("id".into(), json!(format!("5d115c9c-{id_series}-ea11-bb43-{:012x}", n + 1)));
        record.insert("number".into(), json!(number));
        record.insert("status".into(), json!("Draft"));
    },
};

fn bc_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        json!({"error": {"code": code, "message": format!("{message}  CorrelationId:  f00dfeed-0000-0000-0000-000000000000.")}}),
    )
}

/// The running fake; stopped when dropped. The document accessors are [`Running`]'s.
pub struct FakeBc(Running<BcState>);

impl Deref for FakeBc {
    type Target = Running<BcState>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FakeBc {
    /// Tokens expire on `clock`, which the test advances.
    pub async fn start(clock: ManualClock) -> Self {
        Self::start_on(0, clock).await.expect("bind a fake Business Central")
    }

    /// On a given loopback port, as the local connector configuration expects.
    pub async fn start_on(port: u16, clock: ManualClock) -> std::io::Result<Self> {
        let router = Router::new().route("/token", post(bc_token)).fallback(bc_documents);
        Running::start(router, port, clock).await.map(Self)
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.url)
    }

    /// The API root for connectors using `auth`.
    pub fn base_url(&self, auth: BcAuth) -> String {
        format!("{}/{}{BC_COMPANY}", self.url, auth.segment())
    }

    /// A sales order that is in the ERP already; returns its id.
    pub fn seed(&self, external_document_number: &str) -> String {
        let mut state = self.app.lock();
        let mut record = Map::new();
        record.insert("externalDocumentNumber".into(), json!(external_document_number));
        (BC_DIALECT.assign_ids)(Kind::Orders, state.store.orders.len(), &mut record);
        let id = record["id"].as_str().expect("an id").to_owned();
        state.store.orders.push(Value::Object(record));
        id
    }

    pub fn tokens_issued(&self) -> u32 {
        self.app.lock().tokens_issued
    }

    /// Refuses every token issued so far, as when the server's idea of expiry comes first.
    pub fn revoke_tokens(&self) {
        self.app.lock().tokens.clear();
    }
}

async fn bc_token(
    State(app): State<BcApp>,
    method: Method,
    uri: Uri,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut state = app.lock();
    let valid = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some(BC_CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(BC_CLIENT_SECRET)
        && form.contains_key("scope");
    let response = if valid {
        state.tokens_issued += 1;
        let token = format!("bc-token-{}", state.tokens_issued);
        state.tokens.insert(token.clone(), app.clock.now_ms() + ms(BC_TOKEN_LIFETIME));
        json_response(
            StatusCode::OK,
            json!({"token_type": "Bearer", "expires_in": BC_TOKEN_LIFETIME.as_secs(), "access_token": token}),
        )
    } else {
        json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
        )
    };
    state.store.logged(&method, &uri, response)
}

async fn bc_documents(
    State(app): State<BcApp>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let decision = {
        let mut state = app.lock();
        let path = uri.path().to_owned();
        let target = [BcAuth::Bearer, BcAuth::Basic, BcAuth::ApiKey, BcAuth::Digest].into_iter().find_map(|m| {
            let kind = BC_DIALECT.kind(&path, &format!("/{}{BC_COMPANY}", m.segment()))?;
            Some((m, kind))
        });
        match target {
            None => Next::Reply(bc_error(
                StatusCode::NOT_FOUND,
                "BadRequest_NotFound",
                "No HTTP resource was found that matches the request URI.",
            )),
            Some((mode, kind)) => match bc_check_auth(&mut state, &app.clock, mode, &method, &uri, &headers) {
                Some(refused) => Next::Reply(refused),
                None => next(&mut state.store, kind),
            },
        }
    };
    let response = match decision {
        Next::Reply(response) => response,
        Next::Hang => std::future::pending().await,
        Next::Default { kind, empty_lookup } => {
            documents(&mut app.lock().store, &BC_DIALECT, kind, &method, &uri, &body, empty_lookup)
        }
    };
    app.lock().store.logged(&method, &uri, response)
}

/// `None` when the request may pass; else the 401 to answer.
fn bc_check_auth(
    state: &mut BcState,
    clock: &ManualClock,
    mode: BcAuth,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let passed = match mode {
        BcAuth::Bearer => authorization
            .strip_prefix("Bearer ")
            .and_then(|token| state.tokens.get(token))
            .is_some_and(|expires| clock.now_ms() < *expires),
        BcAuth::Basic => authorization == BASIC_HEADER,
        BcAuth::ApiKey => {
            let query: HashMap<String, String> = Query::try_from_uri(uri).map(|q| q.0).unwrap_or_default();
            headers.get("ocp-apim-subscription-key").is_some_and(|k| k == API_KEY)
                || query.get("subscription-key").is_some_and(|k| k == API_KEY)
        }
        BcAuth::Digest => digest_passes(state, method, uri, authorization),
    };
    if passed {
        return None;
    }
    let mut response = bc_error(
        StatusCode::UNAUTHORIZED,
        "Authentication_InvalidCredentials",
        "The server has rejected the client credentials.",
    );
    let challenge = match mode {
        BcAuth::Digest => {
            let nonce = format!("nonce-{}", state.nonces.len() + 1);
            state.nonces.insert(nonce.clone());
            format!(
                r#"Digest realm="{DIGEST_REALM}", qop="auth", algorithm=MD5, nonce="{nonce}", opaque="fake-opaque""#
            )
        }
        _ => r#"Bearer error="invalid_token""#.to_owned(),
    };
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_str(&challenge).expect("a header value"));
    Some(response)
}

/// Recomputes the client's Digest response with the known password, for a nonce we issued.
fn digest_passes(state: &BcState, method: &Method, uri: &Uri, authorization: &str) -> bool {
    let Some(sent) = authorization.strip_prefix("Digest ").and_then(|h| AuthorizationHeader::parse(h).ok()) else {
        return false;
    };
    let signed_uri = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if !state.nonces.contains(&sent.nonce) || sent.uri != signed_uri || sent.username != DIGEST_USER {
        return false;
    }
    let context = AuthContext::new_with_method(
        DIGEST_USER,
        DIGEST_PASSWORD,
        signed_uri,
        None::<&[u8]>,
        HttpMethod(method.as_str().into()),
    );
    let mut expected = sent.clone();
    expected.digest(&context);
    expected.response == sent.response
}

// ---------------------------------------------------------------------------------------------
// SAP Business One

const SAP_ROOT: &str = "/b1s/v1";

/// SAP's documents and sessions.
#[derive(Default)]
pub struct SapState {
    store: Store,
    /// Session id → last use, in clock milliseconds.
    sessions: HashMap<String, u64>,
    logins: u32,
}

type SapApp = App<SapState>;

const SAP_DIALECT: Dialect = Dialect {
    orders: "Orders",
    credit_memos: "CreditNotes",
    reference: "NumAtCard",
    lines: "DocumentLines",
    item: "ItemCode",
    error: sap_error,
    unknown_item: |item, line| {
        let message = format!("[RDR1.ItemCode][line: {line}] , 'Invalid item code: {item}'");
        sap_error(StatusCode::BAD_REQUEST, "-10", &message)
    },
    duplicate: Some(|reference| {
        let message = format!("Customer/Vendor Ref. No. '{reference}' already exists in another document");
        sap_error(StatusCode::BAD_REQUEST, "-10", &message)
    }),
    assign_ids: |kind, n, record| {
        let first = match kind {
            Kind::Orders => 1_000,
            Kind::CreditMemos => 5_000,
        };
        record.insert("DocEntry".into(), json!(n + 1));
        record.insert("DocNum".into(), json!(first + n));
    },
};

fn sap_error(status: StatusCode, code: &str, message: &str) -> Response {
    // SAP's codes are numbers; the symbolic ones of the shared request checks become -1.
    let code: i64 = code.parse().unwrap_or(-1);
    json_response(status, json!({"error": {"code": code, "message": {"lang": "en-us", "value": message}}}))
}

/// The running fake; stopped when dropped. The document accessors are [`Running`]'s.
pub struct FakeSap(Running<SapState>);

impl Deref for FakeSap {
    type Target = Running<SapState>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FakeSap {
    /// Sessions time out on `clock`, which the test advances.
    pub async fn start(clock: ManualClock) -> Self {
        Self::start_on(0, clock).await.expect("bind a fake SAP Business One")
    }

    /// On a given loopback port, as the local connector configuration expects.
    pub async fn start_on(port: u16, clock: ManualClock) -> std::io::Result<Self> {
        let router = Router::new().route("/b1s/v1/Login", post(sap_login)).fallback(sap_documents);
        Running::start(router, port, clock).await.map(Self)
    }

    pub fn base_url(&self) -> String {
        format!("{}{SAP_ROOT}", self.url)
    }

    pub fn logins(&self) -> u32 {
        self.app.lock().logins
    }
}

async fn sap_login(State(app): State<SapApp>, method: Method, uri: Uri, Json(body): Json<Value>) -> Response {
    let mut state = app.lock();
    let valid = body["CompanyDB"] == SAP_COMPANY && body["UserName"] == SAP_USER && body["Password"] == SAP_PASSWORD;
    let response = if valid {
        state.logins += 1;
        let session = format!("b1-session-{}", state.logins);
        state.sessions.insert(session.clone(), app.clock.now_ms());
        let mut response = json_response(
            StatusCode::OK,
            json!({"odata.metadata": "$metadata#B1Sessions/@Element", "SessionId": session, "Version": "1000190", "SessionTimeout": SAP_SESSION_TIMEOUT.as_secs() / 60}),
        );
        let headers = response.headers_mut();
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_str(&format!("B1SESSION={session}; path=/b1s; HttpOnly")).expect("a header value"),
        );
        headers.append(header::SET_COOKIE, HeaderValue::from_static("ROUTEID=.node1; path=/b1s"));
        response
    } else {
        sap_error(StatusCode::UNAUTHORIZED, "100000027", "Login failed")
    };
    state.store.logged(&method, &uri, response)
}

async fn sap_documents(
    State(app): State<SapApp>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let decision = {
        let mut state = app.lock();
        let now = app.clock.now_ms();
        let session = cookie(&headers, "B1SESSION");
        let live = session
            .as_deref()
            .and_then(|s| state.sessions.get_mut(s))
            .filter(|last_used| now.saturating_sub(**last_used) < ms(SAP_SESSION_TIMEOUT))
            .map(|last_used| *last_used = now)
            .is_some();
        match SAP_DIALECT.kind(uri.path(), SAP_ROOT) {
            None => Next::Reply(sap_error(StatusCode::NOT_FOUND, "-1", "Resource not found for the segment")),
            Some(_) if !live || cookie(&headers, "ROUTEID").is_none() => {
                Next::Reply(sap_error(StatusCode::UNAUTHORIZED, "301", "Invalid session or session already timeout."))
            }
            Some(kind) => next(&mut state.store, kind),
        }
    };
    let response = match decision {
        Next::Reply(response) => response,
        Next::Hang => std::future::pending().await,
        Next::Default { kind, empty_lookup } => {
            documents(&mut app.lock().store, &SAP_DIALECT, kind, &method, &uri, &body, empty_lookup)
        }
    };
    app.lock().store.logged(&method, &uri, response)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}
