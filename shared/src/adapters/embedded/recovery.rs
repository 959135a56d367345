//! `RecoveryStarter` in process: starts are queued by execution name (a repeat is a no-op,
//! as in Step Functions) and [`EmbeddedRecovery::run_pending`] runs them through the ASL
//! interpreter on `statemachines/broadcast-recovery.asl.json`, the file the template deploys.
//!
//! Running later rather than inside `start` keeps the router's call short and avoids the
//! recursion of a retry task that itself runs the stage code that starts recoveries.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::Value;

use crate::asl::{self, Definition, DefinitionError, Execution, Sleeper, TaskInvoker};
use crate::error::PortError;
use crate::order::OrderKey;
use crate::ports::{RecoveryStarter, recovery_execution_name};

/// What the definition's Lambda placeholders become locally; a [`TaskInvoker`] dispatches on them.
pub const ERROR_HANDLER_RESOURCE: &str = "local:error-handler";
pub const BROADCAST_RETRY_RESOURCE: &str = "local:broadcast-retry";

#[derive(Debug, Default)]
struct Executions {
    names: HashSet<String>,
    pending: Vec<(String, Value)>,
}

#[derive(Debug)]
pub struct EmbeddedRecovery {
    definition: Definition,
    executions: Mutex<Executions>,
}

impl EmbeddedRecovery {
    pub fn new() -> Result<Self, DefinitionError> {
        let definition = Definition::parse(
            asl::BROADCAST_RECOVERY,
            &[
                ("ErrorHandlerFunctionArn", ERROR_HANDLER_RESOURCE),
                ("BroadcastRetryFunctionArn", BROADCAST_RETRY_RESOURCE),
            ],
        )?;
        Ok(Self { definition, executions: Mutex::default() })
    }

    /// Runs every execution started so far, oldest first; returns each name with its outcome.
    pub async fn run_pending<I: TaskInvoker, W: Sleeper>(&self, tasks: &I, sleeper: &W) -> Vec<(String, Execution)> {
        let pending = std::mem::take(&mut self.lock().pending);
        let mut done = Vec::with_capacity(pending.len());
        for (name, input) in pending {
            let execution = asl::run(&self.definition, input, tasks, sleeper).await;
            done.push((name, execution));
        }
        done
    }

    // Plain collections, consistent after any panic, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Executions> {
        self.executions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl RecoveryStarter for EmbeddedRecovery {
    async fn start(&self, key: &OrderKey, attempt: u32, input: Value) -> Result<(), PortError> {
        let name = recovery_execution_name(key, attempt);
        let mut executions = self.lock();
        if executions.names.insert(name.clone()) {
            executions.pending.push((name, input));
        }
        Ok(())
    }
}
