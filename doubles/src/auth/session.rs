//! SAP Business One Service Layer sessions: `POST /b1s/v1/Login` with `CompanyDB`,
//! `UserName` and `Password` answers `SessionId` and sets the `B1SESSION` and `ROUTEID`
//! cookies; a request without both, or after `SessionTimeout` minutes idle, is 401 with
//! SAP's code 301. Each use of a live session renews its idle timer, as SAP's does.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::ports::Clock;
use serde_json::{Value, json};

use crate::sap_b1::{SapApp, SapState, sap_error};
use crate::server::{json_response, ms};

pub const SAP_COMPANY: &str = "SBODEMOUS";
pub const SAP_USER: &str = "manager";
pub const SAP_PASSWORD: &str = "local-dev-only-sap-b1-password";
/// SAP's default idle timeout, after which a session is refused with 401.
pub const SAP_SESSION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

pub(crate) async fn login(State(app): State<SapApp>, method: Method, uri: Uri, Json(body): Json<Value>) -> Response {
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

/// Whether the request carries a live session (and the route cookie); renews it if so.
pub(crate) fn live(state: &mut SapState, clock: &ManualClock, headers: &HeaderMap) -> bool {
    let now = clock.now_ms();
    let live = cookie(headers, "B1SESSION")
        .as_deref()
        .and_then(|s| state.sessions.get_mut(s))
        .filter(|last_used| now.saturating_sub(**last_used) < ms(SAP_SESSION_TIMEOUT))
        .map(|last_used| *last_used = now)
        .is_some();
    live && cookie(headers, "ROUTEID").is_some()
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
