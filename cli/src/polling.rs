//! The order poller in process: every connection with a poll trigger run in turn, as
//! EventBridge Scheduler runs the function once per source, onto the pipeline's orders queue
//! and the bridge's erp-sync queue. `orderflow serve --poll-every` runs it on a cadence with
//! the cursors kept in its `--state` folder; the demo runs it once against its own server.

use std::sync::Arc;
use std::time::Duration;

use order_poller::{PollReport, Poller, handle};
use orderflow_shared::adapters::embedded::MemoryPollCursors;
use orderflow_shared::poll::{LocalSecrets, real_pause};
use orderflow_shared::ports::Clock;
use orderflow_shared::secrets::Secret;

use crate::bridge::{LocalApps, LocalConfig};
use crate::pipeline::Queue;

pub type LocalPoller = Poller<LocalApps, LocalSecrets, MemoryPollCursors, Queue, Queue>;

/// The poller over the connections of `apps`, with the local secrets.
pub fn poller(
    config: &LocalConfig,
    apps: LocalApps,
    cursors: MemoryPollCursors,
    queues: (Queue, Queue),
    clock: Arc<dyn Clock>,
) -> Result<LocalPoller, String> {
    let (erp_sync, orders) = queues;
    let secrets = config.secret_values()?.into_iter().map(|(k, v)| (k, Secret::new(v))).collect();
    Ok(Poller { apps, secrets: LocalSecrets(secrets), cursors, erp_sync, orders, clock, pause: real_pause() })
}

/// One run for the source `name`, as the scheduler's payload names it.
pub async fn poll(poller: &LocalPoller, name: &str) -> Result<PollReport, String> {
    handle(poller, serde_json::json!({ "source": name })).await.map_err(|e| format!("poll {name}: {e}"))
}

/// Runs every source every `every`, for as long as the process lives. A run that queued
/// something or failed is said on stdout or stderr; a quiet one is not.
pub async fn every(poller: LocalPoller, every: Duration) {
    loop {
        // Read each round: a connection added with `orderflow apps connect` is polled too.
        for name in poll_sources(&poller.apps).await {
            match poll(&poller, &name).await {
                Ok(report) if report.queued > 0 => println!("orderflow serve: polled {name}: {}", describe(&report)),
                Ok(_) => {}
                Err(e) => eprintln!("orderflow serve: {e}"),
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// The names of the connections that poll.
pub async fn poll_sources(apps: &LocalApps) -> Vec<String> {
    match apps.runtime().await {
        Ok(runtime) => runtime.poll_sources.iter().map(|s| s.name.clone()).collect(),
        Err(e) => {
            eprintln!("orderflow serve: apps: {e}");
            Vec::new()
        }
    }
}

/// What a run did, in one line.
pub fn describe(report: &PollReport) -> String {
    format!(
        "{} listed, {} queued, {} left out by the filter, {} already taken ({})",
        report.listed, report.queued, report.filtered, report.already_taken, report.outcome
    )
}
