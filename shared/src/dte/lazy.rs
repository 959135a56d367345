//! The HTTP provider built on its first call, and built again from the token read afresh when
//! the provider refuses it ([`Refreshing`]): a cold start reads no token and builds no HTTPS
//! client, the many invocations that never reach the provider (registrations, reads) never pay
//! for either, and a rotated token is picked up by the first call it fails.

use std::time::Duration;

use super::http::check_base_url;
use super::{DteAuth, DteClientError, HttpDteProvider};
use crate::credentials::{BuildClient, Refreshing};
use crate::error::Retry;
use crate::lifecycle::OrderRecord;
use crate::ports::{DteError, DteProvider};
use crate::secrets::{SecretRef, SecretStore};

pub struct LazyDteProvider<S: SecretStore> {
    provider: Refreshing<FromToken<S>>,
}

/// The provider, from the bearer token its secret holds now.
struct FromToken<S> {
    secrets: S,
    token_ref: SecretRef,
    base_url: String,
    timeout: Duration,
}

impl<S: SecretStore> LazyDteProvider<S> {
    /// Checks the base URL now, so a bad one still fails the cold start.
    pub fn new(secrets: S, token_ref: SecretRef, base_url: &str, timeout: Duration) -> Result<Self, DteClientError> {
        check_base_url(base_url)?;
        let builder = FromToken { secrets, token_ref, base_url: base_url.to_owned(), timeout };
        Ok(Self { provider: Refreshing::new(builder) })
    }
}

impl<S: SecretStore> BuildClient for FromToken<S> {
    type Client = HttpDteProvider;
    type Error = DteError;

    fn target(&self) -> &str {
        "DTE provider"
    }

    async fn build(&self) -> Result<HttpDteProvider, DteError> {
        let failed =
            |code: &str, message: String, retry| DteError { operation: "token", code: code.into(), message, retry };
        let token =
            self.secrets.fetch(&self.token_ref).await.map_err(|e| {
                failed("token_unavailable", format!("reading {}: {}", self.token_ref, e.message), e.retry)
            })?;
        HttpDteProvider::new(&self.base_url, DteAuth::Bearer(token), self.timeout)
            .map_err(|e| failed("client_setup", e.to_string(), Retry::Transient))
    }
}

impl<S: SecretStore> DteProvider for LazyDteProvider<S> {
    async fn issue(&self, record: &OrderRecord) -> Result<String, DteError> {
        self.provider.call(|provider| async move { provider.issue(record).await }).await
    }

    async fn broadcast(&self, record: &OrderRecord) -> Result<String, DteError> {
        self.provider.call(|provider| async move { provider.broadcast(record).await }).await
    }
}
