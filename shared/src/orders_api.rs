//! The Orders API as seen by its callers: one HTTPS POST per queued command, authenticated
//! with `x-api-key`, and every answer sorted into delivered, retry later, or never.

use crate::http_answer::{error_body, retry_for_status, transport_code};
use crate::http_client::http_client;
use crate::text::{error_chain, tidy};
use std::fmt;
use std::time::Duration;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

use crate::command::OrderCommand;
use crate::error::{Classify, Retry};
use crate::secrets::{Secret, SecretSource};

pub const API_KEY_HEADER: &str = "x-api-key";
pub const SOURCE_HEADER: &str = "x-orderflow-source";

/// Error codes and messages are cut to these many characters: enough to act on, small enough
/// for a log line or a message attribute.
const MAX_CODE: usize = 64;
const MAX_MESSAGE: usize = 256;

/// Header values must be visible ASCII; `%` is escaped too so the encoding can be reversed.
const SOURCE_ESCAPES: &AsciiSet = &CONTROLS.add(b'%');

/// The 2xx the API answered (a duplicate is a 200, a first delivery usually 201).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub status: u16,
}

/// Why a command was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// The HTTP status, when the API answered at all.
    pub status: Option<u16>,
    /// The API's error code, or `http_<status>`, `timeout`, `connect`, `request`, `api_key`.
    pub code: String,
    pub message: String,
    pub retry: Retry,
}

impl ApiFailure {
    /// Sorts a non-2xx answer: throttling, timeouts and faults may pass; any other refusal is
    /// about this command and will be repeated.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        let (code, message, from_api) = match error_body(body) {
            Some((code, message)) => (code, message, true),
            None => (format!("http_{status}"), String::from_utf8_lossy(body).into_owned(), false),
        };
        let retry = match status {
            // API Gateway's own 401/403 (no error body of ours) means a wrong or rotated key:
            // the deployment's fault, so the commands wait in the queue instead of being parked.
            401 | 403 if !from_api => Retry::Transient,
            // The API's upstream (the DTE provider) refused credentials read afresh.
            _ if from_api && code == crate::api::CREDENTIALS_REFUSED => Retry::Auth,
            _ => retry_for_status(status),
        };
        Self { status: Some(status), code: tidy(&code, MAX_CODE), message: tidy(&message, MAX_MESSAGE), retry }
    }

    fn from_transport(err: reqwest::Error) -> Self {
        Self::local(transport_code(&err), error_chain(&err))
    }

    /// A failure on this side of the wire; never the command's fault, so always retried.
    fn local(code: &str, message: impl AsRef<str>) -> Self {
        Self {
            status: None,
            code: code.to_owned(),
            message: tidy(message.as_ref(), MAX_MESSAGE),
            retry: Retry::Transient,
        }
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "Orders API answered {status} {}: {}", self.code, self.message),
            None => write!(f, "Orders API call failed ({}): {}", self.code, self.message),
        }
    }
}

impl std::error::Error for ApiFailure {}

impl Classify for ApiFailure {
    fn retry(&self) -> Retry {
        self.retry
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("Orders API base URL {url:?} is not an http(s) URL: {reason}")]
    BaseUrl { url: String, reason: String },
    #[error("building the Orders API HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// An HTTP client for the Orders API, built once per cold start and shared by every call.
///
/// The key is read from `api_key` on every call, so a [`crate::secrets::CachedSecret`] picks
/// up a rotation within its TTL; a plain [`Secret`] stays fixed.
#[derive(Debug)]
pub struct OrdersApiClient<K = Secret> {
    http: reqwest::Client,
    base_url: String,
    api_key: K,
}

impl<K: SecretSource> OrdersApiClient<K> {
    pub fn new(base_url: &str, api_key: K, timeout: Duration) -> Result<Self, ClientError> {
        let invalid = |reason: String| ClientError::BaseUrl { url: base_url.to_owned(), reason };
        let url = reqwest::Url::parse(base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!("scheme {}", url.scheme())));
        }
        let http = http_client(timeout, HeaderMap::new())?;
        Ok(Self { http, base_url: base_url.trim_end_matches('/').to_owned(), api_key })
    }

    /// Sends one command: `POST /orders` for a registration, `POST /orders/{key}/{stage}` for a stage.
    pub async fn deliver(&self, command: &OrderCommand) -> Result<Delivered, ApiFailure> {
        let key = self.api_key.current().await.map_err(|e| ApiFailure::local("api_key", e.to_string()))?;
        let mut key_header = HeaderValue::from_str(key.expose())
            .map_err(|_| ApiFailure::local("api_key", "the API key is not a valid header value"))?;
        key_header.set_sensitive(true);

        let call = Call::of(command);
        let mut request = self
            .http
            .post(format!("{}{}", self.base_url, call.path))
            .header(API_KEY_HEADER, key_header)
            .header(CONTENT_TYPE, "application/json")
            .body(call.body);
        if let Some(source) = call.source {
            request = request.header(SOURCE_HEADER, source);
        }
        let response = request.send().await.map_err(ApiFailure::from_transport)?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(Delivered { status });
        }
        match response.bytes().await {
            Ok(body) => Err(ApiFailure::from_response(status, &body)),
            Err(e) => Err(ApiFailure::from_response(
                status,
                format!("(error body unreadable: {})", error_chain(&e)).as_bytes(),
            )),
        }
    }
}

/// The HTTP request a command becomes; also used to call the router in process.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    pub path: String,
    pub body: Vec<u8>,
    /// For the `x-orderflow-source` header, percent-encoded so any S3 key makes a valid header.
    pub source: Option<String>,
}

impl Call {
    pub fn of(command: &OrderCommand) -> Self {
        match command {
            OrderCommand::Register { source, order } => Self {
                path: "/orders".into(),
                body: order.to_json(),
                source: Some(utf8_percent_encode(source, SOURCE_ESCAPES).to_string()),
            },
            OrderCommand::Stage { order_key, stage, attempt } => Self {
                path: format!("/orders/{order_key}/{}", stage.route()),
                body: serde_json::to_vec(&serde_json::json!({ "attempt": attempt })).expect("a number serialises"),
                source: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Stage;
    use crate::order::OrderKey;
    use crate::ubl::{Limits, parse_order};

    fn order() -> crate::order::CanonicalOrder {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/orders/small-clp.xml");
        parse_order(&std::fs::read(path).unwrap(), &Limits::default()).unwrap()
    }

    #[test]
    fn a_registration_posts_the_canonical_order_with_its_source() {
        let order = order();
        let call = Call::of(&OrderCommand::Register {
            source: "s3://b/incoming/pedido ñ%.xml".into(),
            order: Box::new(order.clone()),
        });
        assert_eq!(call.path, "/orders");
        assert_eq!(call.body, order.to_json());
        assert_eq!(call.source.as_deref(), Some("s3://b/incoming/pedido %C3%B1%25.xml"));
        assert!(HeaderValue::from_str(call.source.as_deref().unwrap()).is_ok());
    }

    #[test]
    fn a_stage_posts_its_attempt_to_the_stage_route() {
        let key = OrderKey::parse("PO-1-0123456789abcdef").unwrap();
        let call = Call::of(&OrderCommand::Stage { order_key: key, stage: Stage::BroadcastDte, attempt: 3 });
        assert_eq!(call.path, "/orders/PO-1-0123456789abcdef/broadcast-dte");
        assert_eq!(call.body, br#"{"attempt":3}"#);
        assert_eq!(call.source, None);
    }

    #[test]
    fn throttling_and_faults_are_retried_and_refusals_are_not() {
        for status in [408, 429, 500, 502, 503, 504, 302] {
            assert_eq!(ApiFailure::from_response(status, b"").retry, Retry::Transient, "{status}");
        }
        let refusal = br#"{"error":{"code":"refused","message":"no"}}"#;
        for status in [400, 401, 403, 404, 409, 422] {
            assert_eq!(ApiFailure::from_response(status, refusal).retry, Retry::Permanent, "{status}");
        }
    }

    #[test]
    fn the_api_error_body_gives_code_and_message() {
        let f = ApiFailure::from_response(409, br#"{"error":{"code":"conflict","message":"same key, other content"}}"#);
        assert_eq!((f.code.as_str(), f.message.as_str()), ("conflict", "same key, other content"));
        assert_eq!(f.to_string(), "Orders API answered 409 conflict: same key, other content");
    }

    #[test]
    fn any_other_body_is_kept_short_under_an_http_code() {
        let f = ApiFailure::from_response(502, format!("<html>\n{}</html>", "x".repeat(5000)).as_bytes());
        assert_eq!(f.code, "http_502");
        assert_eq!(f.message.chars().count(), MAX_MESSAGE + 1);
        assert!(f.message.starts_with("<html> x") && f.message.ends_with('…'), "{}", f.message);
    }

    #[test]
    fn base_urls_must_be_http() {
        for bad in ["not a url", "ftp://example.com"] {
            let err = OrdersApiClient::new(bad, Secret::new("k"), Duration::from_secs(1)).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
        let client =
            OrdersApiClient::new("https://api.example.com/prod/", Secret::new("k"), Duration::from_secs(1)).unwrap();
        assert_eq!(client.base_url, "https://api.example.com/prod");
        assert!(!format!("{client:?}").contains("\"k\""), "the key stays hidden");
    }

    #[test]
    fn api_gateway_key_refusals_wait_but_the_routers_refusals_park() {
        let gateway = ApiFailure::from_response(403, br#"{"message":"Forbidden"}"#);
        assert_eq!(gateway.retry, Retry::Transient, "a wrong key must not park every order");
        let router = ApiFailure::from_response(403, br#"{"error":{"code":"forbidden","message":"no"}}"#);
        assert_eq!(router.retry, Retry::Permanent);
    }
}
