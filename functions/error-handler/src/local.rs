//! The workflow's tasks in process, for the embedded recovery: the ASL interpreter calls
//! these handlers where Step Functions would invoke the two Lambda functions.

use orderflow_shared::adapters::embedded::recovery::{BROADCAST_RETRY_RESOURCE, ERROR_HANDLER_RESOURCE};
use orderflow_shared::asl::{TaskFailure, TaskInvoker};
use orderflow_shared::error::Classify;
use orderflow_shared::ports::{DteProvider, FifoQueue, Mailer, OrderStore, RecoveryStarter};
use serde_json::Value;
use std::sync::Mutex;

use crate::Deps;
use crate::backoff::Jitter;
use crate::task::{self, TaskError};

pub struct LocalTasks<'a, S, Q, D, R, M> {
    pub deps: &'a Deps<S, Q, D, R, M>,
    /// Seeded, so a local run is repeatable.
    pub jitter: Mutex<Jitter>,
}

impl<'a, S, Q, D, R, M> LocalTasks<'a, S, Q, D, R, M> {
    pub fn new(deps: &'a Deps<S, Q, D, R, M>, seed: u64) -> Self {
        Self { deps, jitter: Mutex::new(Jitter::seeded(seed)) }
    }
}

impl<S, Q, D, R, M> TaskInvoker for LocalTasks<'_, S, Q, D, R, M>
where
    S: OrderStore,
    Q: FifoQueue,
    D: DteProvider,
    R: RecoveryStarter,
    M: Mailer,
{
    async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure> {
        let result = match resource {
            ERROR_HANDLER_RESOURCE => {
                let unit = self.jitter.lock().unwrap_or_else(std::sync::PoisonError::into_inner).unit();
                let deps = self.deps;
                task::run_error_task(&deps.service, &deps.backoff, (&deps.mailer, &deps.alert), input, unit).await
            }
            BROADCAST_RETRY_RESOURCE => match serde_json::from_value(input) {
                Ok(input) => task::retry_broadcast(&self.deps.service, input).await.map(|o| o.to_json()),
                Err(e) => Err(e.into()),
            },
            other => {
                return Err(TaskFailure {
                    error: "States.Runtime".into(),
                    cause: format!("no local task for {other}"),
                });
            }
        };
        result.map_err(|e: TaskError| TaskFailure {
            error: if e.is_transient() { "Transient" } else { "Permanent" }.into(),
            cause: e.to_string(),
        })
    }
}
