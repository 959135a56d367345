//! Messages on the orders FIFO queue: one command per lifecycle step, for one order.

use serde::{Deserialize, Serialize};

use crate::lifecycle::Stage;
use crate::order::{CanonicalOrder, OrderKey};
use crate::ports::OutgoingMessage;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum OrderCommand {
    /// Store a newly converted or accepted order.
    Register {
        /// Where the order came from, e.g. `s3://bucket/incoming/a.xml`, for the audit trail.
        source: String,
        order: Box<CanonicalOrder>,
    },
    /// Run one lifecycle stage (`POST /orders/{key}/{stage route}`).
    Stage {
        order_key: OrderKey,
        stage: Stage,
        /// Distinguishes deliberate re-runs (a redrive, a recovery attempt) from duplicates.
        attempt: u32,
    },
}

impl OrderCommand {
    pub fn order_key(&self) -> &OrderKey {
        match self {
            Self::Register { order, .. } => &order.order_key,
            Self::Stage { order_key, .. } => order_key,
        }
    }

    /// The queue message: grouped by order so its commands stay in order, deduplicated by
    /// content so a re-upload of the same document is a no-op.
    pub fn to_message(&self) -> OutgoingMessage {
        let dedup = match self {
            Self::Register { order, .. } => format!("register-{}", order.content_hash()),
            Self::Stage { order_key, stage, attempt } => format!("{}-{order_key}-{attempt}", stage.route()),
        };
        let body = serde_json::to_string(self).expect("commands always serialise");
        OutgoingMessage::new(body, self.order_key().as_str(), dedup)
    }
}
