//! The connector every ERP uses: configuration plus an auth mechanism plus a field mapping.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, Url};

use super::ErpConnector;
use super::PushOutcome;
use super::auth::Authenticator;
use super::config::{ConfigError, ConnectorConfig, SecretValues, http_url};
use super::error::ErpError;
use super::http::{Request, encode, send};
use super::profile::ProfileSpec;
use super::profile::RefundSpec;
use crate::error::Retry;
use crate::http_client::http_client;
use crate::mapping::{MappingSource, MappingStore, Value};
use crate::order::CanonicalOrder;
use crate::ports::Clock;
use crate::webhook::Refund;

/// Pushes orders to one ERP over HTTP, idempotently by order key (see [`PushOutcome`]).
pub struct HttpConnector<M> {
    name: String,
    profile: ProfileSpec,
    orders: Documents,
    /// `None` when the profile has no refunds section.
    credit_memos: Option<Documents>,
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
        let orders = Documents::new(
            &base,
            "profile.orders_path",
            &profile.orders_path,
            &profile.reference_field,
            &profile.id_field,
        )?;
        let credit_memos = profile
            .refunds
            .as_ref()
            .map(|r| Documents::new(&base, "profile.refunds.path", &r.path, &r.reference_field, &profile.id_field))
            .transpose()?;
        let client = http_client(Duration::from_millis(config.timeout_ms), HeaderMap::new())
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(Self {
            name: name.into(),
            profile,
            orders,
            credit_memos,
            client,
            auth: Authenticator::new(&config.auth, secrets, clock.clone())?,
            mapping: MappingStore::new(mapping, Duration::from_secs(config.mapping_ttl_secs), clock),
        })
    }

    /// The mapping in use, e.g. to report a refused reload.
    pub fn mapping(&self) -> &MappingStore<M> {
        &self.mapping
    }

    /// The document already in the ERP under `reference`, if any.
    async fn find(&self, docs: &Documents, reference: &str) -> Result<Option<PushOutcome>, ErpError> {
        let operation = format!("GET {}", docs.path);
        // OData string literals double their quotes.
        let filter = format!("{} eq '{}'", docs.reference_field, reference.replace('\'', "''"));
        let mut url = docs.url.clone();
        // `%20` for spaces, which every OData server reads (a `+` is not).
        url.set_query(Some(&format!("$filter={}", encode(&filter))));
        let answer = send(
            &self.client,
            &self.auth,
            &operation,
            &Request { method: Method::GET, url, body: None, headers: Vec::new() },
        )
        .await?;
        if !answer.is_success() {
            return Err(ErpError::from_answer(&operation, answer.status, &answer.body));
        }
        let json: serde_json::Value =
            serde_json::from_str(&answer.body).map_err(|_| bad_answer(&operation, "is not JSON"))?;
        let records = json
            .get("value")
            .and_then(|v| v.as_array())
            .ok_or_else(|| bad_answer(&operation, "has no `value` list"))?;
        Ok(records.first().map(|record| PushOutcome::AlreadyExists { erp_id: docs.id_of(record) }))
    }

    async fn create(&self, docs: &Documents, body: &Value) -> Result<PushOutcome, ErpError> {
        let operation = format!("POST {}", docs.path);
        let request = Request {
            method: Method::POST,
            url: docs.url.clone(),
            body: Some(body.to_json().into_bytes()),
            headers: Vec::new(),
        };
        let answer = send(&self.client, &self.auth, &operation, &request).await?;
        if answer.is_success() {
            // Without an id the record still exists: a retry finds it by its reference.
            let id = serde_json::from_str(&answer.body).ok().and_then(|json| docs.id_of(&json));
            return id
                .map(|erp_id| PushOutcome::Created { erp_id })
                .ok_or_else(|| bad_answer(&operation, &format!("has no `{}`", docs.id_field)));
        }
        if self.profile.is_duplicate(answer.status, &answer.body) {
            return Ok(PushOutcome::AlreadyExists { erp_id: None });
        }
        Err(ErpError::from_answer(&operation, answer.status, &answer.body))
    }

    /// Find, else create: at most one document per reference, as long as one reference is
    /// pushed by one worker at a time (the erp-sync queue's message groups see to that).
    async fn find_or_create(&self, docs: &Documents, reference: &str, body: &Value) -> Result<PushOutcome, ErpError> {
        let outcome = match self.find(docs, reference).await? {
            Some(found) => found,
            None => self.create(docs, body).await?,
        };
        let (verb, erp_id) = match &outcome {
            PushOutcome::Created { erp_id } => ("created", Some(erp_id.as_str())),
            PushOutcome::AlreadyExists { erp_id } => ("already there", erp_id.as_deref()),
        };
        tracing::info!(connector = %self.name, documents = %docs.path, reference, erp_id, "{verb}");
        Ok(outcome)
    }
}

/// One document list of the ERP: where it is, which field carries our reference, which
/// identifies a stored record.
#[derive(Debug)]
struct Documents {
    path: String,
    url: Url,
    reference_field: String,
    id_field: String,
}

impl Documents {
    fn new(
        base: &Url,
        setting: &'static str,
        path: &str,
        reference_field: &str,
        id_field: &str,
    ) -> Result<Self, ConfigError> {
        let url = format!("{}/{}", base.as_str().trim_end_matches('/'), path.trim_start_matches('/'));
        Ok(Self {
            path: path.to_owned(),
            url: http_url(setting, &url)?,
            reference_field: reference_field.to_owned(),
            id_field: id_field.to_owned(),
        })
    }

    fn id_of(&self, record: &serde_json::Value) -> Option<String> {
        match record.get(&self.id_field)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// The credit memo body a [`RefundSpec`] describes.
fn credit_memo(spec: &RefundSpec, refund: &Refund, reference: &str) -> Value {
    let order_reference = refund.order_key.as_ref().map_or(refund.external_order_id.as_str(), |k| k.as_str());
    let mut body = Value::Object(Vec::new());
    body.set(&spec.reference_field, Value::String(reference.to_owned()));
    body.set(&spec.order_reference_field, Value::String(order_reference.to_owned()));
    // The decimal's own digits as a JSON number: exact, never through a float.
    body.set(&spec.amount_field, Value::Number(refund.amount.to_string()));
    body.set(&spec.currency_field, Value::String(refund.currency.to_string()));
    if let (Some(field), Some(reason)) = (&spec.reason_field, &refund.reason) {
        body.set(field, Value::String(reason.clone()));
    }
    body
}

impl<M: MappingSource> fmt::Debug for HttpConnector<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConnector")
            .field("name", &self.name)
            .field("orders_url", &self.orders.url.as_str())
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
        body.set(&self.orders.reference_field, Value::String(key.to_owned()));
        self.find_or_create(&self.orders, key, &body).await
    }

    async fn refund(&self, refund: &Refund, reference: &str) -> Result<PushOutcome, ErpError> {
        let (Some(spec), Some(docs)) = (&self.profile.refunds, &self.credit_memos) else {
            // Parked, not dropped: replayable once the profile has a refunds section.
            return Err(ErpError::local(
                Retry::Permanent,
                "refund_unsupported",
                format!("connector {} has no refunds section in its profile", self.name),
            ));
        };
        self.find_or_create(docs, reference, &credit_memo(spec, refund, reference)).await
    }
}
