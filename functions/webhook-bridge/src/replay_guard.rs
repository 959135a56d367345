//! The replay guard: one claim per webhook delivery, so a redelivered or replayed webhook is
//! acknowledged without being queued twice.
//!
//! A claim goes `in_progress` → `completed`, like an idempotency record:
//! - [`ReplayGuard::claim`] writes `in_progress` with a short lease, conditionally: only when
//!   no live record exists for the key (or the one there has expired, or is an `in_progress`
//!   claim whose lease lapsed because its holder crashed).
//! - After both queues accepted the messages, [`ReplayGuard::complete`] marks it `completed`;
//!   it then answers [`Claim::Duplicate`] until the retention window ends (DynamoDB's TTL
//!   deletes it some time after `expires_at`; the condition ignores expired records anyway).
//! - When queueing fails, [`ReplayGuard::release`] deletes the claim, so the platform's retry
//!   is processed.
//!
//! A delivery that finds a live `in_progress` claim gets [`Claim::InProgress`]: the receiver
//! answers 409 so the platform retries later, rather than 200, which could lose the event if
//! the first holder then fails.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use orderflow_shared::error::PortError;

/// How long an `in_progress` claim holds before another delivery may take it over. Above the
/// receiver's Lambda timeout, so a live holder is never overtaken.
pub const IN_PROGRESS_LEASE_SECONDS: i64 = 60;

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This delivery holds the claim: queue it, then complete or release.
    Claimed,
    /// Already processed within the retention window.
    Duplicate,
    /// Another delivery of the same event is being processed right now.
    InProgress,
}

/// Conditional claims on webhook dedup ids. `key` is `<source>#<dedup id>`; times are unix
/// seconds.
pub trait ReplayGuard: Send + Sync {
    fn claim(&self, key: &str, now: i64, expires_at: i64) -> impl Future<Output = Result<Claim, PortError>> + Send;

    fn complete(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send;

    fn release(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

impl<T: ReplayGuard> ReplayGuard for std::sync::Arc<T> {
    fn claim(&self, key: &str, now: i64, expires_at: i64) -> impl Future<Output = Result<Claim, PortError>> + Send {
        (**self).claim(key, now, expires_at)
    }

    fn complete(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send {
        (**self).complete(key)
    }

    fn release(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send {
        (**self).release(key)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    completed: bool,
    expires_at: i64,
    lease_until: i64,
}

/// In-process claims, for `orderflow serve`, the demo and unit tests.
#[derive(Debug, Default)]
pub struct MemoryReplayGuard {
    entries: Mutex<HashMap<String, Entry>>,
}

impl MemoryReplayGuard {
    pub fn new() -> Self {
        Self::default()
    }
}

impl ReplayGuard for MemoryReplayGuard {
    async fn claim(&self, key: &str, now: i64, expires_at: i64) -> Result<Claim, PortError> {
        let mut entries = self.entries.lock().expect("replay guard lock");
        if let Some(entry) = entries.get(key)
            && entry.expires_at >= now
        {
            if entry.completed {
                return Ok(Claim::Duplicate);
            }
            if entry.lease_until >= now {
                return Ok(Claim::InProgress);
            }
        }
        let entry = Entry { completed: false, expires_at, lease_until: now + IN_PROGRESS_LEASE_SECONDS };
        entries.insert(key.to_owned(), entry);
        Ok(Claim::Claimed)
    }

    async fn complete(&self, key: &str) -> Result<(), PortError> {
        let mut entries = self.entries.lock().expect("replay guard lock");
        match entries.get_mut(key) {
            Some(entry) => {
                entry.completed = true;
                Ok(())
            }
            None => Err(PortError::not_found("replay_guard.complete", "no claim to complete")),
        }
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.entries.lock().expect("replay guard lock").remove(key);
        Ok(())
    }
}

pub const ATTR_PK: &str = "pk";
pub const ATTR_EXPIRES_AT: &str = "expires_at";
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
            .map_err(|e| sdk_error("dynamodb:GetItem", e))?;
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
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                // A live record: completed, or another delivery is still on it.
                match self.existing_status(key).await?.as_deref() {
                    Some(COMPLETED) => Ok(Claim::Duplicate),
                    _ => Ok(Claim::InProgress),
                }
            }
            Err(e) => Err(sdk_error("dynamodb:PutItem", e)),
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
            .map_err(|e| sdk_error("dynamodb:UpdateItem", e))?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(ATTR_PK, AttributeValue::S(key.to_owned()))
            .send()
            .await
            .map_err(|e| sdk_error("dynamodb:DeleteItem", e))?;
        Ok(())
    }
}

/// Throttling, 5xx and transport failures may pass on retry; other refusals will not.
fn sdk_error<E, R>(operation: &'static str, err: aws_sdk_dynamodb::error::SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_dynamodb::error::SdkError;
    let transient_code = |code: Option<&str>| {
        matches!(
            code,
            Some(
                "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ThrottlingException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        )
    };
    match &err {
        SdkError::ServiceError(ctx) if !transient_code(ctx.err().code()) => {
            let message = ctx.err().message().unwrap_or_else(|| ctx.err().code().unwrap_or("refused")).to_owned();
            PortError::permanent(operation, message)
        }
        SdkError::ServiceError(ctx) => {
            PortError::transient(operation, ctx.err().code().unwrap_or("throttled").to_owned())
        }
        other => PortError::transient(operation, format!("{other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_completed_claim_is_a_duplicate_until_it_expires() {
        let guard = MemoryReplayGuard::new();
        assert_eq!(guard.claim("s#1", 100, 200).await.unwrap(), Claim::Claimed);
        guard.complete("s#1").await.unwrap();
        assert_eq!(guard.claim("s#1", 150, 250).await.unwrap(), Claim::Duplicate);
        assert_eq!(guard.claim("s#1", 201, 301).await.unwrap(), Claim::Claimed);
    }

    #[tokio::test]
    async fn a_live_claim_in_progress_is_not_taken_over_but_a_lapsed_one_is() {
        let guard = MemoryReplayGuard::new();
        assert_eq!(guard.claim("s#1", 100, 10_000).await.unwrap(), Claim::Claimed);
        assert_eq!(guard.claim("s#1", 101, 10_000).await.unwrap(), Claim::InProgress);
        let later = 101 + IN_PROGRESS_LEASE_SECONDS;
        assert_eq!(guard.claim("s#1", later, 10_000).await.unwrap(), Claim::Claimed);
    }

    #[tokio::test]
    async fn a_released_claim_can_be_claimed_again() {
        let guard = MemoryReplayGuard::new();
        assert_eq!(guard.claim("s#1", 100, 200).await.unwrap(), Claim::Claimed);
        guard.release("s#1").await.unwrap();
        assert_eq!(guard.claim("s#1", 101, 201).await.unwrap(), Claim::Claimed);
    }
}
