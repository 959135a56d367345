//! Task 2 of the recovery workflow: retry the DTE broadcast through the router's stage code.
// The runtime future around the lazily built DTE provider is too deep for the default limit.
#![recursion_limit = "256"]

use error_handler::not_granted::NotGranted;
use error_handler::task::{self, RetryInput, TaskError};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use orderflow_shared::adapters::aws;
use orderflow_shared::config::RouterConfig;
use orderflow_shared::startup;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init()?;
    // The same table, queue and DTE provider settings as the router, whose stage it reruns.
    let config = RouterConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    let service = aws::order_service(&sdk, &config, NotGranted)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let service = &service;
        async move {
            let input: RetryInput = serde_json::from_value(event.payload).map_err(TaskError::from)?;
            task::retry_broadcast(service, input).await.map(|o| o.to_json())
        }
    }))
    .await
}
