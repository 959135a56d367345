//! catalog-sync: one scheduled run of catalogue and stock sync (pull, push or both), see
//! [`handler`]. `main.rs` wires the AWS adapters.

pub mod handler;
