//! AWS SDK implementations of the ports, and client construction.
//!
//! Each `*_client` function builds a new client, 0.12–0.3 ms of a cold start
//! (docs/PERFORMANCE.md, "Cold start against the floor"): a function builds one per service
//! and clones it for every adapter that needs it (clones share the client).

mod app_store;
mod dynamodb;
mod http;
mod order_service;
mod poll_cursors;
mod replay_guard;
mod s3;
mod secrets;
mod ses;
mod sfn;
mod sqs;
mod staging;
mod stream;

/// The loaded SDK configuration, named here so that functions need no AWS crate of their own.
pub use app_store::{DynamoAppStore, live_apps};
pub use aws_config::SdkConfig;
pub use dynamodb::*;
pub use order_service::{AwsOrderService, order_service};
pub use poll_cursors::DynamoPollCursors;
pub use replay_guard::DynamoReplayGuard;
pub use s3::S3ObjectStore;
pub use secrets::AwsSecretStore;
pub use ses::*;
pub use sfn::{SfnRecoveryStarter, sfn_client};
pub use sqs::SqsFifoQueue;
pub use staging::{DynamoAuditLog, DynamoStaging, STAGING_LIST_INDEX};

use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::error::PortError;

/// Shared SDK configuration from the standard chain; `AWS_ENDPOINT_URL` points it at an emulator.
/// Every AWS call is bounded, so a handler knows its worst case per record (see the batch
/// handlers' `worst_case_per_record` and the template test that checks the arithmetic): a
/// connection within [`CONNECT_TIMEOUT`], each attempt within [`ATTEMPT_TIMEOUT`], the whole
/// call, retries and their backoff included, within [`OPERATION_TIMEOUT`].
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// The SDK's standard retry mode (throttling, 5xx, timeouts, connection resets), with jittered
/// backoff from [`INITIAL_BACKOFF`] up to [`MAX_BACKOFF`].
pub const MAX_ATTEMPTS: u32 = 3;
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The configuration every SDK client is built from; [`loader`] with nothing changed.
pub async fn sdk_config() -> aws_config::SdkConfig {
    loader().load().await
}

/// The standard chain with orderflow's HTTP client, timeouts and retry policy, for callers that
/// set more before loading (the tests point it at a proxy).
pub fn loader() -> aws_config::ConfigLoader {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let retries = aws_config::retry::RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF);
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http::sdk_http_client())
        .timeout_config(timeouts)
        .retry_config(retries);
    from_environment_first(loader)
}

/// Credentials and region from the environment when it has them, as on Lambda, without
/// building the rest of the standard chains. The environment is the first link of both chains,
/// so the answer is the same; building the chains (profile files, SSO, web identity, the ECS
/// and IMDS clients) was a third of the SDK's share of a cold start (docs/PERFORMANCE.md,
/// "Cold start against the floor"). Without them, the standard chains as before.
fn from_environment_first(mut loader: aws_config::ConfigLoader) -> aws_config::ConfigLoader {
    let env = crate::config::EnvReader::process();
    let set = |name| env.optional(name).is_some();
    if set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY") {
        loader = loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
    }
    if set("AWS_REGION") || set("AWS_DEFAULT_REGION") {
        loader = loader.region(aws_config::environment::EnvironmentVariableRegionProvider::new());
    }
    loader
}

/// S3 with path-style addressing whenever an endpoint override is in force, since emulators
/// do not serve virtual-hosted bucket names.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let builder = aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some());
    aws_sdk_s3::Client::from_conf(builder.build())
}

pub fn sqs_client(config: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "KMS.ThrottlingException",
    // DynamoDB throttles with HTTP 400.
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
];

/// Maps an SDK failure to a port error: network trouble, throttling and 5xx may pass on retry;
/// anything else the service refused will be refused again. The one classification for every
/// AWS call (the webhook replay claims had a copy with a shorter code list that also took a
/// request the SDK could not even build for transient; a construction failure is a bug in the
/// request and is retried in vain, so it is permanent here).
pub(crate) fn classify<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let code = ctx.err().code().unwrap_or("Unknown");
            let message = format!("{code} (HTTP {status}): {}", ctx.err().message().unwrap_or_default());
            if status >= 500 || status == 429 || TRANSIENT_CODES.contains(&code) {
                PortError::transient(operation, message)
            } else {
                PortError::permanent(operation, message)
            }
        }
        SdkError::ConstructionFailure(_) => PortError::permanent(operation, format!("{err:?}")),
        _ => PortError::transient(operation, format!("{err}: {:?}", std::error::Error::source(&err))),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::primitives::SdkBody;

    use super::*;
    use crate::error::Classify;

    fn refused(status: u16, code: &str) -> PortError {
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        let err = ErrorMetadata::builder().code(code).message("m").build();
        let err = aws_sdk_s3::operation::get_object::GetObjectError::generic(err);
        classify("s3:GetObject", SdkError::service_error(err, raw))
    }

    #[test]
    fn throttling_as_each_service_spells_it_and_faults_are_transient() {
        for (status, code) in [
            (400, "ThrottlingException"),
            (400, "ProvisionedThroughputExceededException"),
            (400, "RequestLimitExceeded"),
            (503, "SlowDown"),
            (429, "TooManyRequestsException"),
            (500, "InternalServerError"),
            (400, "Throttling"),
        ] {
            assert!(refused(status, code).is_transient(), "{status} {code}");
        }
    }

    #[test]
    fn refusals_of_the_request_itself_are_permanent() {
        for (status, code) in [(400, "ValidationException"), (403, "AccessDeniedException"), (404, "NoSuchKey")] {
            assert!(!refused(status, code).is_transient(), "{status} {code}");
        }
        let err: SdkError<aws_sdk_s3::operation::get_object::GetObjectError, HttpResponse> =
            SdkError::construction_failure("no bucket");
        assert!(!classify("s3:GetObject", err).is_transient());
    }
}
