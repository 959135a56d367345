//! Wires the portal for Lambda behind API Gateway: DynamoDB, the SQS queues, the orders bucket
//! and the Cognito hosted sign-in, each read from the environment once.

use std::sync::Arc;

use backoffice::cognito::HostedUi;
use backoffice::config::PortalConfig;
use backoffice::{Gate, Portal, Queues, router};
use lambda_http::Error;
use orderflow_shared::adapters::aws::{self, S3ObjectStore, SfnRecoveryStarter, SqsFifoQueue, sfn_client, sqs_client};
use orderflow_shared::config::{EnvReader, RouterConfig};
use orderflow_shared::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init()?;
    let env = EnvReader::process();
    let config = RouterConfig::from_env()?;
    let console_url = env.required("CONSOLE_URL")?;
    // Links start with the path browsers see: CONSOLE_URL's (`/prod/console`, or `/console`
    // behind a custom domain) unless CONSOLE_BASE says otherwise.
    let url_path = console_url.splitn(4, '/').nth(3).map(|path| format!("/{path}"));
    let portal_config = PortalConfig::from_lookup(|name| match (name, std::env::var(name).ok()) {
        ("CONSOLE_BASE", None) => url_path.clone(),
        (_, value) => value,
    })?;
    let sdk = aws::function_sdk_config()?;
    let recovery = SfnRecoveryStarter::new(sfn_client(&sdk), env.required("RECOVERY_STATE_MACHINE_ARN")?);
    let service = aws::order_service(&sdk, &config, recovery)?;
    let sqs = sqs_client(&sdk);
    let queue = |name: &'static str| env.required(name).map(|url| SqsFifoQueue::new(sqs.clone(), url));
    let portal = Portal {
        service: Arc::new(service),
        queues: Queues {
            pending: queue("PENDING_QUEUE_URL")?,
            erp_dlq: queue("ERP_DLQ_URL")?,
            erp_sync: queue("ERP_SYNC_QUEUE_URL")?,
        },
        originals: S3ObjectStore::new(aws::s3_client(&sdk), env.required("ORDERS_BUCKET")?),
        config: portal_config,
        gate: Gate::Cognito(HostedUi {
            domain: env.required("COGNITO_DOMAIN_URL")?,
            client_id: env.required("COGNITO_CLIENT_ID")?,
            redirect_uri: format!("{console_url}/callback"),
            signed_out_uri: format!("{console_url}/sign-in"),
            http: backoffice::cognito::pool_client()?,
        }),
        apps: backoffice::apps_page::reader(Arc::new(aws::DynamoAppStore::new(
            aws::dynamodb_client(&sdk),
            env.required("APPS_TABLE")?,
        ))),
    };
    lambda_http::run(router(Arc::new(portal))).await
}
