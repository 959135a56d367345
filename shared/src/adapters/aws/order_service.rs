//! The order service on AWS, as every function that runs lifecycle stages builds it.

use crate::adapters::aws::{AwsSecretStore, DynamoOrderStore, SqsFifoQueue, dynamodb_client, sqs_client};
use crate::config::RouterConfig;
use crate::dte::{DteAuth, HttpDteProvider};
use crate::order_service::OrderService;
use crate::secrets::SecretStore;

pub type AwsOrderService<R> = OrderService<DynamoOrderStore, SqsFifoQueue, HttpDteProvider, R>;

/// The orders table, the orders queue and the DTE provider. The provider's token is read once
/// per cold start: a rotated token reaches a function with its next execution environment.
pub async fn order_service<R>(
    sdk: &aws_config::SdkConfig,
    config: &RouterConfig,
    recovery: R,
) -> Result<AwsOrderService<R>, lambda_runtime::Error> {
    let token = AwsSecretStore::new(sdk).fetch(&config.dte_token_ref).await?;
    Ok(OrderService {
        store: DynamoOrderStore::new(dynamodb_client(sdk), &config.table),
        queue: SqsFifoQueue::new(sqs_client(sdk), &config.orders_queue_url),
        dte: HttpDteProvider::new(&config.dte_base_url, DteAuth::Bearer(token), config.dte_timeout)?,
        recovery,
    })
}
