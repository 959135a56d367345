//! Messages on the erp-sync FIFO queue, from either door (the webhook receiver, the order
//! poller) to the erp-sync worker. Kept here, beside the connectors, so both doors build the
//! message the worker reads from one definition.

use serde::{Deserialize, Serialize};

use crate::order::CanonicalOrder;
use crate::webhook::Refund;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ErpSyncMessage {
    /// Push this order into the ERP (idempotent by order key).
    Order {
        /// The origin for the audit trail: `webhook:<source>/order/<id>` or
        /// `poll:<source>/order/<id>`.
        source: String,
        external_order_id: String,
        order: Box<CanonicalOrder>,
    },
    /// A refund the platform reported; its credit memo's reference derives from `source`
    /// (`webhook:<source>/refund/<order id>/<refund id>`).
    Refund { source: String, refund: Refund },
}

impl ErpSyncMessage {
    /// The message body. Every variant holds only strings and canonical types.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("erp-sync messages always serialise")
    }
}
