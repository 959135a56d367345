//! What the error handler and the broadcast retry read from the environment, once per cold start.

use orderflow_shared::config::{ConfigError, EnvReader};
use orderflow_shared::email::EmailAddress;

use crate::backoff::Backoff;

/// Where the operator alert goes, and how SES sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertConfig {
    pub to: EmailAddress,
    /// A verified SES identity.
    pub from: String,
    pub configuration_set: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorHandlerConfig {
    pub table: String,
    pub orders_queue_url: String,
    pub backoff: Backoff,
    pub alert: AlertConfig,
}

impl ErrorHandlerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&EnvReader::process())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &EnvReader<F>) -> Result<Self, ConfigError> {
        let ops = env.required("OPS_ALERT_EMAIL")?;
        let to = EmailAddress::parse(&ops)
            .map_err(|e| ConfigError::Invalid { name: "OPS_ALERT_EMAIL", reason: e.to_string() })?;
        let max_attempts = env.parsed_or("BROADCAST_MAX_ATTEMPTS", 5u32)?;
        if max_attempts == 0 {
            return Err(ConfigError::Invalid { name: "BROADCAST_MAX_ATTEMPTS", reason: "must be above zero".into() });
        }
        Ok(Self {
            table: env.required("ORDERS_TABLE")?,
            orders_queue_url: env.required("ORDERS_QUEUE_URL")?,
            backoff: Backoff {
                base_seconds: env.parsed_or("BACKOFF_BASE_SECONDS", 30)?,
                cap_seconds: env.parsed_or("BACKOFF_CAP_SECONDS", 900)?,
                max_attempts,
            },
            alert: AlertConfig {
                to,
                from: env.required("ALERT_SENDER")?,
                configuration_set: env.required("EMAIL_CONFIGURATION_SET")?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> EnvReader<impl Fn(&str) -> Option<String>> {
        EnvReader::from_fn(move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()))
    }

    const BASE: &[(&str, &str)] = &[
        ("ORDERS_TABLE", "t"),
        ("ORDERS_QUEUE_URL", "q"),
        ("OPS_ALERT_EMAIL", "ops@example.com"),
        ("ALERT_SENDER", "orders@example.com"),
        ("EMAIL_CONFIGURATION_SET", "cs"),
    ];

    #[test]
    fn defaults_apply_and_a_bad_address_is_named() {
        let config = ErrorHandlerConfig::read(&env(BASE)).unwrap();
        assert_eq!(config.backoff, Backoff { base_seconds: 30, cap_seconds: 900, max_attempts: 5 });
        let bad = ErrorHandlerConfig::read(&env(&[("ORDERS_TABLE", "t"), ("OPS_ALERT_EMAIL", "nope")])).unwrap_err();
        assert!(bad.to_string().contains("OPS_ALERT_EMAIL"), "{bad}");
    }
}
