//! The converter and the quick-xml tokenizer timed in alternating batches, so that both see the
//! same moment of the machine: their ratio is taken pair by pair. bench/conversion.sh runs it
//! in rounds between the Python and Node peers, which print the same JSON shape.
//!
//! usage: conversion-pairs --warm-up SECONDS --measure SECONDS FILE...
//!
//! Batches last at least 1 ms (as in the peers); each pair is one batch of each, the one that
//! goes first alternating. A pair's share is the tokenizer's time per document over the
//! converter's: the converter's speed as a share of the tokenizer's.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use orderflow_bench::conversion::{convert, tokenize};
use orderflow_bench::stats::lower_ranks;
use serde_json::json;

const BATCH: Duration = Duration::from_millis(1);
/// At least this many pairs, however short the measurement.
const MIN_PAIRS: usize = 10;

fn main() -> Result<(), String> {
    let (warm_up, measure, files) = args()?;
    // As the converter function's `main` does, so the converter runs on the same heap.
    if !orderflow_shared::heap::keep_freed_memory() {
        return Err("the C library did not take the functions' heap thresholds".to_owned());
    }
    let mut results = serde_json::Map::new();
    for path in files {
        let xml = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let size = path.file_stem().and_then(|s| s.to_str()).ok_or("a file name")?.to_owned();
        results.insert(size, pairs(&xml, warm_up, measure));
    }
    let peer = "orderflow convert and the quick-xml tokenizer in alternating batches";
    println!("{}", json!({ "peer": peer, "results": results }));
    Ok(())
}

fn args() -> Result<(Duration, Duration, Vec<PathBuf>), String> {
    let usage = "usage: conversion-pairs --warm-up SECONDS --measure SECONDS FILE...";
    let mut args = std::env::args().skip(1);
    let mut seconds = |flag: &str| -> Result<Duration, String> {
        if args.next().as_deref() != Some(flag) {
            return Err(usage.into());
        }
        let value = args.next().ok_or(usage)?;
        value.parse::<f64>().map(Duration::from_secs_f64).map_err(|e| format!("{flag} {value}: {e}"))
    };
    let (warm_up, measure) = (seconds("--warm-up")?, seconds("--measure")?);
    let files: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if files.is_empty() {
        return Err(usage.into());
    }
    Ok((warm_up, measure, files))
}

/// Nanoseconds per document over one batch of `n`.
fn batch(n: u32, run: impl Fn()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        run();
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// Documents per batch of at least [`BATCH`], from the time per document seen in the warm-up.
fn per_batch(ns: f64) -> u32 {
    (BATCH.as_nanos() as f64 / ns).ceil().max(1.0) as u32
}

fn pairs(xml: &[u8], warm_up: Duration, measure: Duration) -> serde_json::Value {
    let conv = || {
        black_box(convert(black_box(xml)));
    };
    let tok = || {
        black_box(tokenize(black_box(xml)));
    };
    let start = Instant::now();
    let (mut conv_ns, mut tok_ns) = (batch(1, conv), batch(1, tok));
    while start.elapsed() < warm_up {
        conv_ns = batch(per_batch(conv_ns), conv);
        tok_ns = batch(per_batch(tok_ns), tok);
    }
    let (conv_n, tok_n) = (per_batch(conv_ns), per_batch(tok_ns));
    let (mut convs, mut toks, mut shares) = (Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    while shares.len() < MIN_PAIRS || start.elapsed() < measure {
        let (c, t) = if shares.len() % 2 == 0 {
            let c = batch(conv_n, conv);
            (c, batch(tok_n, tok))
        } else {
            let t = batch(tok_n, tok);
            (batch(conv_n, conv), t)
        };
        convs.push(c);
        toks.push(t);
        shares.push(t / c);
    }
    let pairs = shares.len();
    let (convs, toks, shares) = (lower_ranks(convs), lower_ranks(toks), lower_ranks(shares));
    json!({
        "bytes": xml.len(),
        "pairs": pairs,
        "convert_median_ns": convs[0],
        "tokenize_median_ns": toks[0],
        "share_median": shares[0],
        "share_p10": shares[1],
        "share_p90": shares[2],
    })
}
