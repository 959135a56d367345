//! When to try a failed broadcast again: exponential backoff with jitter, capped, and never
//! for a failure the DTE provider has called permanent.

use orderflow_shared::lifecycle::StageError;
use serde::{Deserialize, Serialize};

/// DTE provider codes that mean the document itself is refused: a retry repeats the refusal,
/// whatever the failure's own `retryable` flag says.
pub const PERMANENT_DTE_CODES: &[&str] =
    &["dte_rejected", "rut_invalid", "signature_invalid", "schema_invalid", "folio_duplicated"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base_seconds: u64,
    pub cap_seconds: u64,
    /// Broadcast attempts in all, the router's first one included.
    pub max_attempts: u32,
}

/// The workflow's Choice and Wait read these fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub retryable: bool,
    pub wait_seconds: u64,
    /// The attempt the retry will be; the failed one when there is none.
    pub attempt: u32,
}

impl Backoff {
    /// Decides after failed attempt `error.attempt`. `unit` is a draw from [0, 1) that spreads
    /// retries of many orders failing together (equal jitter: half fixed, half random).
    pub fn decide(&self, error: &StageError, unit: f64) -> Decision {
        let permanent = !error.retryable || PERMANENT_DTE_CODES.contains(&error.code.as_str());
        if permanent || error.attempt >= self.max_attempts {
            return Decision { retryable: false, wait_seconds: 0, attempt: error.attempt };
        }
        let exponent = error.attempt.saturating_sub(1).min(32);
        let ceiling = self.base_seconds.saturating_mul(1 << exponent).min(self.cap_seconds);
        let half = ceiling / 2;
        let jitter = ((ceiling - half) as f64 * unit.clamp(0.0, 1.0)).floor() as u64;
        Decision { retryable: true, wait_seconds: (half + jitter).min(self.cap_seconds), attempt: error.attempt + 1 }
    }
}

/// A small seedable generator (SplitMix64): jitter needs spread, not cryptographic quality,
/// and a seed makes the bounds testable.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    pub fn seeded(seed: u64) -> Self {
        Self(seed)
    }

    /// Seeded from the clock, for the Lambda.
    pub fn from_time() -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        Self(nanos as u64)
    }

    /// A draw from [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use orderflow_shared::lifecycle::State;

    use super::*;

    const POLICY: Backoff = Backoff { base_seconds: 10, cap_seconds: 300, max_attempts: 8 };

    fn failed(attempt: u32, code: &str, retryable: bool) -> StageError {
        StageError { stage: State::BroadcastDte, code: code.into(), message: "m".into(), retryable, attempt }
    }

    #[test]
    fn waits_grow_exponentially_within_jitter_bounds() {
        let mut jitter = Jitter::seeded(7);
        for attempt in 1..=5u32 {
            let ceiling = 10 * 2u64.pow(attempt - 1);
            for _ in 0..200 {
                let d = POLICY.decide(&failed(attempt, "provider_unavailable", true), jitter.unit());
                assert!(d.retryable);
                assert_eq!(d.attempt, attempt + 1);
                assert!((ceiling / 2..=ceiling).contains(&d.wait_seconds), "attempt {attempt}: {}", d.wait_seconds);
            }
        }
    }

    #[test]
    fn waits_never_exceed_the_cap() {
        let mut jitter = Jitter::seeded(42);
        for _ in 0..500 {
            let d = POLICY.decide(&failed(7, "timeout", true), jitter.unit());
            assert!((150..=300).contains(&d.wait_seconds), "{}", d.wait_seconds);
        }
        assert_eq!(POLICY.decide(&failed(7, "timeout", true), 0.999_999).wait_seconds, 299);
    }

    #[test]
    fn jitter_draws_are_in_the_unit_interval_and_repeatable() {
        let draws: Vec<f64> = (0..1000).scan(Jitter::seeded(1), |j, _| Some(j.unit())).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let again: Vec<f64> = (0..1000).scan(Jitter::seeded(1), |j, _| Some(j.unit())).collect();
        assert_eq!(draws, again);
    }

    #[test]
    fn permanent_codes_and_flags_mean_no_retry() {
        for code in PERMANENT_DTE_CODES {
            assert!(!POLICY.decide(&failed(1, code, true), 0.5).retryable, "{code}");
        }
        assert!(!POLICY.decide(&failed(1, "http_400", false), 0.5).retryable);
    }

    #[test]
    fn the_last_attempt_is_not_retried() {
        assert!(POLICY.decide(&failed(7, "timeout", true), 0.5).retryable);
        let d = POLICY.decide(&failed(8, "timeout", true), 0.5);
        assert_eq!(d, Decision { retryable: false, wait_seconds: 0, attempt: 8 });
    }
}
