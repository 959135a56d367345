//! Shapes what a resolver found to what the client selected, as a GraphQL server does: only
//! the fields asked for, under their aliases. Resolvers hand over whole objects (every field
//! the double serves, with `__typename`); a field missing from one is a field the double does
//! not serve, and the answer says so instead of inventing a null, so that a query relying on
//! it fails here as it would need attention against Shopify.
//!
//! Nested connections (`lineItems(first: 5)`, `fulfillmentOrders(first: 10, after: …)`) and
//! lists with a `first` argument are cut to the page asked for here; root connections page
//! themselves, because their cursors carry a sort position ([`super::orders`]).

use serde_json::{Map, Value, json};

use super::graphql::{Field, GraphqlError};

/// A connection of `nodes` with their cursors, as Shopify shapes every paginated list.
pub(crate) fn connection(typename: &str, edges: Vec<(String, Value)>, has_next: bool, has_previous: bool) -> Value {
    let start = edges.first().map(|(c, _)| Value::String(c.clone())).unwrap_or(Value::Null);
    let end = edges.last().map(|(c, _)| Value::String(c.clone())).unwrap_or(Value::Null);
    let edge_type = format!("{}Edge", typename.trim_end_matches("Connection"));
    json!({
        "__typename": typename,
        "nodes": edges.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
        "edges": edges.into_iter().map(|(c, n)| json!({"__typename": edge_type, "cursor": c, "node": n})).collect::<Vec<_>>(),
        "pageInfo": {
            "__typename": "PageInfo",
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": start,
            "endCursor": end,
        },
    })
}

/// `value` shaped to `field`'s selection; `nested`: page a connection by its arguments.
pub(crate) fn project(value: &Value, field: &Field, nested: bool, errors: &mut Vec<GraphqlError>) -> Value {
    let paged;
    let value = if nested {
        paged = page(value, field);
        &paged
    } else {
        value
    };
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|item| project(item, field, false, errors)).collect()),
        Value::Object(object) => {
            if field.selection.is_empty() {
                let typename = object.get("__typename").and_then(Value::as_str).unwrap_or("an object");
                errors.push(field_error(
                    format!(
                        "Field must have selections (field '{}' returns {typename} but has no selections)",
                        field.name
                    ),
                    field,
                ));
                return Value::Null;
            }
            select(object, field, errors)
        }
        Value::Null => Value::Null,
        scalar => {
            if !field.selection.is_empty() {
                errors
                    .push(field_error(format!("Selections can't be made on scalars (field '{}')", field.name), field));
                return Value::Null;
            }
            scalar.clone()
        }
    }
}

fn select(object: &Map<String, Value>, field: &Field, errors: &mut Vec<GraphqlError>) -> Value {
    let typename = object.get("__typename").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    for child in &field.selection {
        if child.name == "__typename" {
            out.insert(child.key().to_owned(), Value::String(typename.to_owned()));
            continue;
        }
        let Some(value) = object.get(&child.name) else {
            let mut error = field_error(
                format!("Field '{}' on type '{typename}' is not served by the Shopify double", child.name),
                child,
            );
            error.0["extensions"] = json!({"code": "undefinedField", "typeName": typename, "fieldName": child.name});
            errors.push(error);
            continue;
        };
        out.insert(child.key().to_owned(), project(value, child, true, errors));
    }
    Value::Object(out)
}

fn field_error(message: String, field: &Field) -> GraphqlError {
    GraphqlError::at(message, field.line, field.column)
}

/// The page of a nested connection or list that `first` and `after` ask for.
fn page(value: &Value, field: &Field) -> Value {
    let first = field.arguments.get("first").and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok());
    let after = field.arguments.get("after").and_then(Value::as_str);
    if first.is_none() && after.is_none() {
        return value.clone();
    }
    match value {
        Value::Array(items) => Value::Array(items.iter().take(first.unwrap_or(usize::MAX)).cloned().collect()),
        Value::Object(connection_object) if connection_object.contains_key("edges") => {
            let edges = connection_object["edges"].as_array().cloned().unwrap_or_default();
            let start = after.and_then(|c| edges.iter().position(|e| e["cursor"] == c)).map_or(0, |p| p + 1);
            let end = first.map_or(edges.len(), |n| start.saturating_add(n).min(edges.len()));
            let kept = edges[start.min(end)..end]
                .iter()
                .map(|e| (e["cursor"].as_str().unwrap_or_default().to_owned(), e["node"].clone()))
                .collect();
            let typename = connection_object["__typename"].as_str().unwrap_or_default();
            connection(typename, kept, end < edges.len(), start > 0)
        }
        other => other.clone(),
    }
}
