// The handler's future (batch, record, credential refresh, connector, auth, HTTP) nests deeper
// than the compiler's default query depth when main's future is laid out.
#![recursion_limit = "256"]

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, S3ObjectStore, SqsFifoQueue};
use orderflow_shared::batch::Budget;
use orderflow_shared::config::ErpWorkerConfig;
use orderflow_shared::erp::SecretConnector;
use orderflow_shared::mapping::ConfiguredSource;
use orderflow_shared::ports::SystemClock;
use orderflow_shared::telemetry;
use webhook_bridge::Worker;
use webhook_bridge::worker::{handle, worst_case_per_record};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = ErpWorkerConfig::from_env()?;
    let sdk = aws::sdk_config().await;
    let s3 = aws::s3_client(&sdk);
    let mapping = ConfiguredSource::new(&config.connector.mapping_ref, |bucket| S3ObjectStore::new(s3.clone(), bucket));
    // The secrets are read on the first push, not at cold start (an AWS call a cold start would
    // wait for), and read again when the ERP refuses them: a rotation needs no redeploy. A
    // malformed reference still fails the cold start.
    let worker = Worker {
        connector: SecretConnector::new(
            config.connector_name.clone(),
            config.connector.clone(),
            AwsSecretStore::new(&sdk),
            mapping,
            Arc::new(SystemClock),
        )?,
        dlq: SqsFifoQueue::new(aws::sqs_client(&sdk), &config.erp_dlq_url),
    };
    let erp_timeout = Duration::from_millis(config.connector.timeout_ms);
    let per_record = worst_case_per_record(erp_timeout, aws::OPERATION_TIMEOUT);
    let worker = &worker;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        let budget = Budget::from_lambda(&SystemClock, event.context.deadline, per_record);
        Ok::<_, lambda_runtime::Error>(handle(worker, event.payload, budget).await)
    }))
    .await
}
