//! Typed configuration, read once from the environment when a function starts.
//!
//! The SAM template sets these variables; a missing or malformed one fails the cold start with
//! a message naming the variable, rather than a confusing error on the first event.

use std::env;
use std::str::FromStr;

use crate::ubl::Limits;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Reads variables from a lookup function, so tests need not touch the process environment.
pub struct EnvReader<F: Fn(&str) -> Option<String>> {
    lookup: F,
}

impl EnvReader<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Self { lookup: |k| env::var(k).ok().filter(|v| !v.is_empty()) }
    }
}

impl<F: Fn(&str) -> Option<String>> EnvReader<F> {
    pub fn from_fn(lookup: F) -> Self {
        Self { lookup }
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        (self.lookup)(name).ok_or(ConfigError::Missing(name))
    }

    /// The variable's value, if set and not empty.
    pub fn optional(&self, name: &'static str) -> Option<String> {
        (self.lookup)(name)
    }

    pub fn or(&self, name: &'static str, default: &str) -> String {
        (self.lookup)(name).unwrap_or_else(|| default.to_owned())
    }

    /// A secret reference (`ssm:…`, `secretsmanager:…`). The error never quotes the value,
    /// which could be a secret pasted by mistake.
    pub fn secret_ref(&self, name: &'static str) -> Result<crate::secrets::SecretRef, ConfigError> {
        self.required(name)?
            .parse()
            .map_err(|e: crate::secrets::NotASecretRef| ConfigError::Invalid { name, reason: e.to_string() })
    }

    /// A positive number of milliseconds.
    pub fn millis_or(&self, name: &'static str, default: u64) -> Result<std::time::Duration, ConfigError> {
        match self.parsed_or(name, default)? {
            0 => Err(ConfigError::Invalid { name, reason: "must be above zero".into() }),
            ms => Ok(std::time::Duration::from_millis(ms)),
        }
    }

    pub fn parsed_or<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match (self.lookup)(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid { name, reason: format!("{v:?}: {e}") }),
        }
    }
}

/// What the xml-order-converter needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConverterConfig {
    pub bucket: String,
    pub orders_queue_url: String,
    pub incoming_prefix: String,
    pub rejected_prefix: String,
    pub limits: Limits,
}

impl ConverterConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        let defaults = Limits::default();
        Ok(Self {
            bucket: env.required("ORDERS_BUCKET")?,
            orders_queue_url: env.required("ORDERS_QUEUE_URL")?,
            incoming_prefix: env.or("INCOMING_PREFIX", "incoming/"),
            rejected_prefix: env.or("REJECTED_PREFIX", "rejected/"),
            limits: Limits {
                max_bytes: env.parsed_or("MAX_DOCUMENT_BYTES", defaults.max_bytes)?,
                max_depth: env.parsed_or("MAX_XML_DEPTH", defaults.max_depth)?,
            },
        })
    }
}

/// What the queue-reader needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueReaderConfig {
    /// The stage's base URL, e.g. `https://abc.execute-api.us-west-2.amazonaws.com/prod`.
    pub orders_api_url: String,
    /// Where the API key lives; the key itself never passes through the environment.
    pub api_key_ref: crate::secrets::SecretRef,
    /// Where commands the API refuses for good are parked at once.
    pub pending_queue_url: String,
    /// Holds claim-checked message bodies.
    pub bucket: String,
    pub api_timeout: std::time::Duration,
}

impl QueueReaderConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            orders_api_url: env.required("ORDERS_API_URL")?,
            api_key_ref: env.secret_ref("ORDERS_API_KEY_REF")?,
            pending_queue_url: env.required("PENDING_QUEUE_URL")?,
            bucket: env.required("ORDERS_BUCKET")?,
            api_timeout: env.millis_or("API_TIMEOUT_MS", 5000)?,
        })
    }
}

/// What the state router needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterConfig {
    pub table: String,
    pub orders_queue_url: String,
    pub dte_base_url: String,
    /// The DTE provider's bearer token; the value itself never passes through the environment.
    pub dte_token_ref: crate::secrets::SecretRef,
    pub dte_timeout: std::time::Duration,
}

impl RouterConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            table: env.required("ORDERS_TABLE")?,
            orders_queue_url: env.required("ORDERS_QUEUE_URL")?,
            dte_base_url: env.required("DTE_BASE_URL")?,
            dte_token_ref: env.secret_ref("DTE_TOKEN_REF")?,
            dte_timeout: env.millis_or("DTE_TIMEOUT_MS", 5000)?,
        })
    }
}

/// What the email notifier needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    pub table: String,
    /// The verified SES identity the email comes from.
    pub sender: String,
    pub configuration_set: String,
    /// How long a claimed send may stay unfinished before another invocation takes it over;
    /// must exceed the function timeout, so a live send is never taken over.
    pub claim_timeout: std::time::Duration,
}

impl EmailConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        let name = "EMAIL_CLAIM_TIMEOUT_SECONDS";
        let claim_timeout = match env.parsed_or(name, 300u64)? {
            0 => return Err(ConfigError::Invalid { name, reason: "must be above zero".into() }),
            s => std::time::Duration::from_secs(s),
        };
        Ok(Self {
            table: env.required("ORDERS_TABLE")?,
            sender: env.required("EMAIL_SENDER")?,
            configuration_set: env.required("EMAIL_CONFIGURATION_SET")?,
            claim_timeout,
        })
    }
}

/// What the webhook receiver (`webhook-bridge`) needs.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Where the connections (`POST /webhooks/{connection}`) are read.
    pub apps: AppsConfig,
    pub erp_sync_queue_url: String,
    pub orders_queue_url: String,
    /// The replay-guard table: hash key `pk`, TTL attribute `expires_at`.
    pub dedup_table: String,
    /// How long a processed delivery id is answered as a duplicate.
    pub dedup_retention: std::time::Duration,
}

impl WebhookConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        let name = "DEDUP_RETENTION_HOURS";
        let dedup_retention = match env.parsed_or(name, 72u64)? {
            0 => return Err(ConfigError::Invalid { name, reason: "must be above zero".into() }),
            h => std::time::Duration::from_secs(h * 3600),
        };
        Ok(Self {
            apps: AppsConfig::read(env)?,
            erp_sync_queue_url: env.required("ERP_SYNC_QUEUE_URL")?,
            orders_queue_url: env.required("ORDERS_QUEUE_URL")?,
            dedup_table: env.required("DEDUP_TABLE")?,
            dedup_retention,
        })
    }
}

/// Where the functions read the integration apps and connections (see `crate::apps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppsConfig {
    /// The apps table (`APPS_TABLE`): hash key `pk`.
    pub table: String,
    /// How long one read of it is used (`APPS_CACHE_SECONDS`, default 30).
    pub ttl_ms: u64,
}

impl AppsConfig {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        let default = crate::apps::live::DEFAULT_TTL_MS / 1000;
        Ok(Self { table: env.required("APPS_TABLE")?, ttl_ms: env.parsed_or("APPS_CACHE_SECONDS", default)? * 1000 })
    }
}

/// What the order poller needs.
#[derive(Debug)]
pub struct PollerConfig {
    /// Where the connections (the sources the schedules name) are read.
    pub apps: AppsConfig,
    pub erp_sync_queue_url: String,
    pub orders_queue_url: String,
    /// The cursor table: hash key `pk` (the source name).
    pub cursor_table: String,
}

impl PollerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            apps: AppsConfig::read(env)?,
            erp_sync_queue_url: env.required("ERP_SYNC_QUEUE_URL")?,
            orders_queue_url: env.required("ORDERS_QUEUE_URL")?,
            cursor_table: env.required("POLL_CURSOR_TABLE")?,
        })
    }
}

/// What the erp-sync worker needs.
#[derive(Debug, Clone)]
pub struct ErpWorkerConfig {
    /// Where permanently refused orders go, with the ERP's answer attached.
    pub erp_dlq_url: String,
    /// Where the connections are read.
    pub apps: AppsConfig,
    /// The connection whose ERP action the orders go to (`ERP_CONNECTION`).
    pub connection: String,
}

impl ErpWorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            erp_dlq_url: env.required("ERP_DLQ_URL")?,
            apps: AppsConfig::read(env)?,
            connection: env.required("ERP_CONNECTION")?,
        })
    }
}

/// What shop-sync needs: the orders table (its records carry the claims), the shop-sync queue
/// (the stream's transitions, and redriven refusals), its DLQ, and the shops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopSyncConfig {
    pub table: String,
    pub queue_url: String,
    pub dlq_url: String,
    /// Where the connections (the shops orders' origins name) are read.
    pub apps: AppsConfig,
    /// How long a claimed shop action may stay unfinished before another invocation takes it
    /// over; must exceed the function timeout, so a live action is never taken over.
    pub claim_timeout: std::time::Duration,
}

impl ShopSyncConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        let name = "SHOP_CLAIM_TIMEOUT_SECONDS";
        let claim_timeout = match env.parsed_or(name, 300u64)? {
            0 => return Err(ConfigError::Invalid { name, reason: "must be above zero".into() }),
            s => std::time::Duration::from_secs(s),
        };
        Ok(Self {
            table: env.required("ORDERS_TABLE")?,
            queue_url: env.required("SHOP_SYNC_QUEUE_URL")?,
            dlq_url: env.required("SHOP_SYNC_DLQ_URL")?,
            apps: AppsConfig::read(env)?,
            claim_timeout,
        })
    }
}

/// A reader of these variables alone, for tests of what reads the environment.
#[cfg(test)]
pub(crate) fn reader_of(pairs: &[(&str, &str)]) -> EnvReader<impl Fn(&str) -> Option<String>> {
    let map: std::collections::HashMap<String, String> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    EnvReader::from_fn(move |k| map.get(k).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converter_config_names_the_missing_variable() {
        let err = ConverterConfig::read(&reader_of(&[("ORDERS_BUCKET", "b")])).unwrap_err();
        assert_eq!(err.to_string(), "environment variable ORDERS_QUEUE_URL is not set");
    }

    #[test]
    fn converter_config_rejects_a_non_numeric_limit() {
        let env = reader_of(&[("ORDERS_BUCKET", "b"), ("ORDERS_QUEUE_URL", "q"), ("MAX_DOCUMENT_BYTES", "lots")]);
        let err = ConverterConfig::read(&env).unwrap_err();
        assert!(err.to_string().contains("MAX_DOCUMENT_BYTES"), "{err}");
    }

    #[test]
    fn converter_config_applies_defaults() {
        let cfg = ConverterConfig::read(&reader_of(&[("ORDERS_BUCKET", "b"), ("ORDERS_QUEUE_URL", "q")])).unwrap();
        assert_eq!(cfg.incoming_prefix, "incoming/");
        assert_eq!(cfg.rejected_prefix, "rejected/");
        assert_eq!(cfg.limits, Limits::default());
    }

    fn queue_reader_env<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut pairs = vec![
            ("ORDERS_API_URL", "https://api.example.com/prod"),
            ("ORDERS_API_KEY_REF", "ssm:/orderflow/prod/api-key"),
            ("PENDING_QUEUE_URL", "https://sqs.example.com/1/orders-pending.fifo"),
            ("ORDERS_BUCKET", "orders"),
        ];
        pairs.extend_from_slice(extra);
        pairs
    }

    #[test]
    fn queue_reader_config_reads_the_key_reference_and_defaults_the_timeout() {
        let cfg = QueueReaderConfig::read(&reader_of(&queue_reader_env(&[]))).unwrap();
        assert_eq!(cfg.api_key_ref, crate::secrets::SecretRef::Ssm("/orderflow/prod/api-key".into()));
        assert_eq!(cfg.api_timeout, std::time::Duration::from_millis(5000));
    }

    #[test]
    fn queue_reader_config_refuses_a_raw_key_without_echoing_it() {
        let pairs = queue_reader_env(&[("ORDERS_API_KEY_REF", "s3cr3t-key-value")]);
        let err = QueueReaderConfig::read(&reader_of(&pairs)).unwrap_err().to_string();
        assert!(err.contains("ORDERS_API_KEY_REF") && !err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn queue_reader_config_refuses_a_zero_timeout() {
        let err = QueueReaderConfig::read(&reader_of(&queue_reader_env(&[("API_TIMEOUT_MS", "0")]))).unwrap_err();
        assert!(err.to_string().contains("API_TIMEOUT_MS"), "{err}");
    }
}

/// What catalog-sync needs: the staging and request log tables, where its configuration is
/// read at each run (`CATALOG_CONFIG_REF`, an `ssm:` reference to the shape of
/// `config/catalog.json`, which names an ERP connection and a shop connection), and where the
/// connections are read.
#[derive(Debug, Clone)]
pub struct CatalogSyncConfig {
    pub staging_table: String,
    pub audit_table: String,
    pub catalog_ref: crate::secrets::SecretRef,
    pub apps: AppsConfig,
}

impl CatalogSyncConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        let name = "CATALOG_CONFIG_REF";
        let catalog_ref = env
            .required(name)?
            .parse()
            .map_err(|_| ConfigError::Invalid { name, reason: "not an ssm: or secretsmanager: reference".into() })?;
        Ok(Self {
            staging_table: env.required("STAGING_TABLE")?,
            audit_table: env.required("CATALOG_AUDIT_TABLE")?,
            catalog_ref,
            apps: AppsConfig::read(env)?,
        })
    }
}
