//! End-to-end local throughput: N distinct UBL orders through the embedded pipeline that
//! `orderflow demo` runs: S3 upload → xml-order-converter → orders.fifo → queue-reader →
//! state-router (register, issuance_dte, broadcast_dte, with the simulated DTE provider) →
//! email-notifier on the orders table's change stream. Orders per second, wall clock.
//!
//! usage: throughput ORDERS [WORK_DIR]   (the result is the last line on stdout, after the
//! handlers' metric lines)

use std::path::PathBuf;
use std::time::{Duration, Instant};

use email_notifier::{Notified, Notifier};
use orderflow_cli::pipeline::{Pipeline, Time, manual_clock};
use orderflow_shared::adapters::embedded::OutboxMailer;
use serde_json::json;

const SAMPLE: &str = include_str!("../../../events/orders/small-clp.xml");
const ORDER_NUMBER: &str = "<cbc:ID>OC-2026-00417</cbc:ID>";
const BURST: usize = 100;

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let orders: usize =
        args.first().ok_or("usage: throughput ORDERS [WORK_DIR]")?.parse().map_err(|e| format!("{e}"))?;
    let work = args.get(1).map_or_else(|| std::env::temp_dir().join("orderflow-throughput"), PathBuf::from);
    let _ = std::fs::remove_dir_all(&work);
    // Documents are made before the clock starts: generating input is not the pipeline's work.
    let documents: Vec<Vec<u8>> = (0..orders)
        .map(|n| SAMPLE.replacen(ORDER_NUMBER, &format!("<cbc:ID>BENCH-{n:07}</cbc:ID>"), 1).into_bytes())
        .collect();
    let pipeline = Pipeline::new(&work, Time::Manual(manual_clock()));
    let notifier = Notifier {
        store: pipeline.store.clone(),
        mailer: OutboxMailer::new(work.join("outbox")),
        sender: "orders@orderflow.local".into(),
        claim_timeout: Duration::from_secs(300),
    };

    let started = Instant::now();
    let mut delivered = 0;
    // Orders arrive in bursts that the queue reader drains, as in a steady state, rather than
    // all queued before the first delivery.
    for (n, document) in documents.into_iter().enumerate() {
        pipeline.upload(&format!("bench-{n:07}.xml"), document).await?;
        if (n + 1) % BURST == 0 || n + 1 == orders {
            delivered += pipeline.drain().await?.deleted;
        }
    }
    let changes = pipeline.store.changes_since(0);
    let results = email_notifier::notify_changes(&notifier, &changes).await;
    let elapsed = started.elapsed().as_secs_f64();
    let writes = pipeline.store.changes_since(0).len();

    let emails = results.iter().filter(|(_, r)| matches!(r, Ok(Notified::Sent { .. }))).count();
    if emails != orders || !pipeline.pending.is_empty() {
        return Err(format!("{emails} of {orders} orders reached the email, {} parked", pipeline.pending.len()));
    }
    // Per order, counted on the embedded adapters: the AWS request counts of the same code paths.
    let per_order = |n: usize| n as f64 / orders as f64;
    let row = json!({
        "orders": orders,
        "seconds": elapsed,
        "orders_per_second": orders as f64 / elapsed,
        "per_order": {
            "commands_delivered": per_order(delivered),
            "table_writes": per_order(writes),
            "emails": per_order(emails),
        },
    });
    println!("{row}");
    Ok(())
}
