//! Messages on the shop-sync FIFO queue, from the stream step to the worker.

use orderflow_shared::lifecycle::State;
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::OutgoingMessage;
use serde::{Deserialize, Serialize};

/// One order entered one state: act on its shop if the shop's configuration says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopSyncMessage {
    pub order_key: OrderKey,
    pub state: State,
}

impl ShopSyncMessage {
    /// Grouped by order (its actions in transition order); deduplicated on order and state, so
    /// a stream record delivered twice within SQS's window is one message, and after it the
    /// claim on the record makes the second a no-op.
    pub fn to_message(&self) -> OutgoingMessage {
        let body = serde_json::to_string(self).expect("a shop-sync message serialises");
        OutgoingMessage::new(body, self.order_key.as_str(), format!("{}/{}", self.order_key, self.state))
    }
}
