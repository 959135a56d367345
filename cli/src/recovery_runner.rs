//! `orderflow serve`'s Step Functions: the recovery executions the state router starts are run
//! in the background, each in its own task, with real waits between retries. Starts and ends
//! are journaled (see `EmbeddedRecovery::open`), so an execution that was waiting when `serve`
//! stopped runs again when it starts.

use std::sync::Arc;
use std::time::Duration;

use error_handler::local::LocalTasks;
use orderflow_shared::asl::{Status, TokioSleeper};

use crate::pipeline::{ErrorHandler, Service};

/// How often new executions are looked for.
const POLL: Duration = Duration::from_millis(200);

/// Runs every execution started so far and from now on, for as long as the process lives.
pub async fn run(service: Arc<Service>, tasks: Arc<ErrorHandler>) {
    // Seeded per process: the jitter of the backoff, as the deployed task draws it.
    let mut seed = 1;
    loop {
        for (name, input) in service.recovery.take_pending() {
            seed += 1;
            let (service, tasks) = (service.clone(), tasks.clone());
            tokio::spawn(async move {
                println!("orderflow serve: recovery {name}: running");
                let local = LocalTasks::new(&tasks, seed);
                let execution = service.recovery.run(input, &local, &TokioSleeper).await;
                let status = match execution.status {
                    Status::Succeeded => "succeeded",
                    Status::Failed => "failed",
                };
                println!("orderflow serve: recovery {name}: {status} ({})", execution.path.join(" -> "));
                if let Err(e) = service.recovery.ended(&name) {
                    eprintln!("orderflow serve: recovery {name}: {e}; it runs again after a restart");
                }
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
