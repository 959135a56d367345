//! Query parameters checked the way the WordPress REST API checks a route's arguments against
//! their schema: every bad one is collected, and the answer is one 400 `rest_invalid_param`
//! naming them all in the order the route declares them (the caller checks in that order), with WordPress's message per parameter under `data.params` and its code
//! under `data.details`. Parameters a route does not declare are ignored, as WordPress does.

use serde_json::{Map, Value, json};

use crate::shop::rfc3339_ms;

/// The query string's pairs, and what was wrong with them so far.
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
    /// The bad ones in the order they were checked, which the message keeps.
    names: Vec<String>,
    invalid: Map<String, Value>,
    details: Map<String, Value>,
}

impl Params {
    pub(crate) fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs, names: Vec::new(), invalid: Map::new(), details: Map::new() }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn refuse(&mut self, name: &str, code: &str, message: String) {
        self.names.push(name.to_owned());
        self.invalid.insert(name.to_owned(), Value::String(message.clone()));
        self.details.insert(name.to_owned(), json!({"code": code, "message": message, "data": null}));
    }

    /// An integer argument with WordPress's bounds checks.
    pub(crate) fn integer(&mut self, name: &str, default: u64, minimum: u64, maximum: Option<u64>) -> u64 {
        let Some(raw) = self.get(name).map(str::to_owned) else {
            return default;
        };
        let Ok(value) = raw.trim().parse::<i64>() else {
            self.refuse(name, "rest_invalid_type", format!("{name} is not of type integer."));
            return default;
        };
        let in_bounds = u64::try_from(value).ok().filter(|v| *v >= minimum && maximum.is_none_or(|m| *v <= m));
        match (in_bounds, maximum) {
            (Some(value), _) => value,
            (None, Some(maximum)) => {
                let message = format!("{name} must be between {minimum} (inclusive) and {maximum} (inclusive)");
                self.refuse(name, "rest_out_of_bounds", message);
                default
            }
            (None, None) => {
                self.refuse(name, "rest_out_of_bounds", format!("{name} must be greater than or equal to {minimum}"));
                default
            }
        }
    }

    /// A string argument limited to `allowed`.
    pub(crate) fn one_of(&mut self, name: &str, default: &'static str, allowed: &[&'static str]) -> &'static str {
        let Some(raw) = self.get(name).map(str::to_owned) else {
            return default;
        };
        if let Some(value) = allowed.iter().find(|a| **a == raw) {
            return value;
        }
        self.refuse(name, "rest_not_in_enum", format!("{name} is not one of {}.", wp_list(allowed)));
        default
    }

    /// An array argument of values from `allowed`: `a,b`, or repeated `name[]=`.
    pub(crate) fn list_of(&mut self, name: &str, default: &'static str, allowed: &[&'static str]) -> Vec<&'static str> {
        let bracketed = format!("{name}[]");
        let raw: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| *k == name || *k == bracketed)
            .flat_map(|(_, v)| v.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_owned))
            .collect();
        if raw.is_empty() {
            return vec![default];
        }
        let mut values = Vec::new();
        for (index, item) in raw.iter().enumerate() {
            match allowed.iter().find(|a| **a == item) {
                Some(value) => values.push(*value),
                None => {
                    let message = format!("{name}[{index}] is not one of {}.", wp_list(allowed));
                    self.refuse(name, "rest_not_in_enum", message);
                    return vec![default];
                }
            }
        }
        values
    }

    /// A date-time argument (`format: date-time`), in milliseconds; without an offset it is
    /// in the site's time zone, UTC here.
    pub(crate) fn date(&mut self, name: &str) -> Option<u64> {
        let raw = self.get(name)?.to_owned();
        let parsed = wp_date(&raw);
        if parsed.is_none() {
            self.refuse(name, "rest_invalid_date", "Invalid date.".into());
        }
        parsed
    }

    pub(crate) fn boolean(&mut self, name: &str) {
        if let Some(raw) = self.get(name).map(str::to_owned)
            && !matches!(raw.as_str(), "true" | "false" | "1" | "0" | "")
        {
            self.refuse(name, "rest_invalid_type", format!("{name} is not of type boolean."));
        }
    }

    /// WordPress's answer when any argument was bad.
    pub(crate) fn refusal(self) -> Option<Value> {
        if self.invalid.is_empty() {
            return None;
        }
        let names = self.names.join(", ");
        Some(json!({
            "code": "rest_invalid_param",
            "message": format!("Invalid parameter(s): {names}"),
            "data": {"status": 400, "params": self.invalid, "details": self.details},
        }))
    }
}

/// A list as WordPress's `%l` writes it: `a and b`, `a, b, and c`.
pub(crate) fn wp_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

/// `rest_parse_date`: `YYYY-MM-DD[T ]hh:mm:ss[.fff][Z|±hh[:mm]]`.
fn wp_date(raw: &str) -> Option<u64> {
    let (date_time, zone) = match raw.find(['Z', 'z', '+']).or_else(|| raw.rfind('-').filter(|p| *p > 10)) {
        Some(at) => raw.split_at(at),
        None => (raw, ""),
    };
    let zone = match zone {
        "" | "Z" | "z" => "Z".to_owned(),
        offset if offset.len() == 3 => format!("{offset}:00"),
        offset => offset.to_owned(),
    };
    let date_time = date_time.replacen([' ', 't'], "T", 1);
    if date_time.len() < 19 {
        return None;
    }
    rfc3339_ms(&format!("{date_time}{zone}"))
}
