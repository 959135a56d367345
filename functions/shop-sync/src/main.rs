// The handler's future (batch, claim, credential refresh, shop, auth, HTTP) nests deeper than
// the compiler's default query depth when main's future is laid out.
#![recursion_limit = "256"]

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, DynamoOrderStore, S3ObjectStore, SqsFifoQueue};
use orderflow_shared::apps::Rebuilt;
use orderflow_shared::batch::Budget;
use orderflow_shared::config::ShopSyncConfig;
use orderflow_shared::mapping::ConfiguredSource;
use orderflow_shared::ports::SystemClock;
use orderflow_shared::shop::SecretShops;
use orderflow_shared::startup;
use serde_json::Value;
use shop_sync::ShopSync;
use shop_sync::stream::forward;
use shop_sync::worker::{handle, worst_case_per_record};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    startup::init()?;
    let config = ShopSyncConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    let s3 = aws::s3_client(&sdk);
    let (dynamodb, sqs) = (aws::dynamodb_client(&sdk), aws::sqs_client(&sdk));
    let apps = aws::live_apps(dynamodb.clone(), &config.apps);
    // The shops' clients, built from the connections' shop actions as the apps store has them,
    // again only when those change. Secrets are read on the first action, not at cold start,
    // and again when a shop refuses them: a rotated token needs no redeploy.
    let shops = Rebuilt::default();
    let store = DynamoOrderStore::new(dynamodb, &config.table);
    let dlq = SqsFifoQueue::new(sqs.clone(), &config.dlq_url);
    let queue = SqsFifoQueue::new(sqs, &config.queue_url);
    let (apps, shops, store, dlq, queue, sdk, config, s3) = (&apps, &shops, &store, &dlq, &queue, &sdk, &config, &s3);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        // Both answers are `{"batchItemFailures": [...]}`; the records say which event this is.
        let source = event.payload["Records"][0]["eventSource"].as_str().unwrap_or_default().to_owned();
        let answer = if source == "aws:sqs" {
            let runtime = apps.runtime().await?;
            let s3 = s3.clone();
            let shops = shops
                .get(runtime.shops.clone(), |file| {
                    SecretShops::new(
                        file.clone(),
                        AwsSecretStore::new(sdk),
                        move |reference| {
                            ConfiguredSource::new(reference, |bucket| S3ObjectStore::new(s3.clone(), bucket))
                        },
                        Arc::new(SystemClock),
                    )
                })
                .await?;
            let shop_timeout =
                runtime.shops.shops.values().map(|s| Duration::from_millis(s.timeout_ms)).max().unwrap_or_default();
            let per_record = worst_case_per_record(shop_timeout, aws::OPERATION_TIMEOUT);
            let deps = ShopSync { store: store.clone(), shops, dlq: dlq.clone(), claim_timeout: config.claim_timeout };
            let budget = Budget::from_lambda(&SystemClock, event.context.deadline, per_record);
            let batch: SqsEvent = serde_json::from_value(event.payload)?;
            serde_json::to_value(handle(&deps, batch, budget).await)?
        } else {
            let stream: Event = serde_json::from_value(event.payload)?;
            serde_json::to_value(forward(queue, &stream).await)?
        };
        Ok::<_, lambda_runtime::Error>(answer)
    }))
    .await
}
