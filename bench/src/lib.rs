//! Harness pieces shared by the benchmarks: the Lambda ones (`cold-start`, `warm-memory`), the
//! bill, and the conversion's Rust contestants.

pub mod bill;
pub mod conversion;
pub mod functions;
pub mod runtime_api;
pub mod stats;
