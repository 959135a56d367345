//! Cold start of every function binary against the local Runtime API, next to a Python peer
//! that imports boto3 and creates the same clients: process start to the first
//! `GET /2018-06-01/runtime/invocation/next`, interleaved run by run so both see the same load.
//!
//! usage: cold-start BIN_DIR ENV_JSON PYTHON PEER_SCRIPT RUNS > cold-start.json

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use orderflow_bench::functions::{FUNCTIONS, lambda_env, next_signal, read_env, spawn};
use orderflow_bench::runtime_api::{RuntimeApi, Signal};
use orderflow_bench::stats::Summary;
use serde_json::json;

const START_TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bin_dir, env, python, peer, runs] = &args[..] else {
        return Err("usage: cold-start BIN_DIR ENV_JSON PYTHON PEER_SCRIPT RUNS".into());
    };
    let env = read_env(Path::new(env))?;
    let runs: usize = runs.parse().map_err(|e| format!("RUNS: {e}"))?;
    let mut rows = Vec::new();
    for function in &FUNCTIONS {
        let binary = PathBuf::from(bin_dir).join(function.name);
        let (mut rust, mut python_ms) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            rust.push(time_to_first_poll(function.name, &env, |vars| spawn(&binary, &[], vars))?);
            let peer_args: Vec<&str> = std::iter::once(peer.as_str()).chain(function.clients.iter().copied()).collect();
            python_ms.push(time_to_first_poll(function.name, &env, |vars| spawn(Path::new(python), &peer_args, vars))?);
        }
        eprintln!("{}: {:.1} ms (Python {:.1} ms)", function.name, median(&rust), median(&python_ms));
        rows.push(json!({
            "function": function.name,
            "clients": function.clients,
            "rust_ms": Summary::of(&rust),
            "python_ms": Summary::of(&python_ms),
        }));
    }
    println!("{}", serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?);
    Ok(())
}

/// Milliseconds from spawning the process to its first poll for an event.
fn time_to_first_poll(
    name: &str,
    env: &std::collections::BTreeMap<String, String>,
    start: impl FnOnce(&std::collections::BTreeMap<String, String>) -> std::io::Result<Child>,
) -> Result<f64, String> {
    let api = RuntimeApi::start().map_err(|e| e.to_string())?;
    let vars = lambda_env(name, &api, env);
    let started = Instant::now();
    let mut child = start(&vars).map_err(|e| format!("{name}: {e}"))?;
    let outcome = next_signal(&api, &mut child, START_TIMEOUT);
    let _ = child.kill();
    let _ = child.wait();
    match outcome.map_err(|e| format!("{name}: {e}"))? {
        Signal::Next(at) => Ok((at - started).as_secs_f64() * 1e3),
        other => Err(format!("{name}: {other:?} before the first poll")),
    }
}

fn median(samples: &[f64]) -> f64 {
    Summary::of(samples).map_or(f64::NAN, |s| s.median)
}
