//! The order poller: run by EventBridge Scheduler once per source and rate, with
//! `{"source": "<name>"}`; reads the orders changed since the source's cursor and queues each
//! new one exactly as the webhook door does ([`handler`]).

pub mod handler;

pub use handler::{PollReport, PollRequest, Poller, RunError, handle};
