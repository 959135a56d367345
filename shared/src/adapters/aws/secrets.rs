use super::classify;
use crate::error::PortError;
use crate::secrets::{Secret, SecretRef, SecretStore};

/// SSM Parameter Store and Secrets Manager, so one store serves either kind of reference.
#[derive(Debug, Clone)]
pub struct AwsSecretStore {
    ssm: aws_sdk_ssm::Client,
    secrets_manager: aws_sdk_secretsmanager::Client,
}

impl AwsSecretStore {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self { ssm: aws_sdk_ssm::Client::new(config), secrets_manager: aws_sdk_secretsmanager::Client::new(config) }
    }
}

impl SecretStore for AwsSecretStore {
    async fn fetch(&self, reference: &SecretRef) -> Result<Secret, PortError> {
        match reference {
            SecretRef::Ssm(name) => {
                let out = self
                    .ssm
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
                    .secrets_manager
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
