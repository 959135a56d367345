//! What operators do to apps: publish a version, add a connection, promote, migrate,
//! deprecate, set environment values. Each operation checks the registry as read and returns
//! the records to save; nothing changes until the store saves them (conditionally, see
//! [`Record`]).

use sha2::{Digest, Sha256};
use time::{Date, Duration};

use super::bind::check_renders;
use super::definition::AppDefinition;
use super::registry::{AppError, AppRecord, Connection, Record, Registry, VersionRecord, is_reference};
use super::version::Version;

/// A deprecation is announced at least this long ahead, as the integration platforms do.
pub const DEPRECATION_NOTICE_DAYS: i64 = 21;

/// Which of 100 buckets a connection falls in: the first 8 bytes of SHA-256 of its id, mod
/// 100. The same connections are below N% on every run, and those below N are below N+k.
pub fn bucket(connection_id: &str) -> u8 {
    let digest = Sha256::digest(connection_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 100) as u8
}

/// What a migration moved (or would move).
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub moved: Vec<String>,
    pub records: Vec<Record>,
}

impl Registry {
    /// A new version: checked (rules and rendering); a published version never changes.
    /// The first version of an app becomes its default.
    pub fn publish(&self, definition: AppDefinition) -> Result<Vec<Record>, AppError> {
        definition.check().map_err(|e| AppError::Refused(e.to_string()))?;
        check_renders(&definition).map_err(|e| AppError::Refused(e.to_string()))?;
        let key = definition.key.clone();
        let version = definition.version;
        if let Some(existing) = self.versions.get(&(key.clone(), version)) {
            if existing.definition == definition {
                return Ok(Vec::new());
            }
            return Err(AppError::Refused(format!(
                "{}: a published version never changes; publish it as a new version",
                definition.label()
            )));
        }
        let mut records = vec![Record::Version(Box::new(VersionRecord {
            definition,
            deprecated_on: None,
            env: Default::default(),
            revision: 0,
        }))];
        if !self.apps.contains_key(&key) {
            records.push(Record::App(AppRecord { key, default_version: version, revision: 0 }));
        }
        Ok(records)
    }

    /// A new or changed connection, pinned to the app's default version when it names none.
    pub fn connect(&self, mut connection: Connection, today: Date) -> Result<Record, AppError> {
        if !super::definition::valid_key(&connection.id) {
            return Err(AppError::Refused(format!(
                "connection id {:?}: 1-64 characters of a-z, 0-9 and -",
                connection.id
            )));
        }
        let app = self.apps.get(&connection.app).ok_or_else(|| AppError::UnknownVersion(connection.app.clone()))?;
        let stored = self.connections.get(&connection.id);
        // A changed connection that names no version stays on its own, not the default; on
        // the same version it stays revertible to where a migration brought it from.
        let pinned = stored.filter(|s| s.app == connection.app).and_then(|s| s.version);
        // A version changes only by a migration, which checks, counts and can revert the move:
        // re-applying a connections file written before a migration must not undo it silently.
        if let (Some(pinned), Some(asked)) = (pinned, connection.version)
            && pinned != asked
        {
            return Err(AppError::Refused(format!(
                "connection {} runs {}@{pinned}, not {asked}: move it with orderflow apps migrate, or leave its version out",
                connection.id, connection.app
            )));
        }
        let version = *connection.version.get_or_insert(pinned.unwrap_or(app.default_version));
        if let Some(stored) = stored
            && stored.version == Some(version)
            && connection.migrated_from.is_none()
        {
            connection.migrated_from = stored.migrated_from;
        }
        let record = self.version(&connection.app, version)?;
        if record.deprecated_on.is_some_and(|on| on <= today) {
            return Err(AppError::Refused(format!(
                "{} is deprecated: connect to a supported version",
                record.definition.label()
            )));
        }
        connection.revision = self.connections.get(&connection.id).map_or(0, |c| c.revision);
        if let Some(stored) = self.connections.get(&connection.id)
            && stored.app != connection.app
        {
            return Err(AppError::Refused(format!("connection {} belongs to app {}", connection.id, stored.app)));
        }
        if let Some(name) = connection
            .properties
            .keys()
            .find(|name| !self.versions_of(&connection.app).any(|v| v.definition.property(name).is_some()))
        {
            return Err(AppError::Refused(format!("no version of {} has a property {name}", connection.app)));
        }
        self.bind(&connection, today)?;
        Ok(Record::Connection(connection))
    }

    /// `version` becomes the default for new connections; no connection moves.
    pub fn promote(&self, key: &str, version: Version) -> Result<Record, AppError> {
        let record = self.version(key, version)?;
        if record.deprecated_on.is_some() {
            return Err(AppError::Refused(format!(
                "{} is deprecated and cannot become the default",
                record.definition.label()
            )));
        }
        let app = self.apps.get(key).ok_or_else(|| AppError::UnknownVersion(key.to_owned()))?;
        Ok(Record::App(AppRecord { default_version: version, ..app.clone() }))
    }

    /// Moves the connections on `from` whose [`bucket`] is below `percent` to `to`; with
    /// `revert`, moves back to `from` the connections on `to` that a migration brought from
    /// `from`. All or nothing: refused when `to` needs something one of them lacks.
    pub fn migrate(
        &self,
        key: &str,
        from: Version,
        to: Version,
        percent: u8,
        revert: bool,
        today: Date,
    ) -> Result<Migration, AppError> {
        if percent > 100 {
            return Err(AppError::Refused(format!("--percent {percent}: at most 100")));
        }
        if from == to {
            return Err(AppError::Refused(format!("{key}@{from}: FROM and TO are the same version")));
        }
        let (source, target) = if revert { (to, from) } else { (from, to) };
        self.version(key, source)?;
        let target_record = self.pinned_target(key, target, today)?;
        let chosen: Vec<&Connection> = self
            .connections_on(key, source)
            .filter(|c| bucket(&c.id) < percent)
            .filter(|c| !revert || c.migrated_from == Some(from))
            .collect();
        let mut lacking = Vec::new();
        let mut records = Vec::new();
        for connection in &chosen {
            if let Err(why) = Registry::fits(connection, &target_record.definition) {
                lacking.push(format!("{}: {why}", connection.id));
                continue;
            }
            let moved = Connection {
                version: Some(target),
                migrated_from: if revert { None } else { Some(source) },
                ..(*connection).clone()
            };
            records.push(Record::Connection(moved));
        }
        if !lacking.is_empty() {
            return Err(AppError::Refused(format!(
                "nothing moved: {} connection(s) lack what {key}@{target} needs: {}",
                lacking.len(),
                lacking.join("; ")
            )));
        }
        Ok(Migration { moved: chosen.iter().map(|c| c.id.clone()).collect(), records })
    }

    fn pinned_target(&self, key: &str, version: Version, today: Date) -> Result<&VersionRecord, AppError> {
        let record = self.version(key, version)?;
        match record.deprecated_on {
            Some(on) if on <= today => Err(AppError::Refused(format!("{} is deprecated", record.definition.label()))),
            _ => Ok(record),
        }
    }

    /// Runs on `version` fail from `on`; refused less than [`DEPRECATION_NOTICE_DAYS`] ahead,
    /// and for the default version (promote another first).
    pub fn deprecate(&self, key: &str, version: Version, on: Date, today: Date) -> Result<Record, AppError> {
        let record = self.version(key, version)?;
        let earliest = today + Duration::days(DEPRECATION_NOTICE_DAYS);
        if on < earliest {
            return Err(AppError::Refused(format!(
                "--on {on}: a deprecation is announced at least {DEPRECATION_NOTICE_DAYS} days ahead, so {earliest} at the earliest"
            )));
        }
        if self.apps.get(key).is_some_and(|a| a.default_version == version) {
            return Err(AppError::Refused(format!(
                "{key}@{version} is the default version: promote another one first"
            )));
        }
        Ok(Record::Version(Box::new(VersionRecord { deprecated_on: Some(on), ..record.clone() })))
    }

    /// Sets (`Some`) or unsets (`None`) an environment value of a version; refused without
    /// `force` when production connections run on it, and for names the version does not declare.
    pub fn set_env(
        &self,
        key: &str,
        version: Version,
        name: &str,
        value: Option<String>,
        force: bool,
    ) -> Result<Record, AppError> {
        let record = self.version(key, version)?;
        let declared = record
            .definition
            .env_value(name)
            .ok_or_else(|| AppError::Refused(format!("{key}@{version} declares no environment value {name}")))?;
        if let Some(value) = &value
            && declared.secret
            && !is_reference(value)
        {
            return Err(AppError::Refused(format!(
                "{name} is a secret: give a reference (ssm:, secretsmanager:), not the value"
            )));
        }
        let production: Vec<&str> =
            self.connections_on(key, version).filter(|c| c.production).map(|c| c.id.as_str()).collect();
        if !production.is_empty() && !force {
            return Err(AppError::Refused(format!(
                "{key}@{version} runs production connections ({}): repeat with --force to change its values",
                production.join(", ")
            )));
        }
        let mut changed = record.clone();
        match value {
            Some(value) => changed.env.insert(name.to_owned(), value),
            None => changed.env.remove(name),
        };
        Ok(Record::Version(Box::new(changed)))
    }

    /// The registry as it is after `records` were saved.
    pub fn apply(&mut self, records: &[Record]) {
        for record in records {
            match record.clone() {
                Record::Version(mut v) => {
                    v.revision += 1;
                    self.versions.insert((v.definition.key.clone(), v.definition.version), *v);
                }
                Record::App(mut a) => {
                    a.revision += 1;
                    self.apps.insert(a.key.clone(), a);
                }
                Record::Connection(mut c) => {
                    c.revision += 1;
                    self.connections.insert(c.id.clone(), c);
                }
            }
        }
    }
}

impl Record {
    /// The revision a save expects to find stored (0: nothing stored yet).
    pub fn revision(&self) -> u64 {
        match self {
            Record::Version(v) => v.revision,
            Record::App(a) => a.revision,
            Record::Connection(c) => c.revision,
        }
    }

    /// The store's key of the record.
    pub fn key(&self) -> String {
        match self {
            Record::Version(v) => format!("version#{}@{}", v.definition.key, v.definition.version),
            Record::App(a) => format!("app#{}", a.key),
            Record::Connection(c) => format!("connection#{}", c.id),
        }
    }
}
