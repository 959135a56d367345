//! Seeded draws that replay: each sighting of a request draws from a state that depends only on
//! the seed, the request's fingerprint and how many times that fingerprint was seen before,
//! never on arrival order. Both chaos proxies decide with it.

use std::collections::HashMap;
use std::sync::Mutex;

use super::lock;

pub(super) struct Dice {
    seed: u64,
    seen: Mutex<HashMap<u64, u32>>,
}

impl Dice {
    pub(super) fn new(seed: u64) -> Self {
        Self { seed, seen: Mutex::default() }
    }

    /// The draws for this sighting of `fingerprint`.
    pub(super) fn roll(&self, fingerprint: u64) -> Draws {
        let attempt = {
            let mut seen = lock(&self.seen);
            let count = seen.entry(fingerprint).or_default();
            *count += 1;
            *count - 1
        };
        Draws(self.seed ^ fingerprint.rotate_left(17) ^ u64::from(attempt).wrapping_mul(0xA24B_AED4_963E_E407))
    }
}

/// A SplitMix64 sequence.
pub(super) struct Draws(u64);

impl Draws {
    /// The next draw, uniform in [0, 1).
    pub(super) fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}
