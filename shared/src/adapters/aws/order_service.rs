//! The order service on AWS, as every function that runs lifecycle stages builds it.

use crate::adapters::aws::{AwsSecretStore, DynamoOrderStore, SqsFifoQueue, dynamodb_client, sqs_client};
use crate::config::RouterConfig;
use crate::dte::{DteClientError, LazyDteProvider};
use crate::order_service::OrderService;

pub type AwsOrderService<R> = OrderService<DynamoOrderStore, SqsFifoQueue, LazyDteProvider<AwsSecretStore>, R>;

/// The orders table, the orders queue and the DTE provider. Nothing here calls AWS: the
/// provider's token is read on the first DTE call and kept for the execution environment, so
/// a rotated token reaches a function with its next one.
pub fn order_service<R>(
    sdk: &aws_config::SdkConfig,
    config: &RouterConfig,
    recovery: R,
) -> Result<AwsOrderService<R>, DteClientError> {
    Ok(OrderService {
        store: DynamoOrderStore::new(dynamodb_client(sdk), &config.table),
        queue: SqsFifoQueue::new(sqs_client(sdk), &config.orders_queue_url),
        dte: LazyDteProvider::new(
            AwsSecretStore::new(sdk),
            config.dte_token_ref.clone(),
            &config.dte_base_url,
            config.dte_timeout,
        )?,
        recovery,
    })
}
