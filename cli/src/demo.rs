//! `orderflow demo`: the bundled samples through the pipeline, on embedded adapters.

use std::path::{Path, PathBuf};

use orderflow_shared::adapters::embedded::{DirObjectStore, EmbeddedFifoQueue};
use orderflow_shared::claim_check;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::config::ConverterConfig;
use orderflow_shared::ports::{FifoQueue, ObjectStore};
use orderflow_shared::s3_event;
use orderflow_shared::ubl::Limits;
use xml_order_converter::{Converter, Outcome};

pub const DEFAULT_ORDERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/orders");

const BUCKET: &str = "orderflow-demo";

pub async fn run(orders: &Path, out: &Path) -> Result<(), String> {
    let samples = sample_files(orders)?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("clearing {}: {e}", out.display()))?;
    }
    let bucket_dir = out.join("bucket");
    let converter = Converter {
        store: DirObjectStore::new(&bucket_dir),
        queue: EmbeddedFifoQueue::new("orders.fifo"),
        config: ConverterConfig {
            bucket: BUCKET.into(),
            orders_queue_url: "embedded://orders.fifo".into(),
            incoming_prefix: "incoming/".into(),
            rejected_prefix: "rejected/".into(),
            limits: Limits::default(),
        },
    };

    println!("orderflow demo: {} sample documents, embedded bucket at {}", samples.len(), bucket_dir.display());
    println!();
    println!("1. S3 upload -> xml-order-converter");
    for (relative, path) in &samples {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let key = format!("incoming/{relative}");
        converter.store.put(&key, bytes, "application/xml").await.map_err(|e| e.to_string())?;
        let event = s3_event::put_event(BUCKET, &[&key]);
        let report = xml_order_converter::handle(&converter, event).await.map_err(|e| e.to_string())?;
        for outcome in report.outcomes {
            println!("   {}", describe(relative, &outcome));
        }
    }

    println!();
    println!("2. orders.fifo: {} register commands waiting for the queue reader", converter.queue.len());
    for message in converter.queue.receive(10).await.map_err(|e| e.to_string())? {
        let body = claim_check::resolve(&converter.store, message.body).await.map_err(|e| e.to_string())?;
        let command: OrderCommand = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        let OrderCommand::Register { order, .. } = command else { continue };
        println!(
            "   group {:<34} {} lines, payable {} {}",
            message.group_id,
            order.lines.len(),
            order.totals.payable,
            order.currency
        );
    }
    Ok(())
}

fn describe(relative: &str, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Queued { order_key, lines, .. } => format!("{relative:<38} queued    {order_key} ({lines} lines)"),
        Outcome::Rejected { code, reason, rejected_key, .. } => {
            format!("{relative:<38} rejected  {code}: {reason} -> {rejected_key}")
        }
        Outcome::Skipped { reason, .. } => format!("{relative:<38} skipped   {reason}"),
    }
}

/// Valid samples first, then the malformed ones, each sorted by name.
fn sample_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut found = Vec::new();
    for (sub, prefix) in [(dir.to_path_buf(), ""), (dir.join("malformed"), "malformed/")] {
        let entries = std::fs::read_dir(&sub).map_err(|e| format!("{}: {e}", sub.display()))?;
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| (format!("{prefix}{}", e.file_name().to_string_lossy()), e.path()))
            .collect();
        files.sort();
        found.extend(files);
    }
    Ok(found)
}
