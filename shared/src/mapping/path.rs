//! Source paths such as `order.buyer.ids[0].value` or, inside an `each`, `item.sku`.
//!
//! Paths are checked at load time against the JSON Schema of the canonical order, so a typo
//! (`order.buyer.nmae`) is refused with the fields that do exist, instead of mapping nothing.

use std::fmt;
use std::sync::OnceLock;

use serde_json::Value as Json;

/// The schema every path is checked against; the `schema` integration test keeps it in step
/// with `CanonicalOrder`.
const ORDER_SCHEMA: &str = include_str!("../../../schema/canonical-order.schema.json");

fn order_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(ORDER_SCHEMA).expect("the bundled order schema is JSON"))
}

/// Follows a `$ref` to `#/$defs/<name>`; the canonical schema uses no other kind.
fn resolve(node: &'static Json) -> &'static Json {
    node.get("$ref")
        .and_then(Json::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| order_schema().get("$defs")?.get(name))
        .unwrap_or(node)
}

/// What a path may start with where it is written: `order` anywhere, `item` inside an `each`.
#[derive(Clone, Copy)]
pub(crate) struct Scope {
    /// Schema of the element an enclosing `each` walks over.
    item: Option<&'static Json>,
    /// False for an inbound mapping, whose `order` is another system's record: no schema to
    /// check its paths against, so any path is taken and an absent value is found when applied.
    checked: bool,
}

impl Scope {
    pub(crate) const TOP: Self = Self { item: None, checked: true };
    pub(crate) const INBOUND: Self = Self { item: None, checked: false };
}

/// The schema of a path in another system's record: anything.
fn unchecked() -> &'static Json {
    static ANY: OnceLock<Json> = OnceLock::new();
    ANY.get_or_init(|| serde_json::json!({}))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    Order,
    Item,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourcePath {
    text: String,
    root: Root,
    steps: Vec<Step>,
    /// What the order schema says is at this path, for an `each` to know its elements.
    schema: &'static Json,
    checked: bool,
}

impl SourcePath {
    /// Parses and checks a path against the order schema; the error says what is wrong, for
    /// the caller to prefix with where it was written.
    pub(crate) fn parse(text: &str, scope: Scope) -> Result<Self, String> {
        let mut words = text.split('.');
        let root_word = words.next().unwrap_or_default();
        let (root, mut schema) = match (root_word, scope.item) {
            ("order", _) => (Root::Order, order_schema()),
            ("item", Some(item)) => (Root::Item, item),
            ("item", None) => {
                return Err(format!(
                    "path `{text}`: `item` means the current element of an `each`, and there is none here"
                ));
            }
            (other, _) => {
                let roots = if scope.item.is_some() { "`order` or `item`" } else { "`order`" };
                return Err(format!("path `{text}`: unknown root `{other}`; a path starts with {roots}"));
            }
        };
        if !scope.checked {
            schema = unchecked();
        }
        let mut steps = Vec::new();
        let mut walked = root_word.to_owned();
        for word in words {
            for step in parse_word(word).map_err(|e| format!("path `{text}`: {e}"))? {
                if !scope.checked {
                    steps.push(step);
                    continue;
                }
                schema = descend(resolve(schema), &step, &walked).map_err(|e| format!("path `{text}`: {e}"))?;
                match &step {
                    Step::Field(name) => {
                        walked.push('.');
                        walked.push_str(name);
                    }
                    Step::Index(i) => walked.push_str(&format!("[{i}]")),
                }
                steps.push(step);
            }
        }
        Ok(Self { text: text.to_owned(), root, steps, schema, checked: scope.checked })
    }

    /// The scope inside an `each` over this path; refused unless the path is a list.
    pub(crate) fn each_scope(&self) -> Result<Scope, String> {
        if !self.checked {
            return Ok(Scope { item: Some(unchecked()), checked: false });
        }
        let node = resolve(self.schema);
        match (node.get("type").and_then(Json::as_str), node.get("items")) {
            (Some("array"), Some(items)) => Ok(Scope { item: Some(items), checked: true }),
            _ => Err(format!("`{}` is {}, not a list", self.text, describe(node))),
        }
    }

    /// The value at this path, or `None` when the order leaves it out.
    pub(crate) fn resolve<'v>(&self, order: &'v Json, item: Option<&'v Json>) -> Option<&'v Json> {
        let mut value = match self.root {
            Root::Order => order,
            Root::Item => item?,
        };
        for step in &self.steps {
            value = match step {
                Step::Field(name) => value.get(name)?,
                Step::Index(i) => value.get(i)?,
            };
        }
        (!value.is_null()).then_some(value)
    }
}

impl fmt::Display for SourcePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `ids[0]` is a field step then an index step; `[]` is refused, lists are mapped with `each`.
fn parse_word(word: &str) -> Result<Vec<Step>, String> {
    let (name, mut rest) = word.split_once('[').map_or((word, ""), |(n, r)| (n, r));
    if name.is_empty() {
        return Err("a step has no field name (two dots, or a leading `[`)".into());
    }
    let mut steps = vec![Step::Field(name.to_owned())];
    while !rest.is_empty() {
        let (index, after) = rest.split_once(']').ok_or_else(|| format!("`{word}` has an unclosed `[`"))?;
        if index.is_empty() {
            return Err(format!("`{word}`: `[]` is not a path step; map a list with `each`"));
        }
        let i = index.parse().map_err(|_| format!("`{word}`: `{index}` is not a list index"))?;
        steps.push(Step::Index(i));
        rest = match after.strip_prefix('[') {
            Some(next) => next,
            None if after.is_empty() => "",
            None => return Err(format!("`{word}`: unexpected `{after}` after `]`")),
        };
    }
    Ok(steps)
}

fn descend(node: &'static Json, step: &Step, walked: &str) -> Result<&'static Json, String> {
    match step {
        Step::Field(name) => {
            let Some(props) = node.get("properties").and_then(Json::as_object) else {
                return Err(format!("`{walked}` is {}, it has no fields", describe(node)));
            };
            props.get(name).ok_or_else(|| {
                let known: Vec<&str> = props.keys().map(String::as_str).collect();
                format!("`{walked}` has no field `{name}`; it has {}", known.join(", "))
            })
        }
        Step::Index(_) => match (node.get("type").and_then(Json::as_str), node.get("items")) {
            (Some("array"), Some(items)) => Ok(items),
            _ => Err(format!("`{walked}` is {}, not a list", describe(node))),
        },
    }
}

fn describe(node: &Json) -> String {
    match node.get("type").and_then(Json::as_str) {
        Some("object") => "an object".into(),
        Some("array") => "a list".into(),
        Some(t) => format!("a {t}"),
        None if node.get("enum").is_some() => "a string".into(),
        None => "a value".into(),
    }
}
