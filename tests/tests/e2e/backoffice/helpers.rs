//! A portal served on a free port over embedded adapters, two accounts (an operator and a
//! viewer), and a client that keeps the session cookie and reads the CSRF token off pages.

use std::sync::{Arc, OnceLock};

use backoffice::accounts::Accounts;
use backoffice::identity::Role;
use backoffice::session::LocalSessions;
use backoffice::{Gate, Portal, Queues};
use orderflow_shared::adapters::embedded::{
    DirObjectStore, EmbeddedFifoQueue, EmbeddedOrderStore, EmbeddedRecovery, MemoryAppStore,
};
use orderflow_shared::dte::{Failure, Operation, SimulatedDteProvider};
use orderflow_shared::lifecycle::{OrderRecord, Stage};
use orderflow_shared::order_service::OrderService;
use orderflow_shared::ports::{DteProvider, FifoQueue, OrderStore, RecoveryStarter};

pub const OPERATOR: (&str, &str) = ("ana", "operator-password-1");
pub const VIEWER: (&str, &str) = ("vic", "viewer-password-22");

pub type Service =
    OrderService<Arc<EmbeddedOrderStore>, Arc<EmbeddedFifoQueue>, Arc<SimulatedDteProvider>, EmbeddedRecovery>;

/// Hashed once per test binary: Argon2 is slow on purpose.
pub fn accounts() -> Accounts {
    static ACCOUNTS: OnceLock<Accounts> = OnceLock::new();
    ACCOUNTS
        .get_or_init(|| {
            let mut accounts = Accounts::default();
            accounts.set(OPERATOR.0, Role::Operator, OPERATOR.1).unwrap();
            accounts.set(VIEWER.0, Role::Viewer, VIEWER.1).unwrap();
            accounts
        })
        .clone()
}

pub struct Embedded {
    pub url: String,
    pub service: Arc<Service>,
    pub pending: Arc<EmbeddedFifoQueue>,
    pub erp_dlq: Arc<EmbeddedFifoQueue>,
    pub erp_sync: Arc<EmbeddedFifoQueue>,
    pub bucket: DirObjectStore,
    /// The bucket's directory, removed when the test ends.
    _dir: orderflow_shared::test_dir::TestDir,
}

/// The DTE provider refuses the first `broadcast_failures` broadcasts of every order.
pub async fn embedded(broadcast_failures: u32) -> Embedded {
    embedded_with_store(Arc::new(EmbeddedOrderStore::new()), broadcast_failures).await
}

pub async fn embedded_with_store(store: Arc<EmbeddedOrderStore>, broadcast_failures: u32) -> Embedded {
    let dte = SimulatedDteProvider::default().with_first_failures(
        Operation::Broadcast,
        Failure::Transient,
        broadcast_failures,
    );
    let service = Arc::new(OrderService {
        store,
        queue: Arc::new(EmbeddedFifoQueue::new("orders.fifo")),
        dte: Arc::new(dte),
        recovery: EmbeddedRecovery::new().unwrap(),
    });
    let (pending, erp_dlq, erp_sync) = (
        Arc::new(EmbeddedFifoQueue::new("orders-pending.fifo")),
        Arc::new(EmbeddedFifoQueue::new("erp-dlq.fifo")),
        Arc::new(EmbeddedFifoQueue::new("erp-sync.fifo")),
    );
    let dir = orderflow_shared::test_dir::TestDir::new("portal-bucket");
    let bucket = DirObjectStore::new(dir.to_path_buf());
    // The apps page reads the shipped definitions and the local connections.
    let apps = MemoryAppStore::new(orderflow_e2e::local_config(None).registry(&[]).unwrap());
    let url = serve(Portal {
        apps: backoffice::apps_page::reader(std::sync::Arc::new(apps)),
        service: service.clone(),
        queues: Queues { pending: pending.clone(), erp_dlq: erp_dlq.clone(), erp_sync: erp_sync.clone() },
        originals: bucket.clone(),
        config: Default::default(),
        gate: Gate::Local { accounts: accounts(), sessions: LocalSessions::default() },
    })
    .await;
    Embedded { url, service, pending, erp_dlq, erp_sync, bucket, _dir: dir }
}

/// Serves `portal` on a free port of 127.0.0.1 for the rest of the test; returns its base URL.
pub async fn serve<S, Q, D, R, O>(portal: Portal<S, Q, D, R, O>) -> String
where
    S: OrderStore + 'static,
    Q: FifoQueue + 'static,
    D: DteProvider + 'static,
    R: RecoveryStarter + 'static,
    O: backoffice::originals::Originals + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = backoffice::router(Arc::new(portal));
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// The sample order under number `number`.
pub use orderflow_e2e::order_numbered as order;

/// An order that went through recovery without success: `broadcast_failed`, as the pipeline
/// leaves it (the DTE provider must refuse its first broadcast).
pub async fn broadcast_failed<S, Q, D, R>(service: &OrderService<S, Q, D, R>, number: &str) -> OrderRecord
where
    S: OrderStore,
    Q: FifoQueue,
    D: DteProvider,
    R: RecoveryStarter,
{
    let key = service.register(order(number), "incoming/sample.xml", "test").await.unwrap().record().key.clone();
    service.run_stage(&key, Stage::IssuanceDte, "test", None).await.unwrap();
    let handed = service.run_stage(&key, Stage::BroadcastDte, "test", None).await.unwrap();
    assert_eq!(handed.record().state, orderflow_shared::lifecycle::State::Error, "the first broadcast must fail");
    service.give_up_broadcast(&key, "retries used up", "recovery-workflow").await.unwrap().record().clone()
}

/// A browser-like client: no redirects followed, the session cookie kept by hand.
pub struct Browser {
    pub base: String,
    http: reqwest::Client,
    pub cookie: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no CSRF field in {}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// The value of the first hidden `action_id` field whose value starts with nothing in
    /// particular: every action form carries one.
    pub fn action_id(&self) -> String {
        let at = self.body.find("name=\"action_id\" value=\"").expect("an action form");
        let rest = &self.body[at + 24..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let http =
            orderflow_shared::http_client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: base.to_owned(), http, cookie: None }
    }

    pub async fn signed_in(base: &str, (name, password): (&str, &str)) -> Self {
        let mut browser = Self::new(base);
        let page = browser.sign_in(name, password).await;
        assert_eq!(page.status, 303, "sign-in as {name}: {}", page.body);
        assert!(browser.cookie.is_some(), "sign-in set no cookie");
        browser
    }

    /// Opens the sign-in form and posts it, as a person would.
    pub async fn sign_in(&mut self, name: &str, password: &str) -> Page {
        let form = self.get("/console/sign-in").await;
        self.post("/console/sign-in", &[("name", name), ("password", password), ("csrf", &form.csrf())]).await
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| {
                let v = percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC);
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join("&");
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    async fn send(&mut self, mut request: reqwest::RequestBuilder) -> Page {
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", format!("{}={cookie}", backoffice::session::COOKIE));
        }
        let response = request.send().await.unwrap();
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            if let Some(rest) = value.strip_prefix(&format!("{}=", backoffice::session::COOKIE)) {
                let cookie = rest.split(';').next().unwrap();
                self.cookie = (!cookie.is_empty()).then(|| cookie.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        Page { status, location, body: response.text().await.unwrap() }
    }
}
