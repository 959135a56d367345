//! The floor of the cold-start benchmark: a bare `lambda_runtime` function that echoes its event,
//! built with the same profile as the functions. Whatever a function takes to start beyond
//! this is its own (configuration, clients, trust anchors); the rest is the process, tokio and
//! the runtime client, which every Rust function pays.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<_, Error>(event.payload) })).await
}
