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

    pub fn or(&self, name: &'static str, default: &str) -> String {
        (self.lookup)(name).unwrap_or_else(|| default.to_owned())
    }

    pub fn parsed_or<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match (self.lookup)(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e: T::Err| ConfigError::Invalid { name, reason: format!("{v:?}: {e}") }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn reader(pairs: &[(&str, &str)]) -> EnvReader<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        EnvReader::from_fn(move |k| map.get(k).cloned())
    }

    #[test]
    fn converter_config_names_the_missing_variable() {
        let err = ConverterConfig::read(&reader(&[("ORDERS_BUCKET", "b")])).unwrap_err();
        assert_eq!(err.to_string(), "environment variable ORDERS_QUEUE_URL is not set");
    }

    #[test]
    fn converter_config_rejects_a_non_numeric_limit() {
        let env = reader(&[("ORDERS_BUCKET", "b"), ("ORDERS_QUEUE_URL", "q"), ("MAX_DOCUMENT_BYTES", "lots")]);
        let err = ConverterConfig::read(&env).unwrap_err();
        assert!(err.to_string().contains("MAX_DOCUMENT_BYTES"), "{err}");
    }

    #[test]
    fn converter_config_applies_defaults() {
        let cfg = ConverterConfig::read(&reader(&[("ORDERS_BUCKET", "b"), ("ORDERS_QUEUE_URL", "q")])).unwrap();
        assert_eq!(cfg.incoming_prefix, "incoming/");
        assert_eq!(cfg.rejected_prefix, "rejected/");
        assert_eq!(cfg.limits, Limits::default());
    }
}
