//! A connector whose credentials come from secrets in AWS: read on first use, and read again
//! when the ERP refuses them ([`Refreshing`]), so a rotated password or client secret is taken
//! up by the first push it fails, with no redeploy and no new execution environment.

use std::sync::Arc;

use super::config::ConnectorConfig;
use super::connector::HttpConnector;
use super::error::ErpError;
use super::{ErpConnector, PushOutcome};
use crate::credentials::{BuildClient, Refreshing};
use crate::error::{Classify, Retry};
use crate::mapping::MappingSource;
use crate::order::CanonicalOrder;
use crate::ports::Clock;
use crate::secrets::{SecretRef, SecretStore, read_all};
use crate::webhook::Refund;

pub struct SecretConnector<S: SecretStore, M: MappingSource + Clone> {
    connector: Refreshing<FromSecrets<S, M>>,
}

struct FromSecrets<S, M> {
    name: String,
    config: ConnectorConfig,
    /// Each of [`ConnectorConfig::secret_refs`], parsed.
    refs: Vec<(String, SecretRef)>,
    store: S,
    mapping: M,
    clock: Arc<dyn Clock>,
}

impl<S: SecretStore, M: MappingSource + Clone> SecretConnector<S, M> {
    /// Checks the secret references now (no AWS call), so a malformed one fails the cold start.
    pub fn new(
        name: impl Into<String>,
        config: ConnectorConfig,
        store: S,
        mapping: M,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, crate::secrets::NotASecretRef> {
        let refs = config
            .secret_refs()
            .into_iter()
            .map(|reference| Ok((reference.to_owned(), reference.parse()?)))
            .collect::<Result<_, _>>()?;
        let builder = FromSecrets { name: name.into(), config, refs, store, mapping, clock };
        Ok(Self { connector: Refreshing::new(builder) })
    }
}

impl<S: SecretStore, M: MappingSource + Clone> BuildClient for FromSecrets<S, M> {
    type Client = HttpConnector<M>;
    type Error = ErpError;

    fn target(&self) -> &str {
        &self.name
    }

    async fn build(&self) -> Result<HttpConnector<M>, ErpError> {
        let secrets = read_all(&self.store, &self.refs).await.map_err(|e| {
            ErpError::local(e.retry(), "secret_unavailable", format!("reading {}: {}", e.reference, e.source.message))
        })?;
        HttpConnector::new(self.name.clone(), &self.config, &secrets, self.mapping.clone(), self.clock.clone())
            .map_err(|e| ErpError::local(Retry::Permanent, "config", e.to_string()))
    }
}

impl<S: SecretStore, M: MappingSource + Clone> ErpConnector for SecretConnector<S, M> {
    async fn push(&self, order: &CanonicalOrder) -> Result<PushOutcome, ErpError> {
        self.connector.call(|connector| async move { connector.push(order).await }).await
    }

    async fn refund(&self, refund: &Refund, reference: &str) -> Result<PushOutcome, ErpError> {
        self.connector.call(|connector| async move { connector.refund(refund, reference).await }).await
    }
}
