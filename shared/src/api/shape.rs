//! Where a body sent an array in a place the type read as an object.
//!
//! serde reads a struct from an array that lists its fields in order, which no client means to
//! send. The value read is walked as it serialises, alongside the body as sent, and the first
//! place where it writes an object (a struct, a map, an enum variant with content) and the body
//! holds an array is the answer. The body is read for its arrays and objects only ([`Sent`]),
//! and the value read is never written out: parsing the body as a `serde_json::Value` and
//! writing the value read as another to compare them took more than half of the Orders API's
//! body reading.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, ser};

/// A body's arrays and objects, with the names of the members; every other value is a scalar.
/// Names borrow from the body unless they hold escapes.
#[derive(Debug)]
pub(super) enum Sent<'b> {
    Scalar,
    Array(Vec<Sent<'b>>),
    Object(Vec<(Cow<'b, str>, Sent<'b>)>),
}

impl Sent<'_> {
    fn elements(&self) -> Option<&[Self]> {
        match self {
            Sent::Array(elements) => Some(elements),
            _ => None,
        }
    }

    /// The member `name` of an object (the last one, as serde_json keeps a repeated name).
    fn get(&self, name: &str) -> Option<&Self> {
        match self {
            Sent::Object(members) => members.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de: 'b, 'b> Deserialize<'de> for Sent<'b> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SentVisitor)
    }
}

struct SentVisitor;

impl<'de> Visitor<'de> for SentVisitor {
    type Value = Sent<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Sent<'de>, E> {
        Ok(Sent::Scalar)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Sent<'de>, E> {
        Ok(Sent::Scalar)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Sent<'de>, E> {
        Ok(Sent::Scalar)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Sent<'de>, E> {
        Ok(Sent::Scalar)
    }
    fn visit_str<E>(self, _: &str) -> Result<Sent<'de>, E> {
        Ok(Sent::Scalar)
    }
    fn visit_unit<E>(self) -> Result<Sent<'de>, E> {
        Ok(Sent::Scalar)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Sent<'de>, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(element) = seq.next_element()? {
            elements.push(element);
        }
        Ok(Sent::Array(elements))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Sent<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((Name(name), value)) = map.next_entry()? {
            members.push((name, value));
        }
        Ok(Sent::Object(members))
    }
}

/// A member name, borrowed from the body when it has no escapes (serde's own `Cow<str>`
/// always copies).
struct Name<'b>(Cow<'b, str>);

impl<'de: 'b, 'b> Deserialize<'de> for Name<'b> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(name)))
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(name.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// The path of the first array that stands where `read` has an object ("" for the body itself),
/// or `None` when every object of `read` was an object in `sent`; `Err` with the message of a
/// value that does not serialise, which the body is refused for as before.
pub(super) fn array_for_object<T: Serialize>(sent: &Sent<'_>, read: &T) -> Result<Option<String>, String> {
    match read.serialize(Walk { sent, at: At::Body }) {
        Ok(()) => Ok(None),
        Err(Stop::ArrayForObject(path)) => Ok(Some(path)),
        Err(Stop::Custom(message)) => Err(message),
    }
}

/// Where in the body, as `lines[2].unit`; written out only when something is found.
#[derive(Clone, Copy)]
enum At<'p> {
    Body,
    Field(&'p At<'p>, &'p str),
    Index(&'p At<'p>, usize),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Body => Ok(()),
            At::Field(At::Body, name) => f.write_str(name),
            At::Field(parent, name) => write!(f, "{parent}.{name}"),
            At::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

#[derive(Debug)]
enum Stop {
    ArrayForObject(String),
    Custom(String),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::ArrayForObject(path) => write!(f, "{path:?}: expected a JSON object, found an array"),
            Stop::Custom(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<M: fmt::Display>(message: M) -> Self {
        Stop::Custom(message.to_string())
    }
}

/// One value of `read` and what the body sent in its place.
struct Walk<'s, 'p> {
    sent: &'s Sent<'s>,
    at: At<'p>,
}

impl<'s, 'p> Walk<'s, 'p> {
    /// An object is written here: the body must not hold an array.
    fn object(&self) -> Result<Members<'s, 'p>, Stop> {
        match self.sent {
            Sent::Array(_) => Err(Stop::ArrayForObject(self.at.to_string())),
            sent => Ok(Members { sent, at: self.at, key: None }),
        }
    }

    /// `{"Variant": …}`: an object, then the variant's content below its name.
    fn variant(&self, variant: &'static str) -> Result<Option<&'s Sent<'s>>, Stop> {
        self.object()?;
        Ok(self.sent.get(variant))
    }
}

/// Checks `value` against `sent` at `at`; below a member the body left out there is nothing to check.
fn below<T: Serialize + ?Sized>(sent: Option<&Sent<'_>>, at: At<'_>, value: &T) -> Result<(), Stop> {
    match sent {
        Some(sent) => value.serialize(Walk { sent, at }),
        None => Ok(()),
    }
}

impl<'s, 'p> ser::Serializer for Walk<'s, 'p> {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Elements<'s, 'p>;
    type SerializeTuple = Elements<'s, 'p>;
    type SerializeTupleStruct = Elements<'s, 'p>;
    type SerializeTupleVariant = Elements<'s, 'p>;
    type SerializeMap = Members<'s, 'p>;
    type SerializeStruct = Members<'s, 'p>;
    type SerializeStructVariant = Members<'s, 'p>;

    fn serialize_bool(self, _: bool) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_char(self, _: char) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        below(self.variant(variant)?, At::Field(&self.at, variant), value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Elements<'s, 'p>, Stop> {
        Ok(Elements { sent: self.sent.elements(), at: self.at, next: 0 })
    }
    fn serialize_tuple(self, len: usize) -> Result<Elements<'s, 'p>, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Elements<'s, 'p>, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Elements<'s, 'p>, Stop> {
        // The elements' paths are reported from the variant's container; tuple variants are
        // not part of any body type.
        let sent = self.variant(variant)?.and_then(Sent::elements);
        Ok(Elements { sent, at: self.at, next: 0 })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Members<'s, 'p>, Stop> {
        self.object()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Members<'s, 'p>, Stop> {
        self.object()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Members<'s, 'p>, Stop> {
        match self.variant(variant)? {
            Some(sent) => Walk { sent, at: self.at }.object(),
            None => Ok(Members { sent: &Sent::Scalar, at: self.at, key: None }),
        }
    }
}

/// The elements of an array, each checked against the body's element at the same index.
struct Elements<'s, 'p> {
    sent: Option<&'s [Sent<'s>]>,
    at: At<'p>,
    next: usize,
}

impl Elements<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let i = self.next;
        self.next += 1;
        below(self.sent.and_then(|sent| sent.get(i)), At::Index(&self.at, i), value)
    }
}

/// Sequences, tuples and their variants are all elements by position.
macro_rules! elements {
    ($($trait:ident :: $method:ident),+) => {$(
        impl ser::$trait for Elements<'_, '_> {
            type Ok = ();
            type Error = Stop;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                self.element(value)
            }
            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        }
    )+};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// The members of an object, each checked against the body's member of the same name.
struct Members<'s, 'p> {
    sent: &'s Sent<'s>,
    at: At<'p>,
    /// A map's key, between `serialize_key` and `serialize_value`.
    key: Option<String>,
}

impl Members<'_, '_> {
    fn member<T: Serialize + ?Sized>(&self, name: &str, value: &T) -> Result<(), Stop> {
        below(self.sent.get(name), At::Field(&self.at, name), value)
    }
}

/// Structs and struct variants are members by name.
macro_rules! members {
    ($($trait:ident),+) => {$(
        impl ser::$trait for Members<'_, '_> {
            type Ok = ();
            type Error = Stop;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result<(), Stop> {
                self.member(name, value)
            }
            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        }
    )+};
}

members!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Members<'_, '_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        // As serde_json writes a key: strings as they are, numbers and bools as their text.
        self.key = Some(match serde_json::to_value(key) {
            Ok(serde_json::Value::String(name)) => name,
            Ok(other) => other.to_string(),
            Err(e) => return Err(ser::Error::custom(e)),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let key = self.key.take().unwrap_or_default();
        self.member(&key, value)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Order {
        key: String,
        #[serde(default)]
        lines: Vec<Line>,
        #[serde(default)]
        by_sku: BTreeMap<String, Line>,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize, Serialize)]
    struct Line {
        sku: String,
        qty: u32,
    }

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Gift(Line),
    }

    /// What serde reads from `body`, and where the walk finds an array standing for an object.
    fn found(body: serde_json::Value) -> Option<String> {
        let read: Order = serde_json::from_value(body.clone()).expect("serde reads it");
        let text = body.to_string();
        array_for_object(&serde_json::from_str(&text).expect("a JSON value"), &read).expect("our types serialise")
    }

    #[test]
    fn each_place_an_object_is_read_from_an_array_is_named() {
        for (body, path) in [
            (json!(["k"]), ""),
            (json!({"key": "k", "lines": [{"sku": "a", "qty": 1}, ["b", 2]]}), "lines[1]"),
            (json!({"key": "k", "by_sku": {"a": ["a", 1]}}), "by_sku.a"),
            (json!({"key": "k", "kind": {"gift": ["a", 1]}}), "kind.gift"),
        ] {
            assert_eq!(found(body.clone()).as_deref(), Some(path), "{body}");
        }
    }

    #[test]
    fn bodies_with_objects_where_objects_belong_pass() {
        let body = json!({
            "key": "k",
            "lines": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}],
            "by_sku": {"a": {"sku": "a", "qty": 1}},
            "kind": {"gift": {"sku": "a", "qty": 1}},
        });
        assert_eq!(found(body), None);
        assert_eq!(found(json!({"key": "k"})), None, "members left out have nothing below them to check");
    }

    #[test]
    fn member_names_with_escapes_are_matched_by_their_text() {
        let text = r#"{"key": "k", "li\u006ees": [["a", 1]]}"#;
        let read: Order = serde_json::from_str(text).expect("serde reads it");
        let sent: Sent = serde_json::from_str(text).expect("a JSON value");
        assert_eq!(array_for_object(&sent, &read).unwrap().as_deref(), Some("lines[0]"));
    }
}
