use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, S3ObjectStore, SqsFifoQueue};
use orderflow_shared::config::QueueReaderConfig;
use orderflow_shared::orders_api::OrdersApiClient;
use orderflow_shared::secrets::CachedSecret;
use orderflow_shared::telemetry;
use queue_reader::{QueueReader, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = QueueReaderConfig::from_env()?;
    let sdk = aws::sdk_config().await;
    let api_key = CachedSecret::new(AwsSecretStore::new(&sdk), config.api_key_ref.clone());
    // Fail the cold start, not every record, when the key cannot be read.
    api_key.get().await?;
    let deps = QueueReader {
        store: S3ObjectStore::new(aws::s3_client(&sdk), &config.bucket),
        pending: SqsFifoQueue::new(aws::sqs_client(&sdk), &config.pending_queue_url),
        api: OrdersApiClient::new(&config.orders_api_url, api_key, config.api_timeout)?,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<_, lambda_runtime::Error>(handle(&deps, event.payload).await)
    }))
    .await
}
