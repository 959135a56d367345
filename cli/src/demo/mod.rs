//! `orderflow demo`: the bundled samples through the pipeline, on embedded adapters.

mod polling;
mod samples;
mod shop;
mod webhooks;

use std::path::Path;
use std::time::{Duration, Instant};

use email_notifier::{Notified, Notifier};
use error_handler::backoff::Backoff;
use error_handler::local::LocalTasks;
use orderflow_shared::adapters::embedded::OutboxMailer;
use orderflow_shared::asl::{SkipSleeper, Status};
use orderflow_shared::dte::{Failure, Operation};
use orderflow_shared::lifecycle::State;
use orderflow_shared::order::OrderKey;

use orderflow_shared::ports::OrderStore;
use xml_order_converter::Outcome;

use crate::bridge::LocalConfig;
use crate::pipeline::{Pipeline, Time, manual_clock};

/// `orders` is a folder of UBL samples (`*`, plus `malformed/`); without it, the built-in ones.
pub async fn run(orders: Option<&Path>, out: &Path, config: &LocalConfig) -> Result<(), String> {
    let samples = samples::orders(orders)?;
    webhooks::check(config)?;
    config.shops(&[])?;
    polling::check(config)?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("clearing {}: {e}", out.display()))?;
    }
    let clock = manual_clock();
    let pipeline = Pipeline::new(out, Time::Manual(clock.clone()));
    println!("orderflow demo: {} sample documents, embedded bucket at {}", samples.len(), out.join("bucket").display());
    let from = orders.map_or_else(|| "built in".to_owned(), |dir| format!("from {}", dir.display()));
    println!("orderflow demo: samples {from}; configuration {}", config.dir);
    println!();
    println!("1. S3 upload -> xml-order-converter -> orders.fifo");
    let mut queued = Vec::new();
    for (relative, bytes) in &samples {
        for outcome in pipeline.upload(relative, bytes.to_vec()).await?.outcomes {
            println!("   {}", describe(relative, &outcome));
            if let Outcome::Queued { order_key, .. } = outcome {
                queued.push((relative.clone(), order_key));
            }
        }
    }

    // Two orders meet a failing tax authority: one recovers after two retries, one is refused.
    let flaky = queued_key(&queued, "medium-eur.xml");
    let refused = queued_key(&queued, "usd-default-ns.xml");
    for (key, failure, times) in [(&flaky, Failure::Transient, 2), (&refused, Failure::Permanent, 1)] {
        if let Some(key) = key {
            pipeline.dte.fail_order(key, Operation::Broadcast, failure, Some(times));
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
    println!("3. broadcast_dte failures -> recovery workflow (statemachines/broadcast-recovery.asl.json)");
    recover(&pipeline, out).await?;

    println!();
    println!("4. Signed webhooks -> POST /webhooks/standard (webhook-bridge) -> erp-sync.fifo + orders.fifo");
    let webhook_order = webhooks::run(&pipeline, &clock, config).await?.order_key;

    println!();
    println!("4b. EventBridge Scheduler -> order-poller -> WooCommerce (no webhooks) -> erp-sync.fifo + orders.fifo");
    let polled_order = polling::run(&pipeline, &clock, config).await?;

    println!();
    println!("5. orders table stream -> email-notifier (issuance_dte reached)");
    let notifier = Notifier {
        store: pipeline.store.clone(),
        mailer: OutboxMailer::new(out.join("outbox")),
        sender: "orders@orderflow.local".into(),
        claim_timeout: Duration::from_secs(300),
    };
    let results = email_notifier::notify_changes(&notifier, &pipeline.store.changes_since(0)).await;
    let sent = results.iter().filter(|(_, r)| matches!(r, Ok(Notified::Sent { .. }))).count();
    println!("   {sent} customer emails written to {}", out.join("outbox").display());
    for (key, result) in results.iter().filter(|(_, r)| !matches!(r, Ok(Notified::Sent { .. }))) {
        println!("   {key}: {}", not_sent(result));
    }

    println!();
    println!("6. A Shopify order ships -> orders table stream -> shop-sync -> Shopify (local double)");
    let shop_order = shop::run(&pipeline, &clock, config).await?;

    println!();
    println!("7. Orders table");
    // As wide as the longest state name, so the columns after it stay aligned for every state.
    let state_width = State::ALL.iter().map(|s| s.as_str().len()).max().unwrap_or(0);
    println!("   {:<34} {:<state_width$} {:>7} {:<14} {:<14}", "order key", "state", "version", "folio", "track id");
    let mut transitions = 0;
    let keys: Result<Vec<OrderKey>, String> =
        queued.iter().map(|(_, key)| OrderKey::parse(key).map_err(|e| e.to_string())).collect();
    for key in keys?.into_iter().chain(webhook_order).chain(polled_order).chain(shop_order) {
        let record = pipeline.store.get(&key).await.map_err(|e| e.to_string())?.ok_or("queued order not stored")?;
        transitions += record.history.iter().filter(|h| h.to.is_some()).count();
        println!(
            "   {:<34} {:<state_width$} {:>7} {:<14} {:<14}",
            record.key.as_str(),
            record.state.as_str(),
            record.version,
            record.dte.folio.as_deref().unwrap_or("-"),
            record.dte.track_id.as_deref().unwrap_or("-"),
        );
    }
    println!();
    println!(
        "   {transitions} transitions in all; step 2 delivered {} commands in {:.1} ms",
        polled.deleted,
        elapsed.as_secs_f64() * 1e3
    );
    Ok(())
}

/// Why an order got no customer email, in words (the demo is read by people).
fn not_sent<E: std::fmt::Display>(result: &Result<Notified, E>) -> String {
    match result {
        Ok(Notified::Sent { message_id }) => format!("sent ({message_id})"),
        Ok(Notified::AlreadySettled) => "already sent or recorded before; nothing sent again".into(),
        Ok(Notified::RecipientRejected) => {
            "no email sent: the order has no usable address (noted in its history)".into()
        }
        Ok(Notified::Missing) => "no email sent: the order is no longer in the table".into(),
        Err(e) => format!("email failed and will be retried: {e}"),
    }
}

fn queued_key(queued: &[(String, String)], relative: &str) -> Option<OrderKey> {
    queued.iter().find(|(r, _)| r == relative).and_then(|(_, k)| OrderKey::parse(k).ok())
}

/// The deployed stage's defaults (BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS,
/// BroadcastMaxAttempts).
pub const RECOVERY_BACKOFF: Backoff = Backoff { base_seconds: 30, cap_seconds: 900, max_attempts: 5 };

/// Runs every workflow execution the router started, with the real task handlers in process
/// and waits skipped, then lets the lifecycle continue.
async fn recover(pipeline: &Pipeline, out: &Path) -> Result<(), String> {
    let deps = pipeline.error_handler(out.join("ops-outbox"), RECOVERY_BACKOFF)?;
    let sleeper = SkipSleeper::default();
    let runs = pipeline.service.recovery.run_pending(&LocalTasks::new(&deps, 1), &sleeper).await;
    if runs.is_empty() {
        println!("   no broadcast failed");
    }
    for (name, execution) in runs {
        let end = execution.cause.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
        let status = match execution.status {
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
        };
        println!("   {name}: {status}{end}");
        println!("     path: {}", execution.path.join(" -> "));
    }
    println!("   simulated waits: {} s (skipped)", sleeper.waited_seconds());
    pipeline.drain().await?;
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
