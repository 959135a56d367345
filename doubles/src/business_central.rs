//! Dynamics 365 Business Central (API v2.0): `salesOrders` and `salesCreditMemos` under one
//! company, behind the four ways a connector may authenticate (see [`crate::auth`]). Like the
//! real API it does not enforce a unique `externalDocumentNumber`.

use std::collections::{HashMap, HashSet};
use std::ops::Deref;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use orderflow_shared::adapters::embedded::ManualClock;
use serde_json::{Map, Value, json};

use crate::auth::{self, BcAuth};
use crate::server::{App, Dialect, Documents, Kind, Next, Running, Store, answer, items_answer, json_response, next};

/// The company segment of every Business Central path.
const BC_COMPANY: &str = "/v2.0/companies(orderflow-local)";

/// Business Central's documents, tokens and Digest nonces.
#[derive(Default)]
pub struct BcState {
    pub(crate) store: Store,
    /// Token → expiry in clock milliseconds.
    pub(crate) tokens: HashMap<String, u64>,
    pub(crate) tokens_issued: u32,
    pub(crate) nonces: HashSet<String>,
    /// The client secret the token endpoint accepts now, when it was rotated from
    /// [`auth::oauth2::BC_CLIENT_SECRET`].
    pub(crate) rotated_secret: Option<String>,
}

impl Documents for BcState {
    fn store(&mut self) -> &mut Store {
        &mut self.store
    }
}

pub(crate) type BcApp = App<BcState>;

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

pub(crate) fn bc_error(status: StatusCode, code: &str, message: &str) -> Response {
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
        let router = Router::new().route("/token", post(auth::oauth2::token)).fallback(bc_documents);
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

    /// A new client secret, as when an admin rotates it in Entra ID: the old one is refused
    /// from now on. Tokens already issued stay valid until they expire, as Entra's do.
    pub fn rotate_client_secret(&self, secret: &str) {
        self.app.lock().rotated_secret = Some(secret.to_owned());
    }

    /// Refuses every token issued so far, as when the server's idea of expiry comes first.
    pub fn revoke_tokens(&self) {
        self.app.lock().tokens.clear();
    }
}

async fn bc_documents(
    State(app): State<BcApp>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let items = [BcAuth::Bearer, BcAuth::Basic, BcAuth::ApiKey, BcAuth::Digest]
        .into_iter()
        .find(|m| uri.path() == format!("/{}{BC_COMPANY}/items", m.segment()));
    if let Some(mode) = items.filter(|_| method == Method::GET) {
        let refused = auth::check(&mut app.lock(), &app.clock, mode, &method, &uri, &headers);
        if let Some(refused) = refused {
            return app.lock().store.logged(&method, &uri, refused);
        }
        let url = format!(
            "http://{}{}",
            headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost"),
            uri.path()
        );
        return items_answer(&app, &method, &uri, |catalogue| crate::items::business_central(catalogue, &url, &uri))
            .await;
    }
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
            Some((mode, kind)) => match auth::check(&mut state, &app.clock, mode, &method, &uri, &headers) {
                Some(refused) => Next::Reply(refused),
                None => next(&mut state.store, kind),
            },
        }
    };
    answer(&app, &BC_DIALECT, decision, &method, &uri, &body).await
}
