//! Catalogue and stock sync (issue 18): the ERP is where products, prices and stock are true;
//! the shop shows them. A staging table sits between the two.
//!
//! - [`item`]: one SKU as staged, with its content hashes and state (clean, dirty, refused).
//! - [`staging`]: the staging port, the push checkpoint and the run summaries.
//! - [`source`]: reading the ERP's items, page by page, on the ERP connectors' auth.
//! - [`pull`]: ERP → staging, writing only what changed.
//! - [`push`]: staging → shop, only dirty SKUs ([`shopify`], [`woocommerce`]).
//! - [`audit`]: the redacted request and answer log, kept for a configured number of days.
//! - [`run`]: a run of one or both phases, its summary and metrics.
//! - [`config`]: the catalogue configuration file.

pub mod assemble;
pub mod audit;
pub mod config;
pub mod item;
pub mod pull;
pub mod push;
pub mod run;
mod shop_calls;
pub mod shopify;
pub mod source;
pub mod staging;
pub mod woocommerce;

pub use audit::{AuditLog, Exchange, Recorder};
pub use config::CatalogConfig;
pub use item::{ItemState, Product, ShopIds, Sku, StagedItem};
pub use push::Options;
pub use run::{CatalogSync, Phase, Settings};
pub use source::{ErpItems, ItemFields};
pub use staging::{Checkpoint, RunSummary, StagingStore};

use crate::erp::{ConfigError, ErpError};
use crate::error::PortError;

/// Why a sync run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("ERP: {0}")]
    Erp(#[from] ErpError),
    #[error("staging: {}", .0.message)]
    Staging(#[from] PortError),
    #[error("configuration: {0}")]
    Config(String),
}

impl From<ConfigError> for SyncError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e.to_string())
    }
}
