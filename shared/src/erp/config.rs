//! Connector configuration, as a connection's ERP action renders it (see `crate::apps`): a profile, a base URL,
//! an auth mechanism and a mapping reference. Secrets appear only as references (e.g.
//! `ssm:/orderflow/dev/erp/bc-client-secret`); the caller resolves them and hands the values
//! over through [`SecretValues`].

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use serde::Deserialize;

use super::profile::ProfileSpec;
use crate::mapping::MappingRef;
use crate::secrets::Secret;

/// The connectors of one deployment, by name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorsFile {
    pub connectors: BTreeMap<String, ConnectorConfig>,
}

impl ConnectorsFile {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    pub profile: ProfileConfig,
    /// The API root the profile's paths hang off, e.g.
    /// `https://api.businesscentral.dynamics.com/v2.0/<tenant>/Production/api/v2.0/companies(<id>)`.
    pub base_url: String,
    pub auth: AuthConfig,
    pub mapping_ref: MappingRef,
    /// Per HTTP request; keep the function's timeout above a few of these.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How long a loaded mapping is used before its source is read again.
    #[serde(default = "default_mapping_ttl_secs")]
    pub mapping_ttl_secs: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn default_mapping_ttl_secs() -> u64 {
    300
}

impl ConnectorConfig {
    /// The secret references this connector needs values for.
    pub fn secret_refs(&self) -> Vec<&str> {
        self.auth.secret_refs()
    }
}

impl AuthConfig {
    /// The secret references this mechanism needs values for.
    pub fn secret_refs(&self) -> Vec<&str> {
        match self {
            AuthConfig::Basic { password_ref, .. }
            | AuthConfig::Digest { password_ref, .. }
            | AuthConfig::SessionLogin { password_ref, .. } => vec![password_ref],
            AuthConfig::ApiKey { key_ref, .. } => vec![key_ref],
            AuthConfig::OAuth2ClientCredentials { client_secret_ref, .. } => vec![client_secret_ref],
        }
    }
}

/// Which ERP dialect: a shipped profile by name, or one spelled out for another ERP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileConfig {
    BusinessCentral,
    SapB1,
    Custom(Box<ProfileSpec>),
}

impl ProfileConfig {
    pub fn spec(&self) -> ProfileSpec {
        match self {
            Self::BusinessCentral => super::business_central::profile(),
            Self::SapB1 => super::sap_b1::profile(),
            Self::Custom(spec) => (**spec).clone(),
        }
    }
}

/// How a connector proves who it is. Any mechanism works with any profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    Basic {
        username: String,
        password_ref: String,
    },
    /// A key sent as a header or a query parameter named `name`.
    ApiKey {
        #[serde(rename = "in")]
        location: KeyLocation,
        name: String,
        key_ref: String,
    },
    /// A bearer token from `token_url`, cached until shortly before it expires.
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret_ref: String,
        #[serde(default)]
        scope: Option<String>,
    },
    /// A JSON login that answers with session cookies, sent back until the ERP answers 401.
    /// The defaults are SAP Business One's Service Layer.
    SessionLogin {
        login_url: String,
        username: String,
        password_ref: String,
        /// Other fields of the login body, e.g. `{"CompanyDB": "SBODEMOUS"}`.
        #[serde(default)]
        fields: serde_json::Map<String, serde_json::Value>,
        #[serde(default = "default_username_field")]
        username_field: String,
        #[serde(default = "default_password_field")]
        password_field: String,
        /// Cookies to keep from the login answer; the first one must be present.
        #[serde(default = "default_cookies")]
        cookies: Vec<String>,
    },
    /// HTTP Digest (RFC 7616), answered on the server's 401 challenge.
    Digest {
        username: String,
        password_ref: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyLocation {
    Header,
    Query,
}

fn default_username_field() -> String {
    "UserName".into()
}

fn default_password_field() -> String {
    "Password".into()
}

fn default_cookies() -> Vec<String> {
    vec!["B1SESSION".into(), "ROUTEID".into()]
}

/// Resolved secret values, looked up by the reference written in the config.
pub trait SecretValues {
    fn secret(&self, reference: &str) -> Option<Secret>;
}

impl<H: BuildHasher> SecretValues for HashMap<String, Secret, H> {
    fn secret(&self, reference: &str) -> Option<Secret> {
        self.get(reference).cloned()
    }
}

/// A connector that cannot be built from its configuration. No message holds a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{field}: `{value}` is not an http(s) URL")]
    BadUrl { field: &'static str, value: String },
    #[error("no value was given for secret {0}")]
    MissingSecret(String),
    #[error("api key name `{0}` is not a valid HTTP header name")]
    BadHeaderName(String),
    #[error("the value of secret {0} cannot be sent in an HTTP header")]
    BadHeaderValue(String),
    #[error("building the HTTP client: {0}")]
    Client(String),
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: &'static str },
    #[error("mapping: {0}")]
    Mapping(String),
}

pub(crate) fn secret(secrets: &impl SecretValues, reference: &str) -> Result<Secret, ConfigError> {
    secrets.secret(reference).ok_or_else(|| ConfigError::MissingSecret(reference.to_owned()))
}

pub(crate) fn http_url(field: &'static str, value: &str) -> Result<reqwest::Url, ConfigError> {
    reqwest::Url::parse(value)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ConfigError::BadUrl { field, value: value.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The session login reads its first cookie name on every login: a list without one is
    /// refused when the connector is built, naming the field, instead of a panic mid-request.
    #[test]
    fn a_session_login_without_a_cookie_name_is_refused_at_load() {
        use std::sync::Arc;

        use crate::ports::SystemClock;
        use crate::secrets::Secret;

        let secrets: HashMap<String, Secret> = [("local:pw".to_owned(), Secret::new("pw".to_owned()))].into();
        for cookies in [r#"[]"#, r#"[""]"#] {
            let text = format!(
                r#"{{"type": "session_login", "login_url": "https://erp.example/Login", "username": "u",
                    "password_ref": "local:pw", "cookies": {cookies}}}"#
            );
            let config: AuthConfig = serde_json::from_str(&text).unwrap();
            let err = crate::erp::auth::Authenticator::new(&config, &secrets, Arc::new(SystemClock)).err();
            let err = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(err.starts_with("auth.cookies: "), "{cookies}: {err:?}");
        }
    }

    #[test]
    fn unknown_auth_fields_are_refused() {
        let text = r#"{"type": "basic", "username": "u", "password": "plain"}"#;
        let err = serde_json::from_str::<AuthConfig>(text).unwrap_err().to_string();
        assert!(err.contains("unknown field `password`"), "{err}");
    }
}
