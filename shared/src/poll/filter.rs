//! Which polled orders are taken: a field of the platform's record, compared with a list of
//! values (`{"field": "status", "any_of": ["processing", "on-hold"]}`). Applied to the record
//! as the platform lists it, before any mapping, so an order the filter leaves out costs no
//! further call.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// A dotted path into the record (`status`, `customer.group`).
    pub field: String,
    pub any_of: Vec<String>,
}

impl Filter {
    /// True when the field holds one of the values; numbers and booleans compare as their text.
    /// A record without the field is left out.
    pub fn admits(&self, record: &Value) -> bool {
        let value = self.field.split('.').try_fold(record, |v, key| v.get(key));
        let text = match value {
            Some(Value::String(s)) => s.clone(),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
            _ => return false,
        };
        self.any_of.contains(&text)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_filter_admits_listed_values_only() {
        let filter = Filter { field: "status".into(), any_of: vec!["processing".into()] };
        assert!(filter.admits(&json!({"status": "processing"})));
        assert!(!filter.admits(&json!({"status": "pending"})));
        assert!(!filter.admits(&json!({"state": "processing"})));
        let nested = Filter { field: "a.b".into(), any_of: vec!["7".into()] };
        assert!(nested.admits(&json!({"a": {"b": 7}})));
    }
}
