use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, S3ObjectStore, SdkConfig, SqsFifoQueue};
use orderflow_shared::config::ErpWorkerConfig;
use orderflow_shared::erp::HttpConnector;
use orderflow_shared::mapping::ConfiguredSource;
use orderflow_shared::ports::SystemClock;
use orderflow_shared::secrets::{SecretRef, SecretStore};
use orderflow_shared::telemetry;
use tokio::sync::OnceCell;
use webhook_bridge::Worker;
use webhook_bridge::worker::handle;

type AwsWorker = Worker<HttpConnector<ConfiguredSource<S3ObjectStore>>, SqsFifoQueue>;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = ErpWorkerConfig::from_env()?;
    // Checked at cold start (no AWS call): a malformed reference fails the init, not each batch.
    let secret_refs = config
        .connector
        .secret_refs()
        .into_iter()
        .map(|reference| Ok((reference.to_owned(), reference.parse()?)))
        .collect::<Result<Vec<(String, SecretRef)>, lambda_runtime::Error>>()?;
    let sdk = aws::sdk_config().await;
    // Built on the first batch, not at cold start: reading the connector's secrets is an AWS
    // call a cold start would wait for. A failure fails that batch, which SQS delivers again.
    let worker = OnceCell::new();
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        let worker = worker.get_or_try_init(|| connect(&config, &secret_refs, &sdk)).await?;
        Ok::<_, lambda_runtime::Error>(handle(worker, event.payload).await)
    }))
    .await
}

/// Reads the connector's secrets once per execution environment: a rotation takes effect in
/// new ones.
async fn connect(
    config: &ErpWorkerConfig,
    secret_refs: &[(String, SecretRef)],
    sdk: &SdkConfig,
) -> Result<AwsWorker, lambda_runtime::Error> {
    let store = AwsSecretStore::new(sdk);
    let mut secrets = HashMap::new();
    for (reference, parsed) in secret_refs {
        secrets.insert(reference.clone(), store.fetch(parsed).await?);
    }
    let s3 = aws::s3_client(sdk);
    let mapping = ConfiguredSource::new(&config.connector.mapping_ref, |bucket| S3ObjectStore::new(s3.clone(), bucket));
    Ok(Worker {
        connector: HttpConnector::new(
            config.connector_name.clone(),
            &config.connector,
            &secrets,
            mapping,
            Arc::new(SystemClock),
        )?,
        dlq: SqsFifoQueue::new(aws::sqs_client(sdk), &config.erp_dlq_url),
    })
}
