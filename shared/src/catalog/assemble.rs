//! Building a run's connectors from the configuration files and secret values, the same way
//! for the Lambda function (secrets read from SSM / Secrets Manager at each invocation, so a
//! rotated credential or an edited catalogue configuration needs no redeploy) and for the CLI
//! (local secrets).

use std::collections::HashMap;
use std::sync::Arc;

use super::SyncError;
use super::config::CatalogConfig;
use super::run::Settings;
use super::source::ErpItems;
use crate::apps::Runtime;
use crate::erp::{ConnectorConfig, SecretValues};
use crate::error::PortError;
use crate::mapping::{MappingRef, MappingSource};
use crate::ports::Clock;
use crate::secrets::{Secret, SecretRef, SecretStore};
use crate::shop::{ShopConfig, ShopConnector};

/// Catalogue sync sends no generic shop actions, so it opens no mapping: a shop whose `on`
/// names a generic action still builds, and that action is never used here.
#[derive(Debug, Clone, Copy)]
pub struct NoMapping;

impl MappingSource for NoMapping {
    fn describe(&self) -> String {
        "no mapping (catalogue sync)".into()
    }

    async fn fetch(&self) -> Result<String, PortError> {
        Err(PortError::permanent("mapping", "catalogue sync reads no action mapping"))
    }
}

/// The ERP and the shop a catalogue configuration names, among the connections as they run; a
/// connection that does not run (deprecated, incomplete) is refused with its reason.
pub fn named<'a>(
    config: &CatalogConfig,
    runtime: &'a Runtime,
) -> Result<(&'a ConnectorConfig, &'a ShopConfig), SyncError> {
    let missing = |kind: &str, name: &str| SyncError::Config(runtime.missing(kind, name));
    let erp = runtime.connectors.connectors.get(&config.erp).ok_or_else(|| missing("ERP connector", &config.erp))?;
    let shop = runtime.shops.shops.get(&config.shop).ok_or_else(|| missing("shop", &config.shop))?;
    Ok((erp, shop))
}

/// The secret references both connectors need.
pub fn secret_refs(erp: &ConnectorConfig, shop: &ShopConfig) -> Vec<String> {
    erp.secret_refs().into_iter().chain(shop.secret_refs()).map(str::to_owned).collect()
}

/// Reads every reference through `store`.
pub async fn fetch_secrets(store: &impl SecretStore, refs: &[String]) -> Result<HashMap<String, Secret>, SyncError> {
    let parsed = refs
        .iter()
        .map(|reference| {
            let parsed: SecretRef =
                reference.parse().map_err(|_| SyncError::Config(format!("`{reference}` is not a secret reference")))?;
            Ok((reference.clone(), parsed))
        })
        .collect::<Result<Vec<_>, SyncError>>()?;
    crate::secrets::read_all(store, &parsed).await.map_err(|e| SyncError::Staging(e.source))
}

/// The connectors and settings of one run.
pub struct Built {
    pub erp: ErpItems,
    pub shop: ShopConnector<NoMapping>,
    pub settings: Settings,
}

pub fn build(
    config: &CatalogConfig,
    runtime: &Runtime,
    secrets: &impl SecretValues,
    clock: Arc<dyn Clock>,
) -> Result<Built, SyncError> {
    let (erp_config, shop_config) = named(config, runtime)?;
    let settings = config.settings(&erp_config.profile).map_err(SyncError::Config)?;
    let erp = ErpItems::new(erp_config, secrets, clock.clone())?;
    let no_mapping = |_: &MappingRef| Ok(NoMapping);
    let shop = ShopConnector::new(config.shop.clone(), shop_config, secrets, no_mapping, clock)?;
    Ok(Built { erp, shop, settings })
}
