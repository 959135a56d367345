//! Warm invocations of every function binary under the local Runtime API: each replays its
//! event from `events/` INVOCATIONS times, one after the other. Reports the handler duration
//! (event handed out to answer received) and the process's peak resident set (`VmHWM`).
//!
//! usage: warm-memory BIN_DIR ENV_JSON EVENTS_DIR INVOCATIONS > warm-memory.json

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use orderflow_bench::functions::{FUNCTIONS, lambda_env, next_signal, read_env, spawn};
use orderflow_bench::runtime_api::{RuntimeApi, Signal};
use orderflow_bench::stats::Summary;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bin_dir, env, events, invocations] = &args[..] else {
        return Err("usage: warm-memory BIN_DIR ENV_JSON EVENTS_DIR INVOCATIONS".into());
    };
    let env = read_env(Path::new(env))?;
    let invocations: usize = invocations.parse().map_err(|e| format!("INVOCATIONS: {e}"))?;
    let mut rows = Vec::new();
    for function in &FUNCTIONS {
        let event_path = Path::new(events).join(function.event);
        let event = std::fs::read(&event_path).map_err(|e| format!("{}: {e}", event_path.display()))?;
        let binary = PathBuf::from(bin_dir).join(function.name);
        let api = RuntimeApi::start().map_err(|e| e.to_string())?;
        let mut child = spawn(&binary, &[], &lambda_env(function.name, &api, &env)).map_err(|e| e.to_string())?;
        let run = invoke_repeatedly(&api, &mut child, &event, invocations);
        let peak_kb = run.as_ref().ok().and_then(|_| peak_rss_kb(child.id()));
        let _ = child.kill();
        let _ = child.wait();
        let (durations, ok) = run.map_err(|e| format!("{}: {e}", function.name))?;
        eprintln!("{}: {ok}/{invocations} ok, peak RSS {peak_kb:?} kB", function.name);
        rows.push(json!({
            "function": function.name,
            "event": function.event,
            "invocations": invocations,
            "ok": ok,
            "duration_ms": Summary::of(&durations),
            "peak_rss_kb": peak_kb,
        }));
    }
    println!("{}", serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?);
    Ok(())
}

/// The duration of each invocation in milliseconds, and how many the function answered
/// without an error report.
fn invoke_repeatedly(
    api: &RuntimeApi,
    child: &mut std::process::Child,
    event: &[u8],
    invocations: usize,
) -> Result<(Vec<f64>, usize), String> {
    let mut durations = Vec::with_capacity(invocations);
    let mut ok = 0;
    for _ in 0..invocations {
        let Signal::Next(_) = next_signal(api, child, TIMEOUT)? else {
            return Err("answered before it polled".into());
        };
        let handed_out = Instant::now();
        api.invoke(event);
        let Signal::Done { ok: answered, at } = next_signal(api, child, TIMEOUT)? else {
            return Err("polled again without answering".into());
        };
        durations.push((at - handed_out).as_secs_f64() * 1e3);
        ok += usize::from(answered);
    }
    Ok((durations, ok))
}

/// `VmHWM` from /proc: the most resident memory the process has had.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
