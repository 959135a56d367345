//! End-to-end local throughput: N distinct UBL orders through the embedded pipeline that
//! `orderflow serve` runs: S3 upload → xml-order-converter → orders.fifo → queue-reader →
//! state-router (register, issuance_dte, broadcast_dte, with the simulated DTE provider) →
//! email-notifier on the orders table's change stream. Orders per second, wall clock.
//!
//! Four stages run side by side, each on a thread and a single-threaded runtime of its own, as
//! the client and the functions run apart from each other: the client uploading (each upload's
//! S3 notification goes to the converter), the converter, the queue reader polling
//! orders.fifo, and the email notifier following the change stream. Each function's stage runs
//! its handler one event or batch at a time, like one Lambda instance per function.
//!
//! usage: throughput ORDERS [WORK_DIR]   (the result is the last line on stdout, after the
//! handlers' metric lines)

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use email_notifier::{Notified, Notifier};
use orderflow_cli::pipeline::{Pipeline, Time};
use orderflow_shared::adapters::embedded::OutboxMailer;
use serde_json::json;

/// `orderflow serve`'s allocator, so the figure is the command's.
#[global_allocator]
static ALLOCATOR: orderflow_cli::Allocator = orderflow_cli::Allocator;

const SAMPLE: &str = include_str!("../../../events/orders/small-clp.xml");
const ORDER_NUMBER: &str = "<cbc:ID>OC-2026-00417</cbc:ID>";
/// How long an idle stage waits before it looks again (the timer's resolution).
const IDLE: Duration = Duration::from_millis(1);

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let orders: usize =
        args.first().ok_or("usage: throughput ORDERS [WORK_DIR]")?.parse().map_err(|e| format!("{e}"))?;
    let work = args.get(1).map_or_else(|| std::env::temp_dir().join("orderflow-throughput"), PathBuf::from);
    let _ = std::fs::remove_dir_all(&work);
    // Documents are made before the clock starts: generating input is not the pipeline's work.
    let documents: Vec<Vec<u8>> = (0..orders)
        .map(|n| SAMPLE.replacen(ORDER_NUMBER, &format!("<cbc:ID>BENCH-{n:07}</cbc:ID>"), 1).into_bytes())
        .collect();
    let pipeline = Arc::new(Pipeline::new(&work, Time::Real));
    let notifier = Notifier {
        store: pipeline.store.clone(),
        mailer: OutboxMailer::new(work.join("outbox")),
        sender: "orders@orderflow.local".into(),
        claim_timeout: Duration::from_secs(300),
    };
    let converted = Arc::new(AtomicBool::new(false));
    let read = Arc::new(AtomicBool::new(false));

    let started = Instant::now();
    // The client's uploads, each followed by its S3 notification to the converter.
    let (notifications, mut notified) = tokio::sync::mpsc::unbounded_channel();
    let uploader = stage("upload", {
        let pipeline = pipeline.clone();
        async move {
            for (n, document) in documents.into_iter().enumerate() {
                let key = pipeline.put_incoming(&format!("bench-{n:07}.xml"), document).await?;
                notifications.send(key).map_err(|_| "the convert stage stopped")?;
            }
            Ok::<_, String>(started.elapsed())
        }
    });
    let converter = stage("convert", {
        let (pipeline, converted) = (pipeline.clone(), converted.clone());
        async move {
            while let Some(key) = notified.recv().await {
                pipeline.notify(&key).await?;
            }
            converted.store(true, Ordering::Release);
            Ok::<_, String>(started.elapsed())
        }
    });
    let reader = stage("deliver", {
        let (pipeline, converted, read) = (pipeline.clone(), converted.clone(), read.clone());
        async move {
            let mut delivered = 0;
            loop {
                // Read before draining: once conversions are over, an empty drain means done.
                let last_round = converted.load(Ordering::Acquire);
                let polled = pipeline.drain().await?;
                delivered += polled.deleted;
                if polled.received == 0 {
                    if last_round && pipeline.orders.is_empty() {
                        break;
                    }
                    tokio::time::sleep(IDLE).await;
                }
            }
            read.store(true, Ordering::Release);
            Ok::<_, String>((delivered, started.elapsed()))
        }
    });
    let emailer = stage("email", {
        let pipeline = pipeline.clone();
        async move {
            let (mut seen, mut emails) = (0, 0);
            loop {
                let last_round = read.load(Ordering::Acquire);
                let changes = pipeline.store.changes_since(seen);
                let Some(last) = changes.last() else {
                    if last_round {
                        return (emails, started.elapsed());
                    }
                    tokio::time::sleep(IDLE).await;
                    continue;
                };
                seen = last.sequence;
                let results = email_notifier::notify_changes(&notifier, &changes).await;
                emails += results.iter().filter(|(_, r)| matches!(r, Ok(Notified::Sent { .. }))).count();
            }
        }
    });
    let uploaded_at = uploader.join().map_err(|_| "the upload stage panicked")??;
    let converted_at = converter.join().map_err(|_| "the convert stage panicked")??;
    let (delivered, delivered_at) = reader.join().map_err(|_| "the deliver stage panicked")??;
    let (emails, emailed_at) = emailer.join().map_err(|_| "the email stage panicked")?;
    let elapsed = started.elapsed().as_secs_f64();

    if emails != orders || !pipeline.pending.is_empty() {
        return Err(format!("{emails} of {orders} orders reached the email, {} parked", pipeline.pending.len()));
    }
    let writes = pipeline.store.changes_since(0).len();
    // Per order, counted on the embedded adapters: the AWS request counts of the same code paths.
    let per_order = |n: usize| n as f64 / orders as f64;
    let row = json!({
        "orders": orders,
        "seconds": elapsed,
        "orders_per_second": orders as f64 / elapsed,
        // When each stage had done its last order: the one that finishes with the run sets the pace.
        "stage_done_seconds": {
            "upload": uploaded_at.as_secs_f64(),
            "convert": converted_at.as_secs_f64(),
            "deliver": delivered_at.as_secs_f64(),
            "email": emailed_at.as_secs_f64(),
        },
        "per_order": {
            "commands_delivered": per_order(delivered),
            "table_writes": per_order(writes),
            "emails": per_order(emails),
        },
    });
    println!("{row}");
    Ok(())
}

/// One stage on a thread and a single-threaded runtime of its own, as each function runs in
/// its own Lambda sandbox: the OS shares the cores between the stages, and a stage that runs a
/// long batch does not keep another from being scheduled.
fn stage<T: Send + 'static>(
    name: &str,
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime starts");
    std::thread::Builder::new().name(name.to_owned()).spawn(move || runtime.block_on(work)).expect("a thread starts")
}
