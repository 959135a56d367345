//! What every function's `main` does first, before its configuration and clients: the heap
//! settings, before anything sizeable is allocated, then the logs, then the extra certificate
//! authorities, if any are named.

use crate::http_client::{UntrustedAuthorities, check_extra_authorities};
use crate::{heap, telemetry};

/// Call once, first, in every function's `main`; an error stops the start.
pub fn init() -> Result<(), UntrustedAuthorities> {
    let kept = heap::keep_freed_memory();
    telemetry::init();
    if !kept {
        // Not fatal: only the next large event pays for its page faults again.
        tracing::warn!("the C library did not take the heap thresholds; freed memory goes back between events");
    }
    check_extra_authorities().inspect_err(|e| tracing::error!("{e}"))
}
