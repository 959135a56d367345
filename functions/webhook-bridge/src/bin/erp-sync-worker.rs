use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, S3ObjectStore, SqsFifoQueue};
use orderflow_shared::adapters::embedded::SystemClock;
use orderflow_shared::config::ErpWorkerConfig;
use orderflow_shared::erp::HttpConnector;
use orderflow_shared::mapping::ConfiguredSource;
use orderflow_shared::secrets::{SecretRef, SecretStore};
use orderflow_shared::telemetry;
use webhook_bridge::Worker;
use webhook_bridge::worker::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = ErpWorkerConfig::from_env()?;
    let sdk = aws::sdk_config().await;
    // Read once per cold start: a rotation takes effect in new execution environments.
    let store = AwsSecretStore::new(&sdk);
    let mut secrets = HashMap::new();
    for reference in config.connector.secret_refs() {
        let parsed: SecretRef = reference.parse()?;
        secrets.insert(reference.to_owned(), store.fetch(&parsed).await?);
    }
    let s3 = aws::s3_client(&sdk);
    let mapping = ConfiguredSource::new(&config.connector.mapping_ref, |bucket| S3ObjectStore::new(s3.clone(), bucket));
    let worker = Worker {
        connector: HttpConnector::new(
            config.connector_name.clone(),
            &config.connector,
            &secrets,
            mapping,
            Arc::new(SystemClock),
        )?,
        dlq: SqsFifoQueue::new(aws::sqs_client(&sdk), &config.erp_dlq_url),
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<_, lambda_runtime::Error>(handle(&worker, event.payload).await)
    }))
    .await
}
