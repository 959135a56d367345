//! One contestant of the conversion benchmark, COUNT times over one file and nothing else: the
//! process to hand to a profiler (`valgrind --tool=callgrind`, `perf record`), whose figures
//! per document are then the whole run's over COUNT. docs/PERFORMANCE.md gives the commands.
//!
//! usage: conversion-loop convert|tokenize FILE COUNT
//!
//! Prints one JSON line: the contestant, the count and the mean nanoseconds a document (a
//! profiler's overhead included when one runs it; `conversion-pairs` is the timing).

use std::hint::black_box;
use std::time::Instant;

use orderflow_bench::conversion::{convert, tokenize};
use serde_json::json;

fn main() -> Result<(), String> {
    const USAGE: &str = "usage: conversion-loop convert|tokenize FILE COUNT";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [contestant, file, count] = args.as_slice() else { return Err(USAGE.to_owned()) };
    let count: u32 = count.parse().map_err(|e| format!("COUNT {count:?}: {e}"))?;
    let xml = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    // As the converter function's `main` does, so the converter runs on the same heap.
    if !orderflow_shared::heap::keep_freed_memory() {
        return Err("the C library did not take the functions' heap thresholds".to_owned());
    }
    let run: fn(&[u8]) = match contestant.as_str() {
        "convert" => |xml| _ = black_box(convert(black_box(xml))),
        "tokenize" => |xml| _ = black_box(tokenize(black_box(xml))),
        _ => return Err(USAGE.to_owned()),
    };
    let started = Instant::now();
    for _ in 0..count {
        run(&xml);
    }
    let ns = started.elapsed().as_nanos() as f64 / f64::from(count.max(1));
    println!("{}", json!({ "contestant": contestant, "count": count, "ns_per_document": ns }));
    Ok(())
}
