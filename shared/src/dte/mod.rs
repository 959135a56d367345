//! Adapters for the DTE (electronic tax document) provider: [`HttpDteProvider`] talks to the
//! real service; [`SimulatedDteProvider`] stands in for it in local runs and tests.

mod http;
mod lazy;
mod simulated;

pub use http::{DteAuth, DteClientError, HttpDteProvider};
pub use lazy::LazyDteProvider;
pub use simulated::{Failure, RandomFailures, SimulatedDteProvider};

/// The two calls a provider offers, in lifecycle order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Issue the document and get its folio.
    Issue,
    /// Send the issued document to the tax authority and get a track id.
    Broadcast,
}

impl Operation {
    /// The name used in [`crate::ports::DteError::operation`] and in idempotency keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Broadcast => "broadcast",
        }
    }
}

/// The folio a broadcast needs; without one there is nothing to send, and no retry changes that.
fn folio(record: &crate::lifecycle::OrderRecord) -> Result<&str, crate::ports::DteError> {
    record.dte.folio.as_deref().ok_or_else(|| crate::ports::DteError {
        operation: Operation::Broadcast.as_str(),
        code: "no_folio".into(),
        message: format!("order {} has no folio: the DTE must be issued first", record.key),
        retry: crate::error::Retry::Permanent,
    })
}
