//! The `orderflow` command's parts, as a library so tests and benchmarks can drive the
//! embedded pipeline ([`pipeline`], [`bridge`]) the way the CLI does.

pub mod accounts;
pub mod apps;
pub mod bridge;
pub mod config_dir;
pub mod convert;
pub mod dead_letters;
pub mod demo;
pub mod erp_doubles;
pub mod legacy_proxy;
pub mod orders_queue;
pub mod pipeline;
pub mod polling;
pub mod recovery_runner;
pub mod serve;
pub mod shops;
pub mod stats_backfill;
pub mod sync;

/// The allocator of the `orderflow` binary, and of the benchmark that measures its pipeline
/// (`bench/src/bin/throughput.rs`), so that the figure is `orderflow serve`'s. Each binary
/// declares it as its `#[global_allocator]`; a library cannot choose for its users, and the
/// tests keep the system's. mimalloc's thread-local free lists took the pipeline's CPU per
/// order down by about a quarter against glibc's malloc (docs/PERFORMANCE.md). The Lambda
/// functions keep the system allocator: in the converter it made the conversion 4–27 % faster
/// but added 0.6–1.0 ms to every cold start (its arena), a bad trade for microseconds.
pub use mimalloc::MiMalloc as Allocator;
