//! Harness pieces shared by the Lambda benchmarks (`cold-start`, `warm-memory`).

pub mod bill;
pub mod functions;
pub mod runtime_api;
pub mod stats;
