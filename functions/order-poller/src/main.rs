//! The order poller's Lambda: wires the AWS clients once, then polls the source each
//! scheduled invocation names.
// The runtime future around the poll run is too deep for the default limit.
#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use order_poller::{Poller, handle};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, DynamoPollCursors, SqsFifoQueue, dynamodb_client};
use orderflow_shared::config::PollerConfig;
use orderflow_shared::poll::{StoreSecrets, real_pause};
use orderflow_shared::ports::SystemClock;
use orderflow_shared::startup;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    startup::init()?;
    let config = PollerConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    let (dynamodb, sqs) = (dynamodb_client(&sdk), aws::sqs_client(&sdk));
    let poller = Poller {
        apps: aws::live_apps(dynamodb.clone(), &config.apps),
        secrets: StoreSecrets(AwsSecretStore::new(&sdk)),
        cursors: DynamoPollCursors::new(dynamodb, &config.cursor_table),
        erp_sync: SqsFifoQueue::new(sqs.clone(), &config.erp_sync_queue_url),
        orders: SqsFifoQueue::new(sqs, &config.orders_queue_url),
        clock: Arc::new(SystemClock),
        pause: real_pause(),
    };
    let poller = &poller;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move {
        handle(poller, event.payload).await
    }))
    .await
}
