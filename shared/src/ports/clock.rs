//! Time as a port: the embedded queue, token caches and mapping reloads read the time through
//! it, so tests advance a manual clock (adapters::embedded::ManualClock) instead of sleeping.

use std::fmt::Debug;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in epoch milliseconds (the unit of `sent_at_ms`).
pub trait Clock: Send + Sync + Debug {
    fn now_ms(&self) -> u64;
}

/// The real clock. It needs nothing but the operating system, so it lives beside its port
/// and every function, embedded or on AWS, takes it from here.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock set before 1970 is a host fault; 0 keeps the queue usable rather than panicking.
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, duration_ms)
    }
}

/// Whole milliseconds, saturating (no realistic duration exceeds u64 milliseconds).
pub fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_reads_epoch_milliseconds() {
        // 2020-01-01 in epoch ms: any sane host is past it, and a seconds-based clock is not.
        assert!(SystemClock.now_ms() > 1_577_836_800_000);
    }
}
