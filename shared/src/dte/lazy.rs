//! The HTTP provider built on its first call: a cold start reads no token and builds no HTTPS
//! client, and the many invocations that never reach the provider (registrations, reads)
//! never pay for either. The token is then kept for the life of the execution environment.

use std::time::Duration;

use tokio::sync::OnceCell;

use super::http::check_base_url;
use super::{DteAuth, DteClientError, HttpDteProvider, Operation};
use crate::error::Retry;
use crate::lifecycle::OrderRecord;
use crate::ports::{DteError, DteProvider};
use crate::secrets::{SecretRef, SecretStore};

pub struct LazyDteProvider<S> {
    secrets: S,
    token_ref: SecretRef,
    base_url: String,
    timeout: Duration,
    provider: OnceCell<HttpDteProvider>,
}

impl<S: SecretStore> LazyDteProvider<S> {
    /// Checks the base URL now, so a bad one still fails the cold start.
    pub fn new(secrets: S, token_ref: SecretRef, base_url: &str, timeout: Duration) -> Result<Self, DteClientError> {
        check_base_url(base_url)?;
        Ok(Self { secrets, token_ref, base_url: base_url.to_owned(), timeout, provider: OnceCell::new() })
    }

    /// The provider, built by the first caller; a failed build is tried again by the next.
    async fn provider(&self, op: Operation) -> Result<&HttpDteProvider, DteError> {
        let failed =
            |code: &str, message: String, retry| DteError { operation: op.as_str(), code: code.into(), message, retry };
        self.provider
            .get_or_try_init(|| async {
                let token = self.secrets.fetch(&self.token_ref).await.map_err(|e| {
                    failed("token_unavailable", format!("reading {}: {}", self.token_ref, e.message), e.retry)
                })?;
                HttpDteProvider::new(&self.base_url, DteAuth::Bearer(token), self.timeout)
                    .map_err(|e| failed("client_setup", e.to_string(), Retry::Transient))
            })
            .await
    }
}

impl<S: SecretStore> DteProvider for LazyDteProvider<S> {
    async fn issue(&self, record: &OrderRecord) -> Result<String, DteError> {
        self.provider(Operation::Issue).await?.issue(record).await
    }

    async fn broadcast(&self, record: &OrderRecord) -> Result<String, DteError> {
        self.provider(Operation::Broadcast).await?.broadcast(record).await
    }
}
