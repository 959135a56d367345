// The handler's future (batch, record, credential refresh, connector, auth, HTTP) nests deeper
// than the compiler's default query depth when main's future is laid out.
#![recursion_limit = "256"]

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, S3ObjectStore, SqsFifoQueue};
use orderflow_shared::apps::Rebuilt;
use orderflow_shared::batch::Budget;
use orderflow_shared::config::ErpWorkerConfig;
use orderflow_shared::erp::SecretConnector;
use orderflow_shared::mapping::ConfiguredSource;
use orderflow_shared::ports::SystemClock;
use orderflow_shared::startup;
use webhook_bridge::Worker;
use webhook_bridge::worker::{handle, worst_case_per_record};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    startup::init()?;
    let config = ErpWorkerConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    let s3 = aws::s3_client(&sdk);
    let apps = aws::live_apps(aws::dynamodb_client(&sdk), &config.apps);
    let dlq = SqsFifoQueue::new(aws::sqs_client(&sdk), &config.erp_dlq_url);
    // Built from the connection's ERP action as the apps store has it, again only when that
    // changes (a migration, a new version). The secrets are read on the first push, not at
    // cold start, and read again when the ERP refuses them: a rotation needs no redeploy.
    let connectors = Rebuilt::default();
    let (apps, dlq, connectors, config, sdk) = (&apps, &dlq, &connectors, &config, &sdk);
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let s3 = s3.clone();
        async move {
            let runtime = apps.runtime().await?;
            let name = &config.connection;
            // A connection that does not run (deprecated, unknown) fails the batch: the
            // messages stay on the queue, then in its DLQ, for a redrive once it is fixed.
            let connector_config = runtime
                .connectors
                .connectors
                .get(name)
                .cloned()
                .ok_or_else(|| runtime.missing("ERP connector", name))?;
            let erp_timeout = Duration::from_millis(connector_config.timeout_ms);
            let connector = connectors
                .get(connector_config, |c| {
                    let mapping =
                        ConfiguredSource::new(&c.mapping_ref, |bucket| S3ObjectStore::new(s3.clone(), bucket));
                    SecretConnector::new(
                        name.clone(),
                        c.clone(),
                        AwsSecretStore::new(sdk),
                        mapping,
                        Arc::new(SystemClock),
                    )
                })
                .await?;
            let worker = Worker { connector, dlq: dlq.clone() };
            let per_record = worst_case_per_record(erp_timeout, aws::OPERATION_TIMEOUT);
            let budget = Budget::from_lambda(&SystemClock, event.context.deadline, per_record);
            Ok::<_, lambda_runtime::Error>(handle(&worker, event.payload, budget).await)
        }
    }))
    .await
}
