//! The streaming walk over the document: encoding checks, the depth limit, namespace scopes,
//! the element path, and the text of the fields the mapping wants. There is no DOM: memory is
//! the path stack plus the values kept.

use std::borrow::Cow;

use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::error::{ConvertError, excerpt, one_line};
use super::fields::{Field, Node, classify};
use super::mapping::OrderBuilder;
use super::names::{ORDER_NS, Tag};
use super::namespaces::Namespaces;
use crate::order::Text;
use crate::text::trim;

/// Feeds the order fields of `xml` to `builder`, refusing the document at the first problem.
pub(super) fn walk(xml: &[u8], max_depth: usize, builder: &mut OrderBuilder) -> Result<(), ConvertError> {
    let (body, offset) = strip_utf8_bom(xml)?;
    Walker {
        reader: Reader::from_reader(body),
        namespaces: Namespaces::default(),
        body,
        offset,
        max_depth,
        builder,
        path: Vec::with_capacity(max_depth.min(32)),
        capture: None,
        piece: None,
        text: String::new(),
        root_closed: false,
    }
    .run()
}

/// Accepts UTF-8 with or without a byte order mark. Other Unicode encodings are recognised by
/// their first bytes (as in XML 1.0 appendix F) so they get a clear refusal rather than a
/// confusing syntax error.
fn strip_utf8_bom(xml: &[u8]) -> Result<(&[u8], u64), ConvertError> {
    let encoding = match xml {
        [0xEF, 0xBB, 0xBF, rest @ ..] => return Ok((rest, 3)),
        [0xFE, 0xFF, ..] | [0x00, b'<', ..] => "UTF-16BE",
        [0xFF, 0xFE, ..] | [b'<', 0x00, ..] => "UTF-16LE",
        [0x00, 0x00, ..] => "UTF-32BE",
        _ => return Ok((xml, 0)),
    };
    Err(ConvertError::UnsupportedEncoding { encoding: encoding.to_owned() })
}

struct Walker<'i, 'b> {
    reader: Reader<&'i [u8]>,
    namespaces: Namespaces,
    body: &'i [u8],
    /// Length of the byte order mark stripped before `body`, so positions count from the file start.
    offset: u64,
    max_depth: usize,
    builder: &'b mut OrderBuilder,
    /// The open elements, root first.
    path: Vec<Tag>,
    /// The field whose text is being collected.
    capture: Option<Capture>,
    /// The field's text while it is one piece of the document, as most are: borrowed, not copied.
    piece: Option<&'i str>,
    /// A field's text once it arrives in more than one piece (around entities, CDATA sections)
    /// or needs a carriage return normalised; reused for every such field.
    text: String,
    root_closed: bool,
}

struct Capture {
    field: Field,
    depth: usize,
    attribute: Option<Text>,
}

impl Walker<'_, '_> {
    fn run(mut self) -> Result<(), ConvertError> {
        loop {
            let start = self.reader.buffer_position();
            let event = self.reader.read_event().map_err(|e| self.xml_error(e))?;
            match event {
                Event::Start(e) => self.open(&e, start)?,
                Event::Empty(e) => {
                    self.open(&e, start)?;
                    self.close()?;
                }
                Event::End(_) => self.close()?,
                Event::Text(t) if self.path.is_empty() => {
                    if !t.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
                        return Err(self.not_xml("text outside the root element", start));
                    }
                }
                Event::Text(t) => {
                    if self.capturing() {
                        // Only a carriage return needs XML 1.0's line-break normalisation; a byte
                        // loop over a field's few bytes finds none sooner than the memchr set-up
                        // inside `xml10_content` does.
                        if t.bytes().any(|b| b == b'\r') {
                            self.spill();
                            self.text.push_str(&t.xml10_content());
                        } else {
                            match t.into_inner() {
                                Cow::Borrowed(s) if self.piece.is_none() && self.text.is_empty() => {
                                    self.piece = Some(s)
                                }
                                other => {
                                    self.spill();
                                    self.text.push_str(&other);
                                }
                            }
                        }
                    }
                }
                Event::CData(c) => {
                    self.inside_root(start)?;
                    if self.capturing() {
                        self.spill();
                        self.text.push_str(&c.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    self.inside_root(start)?;
                    let replacement = self.reference(&r, start)?;
                    if self.capturing() {
                        self.spill();
                        self.text.push(replacement);
                    }
                }
                Event::DocType(_) => {
                    return Err(ConvertError::DtdForbidden { position: self.offset + start });
                }
                Event::Decl(d) => self.check_encoding(&d, start)?,
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => return self.end_of_document(),
            }
        }
    }

    fn open(&mut self, e: &BytesStart, start: u64) -> Result<(), ConvertError> {
        // Checked before anything grows, so absurd nesting costs only the bytes read so far.
        if self.path.len() >= self.max_depth {
            return Err(ConvertError::TooDeep { limit: self.max_depth, position: self.offset + start });
        }
        // A declaration's name is `xmlns` or `xmlns:…`, so a tag without the word declares none
        // and opens no scope (`NsReader` scans every tag's attributes, most UBL elements have
        // none). Only where an `x` starts the word are five bytes compared: a `str` search
        // would set itself up even for no attributes.
        let attributes = e.attributes_raw().as_bytes();
        if attributes.iter().enumerate().any(|(i, &b)| b == b'x' && attributes[i..].starts_with(b"xmlns")) {
            let depth = self.path.len() + 1;
            self.namespaces
                .push(e, depth)
                .map_err(|err| self.not_xml(quick_xml::Error::Namespace(err).to_string(), start))?;
        }
        let name = e.name();
        let qname: &str = name.as_ref();
        // Names are short: a byte loop, not a `str` searcher with its set-up cost.
        let (prefix, local) = match qname.bytes().position(|b| b == b':') {
            Some(colon) => (Some(&qname[..colon]), &qname[colon + 1..]),
            None => (None, qname),
        };
        let Some(namespace) = self.namespaces.class(prefix) else {
            let message = format!("namespace prefix {:?} is not declared", excerpt(prefix.unwrap_or_default()));
            return Err(self.not_xml(message, start));
        };
        if self.path.is_empty() {
            // `class` found the prefix declared, so it has a URI.
            self.check_root(self.namespaces.uri(prefix).unwrap_or_default(), local, start)?;
            self.path.push(Tag::Order);
            return Ok(());
        }
        self.path.push(Tag::of(namespace, local));
        match classify(&self.path[1..]) {
            Some(Node::LineItem) => self.builder.begin_line(),
            Some(Node::Delivery) => self.builder.begin_delivery(),
            Some(Node::Value(field)) => {
                let attribute = match field.attribute() {
                    Some(name) => self.attribute(e, name, start)?,
                    None => None,
                };
                self.text.clear();
                self.piece = None;
                self.capture = Some(Capture { field, depth: self.path.len(), attribute });
            }
            None => {}
        }
        Ok(())
    }

    fn check_root(&self, namespace: &str, local: &str, start: u64) -> Result<(), ConvertError> {
        if self.root_closed {
            return Err(self.not_xml("a second root element", start));
        }
        if namespace != ORDER_NS || local != "Order" {
            // A namespace may hold line breaks; the refusal stays one line like every other.
            let found = match namespace {
                "" => one_line(&excerpt(local)),
                ns => one_line(&excerpt(&format!("{{{ns}}}{local}"))),
            };
            return Err(ConvertError::WrongRoot { found });
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), ConvertError> {
        let depth = self.path.len();
        if let Some(capture) = self.capture.take_if(|c| c.depth == depth) {
            let text = self.piece.take().unwrap_or(&self.text);
            self.builder.set(capture.field, trim(text), capture.attribute)?;
        }
        if matches!(self.path[1..], [Tag::OrderLine, Tag::LineItem]) {
            self.builder.end_line()?;
        }
        self.namespaces.close(depth);
        self.path.pop();
        self.root_closed = self.path.is_empty();
        Ok(())
    }

    /// Copies the borrowed piece into `text`: the field's text continues in another piece.
    fn spill(&mut self) {
        if let Some(piece) = self.piece.take() {
            self.text.push_str(piece);
        }
    }

    /// Whether text here belongs directly to the field being captured.
    fn capturing(&self) -> bool {
        self.capture.as_ref().is_some_and(|c| c.depth == self.path.len())
    }

    fn inside_root(&self, start: u64) -> Result<(), ConvertError> {
        if self.path.is_empty() {
            return Err(self.not_xml("content outside the root element", start));
        }
        Ok(())
    }

    /// Character references and the five predefined entities; without a DTD nothing else exists.
    fn reference(&self, r: &BytesRef, start: u64) -> Result<char, ConvertError> {
        let resolved = match r.resolve_char_ref() {
            Ok(Some(c)) => Some(c),
            Ok(None) => resolve_xml_entity(r).and_then(|s| s.chars().next()),
            Err(_) => None,
        };
        resolved.ok_or_else(|| {
            let message = format!("undefined or invalid reference &{};", excerpt(r));
            self.not_xml(message, start)
        })
    }

    /// The value of an unprefixed attribute (attributes without a prefix have no namespace).
    /// The first occurrence counts: duplicates go unchecked here as on every other element,
    /// whose attributes are never read, and the check cost an allocation per order line.
    fn attribute(&self, e: &BytesStart, name: &str, start: u64) -> Result<Option<Text>, ConvertError> {
        for attribute in e.attributes().with_checks(false) {
            let attribute = attribute.map_err(|err| self.not_xml(err.to_string(), start))?;
            if attribute.key.as_ref() == name {
                let value = attribute
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|err| self.not_xml(err.to_string(), start))?;
                let value = trim(&value);
                return Ok((!value.is_empty()).then(|| Text::from(value)));
            }
        }
        Ok(None)
    }

    fn check_encoding(&self, decl: &BytesDecl, start: u64) -> Result<(), ConvertError> {
        match decl.encoding() {
            Some(Ok(encoding)) if !encoding.eq_ignore_ascii_case("UTF-8") => {
                Err(ConvertError::UnsupportedEncoding { encoding: excerpt(&encoding) })
            }
            Some(Err(err)) => Err(self.not_xml(err.to_string(), start)),
            _ => Ok(()),
        }
    }

    fn end_of_document(&self) -> Result<(), ConvertError> {
        let end = self.body.len() as u64;
        if !self.path.is_empty() {
            let message = format!("unexpected end of document with {} elements still open", self.path.len());
            return Err(self.not_xml(message, end));
        }
        if !self.root_closed {
            let message = if self.body.is_empty() { "document is empty" } else { "no root element" };
            return Err(self.not_xml(message, end));
        }
        Ok(())
    }

    fn xml_error(&self, err: quick_xml::Error) -> ConvertError {
        let position = self.reader.error_position();
        match err {
            // quick-xml validates each piece as it goes, so the first invalid byte of the whole
            // body is the one it tripped over; recomputing gives its exact position.
            quick_xml::Error::Encoding(_) => ConvertError::InvalidUtf8 {
                position: self.offset
                    + std::str::from_utf8(self.body)
                        .map_or_else(|e| e.valid_up_to() as u64, |_| self.reader.buffer_position()),
            },
            // Markup declarations belong in a DTD; quick-xml sees them elsewhere only as bad syntax.
            quick_xml::Error::Syntax(_) if self.is_markup_declaration(position) => {
                ConvertError::DtdForbidden { position: self.offset + position }
            }
            err => self.not_xml(err.to_string(), position),
        }
    }

    fn is_markup_declaration(&self, position: u64) -> bool {
        let rest = usize::try_from(position).ok().and_then(|p| self.body.get(p..)).unwrap_or_default();
        ["<!ENTITY", "<!ELEMENT", "<!ATTLIST", "<!NOTATION"].iter().any(|decl| rest.starts_with(decl.as_bytes()))
    }

    fn not_xml(&self, message: impl AsRef<str>, position: u64) -> ConvertError {
        ConvertError::NotXml { message: one_line(message.as_ref()), position: self.offset + position }
    }
}
