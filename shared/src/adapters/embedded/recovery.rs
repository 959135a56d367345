//! `RecoveryStarter` in process: starts are queued by execution name (a repeat is a no-op,
//! as in Step Functions) and [`EmbeddedRecovery::run_pending`] runs them through the ASL
//! interpreter on `statemachines/broadcast-recovery.asl.json`, the file the template deploys.
//!
//! Running later rather than inside `start` keeps the router's call short and avoids the
//! recursion of a retry task that itself runs the stage code that starts recoveries.
//!
//! With a journal ([`EmbeddedRecovery::open`]), starts and ends are on disk: an execution that
//! was started and had not ended when the process stopped (waiting between retries, most
//! likely) is pending again when it starts, and runs again from its first state, as a redriven
//! Step Functions execution would. Its tasks are idempotent (the retry reads the order's state
//! first), so running a part twice changes nothing.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::journal::Journal;
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
    journal: Option<Journal>,
}

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Entry {
    Started { name: String, input: Value },
    Ended { name: String },
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
        Ok(Self { definition, executions: Mutex::default(), journal: None })
    }

    /// The executions the journal at `path` holds: those started and not ended are pending.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let (journal, entries) = Journal::open::<Entry>(path)?;
        let mut recovery = Self::new()?;
        let executions = recovery.executions.get_mut().unwrap_or_else(PoisonError::into_inner);
        for entry in entries {
            match entry {
                Entry::Started { name, input } => {
                    executions.names.insert(name.clone());
                    executions.pending.push((name, input));
                }
                Entry::Ended { name } => executions.pending.retain(|(n, _)| *n != name),
            }
        }
        recovery.journal = Some(journal);
        Ok(recovery)
    }

    /// Takes the executions started and not yet taken, oldest first. Each must be run and then
    /// reported with [`EmbeddedRecovery::ended`].
    pub fn take_pending(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.lock().pending)
    }

    /// Runs one taken execution to its end.
    pub async fn run<I: TaskInvoker, W: Sleeper>(&self, input: Value, tasks: &I, sleeper: &W) -> Execution {
        asl::run(&self.definition, input, tasks, sleeper).await
    }

    /// Notes that an execution ended, so a restart does not run it again.
    pub fn ended(&self, name: &str) -> Result<(), PortError> {
        match &self.journal {
            Some(journal) => {
                journal.append(&Entry::Ended { name: name.to_owned() }).map_err(|e| journal_error(journal, e))
            }
            None => Ok(()),
        }
    }

    /// Runs every execution started so far, oldest first; returns each name with its outcome.
    pub async fn run_pending<I: TaskInvoker, W: Sleeper>(&self, tasks: &I, sleeper: &W) -> Vec<(String, Execution)> {
        let pending = self.take_pending();
        let mut done = Vec::with_capacity(pending.len());
        for (name, input) in pending {
            let execution = self.run(input, tasks, sleeper).await;
            // An end that could not be noted runs again after a restart: idempotent, not lost.
            if let Err(e) = self.ended(&name) {
                tracing::warn!(%name, error = %e, "the end of a recovery execution was not journaled");
            }
            done.push((name, execution));
        }
        done
    }

    // Plain collections, consistent after any panic, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Executions> {
        self.executions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a journaled recovery could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("recovery journal: {0}")]
    Journal(#[from] std::io::Error),
    #[error(transparent)]
    Definition(#[from] DefinitionError),
}

fn journal_error(journal: &Journal, e: std::io::Error) -> PortError {
    PortError::transient("write recovery journal", format!("{}: {e}", journal.path().display()))
}

impl RecoveryStarter for EmbeddedRecovery {
    async fn start(&self, key: &OrderKey, attempt: u32, input: Value) -> Result<(), PortError> {
        let name = recovery_execution_name(key, attempt);
        let mut executions = self.lock();
        if executions.names.contains(&name) {
            return Ok(());
        }
        // On disk before it is pending: a start that was answered survives a crash.
        if let Some(journal) = &self.journal {
            let entry = Entry::Started { name: name.clone(), input: input.clone() };
            journal.append(&entry).map_err(|e| journal_error(journal, e))?;
        }
        executions.names.insert(name.clone());
        executions.pending.push((name, input));
        Ok(())
    }
}
