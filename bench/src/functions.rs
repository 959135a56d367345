//! The eight function binaries as the Lambda benchmarks start them: which binary, which event
//! from `events/` a warm invocation replays, and which AWS clients the Python peer creates to
//! match what the function's `main.rs` builds.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use crate::runtime_api::{RuntimeApi, Signal};

pub struct Function {
    pub name: &'static str,
    /// The file in `events/` a warm invocation replays.
    pub event: &'static str,
    /// boto3 client names for the Python peer: the SDK clients this function's `main.rs` builds.
    pub clients: &'static [&'static str],
}

pub const FUNCTIONS: [Function; 8] = [
    Function { name: "xml-order-converter", event: "xml-order-converter-s3-put.json", clients: &["s3", "sqs"] },
    Function { name: "queue-reader", event: "queue-reader-batch.json", clients: &["s3", "sqs", "secretsmanager"] },
    Function {
        name: "state-router",
        event: "state-router-post-order.json",
        clients: &["dynamodb", "sqs", "stepfunctions", "secretsmanager"],
    },
    Function { name: "error-handler", event: "error-handler-post-error.json", clients: &["dynamodb", "sqs", "sesv2"] },
    Function {
        name: "broadcast-retry",
        event: "broadcast-retry-sfn-task.json",
        clients: &["dynamodb", "sqs", "secretsmanager"],
    },
    Function { name: "email-notifier", event: "email-notifier-dynamodb-stream.json", clients: &["dynamodb", "sesv2"] },
    Function {
        name: "webhook-bridge",
        event: "webhook-bridge-shopify-order-created.json",
        clients: &["dynamodb", "sqs", "ssm", "secretsmanager"],
    },
    Function { name: "erp-sync-worker", event: "erp-sync-worker-batch.json", clients: &["s3", "sqs", "ssm"] },
];

/// The variables Lambda sets for every runtime, plus the function's own (from `env`), where
/// `{runtime_api}` stands for the stub's address.
pub fn lambda_env(name: &str, api: &RuntimeApi, env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let address = api.addr.to_string();
    let mut vars: BTreeMap<_, _> = env.iter().map(|(k, v)| (k.clone(), v.replace("{runtime_api}", &address))).collect();
    // Lambda sets both; boto3 reads only the second.
    if let Some(region) = vars.get("AWS_REGION").cloned() {
        vars.insert("AWS_DEFAULT_REGION".to_owned(), region);
    }
    for (key, value) in [
        ("AWS_LAMBDA_RUNTIME_API", address.clone()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_owned()),
        // Never look for credentials or a region on an EC2 metadata endpoint.
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ] {
        vars.insert(key.to_owned(), value);
    }
    vars
}

/// Starts `program` with exactly `vars` (plus PATH), its output discarded.
pub fn spawn(program: &Path, args: &[&str], vars: &BTreeMap<String, String>) -> std::io::Result<Child> {
    Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(vars)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// Reads a flat JSON object of environment variables (what `bench/lambda-env.py` writes).
pub fn read_env(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The next signal from `child`, or why none came: it exited, or `timeout` passed.
pub fn next_signal(api: &RuntimeApi, child: &mut Child, timeout: Duration) -> Result<Signal, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match api.signals.recv_timeout(Duration::from_millis(20)) {
            Ok(Signal::InitError(message)) => return Err(format!("failed to start: {message}")),
            Ok(signal) => return Ok(signal),
            Err(RecvTimeoutError::Disconnected) => return Err("the runtime API stopped".into()),
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited ({status}); run it by hand with the same environment to see why"));
        }
        if Instant::now() > deadline {
            return Err(format!("nothing within {timeout:?}"));
        }
    }
}
