//! A clock that tests and the demo move by hand, for the [`Clock`] port.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::ports::{Clock, duration_ms};

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
}
