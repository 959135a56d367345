//! ERP connectors: push a canonical order into the customer's ERP, exactly once per order key.
//!
//! A connector is configuration ([`ConnectorConfig`]) plus an auth mechanism ([`AuthConfig`]:
//! Basic, API key, OAuth2 client credentials, session login, Digest) plus a field mapping
//! ([`crate::mapping`]). Two profiles ship, modelled on the ERPs most deployments use:
//! [`business_central`] and [`sap_b1`]; [`ProfileSpec`] describes any other OData-shaped ERP.
//!
//! Outcomes, for the worker that pushes:
//! - [`PushOutcome::Created`], or [`PushOutcome::AlreadyExists`] when the ERP already holds an
//!   order with this key (a duplicate delivery, or a retry after a lost answer): both success.
//! - [`ErpError`] with [`Retry::Transient`](crate::error::Retry): 5xx, 408, 429, timeouts, no
//!   connection; fail the message so SQS retries it.
//! - [`ErpError`] with [`Retry::Permanent`](crate::error::Retry): a 4xx for a business reason
//!   (an unknown item) or an order the mapping cannot map; to the ERP DLQ, `erp_answer` attached.

mod auth;
pub mod business_central;
mod config;
mod connector;
mod digest;
mod error;
mod http;
mod oauth2;
mod profile;
pub mod sap_b1;
mod session;

use std::future::Future;

pub use config::{AuthConfig, ConfigError, ConnectorConfig, ConnectorsFile, KeyLocation, ProfileConfig, SecretValues};
pub use connector::HttpConnector;
pub use error::{ErpError, MAX_ANSWER_BYTES};
pub use profile::ProfileSpec;

use crate::order::CanonicalOrder;

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

/// Pushes orders into one ERP.
pub trait ErpConnector: Send + Sync {
    fn push(&self, order: &CanonicalOrder) -> impl Future<Output = Result<PushOutcome, ErpError>> + Send;
}
