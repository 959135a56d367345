//! Failures classified by whether trying again can help.

/// Whether a failed operation may succeed on a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Retry {
    /// Throttling, timeouts, 5xx: the same input may succeed later.
    Transient,
    /// Bad input or a business refusal: retrying repeats the failure.
    Permanent,
    /// The far side refused our credentials (401/403) even after they were read again from
    /// their secret ([`crate::credentials`]): an operator must fix the secret. Parked with the
    /// class `auth` for the operator tools to redrive once it is fixed; never a terminal state
    /// of an order.
    Auth,
}

/// Implemented by every error that crosses a port, so handlers decide retry vs park uniformly.
pub trait Classify {
    fn retry(&self) -> Retry;

    fn is_transient(&self) -> bool {
        self.retry() == Retry::Transient
    }
}

/// A port failure: what failed, and whether a retry can help.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct PortError {
    pub operation: &'static str,
    pub message: String,
    pub retry: Retry,
    /// Set when the target simply does not exist (missing object, unknown queue message).
    pub not_found: bool,
}

impl PortError {
    pub fn transient(operation: &'static str, message: impl Into<String>) -> Self {
        Self { operation, message: message.into(), retry: Retry::Transient, not_found: false }
    }

    pub fn permanent(operation: &'static str, message: impl Into<String>) -> Self {
        Self { operation, message: message.into(), retry: Retry::Permanent, not_found: false }
    }

    pub fn not_found(operation: &'static str, message: impl Into<String>) -> Self {
        Self { operation, message: message.into(), retry: Retry::Permanent, not_found: true }
    }
}

impl Classify for PortError {
    fn retry(&self) -> Retry {
        self.retry
    }
}
