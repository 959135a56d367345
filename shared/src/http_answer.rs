//! Reading a remote service's answer the same way in every HTTP adapter: its error body, what
//! its status says about retrying, and what kind of failure a request without answer was.

use serde::Deserialize;

use crate::error::Retry;

/// Code and message of a `{"error": {"code", "message"}}` body, the shape orderflow's APIs and
/// the DTE provider use; `None` for any other body.
pub fn error_body(body: &[u8]) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: ErrorDetail,
    }
    #[derive(Deserialize)]
    struct ErrorDetail {
        code: String,
        #[serde(default)]
        message: String,
    }
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .filter(|b| !b.error.code.trim().is_empty())
        .map(|b| (b.error.code, b.error.message))
}

/// Throttling, timeouts and faults may pass; any other refusal is about the request and would be
/// repeated. Redirects are a misconfiguration (clients here follow none), not the request's fault.
/// The one mapping for the Orders API, DTE and ERP clients. The ERP's copy once parked a 3xx as
/// a business refusal; a redirect says nothing about the order, and once the endpoint is
/// fixed the same message passes, so it is retried (and still reaches the DLQ by redrive).
pub fn retry_for_status(status: u16) -> Retry {
    match status {
        408 | 429 => Retry::Transient,
        400..=499 => Retry::Permanent,
        _ => Retry::Transient,
    }
}

/// The same, for a provider we call with our own credentials (the DTE provider, an ERP): its
/// 401/403 says those credentials are refused, which reading them again may cure
/// ([`crate::credentials`]) and which otherwise needs an operator, not the sender.
pub fn retry_for_provider_status(status: u16) -> Retry {
    match status {
        401 | 403 => Retry::Auth,
        other => retry_for_status(other),
    }
}

/// `timeout`, `connect` or `request`: a request that got no answer.
pub fn transport_code(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else {
        "request"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_only_in_their_one_shape() {
        let ours = error_body(br#"{"error":{"code":"conflict","message":"m"}}"#);
        assert_eq!(ours, Some(("conflict".into(), "m".into())));
        assert_eq!(error_body(br#"{"message":"Forbidden"}"#), None);
        assert_eq!(error_body(br#"{"error":{"code":" "}}"#), None);
    }

    #[test]
    fn statuses_sort_into_retry_classes() {
        for s in [408, 429, 500, 503, 302] {
            assert_eq!(retry_for_status(s), Retry::Transient, "{s}");
        }
        for s in [400, 404, 409, 422] {
            assert_eq!(retry_for_status(s), Retry::Permanent, "{s}");
        }
    }
}
