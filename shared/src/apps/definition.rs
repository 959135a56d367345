//! An app definition: one version of one connector, as data (`config/apps/<key>@<version>.json`,
//! the JSON Schema in `schema/app-definition.schema.json`, the rules in `docs/APPS.md`).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::template::{self, Placeholder};
use super::version::Version;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDefinition {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub version: Version,
    pub auth: Auth,
    #[serde(default)]
    pub properties: Vec<Property>,
    #[serde(default)]
    pub env: Vec<EnvValue>,
    #[serde(default)]
    pub retry: RetryPolicy,
    #[serde(default)]
    pub triggers: Triggers,
    #[serde(default)]
    pub actions: Actions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub mechanism: Mechanism,
    #[serde(default)]
    pub fields: Vec<AuthField>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    None,
    HmacSignature,
    ApiKey,
    Basic,
    Digest,
    Oauth2ClientCredentials,
    SessionLogin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthField {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Supplied by a connection as a secret reference, never as a value.
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: PropertyType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Checked when a connection is saved (the functions carry no regex engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<String>>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyType {
    String,
    Integer,
    Boolean,
    Url,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvValue {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The value is a secret reference.
    #[serde(default)]
    pub secret: bool,
}

/// Written into each rendered configuration that has the field and does not set it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait_seconds: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Trigger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Trigger>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    #[serde(default)]
    pub description: String,
    pub config: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erp: Option<Action>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    #[serde(default)]
    pub description: String,
    pub operations: Vec<Operation>,
    pub config: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub name: String,
    pub kind: OperationKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    Create,
    Update,
    Search,
}

/// The operations each runtime performs, with their kinds: an action can only claim these.
const SHOP_OPERATIONS: [(&str, OperationKind); 6] = [
    ("fulfil", OperationKind::Update),
    ("set_status", OperationKind::Update),
    ("add_note", OperationKind::Update),
    ("call", OperationKind::Update),
    ("push_product", OperationKind::Update),
    ("set_stock", OperationKind::Update),
];
const ERP_OPERATIONS: [(&str, OperationKind); 3] = [
    ("create_order", OperationKind::Create),
    ("find_order", OperationKind::Search),
    ("list_items", OperationKind::Search),
];

/// Why a definition was refused; `at` names the place (`properties[2].default`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{app}: {at}: {reason}")]
pub struct DefinitionError {
    /// `key@version`.
    pub app: String,
    pub at: String,
    pub reason: String,
}

impl AppDefinition {
    /// Parsed from JSON, the error naming the path of the offending value.
    pub fn from_json(text: &str) -> Result<Self, DefinitionError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            DefinitionError { app: app_label(text), at, reason: e.into_inner().to_string() }
        })
    }

    /// `shopify@1.0.0`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.key, self.version)
    }

    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    pub fn env_value(&self, name: &str) -> Option<&EnvValue> {
        self.env.iter().find(|e| e.name == name)
    }

    pub fn auth_field(&self, name: &str) -> Option<&AuthField> {
        self.auth.fields.iter().find(|f| f.name == name)
    }

    /// The rules beyond the shape: names, defaults of the right type, operations the runtime
    /// performs, placeholders that name something declared. Rendering the templates into
    /// their runtime shapes is checked by [`super::bind::check_renders`].
    pub fn check(&self) -> Result<(), DefinitionError> {
        let fail = |at: String, reason: String| Err(DefinitionError { app: self.label(), at, reason });
        if !valid_key(&self.key) {
            return fail(
                "key".into(),
                "must be 1-64 characters of a-z, 0-9 and -, starting with a letter or digit".into(),
            );
        }
        if self.name.trim().is_empty() {
            return fail("name".into(), "must not be empty".into());
        }
        let mut names = HashSet::new();
        let declared = self.properties.iter().map(|p| ("properties", p.name.as_str()));
        let declared = declared.chain(self.env.iter().map(|e| ("env", e.name.as_str())));
        let declared = declared.chain(self.auth.fields.iter().map(|f| ("auth.fields", f.name.as_str())));
        for (i, (list, name)) in declared.enumerate() {
            if !template::valid_name(name) {
                return fail(format!("{list}: {name:?}"), "names are a-z, 0-9 and _, starting with a letter".into());
            }
            if !names.insert((list, name)) {
                return fail(format!("{list}: {name}"), format!("declared twice (entry {i})"));
            }
        }
        for (i, property) in self.properties.iter().enumerate() {
            if let Some(default) = &property.default
                && let Err(reason) = property.accepts(default)
            {
                return fail(format!("properties[{i}].default"), reason);
            }
        }
        if self.retry.max_attempts == Some(0) || self.retry.timeout_ms == Some(0) {
            return fail("retry".into(), "max_attempts and timeout_ms must be above zero".into());
        }
        if self.triggers.webhook.is_none()
            && self.triggers.poll.is_none()
            && self.actions.shop.is_none()
            && self.actions.erp.is_none()
        {
            return fail("triggers".into(), "an app needs at least one trigger or action".into());
        }
        for (runtime, action, known) in
            [("shop", &self.actions.shop, &SHOP_OPERATIONS[..]), ("erp", &self.actions.erp, &ERP_OPERATIONS[..])]
        {
            let Some(action) = action else { continue };
            if action.operations.is_empty() {
                return fail(format!("actions.{runtime}.operations"), "lists no operation".into());
            }
            for (i, op) in action.operations.iter().enumerate() {
                match known.iter().find(|(name, _)| *name == op.name) {
                    None => {
                        let names: Vec<&str> = known.iter().map(|(n, _)| *n).collect();
                        return fail(
                            format!("actions.{runtime}.operations[{i}].name"),
                            format!("{:?} is not an operation of {runtime}: one of {}", op.name, names.join(", ")),
                        );
                    }
                    Some((_, kind)) if *kind != op.kind => {
                        return fail(
                            format!("actions.{runtime}.operations[{i}].kind"),
                            format!("{} is {kind:?}", op.name),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
        let mut found = Vec::new();
        for (at, config) in self.templates() {
            template::scan(config, &at, &mut found).map_err(|e| DefinitionError {
                app: self.label(),
                at: e.at,
                reason: e.reason,
            })?;
        }
        for (at, placeholder) in found {
            let known = match placeholder {
                Placeholder::Property(name) => self.property(name).is_some(),
                Placeholder::Env(name) => self.env_value(name).is_some(),
                Placeholder::Secret(name) => self.auth_field(name).is_some_and(|f| f.secret),
                Placeholder::ConnectionId => true,
            };
            if !known {
                return fail(
                    at,
                    format!(
                        "{placeholder:?} names nothing this definition declares (secrets must be auth fields with \"secret\": true)"
                    ),
                );
            }
        }
        Ok(())
    }

    /// The configuration templates, by path.
    pub fn templates(&self) -> Vec<(String, &Value)> {
        let triggers = [("webhook", &self.triggers.webhook), ("poll", &self.triggers.poll)];
        let triggers =
            triggers.into_iter().filter_map(|(k, t)| t.as_ref().map(|t| (format!("triggers.{k}.config"), &t.config)));
        let actions = [("shop", &self.actions.shop), ("erp", &self.actions.erp)];
        let actions =
            actions.into_iter().filter_map(|(k, a)| a.as_ref().map(|a| (format!("actions.{k}.config"), &a.config)));
        triggers.chain(actions).collect()
    }

    /// What a connection must supply: required properties without a default, and the auth
    /// fields (secret ones as references).
    pub fn needs(&self) -> Vec<Need<'_>> {
        let properties =
            self.properties.iter().filter(|p| p.required && p.default.is_none()).map(|p| Need::Property(&p.name));
        properties.chain(self.auth.fields.iter().map(|f| Need::AuthField(&f.name))).collect()
    }
}

/// Something a connection must supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need<'a> {
    Property(&'a str),
    AuthField(&'a str),
}

impl Property {
    /// The value's type and bounds; patterns are checked at save time (see the field).
    pub fn accepts(&self, value: &Value) -> Result<(), String> {
        let ok = match (self.kind, value) {
            (PropertyType::String, Value::String(_)) | (PropertyType::Boolean, Value::Bool(_)) => true,
            (PropertyType::Url, Value::String(s)) => s.starts_with("https://") || s.starts_with("http://"),
            (PropertyType::Integer, Value::Number(n)) => n
                .as_i64()
                .is_some_and(|n| self.minimum.is_none_or(|min| n >= min) && self.maximum.is_none_or(|max| n <= max)),
            _ => false,
        };
        if !ok {
            return Err(format!("{value} is not a valid {:?} for property {}{}", self.kind, self.name, self.bounds()));
        }
        if let (Some(allowed), Value::String(s)) = (&self.one_of, value)
            && !allowed.contains(s)
        {
            return Err(format!("{s:?} is not one of {} for property {}", allowed.join(", "), self.name));
        }
        Ok(())
    }

    fn bounds(&self) -> String {
        match (self.minimum, self.maximum) {
            (None, None) => String::new(),
            (min, max) => format!(
                " ({}..{})",
                min.map_or(String::new(), |m| m.to_string()),
                max.map_or(String::new(), |m| m.to_string())
            ),
        }
    }
}

pub fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `key@version` of a document that did not parse, as far as it can be read.
fn app_label(text: &str) -> String {
    let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
    format!("{}@{}", field("key"), field("version"))
}
