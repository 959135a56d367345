//! The `query:` argument of `orders` in Shopify's search syntax, for the terms a poller sends:
//! `updated_at` and `created_at` compared with `:>`, `:>=`, `:<`, `:<=` or `:` to a date-time
//! (RFC 3339; without an offset, or a bare date, it is UTC, the double's shop time zone), and
//! `name` (`#1001` or `1001`). Terms are joined by spaces or `AND`.
//!
//! As Shopify does, a term on a field it does not know is ignored and named in a warning under
//! `extensions.search`. A field Shopify filters on and the double does not (`status`,
//! `financial_status`, …), `OR`, `NOT`, a leading `-` and free text are refused with an error,
//! where Shopify would search: the double cannot pretend to.

use serde_json::{Value, json};

use crate::shop::rfc3339_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    Before,
    AtOrBefore,
    At,
    AtOrAfter,
    After,
}

impl Compare {
    fn holds(self, value: u64, bound: u64) -> bool {
        match self {
            Self::Before => value < bound,
            Self::AtOrBefore => value <= bound,
            Self::At => value == bound,
            Self::AtOrAfter => value >= bound,
            Self::After => value > bound,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    UpdatedAt(Compare, u64),
    CreatedAt(Compare, u64),
    Name(u64),
}

/// A parsed search: the terms every order must meet, and the warnings for ignored ones.
#[derive(Debug, Default)]
pub(crate) struct Search {
    terms: Vec<Term>,
    pub(crate) warnings: Vec<Value>,
}

/// What a term is compared with, per order.
pub(crate) struct Candidate {
    pub(crate) created_ms: u64,
    pub(crate) updated_ms: u64,
    pub(crate) number: u64,
}

impl Search {
    pub(crate) fn matches(&self, order: &Candidate) -> bool {
        self.terms.iter().all(|term| match *term {
            Term::UpdatedAt(compare, bound) => compare.holds(order.updated_ms / 1_000, bound / 1_000),
            Term::CreatedAt(compare, bound) => compare.holds(order.created_ms / 1_000, bound / 1_000),
            Term::Name(number) => order.number == number,
        })
    }
}

/// Fields of Shopify's order search that the double does not filter on.
const UNSERVED: [&str; 8] =
    ["status", "financial_status", "fulfillment_status", "id", "email", "tag", "sku", "processed_at"];

pub(crate) fn parse(query: &str) -> Result<Search, String> {
    let mut search = Search::default();
    for word in words(query)? {
        if word == "AND" {
            continue;
        }
        if word == "OR" || word == "NOT" || word.starts_with('-') {
            return Err(format!("The Shopify double does not serve `{word}` in a search query"));
        }
        let Some((field, rest)) = word.split_once(':') else {
            return Err(format!("The Shopify double does not serve free-text search (`{word}`)"));
        };
        let (compare, value) = comparison(rest);
        let value = unquote(value);
        let term = match field {
            "updated_at" => Term::UpdatedAt(compare, instant(value)?),
            "created_at" => Term::CreatedAt(compare, instant(value)?),
            "name" => {
                Term::Name(value.trim_start_matches('#').parse().map_err(|_| format!("Bad order name `{value}`"))?)
            }
            other if UNSERVED.contains(&other) => {
                return Err(format!("The Shopify double does not filter orders on `{other}`"));
            }
            other => {
                search.warnings.push(json!({"field": other, "message": "Invalid search field for this query."}));
                continue;
            }
        };
        search.terms.push(term);
    }
    Ok(search)
}

/// The query split on white space outside quotes.
fn words(query: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    for c in query.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                word.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                word.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (_, c) => word.push(c),
        }
    }
    if quote.is_some() {
        return Err(format!("Unbalanced quote in search query `{query}`"));
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

fn comparison(rest: &str) -> (Compare, &str) {
    for (prefix, compare) in
        [(">=", Compare::AtOrAfter), ("<=", Compare::AtOrBefore), (">", Compare::After), ("<", Compare::Before)]
    {
        if let Some(value) = rest.strip_prefix(prefix) {
            return (compare, value);
        }
    }
    (Compare::At, rest)
}

fn unquote(value: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

/// Milliseconds of a date-time or date; without an offset it is UTC.
fn instant(value: &str) -> Result<u64, String> {
    let with_zone = match value.len() {
        10 => format!("{value}T00:00:00Z"),
        19 => format!("{value}Z"),
        _ => value.to_owned(),
    };
    rfc3339_ms(&with_zone).ok_or_else(|| format!("Bad date-time `{value}` in search query"))
}
