//! What every function's `main` does first, before its configuration and clients: the heap
//! settings, before anything sizeable is allocated, then the logs.

use crate::{heap, telemetry};

/// Call once, first, in every function's `main`.
pub fn init() {
    let kept = heap::keep_freed_memory();
    telemetry::init();
    if !kept {
        // Not fatal: only the next large event pays for its page faults again.
        tracing::warn!("the C library did not take the heap thresholds; freed memory goes back between events");
    }
}
