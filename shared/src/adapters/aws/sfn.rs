//! `RecoveryStarter` on Step Functions: one execution per order key and attempt.

use aws_sdk_sfn::Client;

use super::classify;
use crate::error::PortError;
use crate::order::OrderKey;
use crate::ports::{RecoveryStarter, recovery_execution_name};

pub fn sfn_client(config: &aws_config::SdkConfig) -> Client {
    Client::new(config)
}

#[derive(Debug, Clone)]
pub struct SfnRecoveryStarter {
    client: Client,
    state_machine_arn: String,
}

impl SfnRecoveryStarter {
    pub fn new(client: Client, state_machine_arn: impl Into<String>) -> Self {
        Self { client, state_machine_arn: state_machine_arn.into() }
    }
}

impl RecoveryStarter for SfnRecoveryStarter {
    async fn start(&self, key: &OrderKey, attempt: u32, input: serde_json::Value) -> Result<(), PortError> {
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(recovery_execution_name(key, attempt))
            .input(input.to_string())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // The name is already taken by this very attempt: the start already happened.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_already_exists()) => Ok(()),
            Err(e) => Err(classify("states:StartExecution", e)),
        }
    }
}
