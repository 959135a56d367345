//! The DTE provider over HTTP(S): one JSON POST per call, an idempotency key per order and
//! operation, and every failure sorted into "retry later" or "never".

use crate::http_answer::{error_body, retry_for_provider_status, transport_code};
use crate::http_client::http_client;
use crate::text::{error_chain, tidy};
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use tracing::warn;

use super::{Operation, folio};
use crate::error::Retry;
use crate::lifecycle::OrderRecord;
use crate::order::{CanonicalOrder, Decimal, OrderLine, Party};
use crate::ports::{DteError, DteProvider};
use crate::secrets::Secret;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Codes and messages are cut to these many characters: enough to act on, small enough for a
/// log line or the order's error record.
const MAX_CODE: usize = 64;
const MAX_MESSAGE: usize = 256;

/// Everything but RFC 3986 unreserved characters is escaped, so a folio stays one path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// How the adapter authenticates. Debug prints secrets as `***`.
#[derive(Debug, Clone)]
pub enum DteAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// A key in a header the provider names, e.g. `x-api-key`.
    ApiKey {
        header: String,
        value: Secret,
    },
    None,
}

impl DteAuth {
    fn header(&self) -> Result<Option<(HeaderName, HeaderValue)>, DteClientError> {
        let (name, value) = match self {
            Self::None => return Ok(None),
            Self::Bearer(token) => (AUTHORIZATION, format!("Bearer {}", token.expose())),
            Self::ApiKey { header, value } => (
                HeaderName::from_bytes(header.as_bytes())
                    .map_err(|_| DteClientError::AuthHeaderName(header.clone()))?,
                value.expose().to_owned(),
            ),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| DteClientError::AuthValue)?;
        // Keeps the value out of reqwest's and http's Debug output.
        value.set_sensitive(true);
        Ok(Some((name, value)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DteClientError {
    #[error("DTE base URL {url:?} is not an http(s) URL: {reason}")]
    BaseUrl { url: String, reason: String },
    #[error("DTE auth header name {0:?} is not a valid header name")]
    AuthHeaderName(String),
    // The value is left out on purpose: it is the secret.
    #[error("the DTE credential is not a valid header value")]
    AuthValue,
    #[error("building the DTE HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The real provider, built once and shared by every call.
pub struct HttpDteProvider {
    http: reqwest::Client,
    base_url: String,
}

impl HttpDteProvider {
    /// `timeout` bounds each whole call, connect to last body byte.
    pub fn new(base_url: &str, auth: DteAuth, timeout: Duration) -> Result<Self, DteClientError> {
        check_base_url(base_url)?;
        let mut headers = HeaderMap::new();
        if let Some((name, value)) = auth.header()? {
            headers.insert(name, value);
        }
        let http = http_client(timeout, headers)?;
        Ok(Self { http, base_url: base_url.trim_end_matches('/').to_owned() })
    }

    /// POSTs `body` and returns the string field `id_field` of a 2xx answer.
    async fn call(
        &self,
        op: Operation,
        record: &OrderRecord,
        path: &str,
        body: &impl Serialize,
        id_field: &str,
    ) -> Result<String, DteError> {
        let result = self.try_call(op, record, path, body, id_field).await;
        if let Err(e) = &result {
            warn!(
                operation = op.as_str(),
                order_key = %record.key,
                code = %e.code,
                retry = ?e.retry,
                "DTE provider call failed"
            );
        }
        result
    }

    async fn try_call(
        &self,
        op: Operation,
        record: &OrderRecord,
        path: &str,
        body: &impl Serialize,
        id_field: &str,
    ) -> Result<String, DteError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header(IDEMPOTENCY_KEY, format!("{}-{}", record.key, op.as_str()))
            .json(body)
            .send()
            .await
            .map_err(|e| transport(op, &e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| transport(op, &e))?;
        if !status.is_success() {
            return Err(refusal(op, status, &bytes));
        }
        let id = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get(id_field)?.as_str().map(str::to_owned))
            .filter(|id| !id.is_empty());
        // The call may well have worked; a retry with the same idempotency key finds out.
        id.ok_or_else(|| DteError {
            operation: op.as_str(),
            code: "bad_response".into(),
            message: format!("the provider answered {status} without a {id_field}"),
            retry: Retry::Transient,
        })
    }
}

/// An absolute http(s) URL, or why not.
pub(super) fn check_base_url(base_url: &str) -> Result<(), DteClientError> {
    let invalid = |reason: String| DteClientError::BaseUrl { url: base_url.to_owned(), reason };
    let url = reqwest::Url::parse(base_url).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!("scheme {}", url.scheme())));
    }
    Ok(())
}

impl fmt::Debug for HttpDteProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpDteProvider").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl DteProvider for HttpDteProvider {
    async fn issue(&self, record: &OrderRecord) -> Result<String, DteError> {
        let body = IssueRequest::of(&record.order);
        self.call(Operation::Issue, record, "/v1/dte", &body, "folio").await
    }

    async fn broadcast(&self, record: &OrderRecord) -> Result<String, DteError> {
        let path = format!("/v1/dte/{}/broadcast", utf8_percent_encode(folio(record)?, SEGMENT));
        let body = serde_json::json!({ "order_key": record.key });
        self.call(Operation::Broadcast, record, &path, &body, "track_id").await
    }
}

/// The document to issue. Amounts borrow the order's [`Decimal`]s, so they travel as the
/// strings they arrived as.
#[derive(Serialize)]
struct IssueRequest<'a> {
    order_key: &'a str,
    order_number: &'a str,
    issue_date: &'a str,
    currency: &'a str,
    buyer: PartyRef<'a>,
    seller: PartyRef<'a>,
    lines: Vec<LineRef<'a>>,
    totals: TotalsRef<'a>,
}

#[derive(Serialize)]
struct PartyRef<'a> {
    name: &'a str,
    id: Cow<'a, str>,
}

#[derive(Serialize)]
struct LineRef<'a> {
    line_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<&'a str>,
    name: &'a str,
    quantity: &'a Decimal,
    unit: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<&'a Decimal>,
    line_total: &'a Decimal,
}

#[derive(Serialize)]
struct TotalsRef<'a> {
    payable: &'a Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    tax_total: Option<&'a Decimal>,
}

impl<'a> IssueRequest<'a> {
    fn of(order: &'a CanonicalOrder) -> Self {
        Self {
            order_key: order.order_key.as_str(),
            order_number: &order.order_number,
            issue_date: &order.issue_date,
            currency: &order.currency,
            buyer: PartyRef::of(&order.buyer),
            seller: PartyRef::of(&order.seller),
            lines: order.lines.iter().map(LineRef::of).collect(),
            totals: TotalsRef { payable: &order.totals.payable, tax_total: order.totals.tax_total.as_ref() },
        }
    }
}

impl<'a> PartyRef<'a> {
    /// The tax document names parties by legal registration (the RUT in Chile); without one,
    /// the party's most stable identifier.
    fn of(party: &'a Party) -> Self {
        let id = match &party.company_id {
            Some(company) => Cow::Borrowed(company.value.as_str()),
            None => Cow::Owned(party.identity()),
        };
        Self { name: &party.name, id }
    }
}

impl<'a> LineRef<'a> {
    fn of(line: &'a OrderLine) -> Self {
        Self {
            line_id: &line.line_id,
            sku: line.sku.as_deref(),
            name: &line.name,
            quantity: &line.quantity,
            unit: &line.unit,
            price: line.price.as_ref(),
            line_total: &line.line_total,
        }
    }
}

/// Sorts a non-2xx answer: throttling, timeouts and faults may pass; any other refusal is
/// about this document and would be repeated. The body is read only for the provider's
/// `{"error": {"code", "message"}}`; anything else in it is dropped, never logged.
fn refusal(op: Operation, status: StatusCode, body: &[u8]) -> DteError {
    let (code, message) = error_body(body)
        .unwrap_or_else(|| (format!("http_{}", status.as_u16()), format!("the provider answered {status}")));
    let retry = retry_for_provider_status(status.as_u16());
    DteError { operation: op.as_str(), code: tidy(&code, MAX_CODE), message: tidy(&message, MAX_MESSAGE), retry }
}

/// No answer at all: never the document's fault.
fn transport(op: Operation, err: &reqwest::Error) -> DteError {
    DteError {
        operation: op.as_str(),
        code: transport_code(err).into(),
        message: tidy(&error_chain(err), MAX_MESSAGE),
        retry: Retry::Transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(1);

    #[test]
    fn auth_debug_hides_the_secret() {
        let bearer = DteAuth::Bearer(Secret::new("tok-123"));
        let api_key = DteAuth::ApiKey { header: "x-api-key".into(), value: Secret::new("key-456") };
        let shown = format!("{bearer:?} {api_key:?}");
        assert!(!shown.contains("tok-123") && !shown.contains("key-456"), "{shown}");
        assert!(shown.contains("x-api-key"), "the header name is not secret: {shown}");
        let provider = HttpDteProvider::new("http://localhost:1", bearer, TIMEOUT).unwrap();
        assert!(!format!("{provider:?}").contains("tok-123"));
    }

    #[test]
    fn bad_base_urls_and_auth_headers_are_refused_without_echoing_the_secret() {
        for bad in ["not a url", "ftp://example.com"] {
            let err = HttpDteProvider::new(bad, DteAuth::None, TIMEOUT).unwrap_err();
            assert!(matches!(err, DteClientError::BaseUrl { .. }), "{err}");
        }
        let bad_name = DteAuth::ApiKey { header: "x api key".into(), value: Secret::new("k") };
        let err = HttpDteProvider::new("http://localhost", bad_name, TIMEOUT).unwrap_err();
        assert!(matches!(err, DteClientError::AuthHeaderName(_)), "{err}");
        let bad_value = DteAuth::Bearer(Secret::new("line\nbreak-secret"));
        let err = HttpDteProvider::new("http://localhost", bad_value, TIMEOUT).unwrap_err();
        assert!(!err.to_string().contains("break-secret"), "{err}");
    }

    #[test]
    fn request_timeouts_and_throttling_are_transient_refused_credentials_auth_and_other_refusals_permanent() {
        for status in [408, 429, 500, 502, 503, 504, 302] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(refusal(Operation::Issue, status, b"").retry, Retry::Transient, "{status}");
        }
        for status in [401, 403] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(refusal(Operation::Issue, status, b"").retry, Retry::Auth, "{status}");
        }
        for status in [400, 404, 409, 422] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(refusal(Operation::Issue, status, b"").retry, Retry::Permanent, "{status}");
        }
    }

    #[test]
    fn an_unstructured_error_body_is_dropped_not_echoed() {
        let e = refusal(Operation::Broadcast, StatusCode::BAD_GATEWAY, b"<html>buyer Jane Doe, RUT 1-9</html>");
        assert_eq!((e.operation, e.code.as_str()), ("broadcast", "http_502"));
        assert_eq!(e.message, "the provider answered 502 Bad Gateway");
    }

    #[test]
    fn provider_codes_and_messages_are_kept_short() {
        let body = format!(r#"{{"error":{{"code":"{}","message":"a\nb"}}}}"#, "c".repeat(100));
        let e = refusal(Operation::Issue, StatusCode::BAD_REQUEST, body.as_bytes());
        assert_eq!(e.code.chars().count(), MAX_CODE + 1);
        assert!(e.code.ends_with('…'));
        assert_eq!(e.message, "a b");
    }
}
