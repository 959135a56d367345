//! Messages on the erp-sync FIFO queue, from the receiver to the worker.

use orderflow_shared::order::CanonicalOrder;
use orderflow_shared::webhook::Refund;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ErpSyncMessage {
    /// Push this order into the ERP (idempotent by order key).
    Order {
        /// `webhook:<source>/<effect key>`, for the audit trail.
        source: String,
        external_order_id: String,
        order: Box<CanonicalOrder>,
    },
    /// A refund the platform reported; its credit memo's reference derives from `source`
    /// (`webhook:<source>/refund/<order id>/<refund id>`).
    Refund { source: String, refund: Refund },
}
