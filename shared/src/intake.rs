//! Queueing one shop order, the same way from every door that brings one in (the webhook
//! receiver, the order poller): the ERP message on erp-sync.fifo, then `Register` on
//! orders.fifo. One implementation, so an order that arrives by both doors yields the same two
//! messages apart from the origin, and both consumers treat the second as a duplicate (the ERP
//! push by order key, `Register` by order content).

use crate::command::OrderCommand;
use crate::erp::ErpSyncMessage;
use crate::error::PortError;
use crate::ports::{FifoQueue, OutgoingMessage};
use crate::webhook::WebhookOrder;

/// Which door an order came through; the first part of its origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Webhook,
    Poll,
}

impl Door {
    /// `webhook:<source>/<effect key>` or `poll:<source>/<effect key>`, e.g.
    /// `poll:woocommerce/order/1042`: the audit trail's origin and the erp-sync dedup id.
    pub fn origin(self, source: &str, effect_key: &str) -> String {
        let door = match self {
            Self::Webhook => "webhook",
            Self::Poll => "poll",
        };
        format!("{door}:{source}/{effect_key}")
    }
}

/// The erp-sync group of an order or refund of `source`: its effects stay in order.
pub fn erp_group(source: &str, external_order_id: &str) -> String {
    format!("{source}/{external_order_id}")
}

/// Queues `order` from `source` under `origin` (see [`Door::origin`]). Both sends carry
/// deduplication ids, so repeating a call after a partial failure adds nothing inside the
/// FIFO window; beyond it the consumers are idempotent.
pub async fn queue_order<E: FifoQueue, O: FifoQueue>(
    erp_sync: &E,
    orders: &O,
    source: &str,
    origin: &str,
    order: &WebhookOrder,
) -> Result<(), PortError> {
    let command = OrderCommand::Register { source: origin.to_owned(), order: Box::new(order.order.clone()) };
    let message = ErpSyncMessage::Order {
        source: origin.to_owned(),
        external_order_id: order.external_order_id.clone(),
        order: Box::new(order.order.clone()),
    };
    let group = erp_group(source, &order.external_order_id);
    erp_sync.send(OutgoingMessage::new(message.to_json(), group, origin)).await?;
    orders.send(command.to_message()).await?;
    Ok(())
}
