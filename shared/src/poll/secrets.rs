//! The values of a poll source's secret references, read on every run: a run every few
//! minutes costs one read per source, and a rotated consumer secret or access token is taken
//! up by the next run with no redeploy.

use std::collections::HashMap;
use std::future::Future;

use super::PollError;
use crate::error::Classify;
use crate::secrets::{Secret, SecretRef, SecretStore, read_all};

pub trait PollSecrets: Send + Sync {
    /// The value of each reference; an unknown or unreadable one is an error naming it.
    fn resolve(&self, references: &[&str]) -> impl Future<Output = Result<HashMap<String, Secret>, PollError>> + Send;
}

/// `ssm:` and `secretsmanager:` references, read from AWS.
pub struct StoreSecrets<S>(pub S);

impl<S: SecretStore> PollSecrets for StoreSecrets<S> {
    async fn resolve(&self, references: &[&str]) -> Result<HashMap<String, Secret>, PollError> {
        let parsed = references
            .iter()
            .map(|reference| {
                let parsed: SecretRef =
                    reference.parse().map_err(|e| PollError::Config(format!("secret reference {reference}: {e}")))?;
                Ok(((*reference).to_owned(), parsed))
            })
            .collect::<Result<Vec<_>, PollError>>()?;
        read_all(&self.0, &parsed).await.map_err(|e| PollError::Secret {
            reference: e.reference.to_string(),
            retry: e.retry(),
            message: e.source.message.clone(),
        })
    }
}

/// `local:<name>` references, from `config/local-secrets.json` (local runs only).
pub struct LocalSecrets(pub HashMap<String, Secret>);

impl PollSecrets for LocalSecrets {
    async fn resolve(&self, references: &[&str]) -> Result<HashMap<String, Secret>, PollError> {
        references
            .iter()
            .map(|reference| {
                let name = reference.strip_prefix("local:").unwrap_or(reference);
                let value = self.0.get(name).cloned().ok_or_else(|| {
                    PollError::Config(format!("no local secret named {name} for reference {reference}"))
                })?;
                Ok(((*reference).to_owned(), value))
            })
            .collect()
    }
}
