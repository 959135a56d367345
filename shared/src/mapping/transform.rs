//! The transforms a field may apply to its source value: `lookup`, `decimal` and `date`.
//! (`constant` and `concat` are sources, see `spec`.) Each is compiled, and so checked,
//! when the mapping loads; applying one can then fail only on the order's data.

use rust_decimal::RoundingStrategy;
use time::Date;
use time::format_description::OwnedFormatItem;

use super::node::Node;
use super::spec::{Entries, SpecError, invalid, scalar, string};
use super::value::Value;

/// The transform keys a field accepts, for validation messages.
pub(crate) const NAMES: [&str; 3] = ["lookup", "decimal", "date"];

/// The canonical order's dates, and the default input format.
const ISO_DATE: &str = "[year]-[month]-[day]";

#[derive(Debug)]
pub(crate) enum Transform {
    /// Replaces a value by its entry in `table`, else `default`, else fails.
    Lookup { table: Vec<(String, Value)>, default: Option<Value> },
    /// Rounds to `scale` places, written with exactly that many.
    Decimal { scale: u32, rounding: RoundingStrategy, as_number: bool },
    /// Reads a date in one format and writes it in another.
    Date { input: OwnedFormatItem, output: OwnedFormatItem },
}

/// Rounding names as a spreadsheet user knows them; `half_up` rounds 2.5 to 3 and -2.5 to -3.
const ROUNDINGS: [(&str, RoundingStrategy); 7] = [
    ("half_up", RoundingStrategy::MidpointAwayFromZero),
    ("half_down", RoundingStrategy::MidpointTowardZero),
    ("half_even", RoundingStrategy::MidpointNearestEven),
    ("up", RoundingStrategy::AwayFromZero),
    ("down", RoundingStrategy::ToZero),
    ("ceiling", RoundingStrategy::ToPositiveInfinity),
    ("floor", RoundingStrategy::ToNegativeInfinity),
];

impl Transform {
    /// `name` is one of [`NAMES`]; `at` is where its object sits in the document.
    pub(crate) fn compile(name: &str, node: &Node, at: &str) -> Result<Self, SpecError> {
        let entries = Entries::of(node, at)?;
        match name {
            "lookup" => {
                entries.only(&["table", "default"])?;
                let table_at = format!("{at}.table");
                let table = Entries::of(entries.require("table")?, &table_at)?
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), scalar(v, &format!("{table_at}.{k}"))?)))
                    .collect::<Result<_, SpecError>>()?;
                let default = entries.get("default").map(|v| scalar(v, &format!("{at}.default"))).transpose()?;
                Ok(Self::Lookup { table, default })
            }
            "decimal" => {
                entries.only(&["scale", "rounding", "as"])?;
                let scale = match entries.require("scale")? {
                    Node::Integer(n) if (0..=28).contains(n) => *n as u32,
                    other => {
                        return Err(invalid(
                            &format!("{at}.scale"),
                            format!("expected a whole number from 0 to 28, found {}", describe(other)),
                        ));
                    }
                };
                let rounding = match entries.get("rounding") {
                    None => RoundingStrategy::MidpointAwayFromZero,
                    Some(node) => {
                        let name = string(node, &format!("{at}.rounding"))?;
                        ROUNDINGS.iter().find(|(n, _)| *n == name).map(|(_, r)| *r).ok_or_else(|| {
                            let known: Vec<&str> = ROUNDINGS.iter().map(|(n, _)| *n).collect();
                            invalid(
                                &format!("{at}.rounding"),
                                format!("unknown rounding `{name}`; use one of {}", known.join(", ")),
                            )
                        })?
                    }
                };
                let as_number = match entries.get("as").map(|n| string(n, &format!("{at}.as"))).transpose()? {
                    None | Some("string") => false,
                    Some("number") => true,
                    Some(other) => {
                        return Err(invalid(
                            &format!("{at}.as"),
                            format!("expected `string` or `number`, found `{other}`"),
                        ));
                    }
                };
                Ok(Self::Decimal { scale, rounding, as_number })
            }
            "date" => {
                entries.only(&["input", "output"])?;
                let input_text =
                    entries.get("input").map(|n| string(n, &format!("{at}.input"))).transpose()?.unwrap_or(ISO_DATE);
                let input = date_format(input_text, &format!("{at}.input"), Direction::Read)?;
                let output = date_format(
                    string(entries.require("output")?, &format!("{at}.output"))?,
                    &format!("{at}.output"),
                    Direction::Write,
                )?;
                Ok(Self::Date { input, output })
            }
            _ => unreachable!("compile() is called only with one of NAMES"),
        }
    }

    /// The problem, when there is one, is about the order's value: the caller names the field.
    pub(crate) fn apply(&self, value: Value) -> Result<Value, String> {
        let text = value.as_text().ok_or_else(|| "expected text or a number, found a list or an object".to_owned())?;
        match self {
            Self::Lookup { table, default } => table
                .iter()
                .find(|(k, _)| *k == text)
                .map(|(_, v)| v.clone())
                .or_else(|| default.clone())
                .ok_or_else(|| format!("`{text}` is not in the lookup table, and there is no default")),
            Self::Decimal { scale, rounding, as_number } => {
                let exact = rust_decimal::Decimal::from_str_exact(text.trim())
                    .map_err(|_| format!("`{text}` is not a decimal number"))?;
                let mut rounded = exact.round_dp_with_strategy(*scale, *rounding);
                // round_dp never adds places; the ERP gets exactly `scale` of them.
                rounded.rescale(*scale);
                if rounded.is_zero() {
                    // -0.004 rounds to zero; an ERP should not see "-0.00".
                    rounded.set_sign_positive(true);
                }
                let text = rounded.to_string();
                Ok(if *as_number { Value::Number(text) } else { Value::String(text) })
            }
            Self::Date { input, output } => {
                let date = Date::parse(&text, input)
                    .map_err(|e| format!("`{text}` does not match the input date format: {e}"))?;
                date.format(output).map(Value::String).map_err(|e| format!("formatting `{text}`: {e}"))
            }
        }
    }
}

fn describe(node: &Node) -> String {
    match node {
        Node::Integer(n) => n.to_string(),
        other => other.kind().to_owned(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

/// Parses a `time` format description (version 2, e.g. `[day]/[month]/[year]`) and proves it
/// on a sample date: an output must be writable from a date alone, an input must read one back.
fn date_format(text: &str, at: &str, direction: Direction) -> Result<OwnedFormatItem, SpecError> {
    if !is_flat(text) {
        return Err(invalid(at, format!("`{text}` nests a `[` inside a component; a date format needs no nesting")));
    }
    let format = time::format_description::parse_owned::<2>(text)
        .map_err(|e| invalid(at, format!("`{text}` is not a date format description: {e}")))?;
    let sample = Date::from_calendar_date(2026, time::Month::December, 31).expect("a valid date");
    let written = sample
        .format(&format)
        .map_err(|_| invalid(at, format!("`{text}` asks for more than a date holds (a time of day or an offset)")))?;
    if direction == Direction::Read && Date::parse(&written, &format).ok() != Some(sample) {
        return Err(invalid(at, format!("`{text}` cannot read a whole date back; it needs the year, month and day")));
    }
    Ok(format)
}

/// Whether no component holds a nested description (`[optional [...]]` and the like). time's
/// parser trips a debug assertion on some malformed nestings (found by the mapping fuzz
/// target), and a date needs none, so they are refused before it sees them.
fn is_flat(text: &str) -> bool {
    let (mut inside, mut escaped) = (false, false);
    for c in text.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' if inside => return false,
            '[' => inside = true,
            ']' => inside = false,
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(name: &str, json: &str) -> Result<Transform, SpecError> {
        Transform::compile(name, &serde_json::from_str(json).unwrap(), "t")
    }

    fn apply(t: &Transform, text: &str) -> Result<Value, String> {
        t.apply(Value::String(text.into()))
    }

    #[test]
    fn decimal_rounds_exactly_and_pads_to_the_scale() {
        let half_up = compile("decimal", r#"{"scale": 2, "as": "number"}"#).unwrap();
        assert_eq!(apply(&half_up, "2.345"), Ok(Value::Number("2.35".into())));
        assert_eq!(apply(&half_up, "7"), Ok(Value::Number("7.00".into())));
        assert_eq!(apply(&half_up, "-0.004"), Ok(Value::Number("0.00".into())));
        let even = compile("decimal", r#"{"scale": 0, "rounding": "half_even"}"#).unwrap();
        assert_eq!(apply(&even, "2.5"), Ok(Value::String("2".into())));
        assert_eq!(apply(&even, "12990.5"), Ok(Value::String("12990".into())));
        assert_eq!(apply(&even, "1e3").unwrap_err(), "`1e3` is not a decimal number");
    }

    #[test]
    fn date_reformats_and_rejects_other_shapes() {
        let t = compile("date", r#"{"output": "[day].[month].[year]"}"#).unwrap();
        assert_eq!(apply(&t, "2026-03-02"), Ok(Value::String("02.03.2026".into())));
        assert!(apply(&t, "02/03/2026").unwrap_err().starts_with("`02/03/2026` does not match"));
    }

    #[test]
    fn lookup_falls_back_to_its_default_or_fails() {
        let t = compile("lookup", r#"{"table": {"H87": "PCS", "KGM": "KG"}}"#).unwrap();
        assert_eq!(apply(&t, "KGM"), Ok(Value::String("KG".into())));
        assert_eq!(apply(&t, "XYZ").unwrap_err(), "`XYZ` is not in the lookup table, and there is no default");
        let t = compile("lookup", r#"{"table": {}, "default": 1}"#).unwrap();
        assert_eq!(apply(&t, "XYZ"), Ok(Value::Number("1".into())));
    }
}
