//! The connector every ERP uses: configuration plus an auth mechanism plus a field mapping.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Method, Url};

use super::ErpConnector;
use super::PushOutcome;
use super::auth::Authenticator;
use super::config::{ConfigError, ConnectorConfig, SecretValues, http_url};
use super::error::ErpError;
use super::http::{Request, encode, send};
use super::profile::ProfileSpec;
use crate::adapters::embedded::Clock;
use crate::error::Retry;
use crate::mapping::{MappingSource, MappingStore, Value};
use crate::order::CanonicalOrder;

/// Pushes orders to one ERP over HTTP, idempotently by order key (see [`PushOutcome`]).
pub struct HttpConnector<M> {
    name: String,
    profile: ProfileSpec,
    orders_url: Url,
    client: Client,
    auth: Authenticator,
    mapping: MappingStore<M>,
}

impl<M: MappingSource> HttpConnector<M> {
    /// `secrets` holds the values of [`ConnectorConfig::secret_refs`]; `mapping` is the source
    /// that `config.mapping_ref` names; `clock` times token expiry and mapping reloads.
    pub fn new(
        name: impl Into<String>,
        config: &ConnectorConfig,
        secrets: &impl SecretValues,
        mapping: M,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let profile = config.profile.spec();
        let base = http_url("base_url", &config.base_url)?;
        let orders_url =
            format!("{}/{}", base.as_str().trim_end_matches('/'), profile.orders_path.trim_start_matches('/'));
        let orders_url = http_url("profile.orders_path", &orders_url)?;
        let client = Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            // A redirect would carry the credentials to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(Self {
            name: name.into(),
            profile,
            orders_url,
            client,
            auth: Authenticator::new(&config.auth, secrets, clock.clone())?,
            mapping: MappingStore::new(mapping, Duration::from_secs(config.mapping_ttl_secs), clock),
        })
    }

    /// The mapping in use, e.g. to report a refused reload.
    pub fn mapping(&self) -> &MappingStore<M> {
        &self.mapping
    }

    /// The order already in the ERP under `reference`, if any.
    async fn find(&self, reference: &str) -> Result<Option<PushOutcome>, ErpError> {
        let operation = format!("GET {}", self.profile.orders_path);
        // OData string literals double their quotes.
        let filter = format!("{} eq '{}'", self.profile.reference_field, reference.replace('\'', "''"));
        let mut url = self.orders_url.clone();
        // `%20` for spaces, which every OData server reads (a `+` is not).
        url.set_query(Some(&format!("$filter={}", encode(&filter))));
        let answer =
            send(&self.client, &self.auth, &operation, &Request { method: Method::GET, url, body: None }).await?;
        if !answer.is_success() {
            return Err(ErpError::from_answer(&operation, answer.status, &answer.body));
        }
        let json: serde_json::Value =
            serde_json::from_str(&answer.body).map_err(|_| bad_answer(&operation, "is not JSON"))?;
        let records = json
            .get("value")
            .and_then(|v| v.as_array())
            .ok_or_else(|| bad_answer(&operation, "has no `value` list"))?;
        Ok(records.first().map(|record| PushOutcome::AlreadyExists { erp_id: self.id_of(record) }))
    }

    fn id_of(&self, record: &serde_json::Value) -> Option<String> {
        match record.get(&self.profile.id_field)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    async fn create(&self, body: &Value) -> Result<PushOutcome, ErpError> {
        let operation = format!("POST {}", self.profile.orders_path);
        let request =
            Request { method: Method::POST, url: self.orders_url.clone(), body: Some(body.to_json().into_bytes()) };
        let answer = send(&self.client, &self.auth, &operation, &request).await?;
        if answer.is_success() {
            // Without an id the record still exists: a retry finds it by its reference.
            let id = serde_json::from_str(&answer.body).ok().and_then(|json| self.id_of(&json));
            return id
                .map(|erp_id| PushOutcome::Created { erp_id })
                .ok_or_else(|| bad_answer(&operation, &format!("has no `{}`", self.profile.id_field)));
        }
        if self.profile.is_duplicate(answer.status, &answer.body) {
            return Ok(PushOutcome::AlreadyExists { erp_id: None });
        }
        Err(ErpError::from_answer(&operation, answer.status, &answer.body))
    }
}

impl<M: MappingSource> fmt::Debug for HttpConnector<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConnector")
            .field("name", &self.name)
            .field("orders_url", &self.orders_url.as_str())
            .field("auth", &self.auth)
            .field("mapping", &self.mapping)
            .finish()
    }
}

fn bad_answer(operation: &str, what: &str) -> ErpError {
    ErpError::local(Retry::Transient, "bad_answer", format!("the answer to {operation} {what}"))
}

impl<M: MappingSource> ErpConnector for HttpConnector<M> {
    async fn push(&self, order: &CanonicalOrder) -> Result<PushOutcome, ErpError> {
        let key = order.order_key.as_str();
        // Mapped first: an order that cannot be mapped fails without a call to the ERP.
        let mapping = self
            .mapping
            .current()
            .await
            .map_err(|e| ErpError::local(Retry::Transient, "mapping_unavailable", e.to_string()))?;
        let mut body = mapping.apply(order).map_err(|e| ErpError::local(Retry::Permanent, "mapping", e.to_string()))?;
        body.set(&self.profile.reference_field, Value::String(key.to_owned()));

        let outcome = match self.find(key).await? {
            Some(found) => found,
            None => self.create(&body).await?,
        };
        match &outcome {
            PushOutcome::Created { erp_id } => {
                tracing::info!(connector = %self.name, order_key = key, erp_id, "order created in the ERP")
            }
            PushOutcome::AlreadyExists { erp_id } => {
                tracing::info!(connector = %self.name, order_key = key, erp_id = erp_id.as_deref(), "order already in the ERP")
            }
        }
        Ok(outcome)
    }
}
