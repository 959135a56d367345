//! The error handler's Lambda: the error API and the workflow's record/give-up tasks.
#![recursion_limit = "256"]

use error_handler::config::ErrorHandlerConfig;
use error_handler::not_granted::NotGranted;
use error_handler::{Deps, dispatch};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, DynamoOrderStore, SesMailer, SqsFifoQueue, dynamodb_client, sesv2_client};
use orderflow_shared::order_service::OrderService;
use orderflow_shared::startup;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init()?;
    let config = ErrorHandlerConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    let deps = Deps {
        service: OrderService {
            store: DynamoOrderStore::new(dynamodb_client(&sdk), &config.table),
            queue: SqsFifoQueue::new(aws::sqs_client(&sdk), &config.orders_queue_url),
            dte: NotGranted,
            recovery: NotGranted,
        },
        backoff: config.backoff,
        mailer: SesMailer::new(sesv2_client(&sdk), &config.alert.configuration_set),
        alert: config.alert,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| dispatch(&deps, event.payload))).await
}
