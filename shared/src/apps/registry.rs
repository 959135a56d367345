//! Everything the apps store holds: each version of each app (its definition, deprecation
//! date and environment values), each app's default version, and the connections.
//!
//! The store keeps one record per version, per app and per connection, each with the revision
//! it was read at, so a save is conditional and two operators cannot overwrite each other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use super::definition::{AppDefinition, Need};
use super::version::Version;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    pub versions: BTreeMap<(String, Version), VersionRecord>,
    pub apps: BTreeMap<String, AppRecord>,
    pub connections: BTreeMap<String, Connection>,
}

/// One version of one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionRecord {
    pub definition: AppDefinition,
    /// From this day on (UTC), runs on this version fail.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "iso_date")]
    pub deprecated_on: Option<Date>,
    /// Environment values set for this version (secret ones are references).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The revision read; a save stores `revision + 1` if the store still holds `revision`.
    #[serde(default)]
    pub revision: u64,
}

/// One app: its default version for new connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRecord {
    pub key: String,
    pub default_version: Version,
    #[serde(default)]
    pub revision: u64,
}

/// One client's use of one app, pinned to one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// The name it runs under: the webhook path segment, the poll source, the shop, the ERP connector.
    pub id: String,
    pub app: String,
    /// Absent in a new connection: the app's default version is pinned when it is saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Production connections guard their version's environment values (`env set --force`).
    #[serde(default = "yes")]
    pub production: bool,
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
    /// Secret references by auth field, never values.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Set by a migration, so `--revert` moves back exactly what it moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<Version>,
    #[serde(default)]
    pub revision: u64,
}

fn yes() -> bool {
    true
}

/// A change to save, each conditional on its revision.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Version(Box<VersionRecord>),
    App(AppRecord),
    Connection(Connection),
}

/// Why a connection cannot run, or why an operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("no connection named {0}")]
    UnknownConnection(String),
    #[error("{0} is not a known app version")]
    UnknownVersion(String),
    #[error("connection {connection} runs {app}, deprecated since {since}: migrate it (orderflow apps migrate)")]
    Deprecated { connection: String, app: String, since: Date },
    #[error("connection {connection} ({app}): {reason}")]
    Invalid { connection: String, app: String, reason: String },
    #[error("{0}")]
    Refused(String),
}

impl Registry {
    pub fn version(&self, key: &str, version: Version) -> Result<&VersionRecord, AppError> {
        self.versions
            .get(&(key.to_owned(), version))
            .ok_or_else(|| AppError::UnknownVersion(format!("{key}@{version}")))
    }

    /// The versions of `key`, oldest first.
    pub fn versions_of<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a VersionRecord> + 'a {
        self.versions.iter().filter(move |((k, _), _)| k == key).map(|(_, v)| v)
    }

    pub fn connections_on<'a>(&'a self, key: &'a str, version: Version) -> impl Iterator<Item = &'a Connection> + 'a {
        self.connections.values().filter(move |c| c.app == key && c.version == Some(version))
    }

    /// The version record a connection runs on, refused from its deprecation day on.
    pub fn pinned(&self, connection: &Connection, today: Date) -> Result<&VersionRecord, AppError> {
        let version = connection.version.ok_or_else(|| AppError::Invalid {
            connection: connection.id.clone(),
            app: connection.app.clone(),
            reason: "no version pinned".into(),
        })?;
        let record = self.version(&connection.app, version)?;
        match record.deprecated_on {
            Some(since) if since <= today => {
                Err(AppError::Deprecated { connection: connection.id.clone(), app: record.definition.label(), since })
            }
            _ => Ok(record),
        }
    }

    /// Whether `connection` supplies everything `definition` needs, and its values fit.
    pub fn fits(connection: &Connection, definition: &AppDefinition) -> Result<(), String> {
        for need in definition.needs() {
            match need {
                Need::Property(name) if !connection.properties.contains_key(name) => {
                    return Err(format!("{} needs property {name}, which the connection lacks", definition.label()));
                }
                Need::AuthField(name)
                    if definition.auth_field(name).is_some_and(|f| f.secret)
                        && !connection.secrets.contains_key(name) =>
                {
                    return Err(format!("{} needs secret {name}, which the connection lacks", definition.label()));
                }
                _ => {}
            }
        }
        // A property this version does not declare is one for another version (set before a
        // migration to a version that needs it) and is not read here; `connect` refuses a name
        // no version of the app declares.
        for (name, value) in &connection.properties {
            if let Some(property) = definition.property(name) {
                property.accepts(value)?;
            }
        }
        for (name, reference) in &connection.secrets {
            if !definition.auth_field(name).is_some_and(|f| f.secret) {
                return Err(format!("{} has no secret auth field {name}", definition.label()));
            }
            if !is_reference(reference) {
                // The value is left out: it may be the secret itself, pasted by mistake.
                return Err(format!("secret {name} must be a reference (ssm:, secretsmanager:, local:), not a value"));
            }
        }
        Ok(())
    }
}

/// `ssm:…`, `secretsmanager:…`, an ARN, or `local:<name>` for embedded runs.
pub fn is_reference(text: &str) -> bool {
    ["ssm:", "secretsmanager:", "arn:aws:ssm:", "arn:aws:secretsmanager:", "local:"]
        .iter()
        .any(|prefix| text.len() > prefix.len() && text.starts_with(prefix))
}

/// `YYYY-MM-DD` dates in the stored records.
pub mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;
    use time::macros::format_description;

    pub fn parse(text: &str) -> Result<Date, String> {
        Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map_err(|_| format!("`{text}` is not a date: expected YYYY-MM-DD"))
    }

    pub fn format(date: Date) -> String {
        date.format(format_description!("[year]-[month]-[day]")).unwrap_or_default()
    }

    pub fn serialize<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => serializer.serialize_str(&format(*date)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| parse(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// The registry as one JSON document (the embedded store's file, `orderflow apps export`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    pub apps: Vec<AppRecord>,
    pub versions: Vec<VersionRecord>,
    pub connections: Vec<Connection>,
}

impl From<&Registry> for RegistryFile {
    fn from(registry: &Registry) -> Self {
        Self {
            apps: registry.apps.values().cloned().collect(),
            versions: registry.versions.values().cloned().collect(),
            connections: registry.connections.values().cloned().collect(),
        }
    }
}

impl From<RegistryFile> for Registry {
    fn from(file: RegistryFile) -> Self {
        Self {
            apps: file.apps.into_iter().map(|a| (a.key.clone(), a)).collect(),
            versions: file
                .versions
                .into_iter()
                .map(|v| ((v.definition.key.clone(), v.definition.version), v))
                .collect(),
            connections: file.connections.into_iter().map(|c| (c.id.clone(), c)).collect(),
        }
    }
}

impl Registry {
    /// The revision stored under `record`'s key (0: nothing stored).
    pub fn stored_revision(&self, record: &Record) -> u64 {
        match record {
            Record::Version(v) => {
                self.versions.get(&(v.definition.key.clone(), v.definition.version)).map_or(0, |v| v.revision)
            }
            Record::App(a) => self.apps.get(&a.key).map_or(0, |a| a.revision),
            Record::Connection(c) => self.connections.get(&c.id).map_or(0, |c| c.revision),
        }
    }
}

/// Where a version stands, as `orderflow apps list` and the portal show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    /// New connections get it.
    Default,
    Active,
    /// Runs until the date, then fails.
    Deprecated {
        on: Date,
    },
    /// Past its date: its connections' runs fail.
    Retired {
        since: Date,
    },
}

impl std::fmt::Display for VersionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Active => f.write_str("active"),
            Self::Deprecated { on } => write!(f, "deprecated on {}", iso_date::format(*on)),
            Self::Retired { since } => write!(f, "retired since {}", iso_date::format(*since)),
        }
    }
}

impl Registry {
    pub fn state_of(&self, record: &VersionRecord, today: Date) -> VersionState {
        let key = &record.definition.key;
        match record.deprecated_on {
            Some(since) if since <= today => VersionState::Retired { since },
            Some(on) => VersionState::Deprecated { on },
            None if self.apps.get(key).is_some_and(|a| a.default_version == record.definition.version) => {
                VersionState::Default
            }
            None => VersionState::Active,
        }
    }
}
