//! Compiling a mapping document into checked rules, refusing it with a precise message.
//!
//! ```json
//! {
//!   "version": 1,
//!   "target": {
//!     "orderDate":   { "path": "order.issue_date", "date": { "output": "[day].[month].[year]" } },
//!     "currency":    { "path": "order.currency", "lookup": { "table": { "CLP": "" }, "default": "USD" } },
//!     "comment":     { "concat": { "parts": [{ "constant": "PO" }, { "path": "order.order_number" }], "separator": " " } },
//!     "shipTo":      { "fields": { "city": { "path": "order.delivery.city", "optional": true } } },
//!     "lines": { "each": "order.lines", "fields": {
//!         "sku":      { "path": "item.sku" },
//!         "quantity": { "path": "item.quantity", "decimal": { "scale": 2, "as": "number" } }
//!     } }
//!   }
//! }
//! ```
//!
//! A field has one source (`path`, `constant`, `concat`), at most one transform (`lookup`,
//! `decimal`, `date`), and says what happens when its path is absent from an order: fail (the
//! default), `"optional": true` to leave the field out, or `"default": <value>` (sent as is).

use super::node::Node;
use super::path::{Scope, SourcePath};
use super::transform::{self, Transform};
use super::value::Value;

/// The only document version so far; a later one can change the rules without ambiguity.
const VERSION: i128 = 1;

const SOURCES: [&str; 3] = ["path", "constant", "concat"];
const MODIFIERS: [&str; 2] = ["default", "optional"];

/// Why a mapping document was refused. `at` names the place in the document with its keys,
/// e.g. `target.lines.fields.quantity.decimal.scale`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("not valid JSON: {0}")]
    Syntax(String),
    #[error("{at}: {problem}")]
    Invalid { at: String, problem: String },
}

pub(crate) fn invalid(at: &str, problem: impl Into<String>) -> SpecError {
    SpecError::Invalid { at: at.to_owned(), problem: problem.into() }
}

/// Target fields in document order.
#[derive(Debug)]
pub(crate) struct Fields(pub(crate) Vec<(String, Target)>);

#[derive(Debug)]
pub(crate) enum Target {
    Field(FieldSpec),
    /// One object per element of a list, e.g. one ERP line per order line.
    Each {
        source: SourcePath,
        fields: Fields,
    },
    /// A nested object.
    Object(Fields),
}

#[derive(Debug)]
pub(crate) struct FieldSpec {
    pub(crate) source: Source,
    pub(crate) transform: Option<Transform>,
    pub(crate) when_absent: WhenAbsent,
}

#[derive(Debug)]
pub(crate) enum Source {
    Path(SourcePath),
    Constant(Value),
    /// Absent optional parts are skipped, so an empty address line leaves no double separator.
    Concat {
        parts: Vec<FieldSpec>,
        separator: String,
    },
}

#[derive(Debug)]
pub(crate) enum WhenAbsent {
    Fail,
    Omit,
    Default(Value),
}

/// The entries of an object node, checked for duplicate keys, with where it sits.
pub(crate) struct Entries<'n> {
    entries: &'n [(String, Node)],
    at: String,
}

impl<'n> Entries<'n> {
    pub(crate) fn of(node: &'n Node, at: &str) -> Result<Self, SpecError> {
        let Node::Object(entries) = node else {
            return Err(invalid(at, format!("expected an object, found {}", node.kind())));
        };
        for (i, (key, _)) in entries.iter().enumerate() {
            if entries[..i].iter().any(|(k, _)| k == key) {
                return Err(invalid(at, format!("duplicate key `{key}`")));
            }
        }
        Ok(Self { entries, at: at.to_owned() })
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(crate) fn require(&self, key: &str) -> Result<&'n Node, SpecError> {
        self.get(key).ok_or_else(|| invalid(&self.at, format!("missing required key `{key}`")))
    }

    /// Refuses any key not in `allowed`.
    pub(crate) fn only(&self, allowed: &[&str]) -> Result<(), SpecError> {
        match self.entries.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((key, _)) => Err(invalid(&self.at, format!("unknown key `{key}`; expected {}", quoted(allowed)))),
            None => Ok(()),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'n (String, Node)> {
        self.entries.iter()
    }
}

fn quoted(keys: &[&str]) -> String {
    keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

pub(crate) fn string<'n>(node: &'n Node, at: &str) -> Result<&'n str, SpecError> {
    match node {
        Node::String(s) => Ok(s),
        other => Err(invalid(at, format!("expected a string, found {}", other.kind()))),
    }
}

/// A constant, default or lookup result: a string, integer, boolean or null.
pub(crate) fn scalar(node: &Node, at: &str) -> Result<Value, SpecError> {
    match node {
        Node::Null => Ok(Value::Null),
        Node::Bool(b) => Ok(Value::Bool(*b)),
        Node::Integer(n) => Ok(Value::Number(n.to_string())),
        Node::String(s) => Ok(Value::String(s.clone())),
        Node::Fractional => Err(invalid(
            at,
            "a fractional JSON number is read as a float and may lose digits; write it as a string, and add a `decimal` transform for a JSON number",
        )),
        Node::Array(_) | Node::Object(_) => {
            Err(invalid(at, format!("expected a string, number, boolean or null, found {}", node.kind())))
        }
    }
}

/// The whole document: `{"version": 1, "target": {...}}`, with an optional `description`.
pub(crate) fn compile(doc: &Node) -> Result<Fields, SpecError> {
    compile_in(doc, Scope::TOP)
}

/// A document whose `order.…` paths read another system's record (see [`Scope::INBOUND`]).
pub(crate) fn compile_inbound(doc: &Node) -> Result<Fields, SpecError> {
    compile_in(doc, Scope::INBOUND)
}

fn compile_in(doc: &Node, scope: Scope) -> Result<Fields, SpecError> {
    let top = Entries::of(doc, "(top level)")?;
    top.only(&["version", "description", "target"])?;
    match top.require("version")? {
        Node::Integer(VERSION) => {}
        other => {
            return Err(invalid("version", format!("expected {VERSION}, found {}", other.kind())));
        }
    }
    if let Some(d) = top.get("description") {
        string(d, "description")?;
    }
    compile_fields(top.require("target")?, "target", scope)
}

fn compile_fields(node: &Node, at: &str, scope: Scope) -> Result<Fields, SpecError> {
    let Node::Object(entries) = node else {
        return Err(invalid(at, format!("expected an object of target fields, found {}", node.kind())));
    };
    if entries.is_empty() {
        return Err(invalid(at, "no target fields"));
    }
    let mut fields = Vec::with_capacity(entries.len());
    for (i, (name, spec)) in entries.iter().enumerate() {
        if entries[..i].iter().any(|(k, _)| k == name) {
            return Err(invalid(at, format!("duplicate target field `{name}`")));
        }
        let field_at = format!("{at}.{name}");
        if name.is_empty() {
            return Err(invalid(&field_at, "a target field needs a name"));
        }
        fields.push((name.clone(), compile_target(spec, &field_at, scope)?));
    }
    Ok(Fields(fields))
}

fn compile_target(node: &Node, at: &str, scope: Scope) -> Result<Target, SpecError> {
    let entries = Entries::of(node, at)?;
    if let Some(each) = entries.get("each") {
        entries.only(&["each", "fields"])?;
        let each_at = format!("{at}.each");
        let source = SourcePath::parse(string(each, &each_at)?, scope).map_err(|p| invalid(&each_at, p))?;
        let inner = source.each_scope().map_err(|p| invalid(&each_at, p))?;
        let fields = compile_fields(entries.require("fields")?, &format!("{at}.fields"), inner)?;
        return Ok(Target::Each { source, fields });
    }
    if let Some(fields) = entries.get("fields") {
        entries.only(&["fields"])?;
        return Ok(Target::Object(compile_fields(fields, &format!("{at}.fields"), scope)?));
    }
    compile_field(entries, at, scope).map(Target::Field)
}

fn compile_field(entries: Entries<'_>, at: &str, scope: Scope) -> Result<FieldSpec, SpecError> {
    let known = |k: &str| SOURCES.contains(&k) || transform::NAMES.contains(&k) || MODIFIERS.contains(&k);
    if let Some((key, _)) = entries.iter().find(|(k, _)| !known(k)) {
        return Err(invalid(
            at,
            format!(
                "unknown transform or key `{key}`; a field takes one source ({}), at most one transform ({}), and `default` or `optional`",
                quoted(&SOURCES),
                quoted(&transform::NAMES)
            ),
        ));
    }
    let source = match one_of(&entries, &SOURCES, at, "source")? {
        None => {
            return Err(invalid(at, format!("missing required key: one of {}", quoted(&SOURCES))));
        }
        Some(("path", node)) => {
            let path_at = format!("{at}.path");
            Source::Path(SourcePath::parse(string(node, &path_at)?, scope).map_err(|p| invalid(&path_at, p))?)
        }
        Some(("constant", node)) => Source::Constant(scalar(node, &format!("{at}.constant"))?),
        Some((_, node)) => compile_concat(node, &format!("{at}.concat"), scope)?,
    };
    let transform = one_of(&entries, &transform::NAMES, at, "transform")?
        .map(|(name, node)| Transform::compile(name, node, &format!("{at}.{name}")))
        .transpose()?;
    let when_absent = match (entries.get("default"), entries.get("optional")) {
        (Some(_), Some(_)) => {
            return Err(invalid(at, "`default` and `optional` exclude each other"));
        }
        (Some(d), None) => WhenAbsent::Default(scalar(d, &format!("{at}.default"))?),
        (None, Some(Node::Bool(true))) => WhenAbsent::Omit,
        (None, Some(Node::Bool(false)) | None) => WhenAbsent::Fail,
        (None, Some(other)) => {
            return Err(invalid(&format!("{at}.optional"), format!("expected true or false, found {}", other.kind())));
        }
    };
    Ok(FieldSpec { source, transform, when_absent })
}

/// The one key of `names` present, if any; two of them is an error.
fn one_of<'n>(
    entries: &Entries<'n>,
    names: &[&'static str],
    at: &str,
    what: &str,
) -> Result<Option<(&'static str, &'n Node)>, SpecError> {
    let present: Vec<_> = names.iter().filter_map(|n| entries.get(n).map(|node| (*n, node))).collect();
    match present[..] {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        [(a, _), (b, _), ..] => Err(invalid(at, format!("a field takes one {what}, found `{a}` and `{b}`"))),
    }
}

fn compile_concat(node: &Node, at: &str, scope: Scope) -> Result<Source, SpecError> {
    let entries = Entries::of(node, at)?;
    entries.only(&["parts", "separator"])?;
    let parts_at = format!("{at}.parts");
    let parts = match entries.require("parts")? {
        Node::Array(parts) if !parts.is_empty() => parts,
        Node::Array(_) => return Err(invalid(&parts_at, "no parts to concatenate")),
        other => {
            return Err(invalid(&parts_at, format!("expected a list of fields, found {}", other.kind())));
        }
    };
    let parts = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let part_at = format!("{parts_at}[{i}]");
            compile_field(Entries::of(part, &part_at)?, &part_at, scope)
        })
        .collect::<Result<_, _>>()?;
    let separator = match entries.get("separator") {
        Some(s) => string(s, &format!("{at}.separator"))?.to_owned(),
        None => String::new(),
    };
    Ok(Source::Concat { parts, separator })
}
