//! The queue reader's Lambda: delivers orders-queue commands to the Orders API.
// The runtime future around the lazily read API key is too deep for the default limit.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, S3ObjectStore, SqsFifoQueue};
use orderflow_shared::batch::Budget;
use orderflow_shared::config::QueueReaderConfig;
use orderflow_shared::orders_api::OrdersApiClient;
use orderflow_shared::ports::SystemClock;
use orderflow_shared::secrets::CachedSecret;
use orderflow_shared::startup;
use queue_reader::handler::worst_case_per_record;
use queue_reader::{QueueReader, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    startup::init()?;
    let config = QueueReaderConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    // Read on the first delivery, not at cold start: a cold start makes no AWS call.
    let api_key = CachedSecret::new(AwsSecretStore::new(&sdk), config.api_key_ref.clone());
    let deps = QueueReader {
        store: S3ObjectStore::new(aws::s3_client(&sdk), &config.bucket),
        pending: SqsFifoQueue::new(aws::sqs_client(&sdk), &config.pending_queue_url),
        api: OrdersApiClient::new(&config.orders_api_url, api_key, config.api_timeout)?,
    };
    let per_record = worst_case_per_record(config.api_timeout, aws::OPERATION_TIMEOUT);
    let deps = &deps;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        let budget = Budget::from_lambda(&SystemClock, event.context.deadline, per_record);
        Ok::<_, lambda_runtime::Error>(handle(deps, event.payload, budget).await)
    }))
    .await
}
