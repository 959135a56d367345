//! The definition as typed states. Unknown fields and state types fail the parse: the
//! interpreter never skips a construct it does not implement.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::path;

#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("definition is not supported ASL: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("definition left substitution {0} unresolved")]
    Unsubstituted(String),
    #[error("state {state}: {problem}")]
    Invalid { state: String, problem: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Definition {
    #[serde(default)]
    pub comment: Option<String>,
    pub start_at: String,
    pub states: BTreeMap<String, State>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "Type")]
pub enum State {
    Task(Task),
    Choice(Choice),
    Wait(Wait),
    Pass(Pass),
    Succeed(Terminal),
    Fail(Fail),
}

fn root() -> Option<String> {
    Some("$".into())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Task {
    pub resource: String,
    #[serde(default)]
    pub parameters: Option<Value>,
    /// `null` discards the result; absent means `$` (the result replaces the input).
    #[serde(default = "root")]
    pub result_path: Option<String>,
    #[serde(default)]
    pub retry: Vec<Retrier>,
    #[serde(default)]
    pub catch: Vec<Catcher>,
    pub next: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    #[serde(default = "one")]
    pub interval_seconds: u64,
    #[serde(default = "three")]
    pub max_attempts: u32,
    #[serde(default = "two")]
    pub backoff_rate: f64,
}

fn one() -> u64 {
    1
}
fn three() -> u32 {
    3
}
fn two() -> f64 {
    2.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    #[serde(default = "root")]
    pub result_path: Option<String>,
    pub next: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Choice {
    pub choices: Vec<Rule>,
    pub default: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Rule {
    pub variable: String,
    #[serde(default)]
    pub boolean_equals: Option<bool>,
    #[serde(default)]
    pub string_equals: Option<String>,
    #[serde(default)]
    pub numeric_equals: Option<f64>,
    pub next: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Wait {
    #[serde(default)]
    pub seconds: Option<u64>,
    #[serde(default)]
    pub seconds_path: Option<String>,
    pub next: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Pass {
    #[serde(default = "root")]
    pub input_path: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub result: Option<Value>,
    #[serde(default = "root")]
    pub result_path: Option<String>,
    pub next: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Terminal {
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Fail {
    pub error: String,
    pub cause: String,
}

impl Definition {
    /// Replaces `${Name}` placeholders (the template's DefinitionSubstitutions), then parses
    /// and checks that every transition and path is one the interpreter can follow.
    pub fn parse(text: &str, substitutions: &[(&str, &str)]) -> Result<Self, DefinitionError> {
        let mut text = text.to_owned();
        for (name, value) in substitutions {
            text = text.replace(&format!("${{{name}}}"), value);
        }
        if let Some(start) = text.find("${") {
            let end = text[start..].find('}').map_or(text.len(), |e| start + e + 1);
            return Err(DefinitionError::Unsubstituted(text[start..end].to_owned()));
        }
        let definition: Definition = serde_json::from_str(&text)?;
        definition.check()?;
        Ok(definition)
    }

    fn check(&self) -> Result<(), DefinitionError> {
        let invalid = |state: &str, problem: String| DefinitionError::Invalid { state: state.to_owned(), problem };
        if !self.states.contains_key(&self.start_at) {
            return Err(invalid("StartAt", format!("no state named {}", self.start_at)));
        }
        for (name, state) in &self.states {
            let (nexts, paths) = state.references();
            for next in nexts {
                if !self.states.contains_key(next) {
                    return Err(invalid(name, format!("goes to unknown state {next}")));
                }
            }
            for p in paths {
                if path::parse(p).is_none() {
                    return Err(invalid(name, format!("path {p} is outside the supported subset")));
                }
            }
            if let State::Wait(w) = state
                && w.seconds.is_some() == w.seconds_path.is_some()
            {
                return Err(invalid(name, "a Wait needs exactly one of Seconds or SecondsPath".into()));
            }
        }
        Ok(())
    }
}

impl State {
    /// The states this one may go to, and the paths it reads or writes.
    fn references(&self) -> (Vec<&String>, Vec<&String>) {
        let mut paths: Vec<&String> = Vec::new();
        let nexts = match self {
            State::Task(t) => {
                paths.extend(&t.result_path);
                t.parameters.iter().for_each(|p| parameter_paths(p, &mut paths));
                paths.extend(t.catch.iter().filter_map(|c| c.result_path.as_ref()));
                std::iter::once(&t.next).chain(t.catch.iter().map(|c| &c.next)).collect()
            }
            State::Choice(c) => {
                paths.extend(c.choices.iter().map(|r| &r.variable));
                c.choices.iter().map(|r| &r.next).chain(std::iter::once(&c.default)).collect()
            }
            State::Wait(w) => {
                paths.extend(&w.seconds_path);
                vec![&w.next]
            }
            State::Pass(p) => {
                paths.extend(p.input_path.iter().chain(&p.result_path));
                p.parameters.iter().for_each(|v| parameter_paths(v, &mut paths));
                vec![&p.next]
            }
            State::Succeed(_) | State::Fail(_) => Vec::new(),
        };
        (nexts, paths)
    }
}

fn parameter_paths<'a>(template: &'a Value, out: &mut Vec<&'a String>) {
    if let Value::Object(map) = template {
        for (key, value) in map {
            match value {
                Value::String(p) if key.ends_with(".$") => out.push(p),
                other => parameter_paths(other, out),
            }
        }
    }
}
