//! One shop's HTTP client, on the ERP connectors' request and auth code, and the shops of a
//! deployment built from their secrets ([`SecretShops`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};

use super::config::{ActionConfig, Platform, ShopConfig, ShopsFile};
use super::error::ShopError;
use super::{ActionDone, ActionRequest, ShopActions, generic, shopify, woocommerce};
use crate::credentials::{BuildClient, Refreshing};
use crate::erp::auth::Authenticator;
use crate::erp::config::{ConfigError, SecretValues, http_url};
use crate::erp::error::truncate;
use crate::erp::http::{Answer, Request, send};
use crate::error::{Classify, Retry};
use crate::http_answer::retry_for_provider_status;
use crate::http_client::http_client;
use crate::lifecycle::State;
use crate::mapping::{MappingRef, MappingSource, MappingStore};
use crate::ports::Clock;
use crate::secrets::{SecretRef, SecretStore, read_all};

/// How long a generic action's mapping is used before its source is read again.
const MAPPING_TTL: Duration = Duration::from_secs(300);

pub struct ShopConnector<M> {
    pub(crate) name: String,
    pub(crate) config: ShopConfig,
    /// `base_url` without a trailing slash.
    base: String,
    client: Client,
    auth: Authenticator,
    /// The mapping of each state's generic HTTP action.
    pub(crate) mappings: BTreeMap<State, MappingStore<M>>,
}

impl<M: MappingSource> ShopConnector<M> {
    /// `secrets` holds the values of [`ShopConfig::secret_refs`]; `mapping` opens the source a
    /// generic action's `mapping_ref` names, or says why it cannot.
    pub fn new(
        name: impl Into<String>,
        config: &ShopConfig,
        secrets: &impl SecretValues,
        mapping: impl Fn(&MappingRef) -> Result<M, String>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        http_url("base_url", &config.base_url)?;
        let client = http_client(Duration::from_millis(config.timeout_ms), HeaderMap::new())
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        let mut mappings = BTreeMap::new();
        for (state, action) in &config.on {
            if let ActionConfig::Http { mapping_ref, .. } = action {
                let source = mapping(mapping_ref).map_err(ConfigError::Mapping)?;
                mappings.insert(*state, MappingStore::new(source, MAPPING_TTL, clock.clone()));
            }
        }
        Ok(Self {
            name: name.into(),
            config: config.clone(),
            base: config.base_url.trim_end_matches('/').to_owned(),
            client,
            auth: Authenticator::new(&config.auth, secrets, clock)?,
            mappings,
        })
    }

    /// Carries out one action on this shop.
    pub async fn act(&self, request: &ActionRequest<'_>) -> Result<ActionDone, ShopError> {
        match (self.config.platform, request.action) {
            (Platform::Shopify, ActionConfig::Fulfil { notify_customer }) => {
                shopify::fulfil(self, request, *notify_customer).await
            }
            (Platform::Woocommerce, ActionConfig::SetStatus { status, note }) => {
                woocommerce::set_status(self, request, status, *note).await
            }
            (_, ActionConfig::Http { method, path, .. }) => generic::send(self, request, method, path).await,
            (platform, action) => Err(ShopError::local(
                Retry::Permanent,
                "config",
                format!("shop {}: a {platform:?} shop does not take {action:?}", self.name),
            )),
        }
    }

    /// The shop's full URL of `path`, for the request log.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn config(&self) -> &ShopConfig {
        &self.config
    }

    /// `method` on `path` (below the base URL) with a JSON body; a non-2xx answer is an error
    /// classified by its status, with the shop's code and `Retry-After` when it gave them.
    pub(crate) async fn call(
        &self,
        operation: &str,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: Vec<(&'static str, String)>,
    ) -> Result<Answer, ShopError> {
        let url = http_url("base_url", &format!("{}{path}", self.base))
            .map_err(|e| ShopError::local(Retry::Permanent, "config", e.to_string()))?;
        let answer = send(&self.client, &self.auth, operation, &Request { method, url, body, headers }).await?;
        if answer.is_success() {
            return Ok(answer);
        }
        Err(from_answer(operation, &answer))
    }
}

/// A non-success answer. WooCommerce (WordPress) errors are `{"code", "message", "data"}`;
/// Shopify's REST-level errors are `{"errors": "…"}`; anything else keeps its status.
fn from_answer(operation: &str, answer: &Answer) -> ShopError {
    let json: Option<serde_json::Value> = serde_json::from_str(&answer.body).ok();
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let code = json.as_ref().and_then(|j| text(j.get("code"))).unwrap_or_else(|| format!("http_{}", answer.status));
    let detail = json.as_ref().and_then(|j| text(j.get("message")).or_else(|| text(j.get("errors"))));
    let message = match detail {
        Some(detail) => format!("{operation} answered {}: {detail}", answer.status),
        None => format!("{operation} answered {}", answer.status),
    };
    ShopError {
        retry: retry_for_provider_status(answer.status),
        status: Some(answer.status),
        code,
        message,
        answer: Some(truncate(&answer.body)),
        retry_after: answer.retry_after(),
    }
}

/// The shops of a deployment, each built from its secrets on first use and built again when
/// the shop refuses the credentials ([`Refreshing`]): a rotated token needs no redeploy.
pub struct SecretShops<S: SecretStore, M: MappingSource> {
    shops: BTreeMap<String, (ShopConfig, Refreshing<FromSecrets<S, M>>)>,
}

pub struct FromSecrets<S, M> {
    name: String,
    config: ShopConfig,
    refs: Vec<(String, SecretRef)>,
    store: S,
    mapping: Arc<dyn Fn(&MappingRef) -> M + Send + Sync>,
    clock: Arc<dyn Clock>,
}

impl<S: SecretStore + Clone, M: MappingSource> SecretShops<S, M> {
    /// Checks every secret reference now (no AWS call), so a malformed one fails the cold start.
    pub fn new(
        file: ShopsFile,
        store: S,
        mapping: impl Fn(&MappingRef) -> M + Send + Sync + 'static,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, crate::secrets::NotASecretRef> {
        let mapping: Arc<dyn Fn(&MappingRef) -> M + Send + Sync> = Arc::new(mapping);
        let mut shops = BTreeMap::new();
        for (name, config) in file.shops {
            let refs = config
                .secret_refs()
                .into_iter()
                .map(|reference| Ok((reference.to_owned(), reference.parse()?)))
                .collect::<Result<_, _>>()?;
            let builder = FromSecrets {
                name: name.clone(),
                config: config.clone(),
                refs,
                store: store.clone(),
                mapping: mapping.clone(),
                clock: clock.clone(),
            };
            shops.insert(name, (config, Refreshing::new(builder)));
        }
        Ok(Self { shops })
    }
}

impl<S: SecretStore, M: MappingSource> BuildClient for FromSecrets<S, M> {
    type Client = ShopConnector<M>;
    type Error = ShopError;

    fn target(&self) -> &str {
        &self.name
    }

    async fn build(&self) -> Result<ShopConnector<M>, ShopError> {
        let secrets = read_all(&self.store, &self.refs).await.map_err(|e| {
            ShopError::local(e.retry(), "secret_unavailable", format!("reading {}: {}", e.reference, e.source.message))
        })?;
        ShopConnector::new(self.name.clone(), &self.config, &secrets, |r| Ok((self.mapping)(r)), self.clock.clone())
            .map_err(|e| ShopError::local(Retry::Permanent, "config", e.to_string()))
    }
}

impl<S: SecretStore, M: MappingSource + 'static> ShopActions for SecretShops<S, M> {
    fn shop(&self, source: &str) -> Option<&ShopConfig> {
        self.shops.get(source).map(|(config, _)| config)
    }

    async fn act(&self, request: &ActionRequest<'_>) -> Result<ActionDone, ShopError> {
        let Some((_, shop)) = self.shops.get(&request.shop.source) else {
            let message = format!("no shop named {} is configured", request.shop.source);
            return Err(ShopError::local(Retry::Permanent, "config", message));
        };
        shop.call(|connector| async move { connector.act(request).await }).await
    }
}

/// Shops built once from secret values at hand (the local `local:` secrets of `orderflow
/// serve` and the tests), with no secret store behind them.
pub struct BuiltShops<M> {
    shops: BTreeMap<String, ShopConnector<M>>,
}

impl<M: MappingSource> BuiltShops<M> {
    /// `mapping` opens the source a generic action's `mapping_ref` names, or says why it cannot.
    pub fn new(
        file: &ShopsFile,
        secrets: &impl SecretValues,
        mapping: impl Fn(&MappingRef) -> Result<M, String>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        let mut shops = BTreeMap::new();
        for (name, config) in &file.shops {
            let connector = ShopConnector::new(name.clone(), config, secrets, &mapping, clock.clone())
                .map_err(|e| format!("shops.{name}: {e}"))?;
            shops.insert(name.clone(), connector);
        }
        Ok(Self { shops })
    }
}

impl<M: MappingSource> ShopActions for BuiltShops<M> {
    fn shop(&self, source: &str) -> Option<&ShopConfig> {
        self.shops.get(source).map(|connector| &connector.config)
    }

    async fn act(&self, request: &ActionRequest<'_>) -> Result<ActionDone, ShopError> {
        match self.shops.get(&request.shop.source) {
            Some(connector) => connector.act(request).await,
            None => Err(ShopError::local(
                Retry::Permanent,
                "config",
                format!("no shop named {} is configured", request.shop.source),
            )),
        }
    }
}
