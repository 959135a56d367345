//! Time for the embedded queue, injectable so tests advance it instead of sleeping.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in epoch milliseconds (the unit of `sent_at_ms`).
pub trait Clock: Send + Sync + Debug {
    fn now_ms(&self) -> u64;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock set before 1970 is a host fault; 0 keeps the queue usable rather than panicking.
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, duration_ms)
    }
}

/// A clock that moves only when told to. Clones share one time, so a test keeps a handle
/// while the queue holds another.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now_ms: Arc<AtomicU64>,
}

impl ManualClock {
    pub fn new(start_ms: u64) -> Self {
        Self { now_ms: Arc::new(AtomicU64::new(start_ms)) }
    }

    pub fn advance(&self, by: Duration) {
        self.now_ms.fetch_add(duration_ms(by), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// Whole milliseconds, saturating (no realistic duration exceeds u64 milliseconds).
pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced_and_clones_share_time() {
        let clock = ManualClock::new(1_000);
        let handle = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        handle.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now_ms(), 2_500);
    }

    #[test]
    fn system_clock_reads_epoch_milliseconds() {
        // 2020-01-01 in epoch ms: any sane host is past it, and a seconds-based clock is not.
        assert!(SystemClock.now_ms() > 1_577_836_800_000);
    }
}
