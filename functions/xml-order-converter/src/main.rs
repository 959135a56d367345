use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, S3ObjectStore, SqsFifoQueue};
use orderflow_shared::config::ConverterConfig;
use orderflow_shared::startup;
use serde_json::Value;
use xml_order_converter::{Converter, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    startup::init()?;
    let config = ConverterConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    let deps = Converter {
        store: S3ObjectStore::new(aws::s3_client(&sdk), &config.bucket),
        queue: SqsFifoQueue::new(aws::sqs_client(&sdk), &config.orders_queue_url),
        config,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| handle(&deps, event.payload))).await
}
