use std::sync::{Arc, OnceLock};

use super::classify;
use crate::error::PortError;
use crate::secrets::{Secret, SecretRef, SecretStore};

/// SSM Parameter Store and Secrets Manager, so one store serves either kind of reference.
///
/// Each client is built on the first fetch of its kind: a function's references are usually
/// all of one kind, so the other client, ~0.15 ms of a cold start, is never built. Clones share
/// the clients.
#[derive(Debug, Clone)]
pub struct AwsSecretStore {
    config: aws_config::SdkConfig,
    ssm: Arc<OnceLock<aws_sdk_ssm::Client>>,
    secrets_manager: Arc<OnceLock<aws_sdk_secretsmanager::Client>>,
}

impl AwsSecretStore {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self { config: config.clone(), ssm: Arc::default(), secrets_manager: Arc::default() }
    }

    fn ssm(&self) -> &aws_sdk_ssm::Client {
        self.ssm.get_or_init(|| aws_sdk_ssm::Client::new(&self.config))
    }

    fn secrets_manager(&self) -> &aws_sdk_secretsmanager::Client {
        self.secrets_manager.get_or_init(|| aws_sdk_secretsmanager::Client::new(&self.config))
    }
}

impl SecretStore for AwsSecretStore {
    async fn fetch(&self, reference: &SecretRef) -> Result<Secret, PortError> {
        match reference {
            SecretRef::Ssm(name) => {
                let out = self
                    .ssm()
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| classify("ssm:GetParameter", e))?;
                let value = out.parameter().and_then(|p| p.value());
                value
                    .map(Secret::new)
                    .ok_or_else(|| PortError::permanent("ssm:GetParameter", format!("parameter {name} has no value")))
            }
            SecretRef::SecretsManager(id) => {
                let out = self
                    .secrets_manager()
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| classify("secretsmanager:GetSecretValue", e))?;
                out.secret_string().map(Secret::new).ok_or_else(|| {
                    PortError::permanent("secretsmanager:GetSecretValue", format!("secret {id} has no string value"))
                })
            }
        }
    }
}
