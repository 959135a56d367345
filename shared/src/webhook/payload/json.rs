//! Platform JSON read without floats, with errors that name the field.
//!
//! Why not plain `serde_json`: without its `arbitrary_precision` feature every JSON number
//! becomes an `f64`. That drops the scale (`19.90` → `19.9`), and this crate's build of
//! serde_json does not even promise a correctly rounded parse (`float_roundtrip` is off), so
//! printing the float back may not give the text that was sent. Turning on
//! `arbitrary_precision` or `raw_value` would change serde_json for the whole workspace
//! (features unify). So [`parse`] first validates the body with serde_json, then rewrites
//! every number token outside strings into a string holding its exact text, and parses that.
//! Amounts and ids therefore reach us as the digits the platform wrote, whether it sent them
//! as JSON strings (Shopify) or numbers (WooCommerce's `price`).

use serde::de::IgnoredAny;
use serde_json::Value;

use super::PayloadError;
use crate::order::Decimal;

/// Parses a platform body into a tree whose numbers are strings of their source text.
pub(super) fn parse(body: &[u8]) -> Result<Value, PayloadError> {
    let not_json = |e: serde_json::Error| PayloadError::NotJson(e.to_string());
    // Validating first means the rewrite below only ever sees well-formed number tokens.
    serde_json::from_slice::<IgnoredAny>(body).map_err(not_json)?;
    serde_json::from_slice(&quote_numbers(body)).map_err(not_json)
}

/// Wraps each number token of well-formed JSON in quotes. Outside strings, a number is the
/// only token that starts with `-` or a digit.
fn quote_numbers(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + json.len() / 8);
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < json.len() {
        let b = json[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'-' || b.is_ascii_digit() {
            let len = json[i..]
                .iter()
                .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .unwrap_or(json.len() - i);
            out.push(b'"');
            out.extend_from_slice(&json[i..i + len]);
            out.push(b'"');
            i += len;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// A value found (or not) at a path such as `line_items[2].price`.
pub(super) struct Node<'a> {
    path: String,
    value: Option<&'a Value>,
}

impl<'a> Node<'a> {
    pub(super) fn root(value: &'a Value) -> Self {
        Self { path: String::new(), value: Some(value) }
    }

    pub(super) fn path(&self) -> &str {
        &self.path
    }

    /// A member of this object; absent when this node is absent or null.
    pub(super) fn get(&self, key: &str) -> Result<Node<'a>, PayloadError> {
        let path = if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) };
        match self.present() {
            None => Ok(Node { path, value: None }),
            Some(Value::Object(map)) => Ok(Node { path, value: map.get(key) }),
            Some(_) => Err(self.wrong_type("an object")),
        }
    }

    /// The elements of a required array.
    pub(super) fn items(&self) -> Result<Vec<Node<'a>>, PayloadError> {
        match self.present() {
            None => Err(PayloadError::Missing { field: self.path.clone() }),
            Some(_) => self.opt_items(),
        }
    }

    /// The elements of an array; none when it is absent or null.
    pub(super) fn opt_items(&self) -> Result<Vec<Node<'a>>, PayloadError> {
        match self.present() {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, value)| Node { path: format!("{}[{i}]", self.path), value: Some(value) })
                .collect()),
            Some(_) => Err(self.wrong_type("an array")),
        }
    }

    /// Trimmed text of a string or number; `None` when absent, null or blank.
    pub(super) fn opt_text(&self) -> Result<Option<&'a str>, PayloadError> {
        match self.present() {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim()).filter(|s| !s.is_empty())),
            Some(_) => Err(self.wrong_type("a string or number")),
        }
    }

    pub(super) fn text(&self) -> Result<&'a str, PayloadError> {
        self.opt_text()?.ok_or_else(|| PayloadError::Missing { field: self.path.clone() })
    }

    pub(super) fn opt_decimal(&self) -> Result<Option<Decimal>, PayloadError> {
        self.opt_text()?
            .map(|text| {
                Decimal::parse(text)
                    .map_err(|_| PayloadError::BadAmount { field: self.path.clone(), value: text.to_owned() })
            })
            .transpose()
    }

    pub(super) fn decimal(&self) -> Result<Decimal, PayloadError> {
        self.opt_decimal()?.ok_or_else(|| PayloadError::Missing { field: self.path.clone() })
    }

    fn present(&self) -> Option<&'a Value> {
        self.value.filter(|v| !v.is_null())
    }

    fn wrong_type(&self, expected: &'static str) -> PayloadError {
        PayloadError::WrongType { field: self.path.clone(), expected }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_exact_text() {
        let v = parse(br#"{"a": 0.1, "b": 19.90, "c": [-3, 1e5], "d": 12345678901234567890.123456}"#).unwrap();
        assert_eq!(v["a"], "0.1");
        assert_eq!(v["b"], "19.90");
        assert_eq!(v["c"], serde_json::json!(["-3", "1e5"]));
        assert_eq!(v["d"], "12345678901234567890.123456");
    }

    #[test]
    fn digits_and_quotes_inside_strings_are_left_alone() {
        let v = parse(br#"{"s": "a \"1\" \\", "t": "-2", "u": true, "n": null}"#).unwrap();
        assert_eq!(v, serde_json::json!({"s": "a \"1\" \\", "t": "-2", "u": true, "n": null}));
    }

    #[test]
    fn malformed_numbers_are_refused_before_the_rewrite() {
        for bad in [&b"{\"a\": 01}"[..], b"{\"a\": 1.}", b"{\"a\": -}", b"[1,]"] {
            assert!(matches!(parse(bad), Err(PayloadError::NotJson(_))), "{bad:?}");
        }
    }

    #[test]
    fn errors_name_the_path_of_the_field() {
        let v = parse(br#"{"items": [{"qty": true}], "c": "x"}"#).unwrap();
        let root = Node::root(&v);
        let items = root.get("items").unwrap().items().unwrap();
        let err = items[0].get("qty").unwrap().decimal().unwrap_err();
        assert_eq!(err.to_string(), "items[0].qty must be a string or number");
        let err = root.get("c").unwrap().get("d").err().unwrap();
        assert_eq!(err.to_string(), "c must be an object");
        let err = root.get("gone").unwrap().items().err().unwrap();
        assert_eq!(err.to_string(), "missing required field gone");
    }
}
