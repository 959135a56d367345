//! The namespace bindings in scope. The same declarations are accepted and refused as by
//! quick-xml's `NamespaceResolver`, with its messages, but each binding is classified as a UBL
//! namespace (or not) when it is declared: an element then compares its few prefix bytes with
//! the one or two prefixes in use instead of resolving its name to a URI and comparing ~70-byte
//! URIs, and a document does not pay for the resolver's own set-up (its built-in bindings,
//! allocations), which was 6 % of converting a one-line order.

use quick_xml::events::BytesStart;
use quick_xml::name::{DEFAULT_MAX_NAMESPACE_BINDINGS, NamespaceError, PrefixDeclaration};

use super::names::Ns;

/// The namespaces the `xml` and `xmlns` prefixes are bound to without being declared.
const XML: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS: &str = "http://www.w3.org/2000/xmlns/";

#[derive(Debug)]
pub(super) struct Namespaces {
    /// The depths of the open elements that opened a scope.
    scopes: Vec<usize>,
    /// Innermost last.
    bindings: Vec<Binding>,
    /// The bindings' prefixes and URIs, end to end.
    text: String,
}

impl Default for Namespaces {
    /// Room for a UBL document's usual declarations up front (the root's three to six, some
    /// 70 bytes each): grown one declaration at a time, they cost a one-line order four
    /// reallocations, ~4 % of its conversion time (docs/PERFORMANCE.md, "The order's text inline").
    fn default() -> Self {
        Self { scopes: Vec::with_capacity(4), bindings: Vec::with_capacity(8), text: String::with_capacity(512) }
    }
}

#[derive(Debug)]
struct Binding {
    /// Of the element that declared it.
    depth: usize,
    start: usize,
    /// 0 for the default namespace.
    prefix_len: usize,
    /// 0 when the declaration undeclares the prefix (`xmlns:p=""`) or the default namespace.
    uri_len: usize,
    ns: Ns,
}

impl Namespaces {
    /// Opens a scope for the element at `depth` with the namespace declarations among its
    /// attributes; as in quick-xml, reading them stops at the first malformed attribute.
    pub(super) fn push(&mut self, e: &BytesStart, depth: usize) -> Result<(), NamespaceError> {
        if self.scopes.len() >= usize::from(u16::MAX) {
            return Err(NamespaceError::TooDeeplyNested(usize::from(u16::MAX)));
        }
        self.scopes.push(depth);
        for attribute in e.attributes().with_checks(false) {
            let Ok(attribute) = attribute else { break };
            if let Some(declaration) = attribute.key.as_namespace_binding() {
                self.declare(declaration, &attribute.value, depth)?;
            }
        }
        Ok(())
    }

    fn declare(&mut self, declaration: PrefixDeclaration, uri: &str, depth: usize) -> Result<(), NamespaceError> {
        let prefix = match declaration {
            PrefixDeclaration::Default => "",
            PrefixDeclaration::Named("xml") if uri == XML => return Ok(()),
            PrefixDeclaration::Named("xml") => return Err(NamespaceError::InvalidXmlPrefixBind(uri.to_owned())),
            PrefixDeclaration::Named("xmlns") => return Err(NamespaceError::InvalidXmlnsPrefixBind(uri.to_owned())),
            PrefixDeclaration::Named(prefix) if uri == XML => {
                return Err(NamespaceError::InvalidPrefixForXml(prefix.to_owned()));
            }
            PrefixDeclaration::Named(prefix) if uri == XMLNS => {
                return Err(NamespaceError::InvalidPrefixForXmlns(prefix.to_owned()));
            }
            // An empty prefix (`xmlns:="…"`) ends up binding the default namespace in quick-xml.
            PrefixDeclaration::Named(prefix) => prefix,
        };
        if self.bindings.len() >= DEFAULT_MAX_NAMESPACE_BINDINGS {
            return Err(NamespaceError::TooManyBindings(DEFAULT_MAX_NAMESPACE_BINDINGS));
        }
        let start = self.text.len();
        self.text.push_str(prefix);
        self.text.push_str(uri);
        self.bindings.push(Binding { depth, start, prefix_len: prefix.len(), uri_len: uri.len(), ns: Ns::of(uri) });
        Ok(())
    }

    /// Closes the element at `depth`, and the scope it opened, if any.
    pub(super) fn close(&mut self, depth: usize) {
        if self.scopes.last() == Some(&depth) {
            self.scopes.pop();
            while let Some(binding) = self.bindings.pop_if(|b| b.depth == depth) {
                self.text.truncate(binding.start);
            }
        }
    }

    /// The class of the namespace of an element with this prefix, or `None` if the prefix is
    /// not declared.
    pub(super) fn class(&self, prefix: Option<&str>) -> Option<Ns> {
        Some(match self.find(prefix)? {
            Found::Binding(b) => b.ns,
            Found::Builtin(_) | Found::Nothing => Ns::Other,
        })
    }

    /// The namespace URI of an element with this prefix, empty for none, or `None` if the prefix
    /// is not declared. Only the root's is needed, to name a wrong one.
    pub(super) fn uri(&self, prefix: Option<&str>) -> Option<&str> {
        Some(match self.find(prefix)? {
            Found::Binding(b) => &self.text[b.start + b.prefix_len..b.start + b.prefix_len + b.uri_len],
            Found::Builtin(uri) => uri,
            Found::Nothing => "",
        })
    }

    // Inlined into the reader, which asks once per element: the call cost more than the lookup
    // (2.5 % of a one-line order's instructions).
    #[inline]
    fn find(&self, prefix: Option<&str>) -> Option<Found<'_>> {
        let Some(prefix) = prefix else {
            // An undeclared default namespace (`xmlns=""`) is the same as none.
            return Some(match self.bindings.iter().rev().find(|b| b.prefix_len == 0) {
                Some(b) if b.uri_len != 0 => Found::Binding(b),
                _ => Found::Nothing,
            });
        };
        // A byte loop: prefixes are a few bytes, shorter than a `memcmp` call's set-up.
        // An empty prefix (`:name`) is never declared: its declaration binds the default namespace.
        let declared = |b: &&Binding| {
            b.prefix_len != 0
                && b.prefix_len == prefix.len()
                && self.text.as_bytes()[b.start..].iter().zip(prefix.as_bytes()).all(|(x, y)| x == y)
        };
        // `xml` and `xmlns` cannot be declared, so looking at the declarations first changes
        // nothing but spares the usual prefixes two comparisons.
        match (self.bindings.iter().rev().find(declared), prefix) {
            (Some(b), _) if b.uri_len != 0 => Some(Found::Binding(b)),
            (Some(_), _) => None,
            (None, "xml") => Some(Found::Builtin(XML)),
            (None, "xmlns") => Some(Found::Builtin(XMLNS)),
            (None, _) => None,
        }
    }
}

/// What a prefix stands for.
enum Found<'b> {
    Binding(&'b Binding),
    /// `xml` or `xmlns`, with its namespace.
    Builtin(&'static str),
    /// No namespace: no prefix and no default namespace.
    Nothing,
}
