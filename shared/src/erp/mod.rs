//! ERP connectors: push a canonical order into the customer's ERP, exactly once per order key.
//!
//! A connector is configuration ([`ConnectorConfig`]) plus an auth mechanism ([`AuthConfig`]:
//! Basic, API key, OAuth2 client credentials, session login, Digest) plus a field mapping
//! ([`crate::mapping`]). Two profiles ship, modelled on the ERPs most deployments use:
//! [`business_central`] and [`sap_b1`]; [`ProfileSpec`] describes any other OData-shaped ERP.
//!
//! Refunds are pushed as credit memos ([`RefundSpec`]), idempotently by a reference derived
//! from the refund's ids in the signed webhook ([`refund_reference`]).
//!
//! Outcomes, for the worker that pushes:
//! - [`PushOutcome::Created`], or [`PushOutcome::AlreadyExists`] when the ERP already holds an
//!   order with this key (a duplicate delivery, or a retry after a lost answer): both success.
//! - [`ErpError`] with [`Retry::Transient`](crate::error::Retry): 5xx, 408, 429, timeouts, no
//!   connection; fail the message so SQS retries it.
//! - [`ErpError`] with [`Retry::Permanent`](crate::error::Retry): a 4xx for a business reason
//!   (an unknown item) or an order the mapping cannot map; to the ERP DLQ, `erp_answer` attached.
//! - [`ErpError`] with [`Retry::Auth`](crate::error::Retry): a 401/403 that neither the
//!   mechanism's own renewal (a new token or session) nor secrets read afresh
//!   ([`SecretConnector`]) cured; to the ERP DLQ with the class `auth`, for an operator.

pub(crate) mod auth;
pub mod business_central;
pub(crate) mod config;
mod connector;
mod digest;
pub(crate) mod error;
mod from_secrets;
pub(crate) mod http;
mod message;
mod oauth2;
mod profile;
pub mod sap_b1;
mod session;

use std::future::Future;

pub use config::{AuthConfig, ConfigError, ConnectorConfig, ConnectorsFile, KeyLocation, ProfileConfig, SecretValues};
pub use connector::HttpConnector;
pub use error::{ErpError, MAX_ANSWER_BYTES};
pub use from_secrets::SecretConnector;
pub use message::ErpSyncMessage;
pub use profile::{ProfileSpec, RefundSpec};

use sha2::{Digest, Sha256};

use crate::order::CanonicalOrder;
use crate::webhook::Refund;

/// What became of a pushed order. Both are success: the ERP holds exactly one record for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Created {
        erp_id: String,
    },
    /// The ERP already had it; the id is unknown when only a refused create told us.
    AlreadyExists {
        erp_id: Option<String>,
    },
}

/// Pushes orders and refunds into one ERP.
pub trait ErpConnector: Send + Sync {
    fn push(&self, order: &CanonicalOrder) -> impl Future<Output = Result<PushOutcome, ErpError>> + Send;

    /// Records `refund` as a credit memo under `reference`, at most once per reference.
    fn refund(&self, refund: &Refund, reference: &str) -> impl Future<Output = Result<PushOutcome, ErpError>> + Send;
}

/// The connector as built from the apps read for one invocation (see `apps::Rebuilt`).
impl<T: ErpConnector> ErpConnector for std::sync::Arc<T> {
    fn push(&self, order: &CanonicalOrder) -> impl Future<Output = Result<PushOutcome, ErpError>> + Send {
        (**self).push(order)
    }

    fn refund(&self, refund: &Refund, reference: &str) -> impl Future<Output = Result<PushOutcome, ErpError>> + Send {
        (**self).refund(refund, reference)
    }
}

/// The ERP reference of a refund: `RF-` and 16 hex of sha256 of where it came from (the
/// webhook's source and the refund's effect key, both from signed content), so redeliveries
/// share it and two refunds of one order do not. 19 characters, which fits every ERP's external-reference field.
pub fn refund_reference(origin: &str) -> String {
    let digest = Sha256::digest(origin.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("RF-{hex}")
}
