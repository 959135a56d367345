//! `orderflow apps`: the integration apps (docs/APPS.md) as operators run them: list the
//! versions and the connections on each, show a definition or what a connection runs with,
//! validate and publish definitions, add connections, promote, migrate, deprecate, and set a
//! version's environment values.
//!
//! Against the DynamoDB apps table with `--aws` (`--table` or `APPS_TABLE`; moto through
//! `AWS_ENDPOINT_URL`), else against the file `orderflow serve` reads, `apps.json` in `--state`
//! (the same default folder as serve's), seeded on first use with the shipped definitions and
//! `connections.local.json` of the configuration folder ([`LocalConfig::apps_store`], which
//! `serve` reads too).
//!
//! Every change is checked against the store as read and saved conditionally: when someone
//! else saved in between, nothing is saved and the command says to repeat.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Subcommand;
use orderflow_shared::adapters::aws::{self, DynamoAppStore};
use orderflow_shared::adapters::embedded::MemoryAppStore;
use orderflow_shared::apps::bind::check_renders;
use orderflow_shared::apps::definition::PropertyType;
use orderflow_shared::apps::registry::iso_date;
use orderflow_shared::apps::{AppDefinition, Connection, Record, Registry, Version, VersionState, bucket};
use orderflow_shared::error::PortError;
use orderflow_shared::ports::AppStore;
use serde_json::{Map, Value, json};
use time::Date;

use crate::bridge::{LocalConfig, today};
use crate::config_dir::ConfigDir;

/// The local store's file, in the `--state` folder.
pub const APPS_FILE: &str = "apps.json";

const DEFINITION_SCHEMA: &str = include_str!("../../schema/app-definition.schema.json");
const CONNECTION_SCHEMA: &str = include_str!("../../schema/connection.schema.json");
const CONNECTIONS_FILE_SCHEMA: &str = include_str!("../../schema/connections-file.schema.json");

/// Where the apps are kept, and what to do with them.
#[derive(clap::Args)]
pub struct Options {
    #[command(subcommand)]
    pub action: Action,
    /// Use the DynamoDB apps table (--table, APPS_TABLE) instead of the local store.
    #[arg(long, global = true)]
    pub aws: bool,
    /// The apps table, with --aws.
    #[arg(long, global = true, env = "APPS_TABLE")]
    pub table: Option<String>,
    /// The local store's folder: apps.json there is the file `orderflow serve --state` reads.
    #[arg(long, global = true, default_value = "out/serve")]
    pub state: PathBuf,
    /// Folder of the configuration files the local store is seeded from the first time
    /// (apps/*.json, connections.local.json) [default: config/ here, else the built-in files].
    #[arg(long, global = true)]
    pub config_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Action {
    /// Every app: its versions, each version's state, the connections on each (named for
    /// deprecated versions), and the connections that do not run.
    List,
    /// An app (its versions), one version's definition (`KEY@VERSION`, as JSON), or with
    /// --connection a connection and the configurations it renders into.
    Show {
        #[arg(required_unless_present = "connection")]
        app: Option<String>,
        #[arg(long, conflicts_with = "app")]
        connection: Option<String>,
    },
    /// Check app definition and connection files (a connection, or a file of connections)
    /// without saving: the JSON Schema, the definition's rules and renderings, and each
    /// connection against its app version (property patterns included).
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Publish app definitions (new versions), checked as `validate` does.
    Put {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Add or change connections (a connection or a file of connections), checked as
    /// `validate` does.
    Connect {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Make VERSION the default for new connections; no connection moves.
    Promote { key: String, version: Version },
    /// Move the connections on FROM whose hash bucket is below --percent to TO (the same
    /// connections each time); --revert moves back those a migration brought from FROM.
    Migrate {
        key: String,
        from: Version,
        to: Version,
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(0..=100))]
        percent: u8,
        #[arg(long)]
        revert: bool,
        /// Print what would move, save nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Runs on VERSION fail from --on (YYYY-MM-DD, at least 21 days ahead).
    Deprecate {
        key: String,
        version: Version,
        #[arg(long)]
        on: String,
    },
    /// A version's environment values.
    Env {
        #[command(subcommand)]
        action: EnvAction,
    },
}

#[derive(Subcommand)]
pub enum EnvAction {
    /// Every environment value of the version: set, or its default.
    Get { key: String, version: Version },
    /// Set one value (a secret one as a reference: ssm:, secretsmanager:).
    Set {
        key: String,
        version: Version,
        name: String,
        value: String,
        /// Change it even though production connections run on the version.
        #[arg(long)]
        force: bool,
    },
    /// Unset one value: its default applies again.
    Unset {
        key: String,
        version: Version,
        name: String,
        #[arg(long)]
        force: bool,
    },
}

/// The local configuration: definitions and connections of the configuration folder.
fn local(dir: ConfigDir) -> LocalConfig {
    LocalConfig { dir, connections: None, secrets: None }
}

pub async fn run(options: Options) -> Result<(), String> {
    let today = today();
    let config = || ConfigDir::locate(options.config_dir.as_deref());
    let store = if options.aws {
        let table = options.table.clone().ok_or("--aws needs the apps table: --table NAME or APPS_TABLE")?;
        let sdk = aws::sdk_config().await;
        Store::Aws(DynamoAppStore::new(aws::dynamodb_client(&sdk), table))
    } else if matches!(options.action, Action::Validate { .. }) && !options.state.join(APPS_FILE).exists() {
        // Validating writes nothing, not even the local store's first copy.
        Store::Seed(local(config()?).registry(&[])?)
    } else {
        Store::Local(local(config()?).apps_store(Some(options.state.join(APPS_FILE)), &[])?)
    };
    match options.action {
        Action::List => list(&store.load().await?, today),
        Action::Show { connection: Some(id), .. } => show_connection(&store.load().await?, &id, today),
        Action::Show { app, connection: None } => show_app(&store.load().await?, app.as_deref().unwrap_or(""), today),
        Action::Validate { files } => {
            let registry = store.load().await?;
            let checked = check_files(&registry, &files, today);
            report(&checked)?;
            for file in &checked {
                println!("{}: valid ({})", file.path, file.summary);
            }
            Ok(())
        }
        Action::Put { files } => {
            let registry = store.load().await?;
            let checked = check_files(&registry, &files, today);
            report(&checked)?;
            let (mut records, mut done) = (Vec::new(), Vec::new());
            let mut staged = registry.clone();
            for file in &checked {
                if !file.connections.is_empty() {
                    return Err(format!("{}: holds connections: add them with `orderflow apps connect`", file.path));
                }
                for definition in &file.definitions {
                    let new = staged.publish(definition.clone()).map_err(|e| format!("{}: {e}", file.path))?;
                    let verb = if new.is_empty() { "already published" } else { "published" };
                    done.push(format!("{}: {verb}", definition.label()));
                    staged.apply(&new);
                    records.extend(new);
                }
            }
            store.save(&records).await?;
            done.iter().for_each(|line| println!("{line}"));
            Ok(())
        }
        Action::Connect { files } => {
            let registry = store.load().await?;
            let checked = check_files(&registry, &files, today);
            report(&checked)?;
            let mut records = Vec::new();
            for file in &checked {
                if !file.definitions.is_empty() {
                    return Err(format!(
                        "{}: holds an app definition: publish it with `orderflow apps put`",
                        file.path
                    ));
                }
                for record in &file.connections {
                    if let Record::Connection(c) = record {
                        let version = c.version.map(|v| v.to_string()).unwrap_or_default();
                        let verb = if c.revision == 0 { "added" } else { "changed" };
                        println!("connection {} {verb}: {}@{version}", c.id, c.app);
                    }
                }
                records.extend(file.connections.iter().cloned());
            }
            store.save(&records).await
        }
        Action::Promote { key, version } => {
            let registry = store.load().await?;
            let record = registry.promote(&key, version).map_err(|e| e.to_string())?;
            store.save(&[record]).await?;
            let on = registry.connections_on(&key, version).count();
            println!("{key}@{version} is the default for new connections ({on} connection(s) on it; nothing moved)");
            Ok(())
        }
        Action::Migrate { key, from, to, percent, revert, dry_run } => {
            let registry = store.load().await?;
            let migration = registry.migrate(&key, from, to, percent, revert, today).map_err(|e| e.to_string())?;
            let (source, target) = if revert { (to, from) } else { (from, to) };
            let verb = if dry_run { "would move" } else { "moved" };
            println!(
                "{} connection(s) {verb} from {key}@{source} to {key}@{target} (buckets below {percent}){}",
                migration.moved.len(),
                if revert { ", reverting a migration" } else { "" }
            );
            for id in &migration.moved {
                println!("  {id} (bucket {})", bucket(id));
            }
            if dry_run { Ok(()) } else { store.save(&migration.records).await }
        }
        Action::Deprecate { key, version, on } => {
            let on = iso_date::parse(&on).map_err(|e| format!("--on {e}"))?;
            let registry = store.load().await?;
            let record = registry.deprecate(&key, version, on, today).map_err(|e| e.to_string())?;
            store.save(&[record]).await?;
            let still: Vec<&str> = registry.connections_on(&key, version).map(|c| c.id.as_str()).collect();
            println!("{key}@{version} is deprecated: runs on it fail from {}", iso_date::format(on));
            if !still.is_empty() {
                println!("{} connection(s) still on it, to migrate: {}", still.len(), still.join(", "));
            }
            Ok(())
        }
        Action::Env { action: EnvAction::Get { key, version } } => env_get(&store.load().await?, &key, version),
        Action::Env { action: EnvAction::Set { key, version, name, value, force } } => {
            let registry = store.load().await?;
            let record = registry.set_env(&key, version, &name, Some(value), force).map_err(|e| e.to_string())?;
            store.save(&[record]).await?;
            println!("{key}@{version}: {name} set");
            Ok(())
        }
        Action::Env { action: EnvAction::Unset { key, version, name, force } } => {
            let registry = store.load().await?;
            let record = registry.set_env(&key, version, &name, None, force).map_err(|e| e.to_string())?;
            store.save(&[record]).await?;
            println!("{key}@{version}: {name} unset (its default applies)");
            Ok(())
        }
    }
}

/// The store a command reads and saves: the apps table or the local file.
enum Store {
    Local(MemoryAppStore),
    Aws(DynamoAppStore),
    /// The local store's seed, read only (validate before the store's first use).
    Seed(Registry),
}

impl Store {
    async fn load(&self) -> Result<Registry, String> {
        match self {
            Store::Local(store) => store.load().await,
            Store::Aws(store) => store.load().await,
            Store::Seed(registry) => Ok(registry.clone()),
        }
        .map_err(|e| e.to_string())
    }

    async fn save(&self, records: &[Record]) -> Result<(), String> {
        if records.is_empty() {
            return Ok(());
        }
        match self {
            Store::Local(store) => store.save(records).await,
            Store::Aws(store) => store.save(records).await,
            Store::Seed(_) => Err(PortError::permanent("save_apps", "the seed is read only")),
        }
        .map_err(|e| e.to_string())
    }
}

/// How a version stands on `today`, with the days left before a deprecation.
fn state(registry: &Registry, key: &str, version: Version, today: Date) -> String {
    let Ok(record) = registry.version(key, version) else { return "unknown".into() };
    match registry.state_of(record, today) {
        VersionState::Deprecated { on } => {
            format!("deprecated on {} ({} days left)", iso_date::format(on), (on - today).whole_days())
        }
        other => other.to_string(),
    }
}

fn list(registry: &Registry, today: Date) -> Result<(), String> {
    let mut keys: Vec<&String> = registry.apps.keys().collect();
    keys.extend(registry.versions.keys().map(|(k, _)| k).filter(|k| !registry.apps.contains_key(*k)));
    keys.dedup();
    if keys.is_empty() {
        println!("no apps");
    }
    for key in keys {
        let name = registry.versions_of(key).last().map(|v| v.definition.name.as_str()).unwrap_or_default();
        println!("{key}  {name}");
        for record in registry.versions_of(key) {
            let version = record.definition.version;
            let on: Vec<&Connection> = registry.connections_on(key, version).collect();
            let state = state(registry, key, version, today);
            let names: Vec<String> =
                on.iter().map(|c| if c.production { format!("{} (production)", c.id) } else { c.id.clone() }).collect();
            let mut line = format!("  {:<10} {:<40} {} connection(s)", version.to_string(), state, on.len());
            match record.deprecated_on {
                // What operators look for: every connection still on a deprecated version.
                Some(date) if !on.is_empty() => {
                    let when = if date <= today { "not running since" } else { "to migrate before" };
                    line.push_str(&format!("\n  {:<10} {when} {}: {}", "", iso_date::format(date), names.join(", ")));
                }
                None if !on.is_empty() && on.len() <= 10 => line.push_str(&format!(": {}", names.join(", "))),
                _ => {}
            }
            println!("{line}");
        }
    }
    let runtime = registry.runtime(today);
    let refused: Vec<_> = runtime.refusals().collect();
    if !refused.is_empty() {
        println!("\n{} connection(s) do not run:", refused.len());
        for (id, why) in refused {
            println!("  {id}: {why}");
        }
    }
    Ok(())
}

fn show_app(registry: &Registry, target: &str, today: Date) -> Result<(), String> {
    if let Some((key, version)) = target.split_once('@') {
        let version: Version = version.parse().map_err(|e| format!("{target}: {e}"))?;
        let record = registry.version(key, version).map_err(|e| e.to_string())?;
        return print_json(&serde_json::to_value(&record.definition).map_err(|e| e.to_string())?);
    }
    let key = target;
    let app = registry.apps.get(key).ok_or_else(|| format!("no app {key} (orderflow apps list)"))?;
    let latest = registry.versions_of(key).last().ok_or_else(|| format!("{key} has no version"))?;
    let definition = &latest.definition;
    println!("{key}  {}", definition.name);
    if !definition.description.is_empty() {
        println!("  {}", definition.description);
    }
    println!("default version: {}", app.default_version);
    println!("versions:");
    for record in registry.versions_of(key) {
        let d = &record.definition;
        let mut runs: Vec<&str> = Vec::new();
        runs.extend(d.triggers.webhook.as_ref().map(|_| "webhook"));
        runs.extend(d.triggers.poll.as_ref().map(|_| "poll"));
        let ops: Vec<String> = [("shop", &d.actions.shop), ("erp", &d.actions.erp)]
            .into_iter()
            .filter_map(|(runtime, action)| action.as_ref().map(|a| (runtime, a)))
            .flat_map(|(runtime, a)| a.operations.iter().map(move |op| format!("{runtime}.{}", op.name)))
            .collect();
        let on: Vec<&str> = registry.connections_on(key, d.version).map(|c| c.id.as_str()).collect();
        println!("  {}  {}", d.version, state(registry, key, d.version, today));
        let mechanism = serde_json::to_value(d.auth.mechanism).ok().and_then(|m| m.as_str().map(str::to_owned));
        println!("    auth: {}; triggers: {}; actions: {}", mechanism.unwrap_or_default(), list_or_none(&runs), {
            let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
            list_or_none(&ops)
        });
        let required: Vec<&str> =
            d.properties.iter().filter(|p| p.required && p.default.is_none()).map(|p| p.name.as_str()).collect();
        println!("    required properties: {}", list_or_none(&required));
        println!("    connections: {}", list_or_none(&on));
    }
    println!("(orderflow apps show {key}@VERSION for a definition)");
    Ok(())
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

fn show_connection(registry: &Registry, id: &str, today: Date) -> Result<(), String> {
    let connection = registry.connections.get(id).ok_or_else(|| format!("no connection named {id}"))?;
    println!("connection {id}:");
    print_json(&serde_json::to_value(connection).map_err(|e| e.to_string())?)?;
    if let Some(version) = connection.version {
        println!("{}@{version}: {}", connection.app, state(registry, &connection.app, version, today));
    }
    match registry.rendered(connection, today) {
        Ok(configs) => {
            for (runtime, config) in configs {
                println!("{runtime}:");
                print_json(&config)?;
            }
            Ok(())
        }
        Err(e) => Err(format!("it does not run: {e}")),
    }
}

fn env_get(registry: &Registry, key: &str, version: Version) -> Result<(), String> {
    let record = registry.version(key, version).map_err(|e| e.to_string())?;
    if record.definition.env.is_empty() {
        println!("{key}@{version} declares no environment values");
    }
    for declared in &record.definition.env {
        let secret = if declared.secret { " (secret reference)" } else { "" };
        match (record.env.get(&declared.name), &declared.default) {
            (Some(value), _) => println!("{} = {value}{secret}", declared.name),
            (None, Some(default)) => println!("{} = {default} (default){secret}", declared.name),
            (None, None) => println!("{} is not set, no default{secret}", declared.name),
        }
    }
    Ok(())
}

fn print_json(value: &Value) -> Result<(), String> {
    println!("{}", serde_json::to_string_pretty(value).map_err(|e| e.to_string())?);
    Ok(())
}

/// One file checked: what it holds, or why it was refused.
struct Checked {
    path: String,
    summary: String,
    definitions: Vec<AppDefinition>,
    /// The connection records to save.
    connections: Vec<Record>,
    errors: Vec<String>,
}

/// Every refusal of every file, one a line; an error when there was any.
fn report(checked: &[Checked]) -> Result<(), String> {
    let errors: Vec<String> =
        checked.iter().flat_map(|file| file.errors.iter().map(move |e| format!("{}: {e}", file.path))).collect();
    if errors.is_empty() {
        return Ok(());
    }
    for error in &errors[..errors.len() - 1] {
        eprintln!("orderflow: {error}");
    }
    Err(errors.last().cloned().unwrap_or_default())
}

/// Checks `files` against `registry` and each other: the definitions among them are
/// published (in the order given) before the connections are checked.
fn check_files(registry: &Registry, files: &[PathBuf], today: Date) -> Vec<Checked> {
    let mut staged = registry.clone();
    let mut checked = Vec::new();
    let mut parsed = Vec::new();
    for path in files {
        let mut file = Checked {
            path: path.display().to_string(),
            summary: String::new(),
            definitions: Vec::new(),
            connections: Vec::new(),
            errors: Vec::new(),
        };
        match std::fs::read_to_string(path) {
            Err(e) => file.errors.push(e.to_string()),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Err(e) => file.errors.push(format!("not JSON: {e}")),
                Ok(value) if is_connections(&value) => parsed.push((checked.len(), value)),
                Ok(value) => match check_definition(&text, &value) {
                    Ok(definition) => {
                        file.summary = definition.label();
                        if let Ok(records) = staged.publish(definition.clone()) {
                            staged.apply(&records);
                        }
                        file.definitions.push(definition);
                    }
                    Err(errors) => file.errors.extend(errors),
                },
            },
        }
        checked.push(file);
    }
    for (index, value) in parsed {
        let file = &mut checked[index];
        match check_connections(&staged, &value, today) {
            Ok(records) => {
                let ids: Vec<String> = records
                    .iter()
                    .filter_map(|r| match r {
                        Record::Connection(c) => Some(c.id.clone()),
                        _ => None,
                    })
                    .collect();
                file.summary = format!("connection(s) {}", ids.join(", "));
                file.connections = records;
            }
            Err(errors) => file.errors.extend(errors),
        }
    }
    checked
}

/// A connection (`id` and `app`) or a file of connections (`connections`), not a definition.
fn is_connections(value: &Value) -> bool {
    value.get("connections").is_some() || (value.get("id").is_some() && value.get("app").is_some())
}

/// A definition checked as `put` saves it: the JSON Schema, the document's shape and rules,
/// its renderings, its property patterns; each error naming its place.
pub fn check_definition(text: &str, value: &Value) -> Result<AppDefinition, Vec<String>> {
    let label = || {
        let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
        format!("{}@{}", field("key"), field("version"))
    };
    let schema: Value = serde_json::from_str(DEFINITION_SCHEMA).expect("the bundled schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the bundled definition schema is valid");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{}: {}: {e}", label(), place(e.instance_path().as_str())))
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let definition = AppDefinition::from_json(text).map_err(|e| vec![e.to_string()])?;
    definition.check().map_err(|e| vec![e.to_string()])?;
    check_renders(&definition).map_err(|e| vec![e.to_string()])?;
    for (i, property) in definition.properties.iter().enumerate() {
        if let Some(pattern) = &property.pattern
            && let Err(e) = jsonschema::validator_for(&json!({ "type": "string", "pattern": pattern }))
        {
            return Err(vec![format!(
                "{}: properties[{i}].pattern: not a regular expression: {e}",
                definition.label()
            )]);
        }
    }
    Ok(definition)
}

/// `/properties/1/type` as `properties[1].type`, the way the definition's own errors name places.
fn place(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() { "(the document)".into() } else { out }
}

/// A connection or a file of connections checked against the schema, then each connection
/// against its app version (property patterns included) as `connect` saves it.
fn check_connections(registry: &Registry, value: &Value, today: Date) -> Result<Vec<Record>, Vec<String>> {
    let connection_schema: Value = serde_json::from_str(CONNECTION_SCHEMA).expect("the bundled schema is JSON");
    let (entries, prefix) = match value.get("connections") {
        Some(_) => {
            let file_schema: Value = serde_json::from_str(CONNECTIONS_FILE_SCHEMA).expect("the bundled schema is JSON");
            let id = connection_schema.get("$id").and_then(Value::as_str).unwrap_or_default().to_owned();
            let registry = jsonschema::Registry::new()
                .add(id, connection_schema.clone())
                .and_then(|builder| builder.prepare())
                .expect("the bundled connection schema registers");
            let validator = jsonschema::options()
                .with_registry(&registry)
                .build(&file_schema)
                .expect("the bundled connections file schema is valid");
            let errors: Vec<String> =
                validator.iter_errors(value).map(|e| format!("{}: {e}", place(e.instance_path().as_str()))).collect();
            if !errors.is_empty() {
                return Err(errors);
            }
            let entries = value["connections"].as_array().cloned().unwrap_or_default();
            (entries, true)
        }
        None => {
            let validator =
                jsonschema::validator_for(&connection_schema).expect("the bundled connection schema is valid");
            let errors: Vec<String> =
                validator.iter_errors(value).map(|e| format!("{}: {e}", place(e.instance_path().as_str()))).collect();
            if !errors.is_empty() {
                return Err(errors);
            }
            (vec![value.clone()], false)
        }
    };
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut staged = registry.clone();
    for (i, entry) in entries.into_iter().enumerate() {
        let at = if prefix { format!("connections[{i}]: ") } else { String::new() };
        let connection: Connection = match serde_path_to_error::deserialize(entry) {
            Ok(c) => c,
            Err(e) => {
                let path = e.path().to_string();
                errors.push(format!("{at}{path}: {}", e.into_inner()));
                continue;
            }
        };
        if let Err(e) = check_patterns(registry, &connection) {
            errors.push(format!("{at}{e}"));
            continue;
        }
        match staged.connect(connection, today) {
            Ok(record) => {
                staged.apply(std::slice::from_ref(&record));
                records.push(record);
            }
            Err(e) => errors.push(format!("{at}{e}")),
        }
    }
    if errors.is_empty() { Ok(records) } else { Err(errors) }
}

/// The connection's property values against a JSON Schema made of its app version's
/// properties: patterns (the functions carry no regex engine, so they are checked here, with
/// the jsonschema crate's regex semantics), types, bounds, enums and required ones.
fn check_patterns(registry: &Registry, connection: &Connection) -> Result<(), String> {
    let version = match connection.version {
        Some(v) => v,
        None => match registry.apps.get(&connection.app) {
            Some(app) => app.default_version,
            None => return Ok(()), // `connect` names the unknown app.
        },
    };
    let Ok(record) = registry.version(&connection.app, version) else { return Ok(()) };
    let definition = &record.definition;
    let schema = properties_schema(definition);
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| format!("{}: a property's schema does not build: {e}", definition.label()))?;
    let instance = Value::Object(connection.properties.clone().into_iter().collect());
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| {
            let at = place(e.instance_path().as_str());
            let at = if at == "(the document)" { "properties".to_owned() } else { format!("properties.{at}") };
            format!("connection {} ({}): {at}: {e}", connection.id, definition.label())
        })
        .collect();
    match errors.first() {
        None => Ok(()),
        Some(_) => Err(errors.join("; ")),
    }
}

/// A JSON Schema of the connection properties `definition` declares.
fn properties_schema(definition: &AppDefinition) -> Value {
    let mut properties = Map::new();
    for property in &definition.properties {
        let mut schema = BTreeMap::new();
        let kind = match property.kind {
            PropertyType::String | PropertyType::Url => "string",
            PropertyType::Integer => "integer",
            PropertyType::Boolean => "boolean",
        };
        schema.insert("type", json!(kind));
        if let Some(pattern) = &property.pattern {
            schema.insert("pattern", json!(pattern));
        }
        if property.kind == PropertyType::Url && property.pattern.is_none() {
            schema.insert("pattern", json!("^https?://"));
        }
        if let Some(min) = property.minimum {
            schema.insert("minimum", json!(min));
        }
        if let Some(max) = property.maximum {
            schema.insert("maximum", json!(max));
        }
        if let Some(allowed) = &property.one_of {
            schema.insert("enum", json!(allowed));
        }
        properties.insert(property.name.clone(), json!(schema));
    }
    let required: Vec<&str> =
        definition.properties.iter().filter(|p| p.required && p.default.is_none()).map(|p| p.name.as_str()).collect();
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app definitions built into orderflow (`config/apps/*.json` at build time).
    fn shipped_definitions() -> Vec<String> {
        ConfigDir::BuiltIn.app_definitions().unwrap().into_iter().map(|(_, text)| text).collect()
    }

    #[test]
    fn json_pointers_read_as_the_definition_errors_name_places() {
        assert_eq!(place("/properties/1/type"), "properties[1].type");
        assert_eq!(place("/triggers/poll/config/a~1b"), "triggers.poll.config.a/b");
        assert_eq!(place(""), "(the document)");
    }

    #[test]
    fn a_property_pattern_is_checked_with_the_connection() {
        let definition = AppDefinition::from_json(&shipped_definitions()[0]).unwrap();
        let schema = properties_schema(&definition);
        assert_eq!(schema["additionalProperties"], json!(false));
        assert!(jsonschema::validator_for(&schema).is_ok());
    }

    #[test]
    fn every_shipped_definition_is_built_in_and_passes_every_check() {
        let shipped = shipped_definitions();
        assert!(!shipped.is_empty());
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        let in_repo: Vec<String> =
            ConfigDir::Dir(repo).app_definitions().unwrap().into_iter().map(|(_, text)| text).collect();
        assert_eq!(in_repo, shipped, "a definition in config/apps/ ships only once it is built in");
        for text in &shipped {
            let value: Value = serde_json::from_str(text).unwrap();
            if let Err(errors) = check_definition(text, &value) {
                panic!("{errors:?}");
            }
        }
    }

    #[test]
    fn the_shipped_connections_seed_a_registry() {
        let registry = local(ConfigDir::BuiltIn).registry(&[]).unwrap();
        assert!(!registry.connections.is_empty());
        assert_eq!(registry.runtime(today()).refusals().count(), 0);
        for connection in registry.connections.values() {
            check_patterns(&registry, connection).unwrap();
        }
    }
}
