//! Placeholders in an app's configuration templates: `{{property.NAME}}`, `{{env.NAME}}`,
//! `{{secret.NAME}}` and `{{connection.id}}`, in any JSON string.
//!
//! A string that is exactly one property placeholder takes the property's JSON value (a number
//! stays a number); if that optional property has no value, the key holding the string is left
//! out, so an optional setting stays unset. Anywhere else a placeholder is replaced by text.

use serde_json::{Map, Value};

/// One placeholder, by what it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder<'a> {
    Property(&'a str),
    Env(&'a str),
    Secret(&'a str),
    ConnectionId,
}

/// What the placeholders stand for in one rendering.
pub trait Values {
    fn property(&self, name: &str) -> Option<Value>;
    fn env(&self, name: &str) -> Option<String>;
    fn secret(&self, name: &str) -> Option<String>;
    fn connection_id(&self) -> &str;
}

/// Why a template did not render, with the JSON path of the string (`triggers.poll.config.base_url`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {reason}")]
pub struct TemplateError {
    pub at: String,
    pub reason: String,
}

/// Every placeholder in `value`, with the path of its string; a malformed one is an error.
pub fn scan<'v>(value: &'v Value, at: &str, out: &mut Vec<(String, Placeholder<'v>)>) -> Result<(), TemplateError> {
    match value {
        Value::String(text) => {
            for (_, placeholder) in split(text).map_err(|reason| TemplateError { at: at.to_owned(), reason })? {
                out.push((at.to_owned(), placeholder));
            }
            Ok(())
        }
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| scan(v, &format!("{at}[{i}]"), out)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| scan(v, &format!("{at}.{k}"), out)),
        _ => Ok(()),
    }
}

/// `value` with every placeholder replaced.
pub fn render(value: &Value, at: &str, values: &impl Values) -> Result<Value, TemplateError> {
    Ok(render_inner(value, at, values)?.unwrap_or(Value::Null))
}

/// `None`: a lone placeholder of a property without a value; the caller leaves the key out.
fn render_inner(value: &Value, at: &str, values: &impl Values) -> Result<Option<Value>, TemplateError> {
    let fail = |reason: String| TemplateError { at: at.to_owned(), reason };
    match value {
        Value::String(text) => {
            let parts = split(text).map_err(fail)?;
            if let [(range, Placeholder::Property(name))] = parts.as_slice()
                && range.start == 0
                && range.end == text.len()
            {
                return Ok(values.property(name));
            }
            let mut out = String::with_capacity(text.len());
            let mut from = 0;
            for (range, placeholder) in parts {
                out.push_str(&text[from..range.start]);
                out.push_str(&substitute(placeholder, values).map_err(fail)?);
                from = range.end;
            }
            out.push_str(&text[from..]);
            Ok(Some(Value::String(out)))
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.extend(render_inner(item, &format!("{at}[{i}]"), values)?);
            }
            Ok(Some(Value::Array(out)))
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                if let Some(rendered) = render_inner(item, &format!("{at}.{key}"), values)? {
                    out.insert(key.clone(), rendered);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        other => Ok(Some(other.clone())),
    }
}

fn substitute(placeholder: Placeholder<'_>, values: &impl Values) -> Result<String, String> {
    match placeholder {
        Placeholder::Property(name) => match values.property(name) {
            Some(Value::String(text)) => Ok(text),
            Some(other) => Ok(other.to_string()),
            None => Err(format!("property {name} has no value")),
        },
        Placeholder::Env(name) => values.env(name).ok_or_else(|| format!("environment value {name} is not set")),
        Placeholder::Secret(name) => values.secret(name).ok_or_else(|| format!("the connection has no secret {name}")),
        Placeholder::ConnectionId => Ok(values.connection_id().to_owned()),
    }
}

/// The placeholders of `text` with their byte ranges.
fn split(text: &str) -> Result<Vec<(std::ops::Range<usize>, Placeholder<'_>)>, String> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let close = text[open..].find("}}").map(|i| open + i).ok_or_else(|| format!("unclosed `{{{{` in {text:?}"))?;
        let inner = text[open + 2..close].trim();
        let placeholder = match inner.split_once('.') {
            Some(("property", name)) if valid_name(name) => Placeholder::Property(name),
            Some(("env", name)) if valid_name(name) => Placeholder::Env(name),
            Some(("secret", name)) if valid_name(name) => Placeholder::Secret(name),
            Some(("connection", "id")) => Placeholder::ConnectionId,
            _ => {
                return Err(format!(
                    "`{{{{{inner}}}}}` is not a placeholder: expected property.NAME, env.NAME, secret.NAME or connection.id"
                ));
            }
        };
        found.push((open..close + 2, placeholder));
        from = close + 2;
    }
    Ok(found)
}

/// Names of properties, env values and auth fields: `a-z`, `0-9`, `_`, starting with a letter.
pub fn valid_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixed;

    impl Values for Fixed {
        fn property(&self, name: &str) -> Option<Value> {
            match name {
                "domain" => Some(json!("acme.example.com")),
                "page" => Some(json!(50)),
                _ => None,
            }
        }
        fn env(&self, name: &str) -> Option<String> {
            (name == "api").then(|| "2026-01".to_owned())
        }
        fn secret(&self, name: &str) -> Option<String> {
            (name == "token").then(|| "ssm:/t".to_owned())
        }
        fn connection_id(&self) -> &str {
            "acme"
        }
    }

    #[test]
    fn renders_text_numbers_and_drops_unset_optional_properties() {
        let template = json!({
            "url": "https://{{property.domain}}/api/{{ env.api }}/{{connection.id}}",
            "page": "{{property.page}}",
            "label": "page {{property.page}}",
            "optional": "{{property.missing}}",
            "key": ["{{secret.token}}"]
        });
        let out = render(&template, "config", &Fixed).unwrap();
        assert_eq!(
            out,
            json!({"url": "https://acme.example.com/api/2026-01/acme", "page": 50, "label": "page 50", "key": ["ssm:/t"]})
        );
    }

    #[test]
    fn a_missing_value_names_its_place() {
        let err = render(&json!({"a": {"b": "x{{env.nope}}"}}), "config", &Fixed).unwrap_err();
        assert_eq!(err.to_string(), "config.a.b: environment value nope is not set");
        let err = render(&json!(["{{secret.other}}"]), "config", &Fixed).unwrap_err();
        assert_eq!(err.to_string(), "config[0]: the connection has no secret other");
    }

    #[test]
    fn scan_finds_each_placeholder_and_refuses_unknown_ones() {
        let mut found = Vec::new();
        let template = json!({"a": "{{property.x}}-{{env.y}}", "b": ["{{connection.id}}"]});
        scan(&template, "c", &mut found).unwrap();
        assert_eq!(
            found,
            vec![
                ("c.a".to_owned(), Placeholder::Property("x")),
                ("c.a".to_owned(), Placeholder::Env("y")),
                ("c.b[0]".to_owned(), Placeholder::ConnectionId)
            ]
        );
        for bad in ["{{settings.x}}", "{{property.}}", "{{property.X}}", "{{env.a", "{{connection.name}}"] {
            assert!(scan(&json!({"k": bad}), "c", &mut Vec::new()).is_err(), "{bad}");
        }
    }
}
