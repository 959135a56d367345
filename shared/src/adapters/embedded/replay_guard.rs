//! In-process webhook claims (the [`ReplayGuard`] port), for `orderflow serve`, the demo and tests.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::PortError;
use crate::ports::{Claim, IN_PROGRESS_LEASE_SECONDS, ReplayGuard};

#[derive(Debug, Clone, Copy)]
struct Entry {
    completed: bool,
    expires_at: i64,
    lease_until: i64,
}

/// In-process claims, for `orderflow serve`, the demo and unit tests.
#[derive(Debug, Default)]
pub struct MemoryReplayGuard {
    entries: Mutex<HashMap<String, Entry>>,
}

impl MemoryReplayGuard {
    pub fn new() -> Self {
        Self::default()
    }
}

impl ReplayGuard for MemoryReplayGuard {
    async fn claim(&self, key: &str, now: i64, expires_at: i64) -> Result<Claim, PortError> {
        let mut entries = self.entries.lock().expect("replay guard lock");
        if let Some(entry) = entries.get(key)
            && entry.expires_at >= now
        {
            if entry.completed {
                return Ok(Claim::Duplicate);
            }
            if entry.lease_until >= now {
                return Ok(Claim::InProgress);
            }
        }
        let entry = Entry { completed: false, expires_at, lease_until: now + IN_PROGRESS_LEASE_SECONDS };
        entries.insert(key.to_owned(), entry);
        Ok(Claim::Claimed)
    }

    async fn complete(&self, key: &str) -> Result<(), PortError> {
        let mut entries = self.entries.lock().expect("replay guard lock");
        match entries.get_mut(key) {
            Some(entry) => {
                entry.completed = true;
                Ok(())
            }
            None => Err(PortError::not_found("replay_guard.complete", "no claim to complete")),
        }
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.entries.lock().expect("replay guard lock").remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_completed_claim_is_a_duplicate_until_it_expires() {
        let guard = MemoryReplayGuard::new();
        assert_eq!(guard.claim("s#1", 100, 200).await.unwrap(), Claim::Claimed);
        guard.complete("s#1").await.unwrap();
        assert_eq!(guard.claim("s#1", 150, 250).await.unwrap(), Claim::Duplicate);
        assert_eq!(guard.claim("s#1", 201, 301).await.unwrap(), Claim::Claimed);
    }

    #[tokio::test]
    async fn a_live_claim_in_progress_is_not_taken_over_but_a_lapsed_one_is() {
        let guard = MemoryReplayGuard::new();
        assert_eq!(guard.claim("s#1", 100, 10_000).await.unwrap(), Claim::Claimed);
        assert_eq!(guard.claim("s#1", 101, 10_000).await.unwrap(), Claim::InProgress);
        let later = 101 + IN_PROGRESS_LEASE_SECONDS;
        assert_eq!(guard.claim("s#1", later, 10_000).await.unwrap(), Claim::Claimed);
    }

    #[tokio::test]
    async fn a_released_claim_can_be_claimed_again() {
        let guard = MemoryReplayGuard::new();
        assert_eq!(guard.claim("s#1", 100, 200).await.unwrap(), Claim::Claimed);
        guard.release("s#1").await.unwrap();
        assert_eq!(guard.claim("s#1", 101, 201).await.unwrap(), Claim::Claimed);
    }
}
