//! The JSONPath subset the definition uses: `$` and dotted field paths such as `$.error.code`.

use serde_json::{Map, Value};

/// Splits `$.a.b` into `["a", "b"]`; `None` for anything outside the subset.
pub fn parse(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix('$')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let fields: Vec<String> = rest.strip_prefix('.')?.split('.').map(str::to_owned).collect();
    fields.iter().all(|f| !f.is_empty() && f.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(fields)
}

pub fn get<'a>(value: &'a Value, fields: &[String]) -> Option<&'a Value> {
    fields.iter().try_fold(value, |v, f| v.get(f))
}

/// Puts `result` at `fields` inside `value`, creating objects on the way (ASL ResultPath).
pub fn set(value: Value, fields: &[String], result: Value) -> Value {
    let Some((first, rest)) = fields.split_first() else {
        return result;
    };
    let mut object = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let inner = object.remove(first).unwrap_or(Value::Null);
    object.insert(first.clone(), set(inner, rest, result));
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_outside_the_subset_are_refused() {
        assert_eq!(parse("$"), Some(vec![]));
        assert_eq!(parse("$.a.b_c"), Some(vec!["a".into(), "b_c".into()]));
        assert_eq!(parse("$.a[0]"), None);
        assert_eq!(parse("$$.Execution"), None);
        assert_eq!(parse("a.b"), None);
    }

    #[test]
    fn set_replaces_or_nests() {
        let fields = parse("$.x.y").unwrap();
        assert_eq!(set(json!({"a": 1}), &fields, json!(2)), json!({"a": 1, "x": {"y": 2}}));
        assert_eq!(set(json!({"a": 1}), &[], json!(3)), json!(3));
        assert_eq!(get(&json!({"x": {"y": 2}}), &fields), Some(&json!(2)));
    }
}
