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

use crate::config::ConfigError;
use crate::error::PortError;

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

fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

fn retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF)
}

/// The configuration a function builds its clients from: the credentials of its execution role
/// and its region, from the variables Lambda sets in every function's environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`), and
/// `AWS_ENDPOINT_URL` when it points the function at an emulator; orderflow's HTTP client,
/// timeouts and retry policy.
///
/// Not the standard chains: on Lambda they answer from the environment, their first link, and
/// their other links (profile files, SSO, STS web identity, the ECS and IMDS clients) were
/// never reached yet linked into every function, 0.3–0.4 MB of each bootstrap
/// (docs/PERFORMANCE.md, "Size"). A missing variable stops the start with its name, where the
/// chains would have gone looking for credentials elsewhere. The command keeps the chains
/// ([`sdk_config`]) for operators' profiles.
pub fn function_sdk_config() -> Result<SdkConfig, ConfigError> {
    function_sdk_config_from(&crate::config::EnvReader::process())
}

fn function_sdk_config_from<F: Fn(&str) -> Option<String>>(
    env: &crate::config::EnvReader<F>,
) -> Result<SdkConfig, ConfigError> {
    let region = env
        .optional("AWS_REGION")
        .or_else(|| env.optional("AWS_DEFAULT_REGION"))
        .ok_or(ConfigError::Missing("AWS_REGION"))?;
    // Read here so that a missing one stops the start; the provider reads them again for each
    // signature, as the chain's environment link does.
    env.required("AWS_ACCESS_KEY_ID")?;
    env.required("AWS_SECRET_ACCESS_KEY")?;
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut config = SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(credentials))
        .http_client(http::sdk_http_client())
        .timeout_config(timeouts())
        .retry_config(retries());
    config.set_endpoint_url(env.optional("AWS_ENDPOINT_URL"));
    Ok(config.build())
}

/// The configuration the command builds its clients from: the standard chains, for operators'
/// profiles and SSO sessions, with orderflow's HTTP client, timeouts and retry policy;
/// `AWS_ENDPOINT_URL` points it at an emulator.
pub async fn sdk_config() -> SdkConfig {
    loader().load().await
}

/// [`sdk_config`] before loading, for callers that set more (the tests point it at a proxy).
pub fn loader() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http::sdk_http_client())
        .timeout_config(timeouts())
        .retry_config(retries())
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

    fn function_config(vars: &[(&str, &str)]) -> Result<SdkConfig, ConfigError> {
        function_sdk_config_from(&crate::config::reader_of(vars))
    }

    const LAMBDA: &[(&str, &str)] =
        &[("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret")];

    #[test]
    fn a_function_takes_region_credentials_and_endpoint_from_the_lambda_environment() {
        let config = function_config(LAMBDA).unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert!(config.credentials_provider().is_some());
        assert_eq!(config.endpoint_url(), None);
        assert_eq!(config.retry_config().map(|r| r.max_attempts()), Some(MAX_ATTEMPTS));
        assert_eq!(config.timeout_config().and_then(|t| t.operation_timeout()), Some(OPERATION_TIMEOUT));

        let emulator = [LAMBDA, &[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]].concat();
        assert_eq!(function_config(&emulator).unwrap().endpoint_url(), Some("http://127.0.0.1:5000"));

        let default_region = [&LAMBDA[1..], &[("AWS_DEFAULT_REGION", "us-east-2")]].concat();
        assert_eq!(function_config(&default_region).unwrap().region().map(|r| r.as_ref()), Some("us-east-2"));
    }

    #[test]
    fn a_function_without_its_credentials_or_region_stops_naming_the_variable() {
        for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let vars: Vec<_> = LAMBDA.iter().copied().filter(|(k, _)| *k != missing).collect();
            match function_config(&vars) {
                Err(ConfigError::Missing(name)) => assert_eq!(name, missing),
                other => panic!("without {missing}: {other:?}"),
            }
        }
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
