//! Applying compiled rules to one order.

use serde_json::Value as Json;

use super::spec::{FieldSpec, Fields, Source, Target, WhenAbsent};
use super::value::Value;

/// Why an order could not be mapped: a required value is absent or a transform refused it.
/// The order is at fault, not the ERP, so retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target field `{field}`: {problem}")]
pub struct ApplyError {
    /// The target field with list positions, e.g. `salesOrderLines[1].lineObjectNumber`.
    pub field: String,
    pub problem: String,
}

/// The order as JSON, and the element of the innermost `each`.
#[derive(Clone, Copy)]
struct Scope<'a> {
    order: &'a Json,
    item: Option<&'a Json>,
}

pub(crate) fn apply(target: &Fields, order: &Json) -> Result<Value, ApplyError> {
    object(target, Scope { order, item: None }, "")
}

fn object(fields: &Fields, scope: Scope<'_>, at: &str) -> Result<Value, ApplyError> {
    let mut out = Vec::with_capacity(fields.0.len());
    for (name, target) in &fields.0 {
        let at = if at.is_empty() { name.clone() } else { format!("{at}.{name}") };
        match target {
            Target::Field(spec) => {
                if let Some(v) = field(spec, scope, &at)? {
                    out.push((name.clone(), v));
                }
            }
            Target::Object(inner) => out.push((name.clone(), object(inner, scope, &at)?)),
            Target::Each { source, fields } => {
                // Optional lists (a party's ids) are left out of the order when empty.
                let items = match source.resolve(scope.order, scope.item) {
                    None => &[][..],
                    Some(Json::Array(items)) => items,
                    Some(_) => {
                        return Err(ApplyError { field: at, problem: format!("`{source}` is not a list") });
                    }
                };
                let mapped = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| object(fields, Scope { item: Some(item), ..scope }, &format!("{at}[{i}]")))
                    .collect::<Result<_, _>>()?;
                out.push((name.clone(), Value::Array(mapped)));
            }
        }
    }
    Ok(Value::Object(out))
}

/// `None` when the value is absent and the field optional.
fn field(spec: &FieldSpec, scope: Scope<'_>, at: &str) -> Result<Option<Value>, ApplyError> {
    let fail = |problem: String| ApplyError { field: at.to_owned(), problem };
    let value = match &spec.source {
        Source::Path(path) => path.resolve(scope.order, scope.item).map(Value::from_json),
        Source::Constant(v) => Some(v.clone()),
        Source::Concat { parts, separator } => {
            let mut texts = Vec::with_capacity(parts.len());
            for (i, part) in parts.iter().enumerate() {
                if let Some(v) = field(part, scope, &format!("{at} (part {})", i + 1))? {
                    texts.push(v.as_text().ok_or_else(|| fail(format!("part {} is not text", i + 1)))?);
                }
            }
            Some(Value::String(texts.join(separator)))
        }
    };
    match (value, &spec.when_absent) {
        (Some(v), _) => match &spec.transform {
            Some(t) => t.apply(v).map(Some).map_err(fail),
            None => Ok(Some(v)),
        },
        (None, WhenAbsent::Omit) => Ok(None),
        (None, WhenAbsent::Default(v)) => Ok(Some(v.clone())),
        (None, WhenAbsent::Fail) => {
            let Source::Path(path) = &spec.source else { unreachable!("only a path can be absent") };
            Err(fail(format!("`{path}` has no value in this order")))
        }
    }
}
