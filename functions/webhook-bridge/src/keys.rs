//! Signing keys of the configured sources: read by reference, never from the environment.
//!
//! - [`StoreKeys`] reads `ssm:` / `secretsmanager:` references through a [`SecretStore`],
//!   each cached for [`orderflow_shared::secrets::DEFAULT_TTL`] (Lambda).
//! - [`StaticKeys`] holds keys resolved up front, e.g. `local:<name>` references from
//!   `config/local-secrets.json` (`orderflow serve`, the demo, tests).

use std::collections::HashMap;
use std::future::Future;

use orderflow_shared::error::{Classify, Retry};
use orderflow_shared::secrets::{CachedSecret, SecretError, SecretRef, SecretStore};
use orderflow_shared::webhook::{InvalidSecret, Scheme, SigningKey, SourceConfig, WebhookSources};

/// Why no key is available for a source. No variant carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("webhook source {0}: no secret is available for its secret_ref")]
    Missing(String),
    #[error("webhook source {0}: secret_ref is not an ssm:, secretsmanager: or ARN reference")]
    BadRef(String),
    #[error("webhook source {source_name}: {cause}")]
    Invalid { source_name: String, cause: InvalidSecret },
    #[error(transparent)]
    Fetch(#[from] SecretError),
}

impl Classify for KeyError {
    fn retry(&self) -> Retry {
        match self {
            Self::Fetch(e) => e.retry(),
            _ => Retry::Permanent,
        }
    }
}

/// The current signing key of a source.
pub trait KeySource: Send + Sync {
    fn key(&self, source: &SourceConfig) -> impl Future<Output = Result<SigningKey, KeyError>> + Send;
}

/// Keys decoded once, by source name.
#[derive(Debug, Clone, Default)]
pub struct StaticKeys(HashMap<String, SigningKey>);

impl StaticKeys {
    pub fn new(keys: HashMap<String, SigningKey>) -> Self {
        Self(keys)
    }

    /// Resolves every `local:<name>` reference against a flat `{name: secret}` JSON object
    /// (`config/local-secrets.json`). Sources with other references, or a name missing from
    /// the file, are refused.
    pub fn from_local_secrets(sources: &WebhookSources, json: &str) -> Result<Self, KeyError> {
        let values: HashMap<String, String> =
            serde_json::from_str(json).map_err(|_| KeyError::Missing("local-secrets".into()))?;
        let mut keys = HashMap::new();
        for source in sources.iter() {
            let secret = source
                .secret_ref
                .strip_prefix("local:")
                .and_then(|name| values.get(name))
                .ok_or_else(|| KeyError::Missing(source.name.clone()))?;
            let key = SigningKey::from_secret(&source.scheme, secret)
                .map_err(|cause| KeyError::Invalid { source_name: source.name.clone(), cause })?;
            keys.insert(source.name.clone(), key);
        }
        Ok(Self(keys))
    }
}

impl KeySource for StaticKeys {
    async fn key(&self, source: &SourceConfig) -> Result<SigningKey, KeyError> {
        self.0.get(&source.name).cloned().ok_or_else(|| KeyError::Missing(source.name.clone()))
    }
}

/// One cached secret per source, read through a secret store.
pub struct StoreKeys<S> {
    secrets: HashMap<String, (Scheme, CachedSecret<S>)>,
}

impl<S: SecretStore + Clone> StoreKeys<S> {
    /// Fails when a source's reference is not one the store reads, so the cold start says so.
    pub fn new(sources: &WebhookSources, store: S) -> Result<Self, KeyError> {
        let mut secrets = HashMap::new();
        for source in sources.iter() {
            let reference: SecretRef = source.secret_ref.parse().map_err(|_| KeyError::BadRef(source.name.clone()))?;
            let cached = CachedSecret::new(store.clone(), reference);
            secrets.insert(source.name.clone(), (source.scheme.clone(), cached));
        }
        Ok(Self { secrets })
    }
}

impl<S: SecretStore> KeySource for StoreKeys<S> {
    async fn key(&self, source: &SourceConfig) -> Result<SigningKey, KeyError> {
        let (scheme, cached) = self.secrets.get(&source.name).ok_or_else(|| KeyError::Missing(source.name.clone()))?;
        let secret = cached.get().await?;
        SigningKey::from_secret(scheme, secret.expose())
            .map_err(|cause| KeyError::Invalid { source_name: source.name.clone(), cause })
    }
}
