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
