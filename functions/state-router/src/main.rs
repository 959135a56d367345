use lambda_http::{Error, service_fn};
use orderflow_shared::adapters::aws::{
    self, AwsSecretStore, DynamoOrderStore, SfnRecoveryStarter, SqsFifoQueue, dynamodb_client, sfn_client,
};
use orderflow_shared::config::{EnvReader, RouterConfig};
use orderflow_shared::dte::{DteAuth, HttpDteProvider};
use orderflow_shared::order_service::OrderService;
use orderflow_shared::secrets::SecretStore;
use orderflow_shared::telemetry;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = RouterConfig::from_env()?;
    let recovery_arn = EnvReader::process().required("RECOVERY_STATE_MACHINE_ARN")?;
    let sdk = aws::sdk_config().await;
    // Read once per cold start: the token is rotated by redeploying or by a new execution environment.
    let token = AwsSecretStore::new(&sdk).fetch(&config.dte_token_ref).await?;
    let service = OrderService {
        store: DynamoOrderStore::new(dynamodb_client(&sdk), &config.table),
        queue: SqsFifoQueue::new(aws::sqs_client(&sdk), &config.orders_queue_url),
        dte: HttpDteProvider::new(&config.dte_base_url, DteAuth::Bearer(token), config.dte_timeout)?,
        recovery: SfnRecoveryStarter::new(sfn_client(&sdk), recovery_arn),
    };
    lambda_http::run(service_fn(|req| state_router::handle(&service, req))).await
}
