//! Business Central's OAuth2 client-credentials grant (RFC 6749 §4.4) as Microsoft Entra ID
//! answers it: a form POST with `grant_type`, `client_id`, `client_secret` and `scope`; a wrong
//! secret is 401 `invalid_client` with an AADSTS description. Tokens are opaque here (Entra
//! issues JWTs) and expire on the test's clock after `expires_in`.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Form, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::ports::Clock;
use serde_json::json;

use crate::business_central::{BcApp, BcState};
use crate::server::{json_response, ms};

pub const BC_CLIENT_ID: &str = "orderflow-local";
pub const BC_CLIENT_SECRET: &str = "local-dev-only-bc-client-secret";
/// How long a Business Central token lives, as the token answer's `expires_in`.
pub const BC_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

pub(crate) async fn token(
    State(app): State<BcApp>,
    method: Method,
    uri: Uri,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut state = app.lock();
    let valid = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some(BC_CLIENT_ID)
        && form.get("client_secret").map(String::as_str)
            == Some(state.rotated_secret.as_deref().unwrap_or(BC_CLIENT_SECRET))
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

/// Whether `authorization` carries a token this endpoint issued that has not expired.
pub(crate) fn bearer_passes(state: &BcState, clock: &ManualClock, authorization: &str) -> bool {
    authorization
        .strip_prefix("Bearer ")
        .and_then(|token| state.tokens.get(token))
        .is_some_and(|expires| clock.now_ms() < *expires)
}

/// RFC 6750's challenge for a missing, expired or unknown token.
pub(crate) fn challenge() -> String {
    r#"Bearer error="invalid_token""#.to_owned()
}
