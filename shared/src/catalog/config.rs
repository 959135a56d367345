//! The catalogue configuration: which ERP connector and which shop, which fields hold what
//! (for a custom ERP profile, or to override a shipped one), and what the push may do. It is
//! read at the start of every run (a file locally, an SSM parameter on AWS), so a mapping
//! change takes effect on the next run without a redeploy.

use serde::Deserialize;

use super::push::Options;
use super::run::Settings;
use super::source::ItemFields;
use crate::erp::ProfileConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// The connector's name in the ERP connectors file.
    pub erp: String,
    /// The shop's name in the shops file.
    pub shop: String,
    /// Overrides the profile's item path, paging and mapping; required for a custom profile.
    #[serde(default)]
    pub fields: Option<ItemFields>,
    #[serde(flatten)]
    pub options: Options,
    /// Days the request and answer log keeps each exchange.
    #[serde(default = "default_retention")]
    pub audit_retention_days: u64,
}

fn default_retention() -> u64 {
    30
}

impl CatalogConfig {
    pub fn from_json(text: &str) -> Result<Self, String> {
        let config: Self = serde_json::from_str(text).map_err(|e| format!("catalogue configuration: {e}"))?;
        if config.audit_retention_days == 0 {
            return Err("catalogue configuration: audit_retention_days must be at least 1".into());
        }
        Ok(config)
    }

    /// The settings of a run against an ERP of `profile`.
    pub fn settings(&self, profile: &ProfileConfig) -> Result<Settings, String> {
        let fields = self.fields.clone().or_else(|| ItemFields::for_profile(profile)).ok_or_else(|| {
            format!(
                "catalogue configuration: the ERP `{}` has a custom profile, so `fields` must give its item path, mapping and next link",
                self.erp
            )
        })?;
        Ok(Settings {
            fields,
            options: self.options.clone(),
            retention_days: self.audit_retention_days,
            stop_at_ms: None,
        })
    }
}
