//! Webhook claims (the [`ReplayGuard`] port) in a small DynamoDB table, conditional writes only.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::{ATTR_PK, classify};
use crate::error::PortError;
use crate::ports::{Claim, IN_PROGRESS_LEASE_SECONDS, ReplayGuard};

const ATTR_EXPIRES_AT: &str = "expires_at";
const ATTR_STATUS: &str = "status";
const ATTR_LEASE_UNTIL: &str = "lease_until";
const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

/// Claims in a small DynamoDB table: hash key `pk` (string), TTL attribute `expires_at`.
#[derive(Debug, Clone)]
pub struct DynamoReplayGuard {
    client: Client,
    table: String,
}

impl DynamoReplayGuard {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    async fn existing_status(&self, key: &str) -> Result<Option<String>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ATTR_PK, AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("dynamodb:GetItem", e))?;
        Ok(out.item().and_then(|item| item.get(ATTR_STATUS)).and_then(|v| v.as_s().ok()).cloned())
    }
}

impl ReplayGuard for DynamoReplayGuard {
    async fn claim(&self, key: &str, now: i64, expires_at: i64) -> Result<Claim, PortError> {
        let number = |n: i64| AttributeValue::N(n.to_string());
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(ATTR_PK, AttributeValue::S(key.to_owned()))
            .item(ATTR_STATUS, AttributeValue::S(IN_PROGRESS.into()))
            .item(ATTR_EXPIRES_AT, number(expires_at))
            .item(ATTR_LEASE_UNTIL, number(now + IN_PROGRESS_LEASE_SECONDS))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now \
                 OR (#status = :in_progress AND lease_until < :now)",
            )
            .expression_attribute_names("#status", ATTR_STATUS)
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.into()))
            // A refused claim comes back with the record that refused it: no read after it.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(refused)) => {
                    // A live record: completed, or another delivery is still on it. Read only
                    // if the refusal came without it.
                    let status = match refused.item() {
                        Some(item) => item.get(ATTR_STATUS).and_then(|v| v.as_s().ok()).cloned(),
                        None => self.existing_status(key).await?,
                    };
                    match status.as_deref() {
                        Some(COMPLETED) => Ok(Claim::Duplicate),
                        _ => Ok(Claim::InProgress),
                    }
                }
                _ => Err(classify("dynamodb:PutItem", e)),
            },
        }
    }

    async fn complete(&self, key: &str) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(ATTR_PK, AttributeValue::S(key.to_owned()))
            .update_expression("SET #status = :completed")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", ATTR_STATUS)
            .expression_attribute_values(":completed", AttributeValue::S(COMPLETED.into()))
            .send()
            .await
            .map_err(|e| classify("dynamodb:UpdateItem", e))?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(ATTR_PK, AttributeValue::S(key.to_owned()))
            .send()
            .await
            .map_err(|e| classify("dynamodb:DeleteItem", e))?;
        Ok(())
    }
}
