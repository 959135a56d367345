//! A small interpreter for the subset of Amazon States Language that
//! `statemachines/broadcast-recovery.asl.json` uses, so that the embedded stack runs the very
//! file the template deploys rather than a hand-written copy of its logic.
//!
//! Supported: Task (Lambda resources, Parameters, ResultPath, Retry, Catch), Choice
//! (`BooleanEquals`, `StringEquals`, `NumericEquals`, Default), Wait (`Seconds`, `SecondsPath`),
//! Pass (InputPath, Parameters, Result, ResultPath), Succeed, Fail. Anything else is refused
//! when the definition is parsed, so a change to the file cannot be silently mis-run.

mod definition;
mod interpreter;
mod path;

use std::future::Future;

pub use definition::{Definition, DefinitionError};
pub use interpreter::{Execution, Status, run};

/// The broadcast recovery workflow, compiled in from the one file the template deploys.
pub const BROADCAST_RECOVERY: &str = include_str!("../../../statemachines/broadcast-recovery.asl.json");

/// A task failure as Step Functions names it: `error` is what Retry/Catch match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct TaskFailure {
    pub error: String,
    pub cause: String,
}

/// Runs a Task state's resource (a Lambda ARN after substitution) on its input.
pub trait TaskInvoker: Send + Sync {
    fn invoke(
        &self,
        resource: &str,
        input: serde_json::Value,
    ) -> impl Future<Output = Result<serde_json::Value, TaskFailure>> + Send;
}

/// How Wait states and retry intervals pass: real sleeping in a server, nothing in tests.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, seconds: u64) -> impl Future<Output = ()> + Send;
}

/// Really waits.
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    async fn sleep(&self, seconds: u64) {
        tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
    }
}

/// Does not wait; adds up the seconds it was asked to wait, for tests and the demo.
#[derive(Debug, Default)]
pub struct SkipSleeper {
    waited: std::sync::atomic::AtomicU64,
}

impl SkipSleeper {
    pub fn waited_seconds(&self) -> u64 {
        self.waited.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Sleeper for SkipSleeper {
    async fn sleep(&self, seconds: u64) {
        self.waited.fetch_add(seconds, std::sync::atomic::Ordering::Relaxed);
    }
}
