//! Where every input of a run ended, with its reason; a run passes only when nothing is
//! missing and nothing is doubled.

use std::collections::{BTreeMap, HashMap};

use orderflow_shared::claim_check;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::lifecycle::State;
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{FifoQueue, ObjectStore, OrderStore};
use webhook_bridge::ErpSyncMessage;

use crate::stack::{Inspect, Stack};
use crate::workload::{Document, Webhook};

/// Inputs counted per outcome (`completed`, `broadcast_failed`, `error:<code>`,
/// `pending:<status>`, `rejected:<code>`, `erp_created`, `erp_dlq:<code>`).
#[derive(Debug, Default)]
pub struct Ledger {
    pub lifecycle: BTreeMap<String, usize>,
    pub rejected: BTreeMap<String, usize>,
    pub erp: BTreeMap<String, usize>,
    /// Inputs found nowhere, or in two places at once, with what was found.
    pub missing: Vec<String>,
}

impl Ledger {
    pub fn lifecycle_total(&self) -> usize {
        self.lifecycle.values().sum()
    }

    pub fn print(&self, title: &str) {
        eprintln!("accounting of {title}:");
        for (name, counts) in [("lifecycle", &self.lifecycle), ("rejected", &self.rejected), ("erp", &self.erp)] {
            eprintln!("  {name:<9} {counts:?}");
        }
        eprintln!("  missing   {}", self.missing.len());
    }
}

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Every parked command's order key with its reason.
async fn parked_commands<O: ObjectStore>(
    bucket: &O,
    messages: Vec<(String, Vec<(String, String)>)>,
) -> HashMap<OrderKey, String> {
    let mut out = HashMap::new();
    for (body, attributes) in messages {
        let body = claim_check::resolve(bucket, body).await.expect("claim check resolves");
        let command: OrderCommand = serde_json::from_str(&body).expect("a parked order command");
        // Parked by the reader with the API's answer, or moved by redrive after maxReceiveCount.
        let reason = match attribute(&attributes, "orderflow.status") {
            Some(status) => format!("pending:{status}"),
            None => "pending:redriven".to_owned(),
        };
        out.insert(command.order_key().clone(), reason);
    }
    out
}

pub async fn account<S, Q, O>(stack: &Stack<S, Q, O>, documents: &[Document], webhooks: &[Webhook]) -> Ledger
where
    S: OrderStore,
    Q: FifoQueue + Inspect,
    O: ObjectStore,
{
    let mut ledger = Ledger::default();
    for (name, queue) in [("orders", &stack.queues.orders), ("erp-sync", &stack.queues.erp_sync)] {
        let depth = queue.depth().await;
        if depth > 0 {
            ledger.missing.push(format!("{depth} messages left on {name}"));
        }
    }
    let pending = parked_commands(&stack.bucket, stack.queues.pending.parked().await).await;

    let webhook_keys: Vec<OrderKey> = webhooks.iter().map(Webhook::order_key).collect();
    let document_keys = documents.iter().filter_map(|d| d.order_key.clone());
    for key in document_keys.chain(webhook_keys.iter().cloned()) {
        let record = stack.store.get(&key).await.expect("store");
        let bucket = match (record.as_ref().map(|r| r.state), pending.get(&key)) {
            (Some(State::BroadcastDte), None) => Some("completed".to_owned()),
            (Some(State::BroadcastFailed), None) => {
                let reason = record.as_ref().and_then(|r| r.history.last()).map(|h| h.detail.clone());
                reason.filter(|r| !r.is_empty()).map(|_| "broadcast_failed".to_owned())
            }
            (Some(State::Error), parked) => {
                let code = record.as_ref().and_then(|r| r.last_error.as_ref()).map(|e| e.code.clone());
                code.map(|c| format!("error:{c}{}", parked.map(|p| format!(" ({p})")).unwrap_or_default()))
            }
            (_, Some(parked)) => Some(parked.clone()),
            _ => None,
        };
        match bucket {
            Some(bucket) => *ledger.lifecycle.entry(bucket).or_default() += 1,
            None => ledger.missing.push(format!(
                "{key}: state {:?}, parked {:?}",
                record.map(|r| r.state),
                pending.get(&key)
            )),
        }
    }

    for document in documents.iter().filter(|d| d.order_key.is_none()) {
        let sidecar = format!("rejected/{}.error.json", document.name);
        match stack.bucket.get(&sidecar).await {
            Ok(bytes) => {
                let sidecar: serde_json::Value = serde_json::from_slice(&bytes).expect("sidecar JSON");
                let code = sidecar["code"].as_str().unwrap_or("?");
                *ledger.rejected.entry(format!("rejected:{code}")).or_default() += 1;
            }
            Err(_) => ledger.missing.push(format!("{}: no rejection sidecar", document.name)),
        }
    }

    let records = stack.erp.orders();
    let mut in_erp: HashMap<String, usize> = HashMap::new();
    for record in &records {
        *in_erp.entry(record["externalDocumentNumber"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
    }
    let mut in_dlq: HashMap<OrderKey, String> = HashMap::new();
    for (body, attributes) in stack.queues.erp_dlq.parked().await {
        if let Ok(ErpSyncMessage::Order { order, .. }) = serde_json::from_str(&body) {
            let reason =
                attribute(&attributes, "orderflow.error").unwrap_or("").split(':').next().unwrap_or("").to_owned();
            in_dlq.insert(order.order_key, reason);
        }
    }
    for key in &webhook_keys {
        let bucket = match (in_erp.get(key.as_str()).copied().unwrap_or(0), in_dlq.get(key)) {
            (1, None) => Some("erp_created".to_owned()),
            // The create went through but its answer was lost, and the lookup of the retry was
            // refused: parked with the refusal, and a replay finds the record (no second one).
            (1, Some(reason)) => Some(format!("erp_created, also parked:{reason}")),
            (0, Some(reason)) if !reason.is_empty() => Some(format!("erp_dlq:{reason}")),
            _ => None,
        };
        match bucket {
            Some(bucket) => *ledger.erp.entry(bucket).or_default() += 1,
            None => ledger.missing.push(format!(
                "{key}: {} ERP records, DLQ {:?}",
                in_erp.get(key.as_str()).copied().unwrap_or(0),
                in_dlq.get(key)
            )),
        }
    }
    ledger
}
