//! A failed push, classified by whether SQS should retry it.

use std::fmt;

use crate::error::{Classify, Retry};
use crate::http_answer::{retry_for_provider_status, transport_code};
use crate::text::error_chain;

/// How much of an ERP's answer is kept: enough for the error and its context, small enough
/// for an SQS message attribute and a DLQ record.
pub const MAX_ANSWER_BYTES: usize = 2048;

/// Why a push failed. `Transient` (5xx, 408, 429, timeouts, connection failures) fails the
/// message so SQS retries it; `Permanent` (other 4xx: a business refusal such as an unknown
/// item) sends it to the ERP DLQ with `erp_answer` attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErpError {
    pub retry: Retry,
    /// The ERP's HTTP status, when it answered.
    pub status: Option<u16>,
    /// The ERP's own error code when it gave one (`Internal_RecordNotFound`, `-10`), else
    /// `http_<status>`, or ours: `timeout`, `connect`, `request`, `bad_answer`, `auth`,
    /// `mapping`, `mapping_unavailable`.
    pub code: String,
    pub message: String,
    /// The ERP's answer body, cut to [`MAX_ANSWER_BYTES`].
    pub erp_answer: Option<String>,
}

impl ErpError {
    /// A failure on our side of the wire, or an answer we cannot use.
    pub(crate) fn local(retry: Retry, code: &str, message: impl Into<String>) -> Self {
        Self { retry, status: None, code: code.to_owned(), message: message.into(), erp_answer: None }
    }

    /// A non-success answer to `operation` (e.g. `POST salesOrders`).
    pub(crate) fn from_answer(operation: &str, status: u16, body: &str) -> Self {
        let (code, message) = match detail(body) {
            Some((code, message)) => (code, format!("{operation} answered {status}: {message}")),
            None => (format!("http_{status}"), format!("{operation} answered {status}")),
        };
        let retry = retry_for_provider_status(status);
        Self { retry, status: Some(status), code, message, erp_answer: Some(truncate(body)) }
    }

    /// A request that got no answer. The URL is left out: it may carry an API key.
    pub(crate) fn transport(operation: &str, err: reqwest::Error) -> Self {
        let code = transport_code(&err);
        // The causes (hyper, io) never name the URL; reqwest's own message does, so it goes without.
        let err = err.without_url();
        Self::local(Retry::Transient, code, format!("{operation}: {}", error_chain(&err)))
    }
}

impl fmt::Display for ErpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ErpError {}

impl Classify for ErpError {
    fn retry(&self) -> Retry {
        self.retry
    }
}

/// Code and message of an OData error, in either dialect, or of an OAuth2 error:
/// - Business Central (OData v4): `{"error": {"code": "X", "message": "..."}}`
/// - SAP Service Layer (OData v3): `{"error": {"code": -10, "message": {"lang": "en-us", "value": "..."}}}`
/// - a token endpoint (RFC 6749): `{"error": "invalid_client", "error_description": "..."}`
pub(crate) fn detail(body: &str) -> Option<(String, String)> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    let error = json.get("error")?;
    if let Some(code) = error.as_str() {
        let message = json.get("error_description").and_then(|d| d.as_str()).unwrap_or(code);
        return Some((code.to_owned(), message.to_owned()));
    }
    let code = match error.get("code")? {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let message = error.get("message").map(|m| m.get("value").unwrap_or(m));
    let message = message.and_then(|m| m.as_str()).unwrap_or_default().to_owned();
    Some((code, message))
}

pub(crate) fn truncate(body: &str) -> String {
    if body.len() <= MAX_ANSWER_BYTES {
        return body.to_owned();
    }
    let mut end = MAX_ANSWER_BYTES;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_by_status_and_keep_the_erp_code() {
        let sap = r#"{"error":{"code":-10,"message":{"lang":"en-us","value":"Invalid item code"}}}"#;
        let e = ErpError::from_answer("POST Orders", 400, sap);
        assert_eq!((e.retry, e.code.as_str()), (Retry::Permanent, "-10"));
        assert_eq!(e.message, "POST Orders answered 400: Invalid item code");
        assert_eq!(e.erp_answer.as_deref(), Some(sap));

        let bc = r#"{"error":{"code":"Internal_RecordNotFound","message":"The Item does not exist."}}"#;
        assert_eq!(ErpError::from_answer("POST salesOrders", 400, bc).code, "Internal_RecordNotFound");
        let busy = ErpError::from_answer("POST salesOrders", 503, "<html>busy</html>");
        assert_eq!((busy.retry, busy.code.as_str()), (Retry::Transient, "http_503"));
    }

    #[test]
    fn long_answers_are_cut_on_a_character_boundary() {
        let long = "ñ".repeat(MAX_ANSWER_BYTES);
        let cut = truncate(&long);
        assert!(cut.len() <= MAX_ANSWER_BYTES + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }
}
