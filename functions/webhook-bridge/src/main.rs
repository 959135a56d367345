use lambda_http::{Error, service_fn};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, DynamoReplayGuard, SqsFifoQueue, dynamodb_client};
use orderflow_shared::config::WebhookConfig;
use orderflow_shared::startup;
use webhook_bridge::{Receiver, StoreKeys};

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init()?;
    let config = WebhookConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    let (dynamodb, sqs) = (dynamodb_client(&sdk), aws::sqs_client(&sdk));
    let receiver = Receiver {
        apps: aws::live_apps(dynamodb.clone(), &config.apps),
        keys: StoreKeys::new(AwsSecretStore::new(&sdk)),
        guard: DynamoReplayGuard::new(dynamodb, &config.dedup_table),
        erp_sync: SqsFifoQueue::new(sqs.clone(), &config.erp_sync_queue_url),
        orders: SqsFifoQueue::new(sqs, &config.orders_queue_url),
        retention: config.dedup_retention,
    };
    lambda_http::run(service_fn(|req| webhook_bridge::handle(&receiver, req))).await
}
