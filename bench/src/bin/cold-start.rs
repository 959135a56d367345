//! Cold start of every function binary against the local Runtime API, next to the floor (a bare
//! `lambda_runtime` function of the same profile, `lambda-floor` in BIN_DIR) and a Python peer
//! that imports boto3 and creates the same clients. Init is process start to the first
//! `GET /2018-06-01/runtime/invocation/next`; for the Rust binaries also process start to the
//! answer of the first event (the function's `events/` file, `{}` for the floor), so that work
//! moved out of init is still counted. The three are interleaved run by run so all see the same
//! load.
//!
//! usage: cold-start BIN_DIR ENV_JSON EVENTS_DIR PYTHON PEER_SCRIPT RUNS > cold-start.json

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
    let [bin_dir, env, events, python, peer, runs] = &args[..] else {
        return Err("usage: cold-start BIN_DIR ENV_JSON EVENTS_DIR PYTHON PEER_SCRIPT RUNS".into());
    };
    let env = read_env(Path::new(env))?;
    let runs: usize = runs.parse().map_err(|e| format!("RUNS: {e}"))?;
    let floor = PathBuf::from(bin_dir).join("lambda-floor");
    let mut rows = Vec::new();
    for function in &FUNCTIONS {
        let binary = PathBuf::from(bin_dir).join(function.name);
        let event_path = Path::new(events).join(function.event);
        let event = std::fs::read(&event_path).map_err(|e| format!("{}: {e}", event_path.display()))?;
        let peer_args: Vec<&str> = std::iter::once(peer.as_str()).chain(function.clients.iter().copied()).collect();
        let (mut rust, mut floor_ms, mut python_ms) = (Timings::default(), Timings::default(), Vec::new());
        for _ in 0..runs {
            floor_ms.push(cold_start("lambda-floor", &env, Some(b"{}"), |vars| spawn(&floor, &[], vars))?);
            rust.push(cold_start(function.name, &env, Some(&event), |vars| spawn(&binary, &[], vars))?);
            let (python_init, _) =
                cold_start(function.name, &env, None, |vars| spawn(Path::new(python), &peer_args, vars))?;
            python_ms.push(python_init);
        }
        eprintln!(
            "{}: init {:.1} ms, floor {:.1} ms, Python {:.1} ms",
            function.name,
            median(&rust.init),
            median(&floor_ms.init),
            median(&python_ms)
        );
        rows.push(json!({
            "function": function.name,
            "clients": function.clients,
            "rust_ms": Summary::of(&rust.init),
            "rust_first_ms": Summary::of(&rust.first),
            "floor_ms": Summary::of(&floor_ms.init),
            "floor_first_ms": Summary::of(&floor_ms.first),
            "python_ms": Summary::of(&python_ms),
        }));
    }
    println!("{}", serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?);
    Ok(())
}

/// Init and init + first invocation of one binary, run after run.
#[derive(Default)]
struct Timings {
    init: Vec<f64>,
    first: Vec<f64>,
}

impl Timings {
    fn push(&mut self, (init, first): (f64, Option<f64>)) {
        self.init.push(init);
        self.first.extend(first);
    }
}

/// Milliseconds from spawning the process to its first poll for an event and, when `event` is
/// given, to its answer to that event (an error report counts: the time is the same work).
fn cold_start(
    name: &str,
    env: &std::collections::BTreeMap<String, String>,
    event: Option<&[u8]>,
    start: impl FnOnce(&std::collections::BTreeMap<String, String>) -> std::io::Result<Child>,
) -> Result<(f64, Option<f64>), String> {
    let api = RuntimeApi::start().map_err(|e| e.to_string())?;
    let vars = lambda_env(name, &api, env);
    let started = Instant::now();
    let mut child = start(&vars).map_err(|e| format!("{name}: {e}"))?;
    let outcome = first_signals(&api, &mut child, event);
    let _ = child.kill();
    let _ = child.wait();
    outcome.map_err(|e| format!("{name}: {e}")).map(|(init, first)| {
        let ms = |at: Instant| (at - started).as_secs_f64() * 1e3;
        (ms(init), first.map(ms))
    })
}

fn first_signals(
    api: &RuntimeApi,
    child: &mut Child,
    event: Option<&[u8]>,
) -> Result<(Instant, Option<Instant>), String> {
    let Signal::Next(init) = next_signal(api, child, START_TIMEOUT)? else {
        return Err("answered before the first poll".into());
    };
    let Some(event) = event else { return Ok((init, None)) };
    api.invoke(event);
    match next_signal(api, child, START_TIMEOUT)? {
        Signal::Done { at, .. } => Ok((init, Some(at))),
        other => Err(format!("{other:?} instead of an answer to the first event")),
    }
}

fn median(samples: &[f64]) -> f64 {
    Summary::of(samples).map_or(f64::NAN, |s| s.median)
}
