//! `orderflow demo`: the bundled samples through the pipeline, on embedded adapters.

use std::path::{Path, PathBuf};
use std::time::Instant;

use orderflow_shared::ports::OrderStore;
use xml_order_converter::Outcome;

use crate::pipeline::{Pipeline, Time, manual_clock};

pub const DEFAULT_ORDERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/orders");

pub async fn run(orders: &Path, out: &Path) -> Result<(), String> {
    let samples = sample_files(orders)?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("clearing {}: {e}", out.display()))?;
    }
    let pipeline = Pipeline::new(out, Time::Manual(manual_clock()));
    println!("orderflow demo: {} sample documents, embedded bucket at {}", samples.len(), out.join("bucket").display());
    println!();
    println!("1. S3 upload -> xml-order-converter -> orders.fifo");
    let mut queued = Vec::new();
    for (relative, path) in &samples {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for outcome in pipeline.upload(relative, bytes).await?.outcomes {
            println!("   {}", describe(relative, &outcome));
            if let Outcome::Queued { order_key, .. } = outcome {
                queued.push(order_key);
            }
        }
    }

    println!();
    println!("2. orders.fifo -> queue-reader -> Orders API (state-router): register, issuance_dte, broadcast_dte");
    let started = Instant::now();
    let polled = pipeline.drain().await?;
    let elapsed = started.elapsed();
    println!(
        "   {} commands delivered, {} retried, {} parked in orders-pending.fifo",
        polled.deleted,
        polled.failed,
        pipeline.pending.len()
    );

    println!();
    println!("3. Orders table");
    println!("   {:<34} {:<14} {:>7} {:<14} {:<14}", "order key", "state", "version", "folio", "track id");
    let mut transitions = 0;
    for key in &queued {
        let key = orderflow_shared::order::OrderKey::parse(key).map_err(|e| e.to_string())?;
        let record = pipeline.store.get(&key).await.map_err(|e| e.to_string())?.ok_or("queued order not stored")?;
        transitions += record.history.iter().filter(|h| h.to.is_some()).count();
        println!(
            "   {:<34} {:<14} {:>7} {:<14} {:<14}",
            record.key.as_str(),
            record.state.as_str(),
            record.version,
            record.dte.folio.as_deref().unwrap_or("-"),
            record.dte.track_id.as_deref().unwrap_or("-"),
        );
    }
    println!();
    println!(
        "   {transitions} transitions in {:.1} ms ({:.0} µs per transition, including queueing and delivery)",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e6 / transitions.max(1) as f64
    );
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
