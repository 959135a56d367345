//! A connection bound to its pinned version: the definition's templates rendered with the
//! connection's properties and secrets and the version's environment values, into the runtime
//! configurations the functions run on (a webhook source, a poll source, a shop, an ERP
//! connector), each checked as if read from a configuration file.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use time::Date;

use super::definition::{AppDefinition, DefinitionError, PropertyType};
use super::registry::{AppError, Connection, Registry};
use super::template::{self, Values};
use crate::erp::{ConnectorConfig, ConnectorsFile};
use crate::poll::{PollSourceConfig, PollSources};
use crate::shop::{ShopConfig, ShopsFile};
use crate::webhook::{SourceConfig, WebhookSources};

/// What one connection runs with.
#[derive(Debug)]
pub struct Bound {
    pub webhook: Option<SourceConfig>,
    pub poll: Option<PollSourceConfig>,
    pub shop: Option<ShopConfig>,
    pub erp: Option<ConnectorConfig>,
}

/// Every connection bound, as the collections the functions look names up in; a connection
/// that cannot run (deprecated, incomplete) is in none of them, and [`Runtime::refusal`] says why.
#[derive(Debug)]
pub struct Runtime {
    pub webhook_sources: WebhookSources,
    pub poll_sources: PollSources,
    pub shops: ShopsFile,
    pub connectors: ConnectorsFile,
    /// The connections that do not run, with the reason.
    pub refused: BTreeMap<String, AppError>,
}

/// No connection at all; with struct update syntax, a runtime of configurations built directly
/// (the handlers' tests below the apps layer).
impl Default for Runtime {
    fn default() -> Self {
        Self {
            webhook_sources: empty_webhooks(),
            poll_sources: empty_polls(),
            shops: ShopsFile { shops: BTreeMap::new() },
            connectors: ConnectorsFile { connectors: BTreeMap::new() },
            refused: BTreeMap::new(),
        }
    }
}

impl Runtime {
    /// Why connection `id` does not run, if it exists and does not.
    pub fn refusal(&self, id: &str) -> Option<&AppError> {
        self.refused.get(id)
    }

    /// Why `name` is not among the connections of a kind (`"webhook source"`, …): its
    /// refusal if it has one, else that there is no such connection.
    pub fn missing(&self, kind: &str, name: &str) -> String {
        match self.refusal(name) {
            Some(why) => why.to_string(),
            None => format!("no {kind} named {name}"),
        }
    }

    /// Whether connection `id` runs a version past its deprecation date.
    pub fn deprecated(&self, id: &str) -> bool {
        matches!(self.refusal(id), Some(AppError::Deprecated { .. }))
    }

    /// The connections that do not run, with the reason.
    pub fn refusals(&self) -> impl Iterator<Item = (&String, &AppError)> {
        self.refused.iter()
    }
}

impl Registry {
    /// Every connection as it runs on `today`.
    pub fn runtime(&self, today: Date) -> Runtime {
        let (mut webhooks, mut polls) = (Vec::new(), Vec::new());
        let (mut shops, mut connectors) = (BTreeMap::new(), BTreeMap::new());
        let mut refused = BTreeMap::new();
        for connection in self.connections.values() {
            match self.bind(connection, today) {
                Ok(bound) => {
                    webhooks.extend(bound.webhook);
                    polls.extend(bound.poll);
                    if let Some(shop) = bound.shop {
                        shops.insert(connection.id.clone(), shop);
                    }
                    if let Some(erp) = bound.erp {
                        connectors.insert(connection.id.clone(), erp);
                    }
                }
                Err(e) => {
                    refused.insert(connection.id.clone(), e);
                }
            }
        }
        Runtime {
            // Each entry was checked on its own by `bind` and connection ids are unique, so the
            // collections' checks cannot fail here; if they ever did, that is a bug to see, not
            // every connection silently gone.
            webhook_sources: WebhookSources::from_entries(webhooks).expect("webhook sources checked one by one"),
            poll_sources: PollSources::from_entries(polls).expect("poll sources checked one by one"),
            shops: ShopsFile { shops },
            connectors: ConnectorsFile { connectors },
            refused,
        }
    }

    /// One connection, bound to its pinned version as it stands on `today`.
    pub fn bind(&self, connection: &Connection, today: Date) -> Result<Bound, AppError> {
        let record = self.pinned(connection, today)?;
        let definition = &record.definition;
        let invalid =
            |reason: String| AppError::Invalid { connection: connection.id.clone(), app: definition.label(), reason };
        Registry::fits(connection, definition).map_err(invalid)?;
        let values = ConnectionValues { definition, env: &record.env, connection };
        render_all(definition, &values).map_err(|e| invalid(e.to_string()))
    }
}

fn empty_webhooks() -> WebhookSources {
    WebhookSources::from_entries(Vec::new()).expect("no sources")
}

fn empty_polls() -> PollSources {
    PollSources::from_entries(Vec::new()).expect("no sources")
}

/// Refuses a definition whose templates do not render into their runtime shapes, rendered with
/// sample values: defaults, else a value of the property's type.
pub fn check_renders(definition: &AppDefinition) -> Result<(), DefinitionError> {
    render_all(definition, &Samples(definition)).map(drop).map_err(|e| DefinitionError {
        app: definition.label(),
        at: e.at,
        reason: e.reason,
    })
}

/// The retry fields each runtime takes from [`RetryPolicy`] when its configuration does not set them.
const POLL_RETRY_FIELDS: [&str; 3] = ["max_attempts", "timeout_ms", "max_wait_seconds"];
const CALL_RETRY_FIELDS: [&str; 1] = ["timeout_ms"];

/// Where one runtime's template sits in a definition: the triggers take the connection id as
/// their `name`; each runtime takes some of the retry fields.
struct Slot<'a> {
    runtime: &'static str,
    at: &'static str,
    template: Option<&'a Value>,
    named: bool,
    retry_fields: &'static [&'static str],
}

fn slots(d: &AppDefinition) -> [Slot<'_>; 4] {
    [
        Slot {
            runtime: "webhook",
            at: "triggers.webhook.config",
            template: d.triggers.webhook.as_ref().map(|t| &t.config),
            named: true,
            retry_fields: &[],
        },
        Slot {
            runtime: "poll",
            at: "triggers.poll.config",
            template: d.triggers.poll.as_ref().map(|t| &t.config),
            named: true,
            retry_fields: &POLL_RETRY_FIELDS,
        },
        Slot {
            runtime: "shop",
            at: "actions.shop.config",
            template: d.actions.shop.as_ref().map(|a| &a.config),
            named: false,
            retry_fields: &CALL_RETRY_FIELDS,
        },
        Slot {
            runtime: "erp",
            at: "actions.erp.config",
            template: d.actions.erp.as_ref().map(|a| &a.config),
            named: false,
            retry_fields: &CALL_RETRY_FIELDS,
        },
    ]
}

/// One rendered template: its runtime, its place, the JSON object.
type Rendered = (&'static str, &'static str, Map<String, Value>);

/// Every template of `definition` rendered.
fn render_objects(definition: &AppDefinition, values: &impl Values) -> Result<Vec<Rendered>, template::TemplateError> {
    let mut out = Vec::new();
    for slot in slots(definition) {
        let Some(template) = slot.template else { continue };
        let mut rendered = template::render(template, slot.at, values)?;
        let object = rendered.as_object_mut().ok_or_else(|| failed(slot.at, "must be a JSON object".into()))?;
        if slot.named {
            object.insert("name".into(), json!(values.connection_id()));
        }
        let retry = definition.retry;
        let policy = [
            ("max_attempts", retry.max_attempts.map(Value::from)),
            ("timeout_ms", retry.timeout_ms.map(Value::from)),
            ("max_wait_seconds", retry.max_wait_seconds.map(Value::from)),
        ];
        for (field, value) in policy {
            if let (true, Some(value)) = (slot.retry_fields.contains(&field), value) {
                object.entry(field).or_insert(value);
            }
        }
        out.push((slot.runtime, slot.at, std::mem::take(object)));
    }
    Ok(out)
}

fn render_all(definition: &AppDefinition, values: &impl Values) -> Result<Bound, template::TemplateError> {
    let mut bound = Bound { webhook: None, poll: None, shop: None, erp: None };
    for (runtime, at, object) in render_objects(definition, values)? {
        let checked = |result: Result<(), String>| result.map_err(|reason| failed(at, reason));
        match runtime {
            "webhook" => {
                let source: SourceConfig = read(at, object)?;
                checked(crate::webhook::check_source(&source).map_err(|e| e.to_string()))?;
                bound.webhook = Some(source);
            }
            "poll" => {
                let source: PollSourceConfig = read(at, object)?;
                checked(crate::poll::config::check(&source).map_err(|e| e.to_string()))?;
                bound.poll = Some(source);
            }
            "shop" => {
                let shop: ShopConfig = read(at, object)?;
                checked(shop.check())?;
                bound.shop = Some(shop);
            }
            _ => bound.erp = Some(read(at, object)?),
        }
    }
    Ok(bound)
}

fn failed(at: &str, reason: String) -> template::TemplateError {
    template::TemplateError { at: at.to_owned(), reason }
}

/// A rendered object read into its runtime shape, an error naming the path inside it.
fn read<T: DeserializeOwned>(at: &str, object: Map<String, Value>) -> Result<T, template::TemplateError> {
    serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
        let path = e.path().to_string();
        failed(&format!("{at}.{path}"), e.into_inner().to_string())
    })
}

impl Registry {
    /// What [`Registry::bind`] reads, as JSON by runtime (`webhook`, `poll`, `shop`, `erp`):
    /// for an operator to see what a connection runs with (secrets are references). Refused
    /// as `bind` refuses.
    pub fn rendered(&self, connection: &Connection, today: Date) -> Result<Vec<(&'static str, Value)>, AppError> {
        self.bind(connection, today)?;
        let record = self.pinned(connection, today)?;
        let definition = &record.definition;
        let values = ConnectionValues { definition, env: &record.env, connection };
        let objects = render_objects(definition, &values).map_err(|e| AppError::Invalid {
            connection: connection.id.clone(),
            app: definition.label(),
            reason: e.to_string(),
        })?;
        Ok(objects.into_iter().map(|(runtime, _, object)| (runtime, Value::Object(object))).collect())
    }
}

/// A connection's values: its properties (else the defaults), the version's environment
/// values (else the defaults), its secret references.
struct ConnectionValues<'a> {
    definition: &'a AppDefinition,
    env: &'a BTreeMap<String, String>,
    connection: &'a Connection,
}

impl Values for ConnectionValues<'_> {
    fn property(&self, name: &str) -> Option<Value> {
        let declared = self.definition.property(name)?;
        self.connection.properties.get(name).cloned().or_else(|| declared.default.clone())
    }

    fn env(&self, name: &str) -> Option<String> {
        let declared = self.definition.env_value(name)?;
        self.env.get(name).cloned().or_else(|| declared.default.clone())
    }

    fn secret(&self, name: &str) -> Option<String> {
        self.connection.secrets.get(name).cloned()
    }

    fn connection_id(&self) -> &str {
        &self.connection.id
    }
}

/// Stand-in values for checking a definition before any connection exists.
struct Samples<'a>(&'a AppDefinition);

impl Values for Samples<'_> {
    fn property(&self, name: &str) -> Option<Value> {
        let property = self.0.property(name)?;
        if let Some(default) = &property.default {
            return Some(default.clone());
        }
        Some(match property.kind {
            PropertyType::String => match &property.one_of {
                Some(allowed) if !allowed.is_empty() => json!(allowed[0]),
                _ => json!("sample"),
            },
            PropertyType::Url => json!("https://sample.example.com"),
            PropertyType::Integer => {
                json!(property.minimum.map_or(1, |min| min.max(1)).min(property.maximum.unwrap_or(i64::MAX)))
            }
            PropertyType::Boolean => json!(true),
        })
    }

    fn env(&self, name: &str) -> Option<String> {
        let declared = self.0.env_value(name)?;
        Some(
            declared
                .default
                .clone()
                .unwrap_or_else(|| if declared.secret { "ssm:/sample".into() } else { "sample".into() }),
        )
    }

    fn secret(&self, name: &str) -> Option<String> {
        self.0.auth_field(name).map(|_| "ssm:/sample".to_owned())
    }

    fn connection_id(&self) -> &str {
        "sample"
    }
}
