//! The document a mapping produces, ready to send to an ERP.
//!
//! Numbers hold the exact text they were built from (a rounded decimal, an integer constant)
//! and are written out verbatim, so an amount never passes through a float on its way out.

use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A JSON number, as text: `12.50` stays `12.50`.
    Number(String),
    String(String),
    Array(Vec<Value>),
    /// Fields in mapping order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// A field of an object; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Self::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets a field of an object, replacing an existing one; does nothing on other values.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Self::Object(fields) = self {
            match fields.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => fields.push((key.to_owned(), value)),
            }
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// Scalars as text (for lookups, concatenation, decimals); `None` for null, lists, objects.
    pub(crate) fn as_text(&self) -> Option<String> {
        match self {
            Self::String(s) | Self::Number(s) => Some(s.clone()),
            Self::Bool(b) => Some(b.to_string()),
            Self::Null | Self::Array(_) | Self::Object(_) => None,
        }
    }

    /// Copies a value of the canonical order, which holds decimals as strings.
    pub fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Self::Null,
            serde_json::Value::Bool(b) => Self::Bool(*b),
            serde_json::Value::Number(n) => Self::Number(n.to_string()),
            serde_json::Value::String(s) => Self::String(s.clone()),
            serde_json::Value::Array(items) => Self::Array(items.iter().map(Self::from_json).collect()),
            serde_json::Value::Object(fields) => {
                Self::Object(fields.iter().map(|(k, v)| (k.clone(), Self::from_json(v))).collect())
            }
        }
    }

    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Self::Number(n) => out.push_str(n),
            Self::String(s) => write_string(out, s),
            Self::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    // serde_json's escaping; serialising a &str cannot fail.
    out.push_str(&serde_json::to_string(s).expect("a string always serialises"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_verbatim_and_strings_escaped() {
        let mut v = Value::Object(vec![
            ("qty".into(), Value::Number("12.50".into())),
            ("name".into(), Value::String("a \"b\"\n".into())),
        ]);
        v.set("qty", Value::Number("0.10".into()));
        v.set("ok", Value::Bool(true));
        assert_eq!(v.to_json(), r#"{"qty":0.10,"name":"a \"b\"\n","ok":true}"#);
        assert_eq!(v.get("name").and_then(Value::as_str), Some("a \"b\"\n"));
    }
}
