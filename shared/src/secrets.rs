//! Secrets by reference: the template and the environment hold only where a secret lives
//! (SSM Parameter Store or Secrets Manager), never its value.
//!
//! [`CachedSecret`] reads a secret once and serves it for a TTL, so a warm function neither
//! calls the store on every event nor keeps a rotated-out value for its whole lifetime.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::error::{Classify, PortError, Retry};

/// Long enough to spare the store on busy functions, short enough to pick up a rotation soon.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An SSM parameter name or ARN, read with decryption.
    Ssm(String),
    /// A Secrets Manager secret id (name or ARN).
    SecretsManager(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a secret reference: expected `ssm:/path/name`, `secretsmanager:<id>`, or an SSM parameter or Secrets Manager ARN"
)]
// The offending text is left out on purpose: it may be the secret itself, pasted by mistake.
pub struct NotASecretRef;

impl FromStr for SecretRef {
    type Err = NotASecretRef;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned()).ok_or(NotASecretRef);
        if let Some(name) = text.strip_prefix("ssm:") {
            return non_empty(name).map(Self::Ssm);
        }
        if let Some(id) = text.strip_prefix("secretsmanager:") {
            return non_empty(id).map(Self::SecretsManager);
        }
        // arn:<partition>:<service>:<region>:<account>:<resource>
        match text.splitn(6, ':').collect::<Vec<_>>()[..] {
            ["arn", _, "ssm", _, _, resource]
                if resource.len() > "parameter/".len() && resource.starts_with("parameter/") =>
            {
                Ok(Self::Ssm(text.to_owned()))
            }
            ["arn", _, "secretsmanager", _, _, resource]
                if resource.len() > "secret:".len() && resource.starts_with("secret:") =>
            {
                Ok(Self::SecretsManager(text.to_owned()))
            }
            _ => Err(NotASecretRef),
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ssm(name) => write!(f, "ssm:{name}"),
            Self::SecretsManager(id) => write!(f, "secretsmanager:{id}"),
        }
    }
}

/// A secret value. Debug and Display print `***`, so it cannot leak through a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that must send it (a header, a signature key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("reading secret {reference}: {source}")]
pub struct SecretError {
    pub reference: SecretRef,
    pub source: PortError,
}

impl Classify for SecretError {
    fn retry(&self) -> Retry {
        self.source.retry
    }
}

/// A store that holds secrets (SSM and Secrets Manager in AWS).
pub trait SecretStore: Send + Sync {
    fn fetch(&self, reference: &SecretRef) -> impl Future<Output = Result<Secret, PortError>> + Send;
}

/// The value of each reference (as written in a config, and parsed), keyed by the written
/// reference; the first that cannot be read ends it, named in the error.
pub async fn read_all<S: SecretStore>(
    store: &S,
    references: &[(String, SecretRef)],
) -> Result<std::collections::HashMap<String, Secret>, SecretError> {
    let mut values = std::collections::HashMap::new();
    for (written, parsed) in references {
        let value = store.fetch(parsed).await.map_err(|source| SecretError { reference: parsed.clone(), source })?;
        values.insert(written.clone(), value);
    }
    Ok(values)
}

/// Anything that yields the current value of a secret: a fixed [`Secret`] or a [`CachedSecret`].
pub trait SecretSource: Send + Sync {
    fn current(&self) -> impl Future<Output = Result<Secret, SecretError>> + Send;
}

impl SecretSource for Secret {
    async fn current(&self) -> Result<Secret, SecretError> {
        Ok(self.clone())
    }
}

/// One secret, fetched on first use and again once the TTL has lapsed.
pub struct CachedSecret<S> {
    store: S,
    reference: SecretRef,
    ttl: Duration,
    // An async lock, held across the fetch, so concurrent callers wait for one read.
    cached: Mutex<Option<(Secret, Instant)>>,
}

impl<S: SecretStore> CachedSecret<S> {
    pub fn new(store: S, reference: SecretRef) -> Self {
        Self { store, reference, ttl: DEFAULT_TTL, cached: Mutex::new(None) }
    }

    /// A zero TTL reads the store on every call.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    pub fn reference(&self) -> &SecretRef {
        &self.reference
    }

    pub async fn get(&self) -> Result<Secret, SecretError> {
        let mut cached = self.cached.lock().await;
        if let Some((secret, at)) = cached.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(secret.clone());
        }
        let secret = self
            .store
            .fetch(&self.reference)
            .await
            .map_err(|source| SecretError { reference: self.reference.clone(), source })?;
        *cached = Some((secret.clone(), Instant::now()));
        Ok(secret)
    }
}

impl<S: SecretStore> SecretSource for CachedSecret<S> {
    async fn current(&self) -> Result<Secret, SecretError> {
        self.get().await
    }
}

impl<S> fmt::Debug for CachedSecret<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedSecret").field("reference", &self.reference).field("ttl", &self.ttl).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn references_parse_from_prefixes_and_arns() {
        let cases = [
            ("ssm:/orderflow/dev/api-key", SecretRef::Ssm("/orderflow/dev/api-key".into())),
            ("ssm:plain-name", SecretRef::Ssm("plain-name".into())),
            (
                "arn:aws:ssm:us-west-2:123456789012:parameter/orderflow/key",
                SecretRef::Ssm("arn:aws:ssm:us-west-2:123456789012:parameter/orderflow/key".into()),
            ),
            ("secretsmanager:orderflow/api-key", SecretRef::SecretsManager("orderflow/api-key".into())),
            (
                "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:key-AbCdEf",
                SecretRef::SecretsManager(
                    "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:key-AbCdEf".into(),
                ),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<SecretRef>(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn anything_else_is_refused_without_echoing_it() {
        for bad in [
            "",
            "ssm:",
            "secretsmanager:",
            "arn:aws:s3:::bucket",
            "arn:aws:ssm:us-west-2:1:document/x",
            "arn:aws:ssm:us-west-2:1:parameter/",
        ] {
            assert_eq!(bad.parse::<SecretRef>(), Err(NotASecretRef), "{bad:?}");
        }
        let err = "hunter2-raw-key".parse::<SecretRef>().unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn secrets_never_print_their_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** *** Some(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    /// Serves `v1`, `v2`, … and counts reads.
    struct Counting(AtomicU32);

    impl SecretStore for Counting {
        async fn fetch(&self, _: &SecretRef) -> Result<Secret, PortError> {
            Ok(Secret::new(format!("v{}", self.0.fetch_add(1, Ordering::SeqCst) + 1)))
        }
    }

    struct Broken;

    impl SecretStore for Broken {
        async fn fetch(&self, _: &SecretRef) -> Result<Secret, PortError> {
            Err(PortError::transient("ssm:GetParameter", "throttled"))
        }
    }

    fn reference() -> SecretRef {
        SecretRef::Ssm("/k".into())
    }

    #[tokio::test]
    async fn the_cache_reads_once_within_the_ttl() {
        let cache = CachedSecret::new(Counting(AtomicU32::new(0)), reference());
        assert_eq!(cache.get().await.unwrap().expose(), "v1");
        assert_eq!(cache.get().await.unwrap().expose(), "v1");
        assert_eq!(cache.store.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_zero_ttl_reads_every_time() {
        let cache = CachedSecret::new(Counting(AtomicU32::new(0)), reference()).with_ttl(Duration::ZERO);
        assert_eq!(cache.get().await.unwrap().expose(), "v1");
        assert_eq!(cache.current().await.unwrap().expose(), "v2");
    }

    #[tokio::test]
    async fn a_failed_read_names_the_reference_and_keeps_its_class() {
        let err = CachedSecret::new(Broken, reference()).get().await.unwrap_err();
        assert_eq!(err.to_string(), "reading secret ssm:/k: ssm:GetParameter: throttled");
        assert!(err.is_transient());
    }
}
