// The run's future (pull, push, shop calls, auth, HTTP) nests deeper than the compiler's
// default query depth when main's future is laid out.
#![recursion_limit = "256"]

use std::sync::Arc;

use catalog_sync::handler::{Deps, handle};
use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, AwsSecretStore, DynamoAuditLog, DynamoStaging};
use orderflow_shared::config::CatalogSyncConfig;
use orderflow_shared::ports::SystemClock;
use orderflow_shared::startup;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    startup::init()?;
    let config = CatalogSyncConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    let dynamodb = aws::dynamodb_client(&sdk);
    let deps = Deps {
        store: DynamoStaging::new(dynamodb.clone(), &config.staging_table),
        log: DynamoAuditLog::new(dynamodb.clone(), &config.audit_table),
        secrets: AwsSecretStore::new(&sdk),
        catalog_ref: config.catalog_ref,
        apps: aws::live_apps(dynamodb, &config.apps),
        clock: Arc::new(SystemClock),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        handle(deps, event.payload, Some(event.context.deadline)).await
    }))
    .await
}
