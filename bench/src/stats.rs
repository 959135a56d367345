//! Median and spread of repeated measurements.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    pub runs: usize,
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
}

impl Summary {
    /// None for no samples.
    pub fn of(samples: &[f64]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        (!sorted.is_empty()).then(|| Self { runs: sorted.len(), median: at(0.5), p10: at(0.1), p90: at(0.9) })
    }
}

/// Median, p10 and p90 by the lower nearest rank: the rule of every script of the conversion
/// benchmark (bench/report.py, the peers), where [`Summary`] rounds to the nearest rank.
/// Panics on no samples.
pub fn lower_ranks(mut samples: Vec<f64>) -> [f64; 3] {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[(q * (samples.len() - 1) as f64).floor() as usize];
    [at(0.5), at(0.1), at(0.9)]
}
