//! The ways a connector proves itself to the fakes, one module each, as the real systems do it:
//!
//! - [`oauth2`]: Business Central's client-credentials token endpoint (Microsoft Entra ID) and
//!   the bearer tokens it issues, which expire on the test's clock.
//! - [`basic`]: RFC 7617 Basic.
//! - [`api_key`]: an API Management subscription key, in `Ocp-Apim-Subscription-Key` or the
//!   `subscription-key` query parameter.
//! - [`digest`]: RFC 7616 Digest (MD5, qop=auth) with nonces the fake issued.
//! - [`session`]: SAP Business One's `POST /Login` session (`B1SESSION` + `ROUTEID` cookies)
//!   with its idle timeout.
//!
//! Business Central serves the same documents under one base path per mode ([`BcAuth`]); a
//! refusal is Business Central's 401 with the challenge of that mode.

pub mod api_key;
pub mod basic;
pub mod digest;
pub mod oauth2;
pub mod session;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use orderflow_shared::adapters::embedded::ManualClock;

use crate::business_central::{BcState, bc_error};

/// How a request to the fake Business Central proves itself; each has its own base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BcAuth {
    Bearer,
    Basic,
    ApiKey,
    Digest,
}

impl BcAuth {
    pub(crate) fn segment(self) -> &'static str {
        match self {
            Self::Bearer => "api",
            Self::Basic => "basic",
            Self::ApiKey => "apikey",
            Self::Digest => "digest",
        }
    }
}

/// `None` when the request may pass; else the 401 to answer.
pub(crate) fn check(
    state: &mut BcState,
    clock: &ManualClock,
    mode: BcAuth,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let passed = match mode {
        BcAuth::Bearer => oauth2::bearer_passes(state, clock, authorization),
        BcAuth::Basic => basic::passes(authorization),
        BcAuth::ApiKey => api_key::passes(uri, headers),
        BcAuth::Digest => digest::passes(state, method, uri, authorization),
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
        BcAuth::Digest => Some(digest::challenge(state)),
        BcAuth::Basic => Some(basic::challenge()),
        BcAuth::Bearer => Some(oauth2::challenge()),
        // API Management answers a missing or wrong key with 401 and no challenge.
        BcAuth::ApiKey => None,
    };
    if let Some(challenge) = challenge {
        let value = HeaderValue::from_str(&challenge).expect("a header value");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    Some(response)
}
