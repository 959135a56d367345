//! SAP Business One Service Layer (v1): `Orders` and `CreditNotes` behind a session from
//! `POST /Login` (see [`crate::auth::session`]); a duplicate `NumAtCard` is refused with SAP's 400.

use std::collections::HashMap;
use std::ops::Deref;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use orderflow_shared::adapters::embedded::ManualClock;
use serde_json::json;

use crate::auth::session;
use crate::server::{App, Dialect, Documents, Kind, Next, Running, Store, answer, items_answer, json_response, next};

pub(crate) const SAP_ROOT: &str = "/b1s/v1";

/// SAP's documents and sessions.
#[derive(Default)]
pub struct SapState {
    pub(crate) store: Store,
    /// Session id → last use, in clock milliseconds.
    pub(crate) sessions: HashMap<String, u64>,
    pub(crate) logins: u32,
}

impl Documents for SapState {
    fn store(&mut self) -> &mut Store {
        &mut self.store
    }
}

pub(crate) type SapApp = App<SapState>;

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

pub(crate) fn sap_error(status: StatusCode, code: &str, message: &str) -> Response {
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
        let router = Router::new().route("/b1s/v1/Login", post(session::login)).fallback(sap_documents);
        Running::start(router, port, clock).await.map(Self)
    }

    pub fn base_url(&self) -> String {
        format!("{}{SAP_ROOT}", self.url)
    }

    pub fn logins(&self) -> u32 {
        self.app.lock().logins
    }
}

async fn sap_documents(
    State(app): State<SapApp>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if method == Method::GET && uri.path() == format!("{SAP_ROOT}/Items") {
        let live = session::live(&mut app.lock(), &app.clock, &headers);
        if !live {
            let refused = sap_error(StatusCode::UNAUTHORIZED, "301", "Invalid session or session already timeout.");
            return app.lock().store.logged(&method, &uri, refused);
        }
        return items_answer(&app, &method, &uri, |catalogue| crate::items::sap(catalogue, &uri, &headers)).await;
    }
    let decision = {
        let mut state = app.lock();
        let live = session::live(&mut state, &app.clock, &headers);
        match SAP_DIALECT.kind(uri.path(), SAP_ROOT) {
            None => Next::Reply(sap_error(StatusCode::NOT_FOUND, "-1", "Resource not found for the segment")),
            Some(_) if !live => {
                Next::Reply(sap_error(StatusCode::UNAUTHORIZED, "301", "Invalid session or session already timeout."))
            }
            Some(kind) => next(&mut state.store, kind),
        }
    };
    answer(&app, &SAP_DIALECT, decision, &method, &uri, &body).await
}
