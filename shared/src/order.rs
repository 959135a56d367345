//! The canonical order: the JSON contract every stage after conversion relies on.
//!
//! Amounts and quantities are [`Decimal`] strings that keep the scale of the source
//! document; nothing here ever goes through a float.

mod json;

/// The text of an order's fields: names, ids, codes, address lines, the note.
///
/// Held inline up to 24 bytes, as nearly every UBL value is, and on the heap beyond: as
/// `String`s they cost a one-line order 18 allocations and every order line four, and medium
/// and large orders converted 9–12 % slower (docs/PERFORMANCE.md, "The order's text inline").
/// It reads as a `str` and serialises as one; `Text::from` makes one from a `&str` or a `String`.
pub type Text = compact_str::CompactString;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A decimal number kept as the text it arrived as (`"10.50"` stays `"10.50"`).
///
/// Held inline rather than in a `String`: a sign, 28 digits and a point always fit, so an
/// amount never allocates (a large order has three per line, and allocation was a fifth of
/// the converter's time).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    len: u8,
    /// The text in `..len`, zeros after it (so the derived equality and hash hold).
    text: [u8; Decimal::CAPACITY],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decimal number")]
pub struct NotADecimal(pub String);

impl Decimal {
    /// Accepts an optional sign, digits, and an optional fraction: the XML Schema `decimal` lexical space.
    pub fn parse(text: &str) -> Result<Self, NotADecimal> {
        let t = crate::text::trim(text);
        let kept = t.strip_prefix('+').unwrap_or(t).as_bytes();
        // One pass over the bytes: every order line has three amounts, and `str` searches for
        // the sign and the point cost more than the digits.
        let (digits, points) = unsigned(t.as_bytes())
            .iter()
            .try_fold((0, 0), |(digits, points), &b| match b {
                b'0'..=b'9' => Some((digits + 1, points)),
                b'.' => Some((digits, points + 1)),
                _ => None,
            })
            .ok_or_else(|| NotADecimal(text.to_owned()))?;
        // 28 digits is what rust_decimal holds exactly, so value() never loses precision.
        if digits == 0 || digits > 28 || points > 1 {
            return Err(NotADecimal(text.to_owned()));
        }
        let mut text = [0; Self::CAPACITY];
        text[..kept.len()].copy_from_slice(kept);
        Ok(Self { len: kept.len() as u8, text })
    }

    /// The longest text `parse` admits: a sign, 28 digits and a point.
    const CAPACITY: usize = 30;

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("parse() admits only ASCII")
    }

    fn as_bytes(&self) -> &[u8] {
        &self.text[..usize::from(self.len)]
    }

    /// The exact value, for arithmetic and comparisons: built from the digits `parse` checked
    /// (28 fit in rust_decimal's 96-bit mantissa) rather than by its general string parser.
    pub fn value(&self) -> rust_decimal::Decimal {
        let text = self.as_bytes();
        let (mut mantissa, mut scale, mut fraction) = (0i128, 0, false);
        for &b in unsigned(text) {
            if b == b'.' {
                fraction = true;
            } else {
                mantissa = mantissa * 10 + i128::from(b - b'0');
                scale += u32::from(fraction);
            }
        }
        // A negative zero comes out as zero, as from rust_decimal's parser.
        let sign = if text.first() == Some(&b'-') { -1 } else { 1 };
        rust_decimal::Decimal::from_i128_with_scale(sign * mantissa, scale)
    }

    /// Read off the text, which `parse` normalised (no `+`, trimmed): no arithmetic needed.
    pub fn is_positive(&self) -> bool {
        let text = self.as_str();
        !text.starts_with('-') && text.bytes().any(|b| matches!(b, b'1'..=b'9'))
    }
}

/// The text without its sign, if any.
fn unsigned(text: &[u8]) -> &[u8] {
    match text {
        [b'-' | b'+', rest @ ..] => rest,
        _ => text,
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Decimal").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Decimal {
    type Err = NotADecimal;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Identifies one order across retries and doors: the parties plus the order number.
///
/// Shape: `<sanitised order number>-<16 hex of sha256(seller, buyer, number)>`, readable in
/// logs and safe in a URL path, while two buyers reusing a number get different keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an order key")]
pub struct NotAnOrderKey(pub String);

impl OrderKey {
    pub fn derive(seller: &Party, buyer: &Party, order_number: &str) -> Self {
        // The identities go into the hash piece by piece and only the 8 bytes the key shows are
        // hex-encoded: every conversion derives a key, and building the strings first cost as
        // much as the hash.
        let mut h = Sha256::new();
        for party in [seller, buyer] {
            for piece in party.identity_pieces() {
                h.update(piece.as_bytes());
            }
            h.update([0x1f]);
        }
        h.update(order_number.as_bytes());
        h.update([0x1f]);
        let mut key = String::with_capacity(order_number.len().min(40) + 17);
        key.extend(
            order_number
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
                .take(40),
        );
        key.push('-');
        let mut hex = [0; 16];
        hex::encode_to_slice(&h.finalize()[..8], &mut hex).expect("8 bytes are 16 hex digits");
        key.push_str(std::str::from_utf8(&hex).expect("hex digits are ASCII"));
        Self(key)
    }

    pub fn parse(text: &str) -> Result<Self, NotAnOrderKey> {
        let (head, tail) = text.rsplit_once('-').ok_or_else(|| NotAnOrderKey(text.to_owned()))?;
        let head_ok = head.len() <= 40 && head.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let tail_ok = tail.len() == 16 && tail.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if head_ok && tail_ok { Ok(Self(text.to_owned())) } else { Err(NotAnOrderKey(text.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OrderKey {
    type Error = NotAnOrderKey;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OrderKey> for String {
    fn from(k: OrderKey) -> Self {
        k.0
    }
}

/// An identifier with the scheme that issued it (a GLN is scheme `0088`, a Chilean RUT `CL:RUT`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<Text>,
    pub value: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_street: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Text>,
}

/// Buyer or seller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub name: Text,
    /// Electronic address (`cbc:EndpointID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<Identifier>,
    /// `cac:PartyIdentification/cbc:ID`, in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<Identifier>,
    /// Legal registration (`cac:PartyLegalEntity/cbc:CompanyID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

impl Party {
    pub fn named(name: impl Into<Text>) -> Self {
        Self { name: name.into(), endpoint_id: None, ids: Vec::new(), company_id: None, email: None, address: None }
    }

    /// The most stable identifier the document gives, falling back to the name.
    pub fn identity(&self) -> String {
        self.identity_pieces().concat()
    }

    /// [`Self::identity`] in pieces: `scheme:value`, `value` or `name:name`.
    fn identity_pieces(&self) -> [&str; 3] {
        match self.endpoint_id.as_ref().or(self.ids.first()).or(self.company_id.as_ref()) {
            Some(Identifier { scheme: Some(scheme), value }) => [scheme, ":", value],
            Some(Identifier { scheme: None, value }) => ["", "", value],
            None => ["name:", "", &self.name],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub line_id: Text,
    /// The seller's item id when the document has one, else the buyer's or standard id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Text>,
    pub name: Text,
    pub quantity: Decimal,
    /// UN/ECE Rec 20 unit code, e.g. `EA`, `KGM`, `C62`.
    pub unit: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    pub line_total: Decimal,
}

/// `cac:AnticipatedMonetaryTotal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_extension: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_exclusive: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_inclusive: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_total: Option<Decimal>,
    pub payable: Decimal,
}

/// Where the order came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    UblXml,
    Webhook,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanonicalOrder {
    pub order_key: OrderKey,
    pub order_number: Text,
    /// ISO 8601 date, `YYYY-MM-DD`.
    pub issue_date: Text,
    /// ISO 4217 code.
    pub currency: Text,
    /// BCP 47 tag for customer communication, when the order states one (`cbc:LanguageID`-like).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
    pub origin: Origin,
    pub buyer: Party,
    pub seller: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Address>,
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
}

impl CanonicalOrder {
    /// The canonical JSON bytes; stable for identical content, so its hash deduplicates.
    pub fn to_json(&self) -> Vec<u8> {
        // Sized for a typical line up front, so a large order is not copied on every regrowth.
        const FIXED: usize = 1024;
        const PER_LINE: usize = 256;
        let mut json = Vec::with_capacity(FIXED + PER_LINE * self.lines.len());
        json::write(self, &mut json);
        json
    }

    /// The same order under another number, and so under the key derived from it: the key is
    /// never set apart from the number (`validate` refuses an order whose key does not match).
    pub fn renumber(&mut self, number: impl Into<Text>) {
        self.order_number = number.into();
        self.order_key = OrderKey::derive(&self.seller, &self.buyer, &self.order_number);
    }

    /// The invariants the parser guarantees, checked again for orders that arrive as JSON.
    pub fn validate(&self) -> Result<(), String> {
        let expected = OrderKey::derive(&self.seller, &self.buyer, &self.order_number);
        if self.order_key != expected {
            return Err(format!(
                "order_key {} does not match the parties and order number (expected {expected})",
                self.order_key
            ));
        }
        if self.order_number.trim().is_empty() {
            return Err("order_number is empty".into());
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!("currency {:?} is not an ISO 4217 code", self.currency));
        }
        if time::Date::parse(&self.issue_date, time::macros::format_description!("[year]-[month]-[day]")).is_err() {
            return Err(format!("issue_date {:?} is not a YYYY-MM-DD date", self.issue_date));
        }
        if self.lines.is_empty() {
            return Err("the order has no lines".into());
        }
        let mut ids = std::collections::HashSet::new();
        for line in &self.lines {
            if !ids.insert(line.line_id.as_str()) {
                return Err(format!("line id {} appears twice", line.line_id));
            }
            if !line.quantity.is_positive() {
                return Err(format!("line {}: quantity {} is not positive", line.line_id, line.quantity));
            }
        }
        Ok(())
    }

    /// Hex SHA-256 of the canonical JSON: the content fingerprint used for dedup and conflicts.
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.to_json()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_keeps_source_scale() {
        assert_eq!(Decimal::parse("10.50").unwrap().as_str(), "10.50");
        assert_eq!(Decimal::parse(" +3 ").unwrap().as_str(), "3");
        assert_eq!(Decimal::parse(".5").unwrap().value().to_string(), "0.5");
    }

    #[test]
    fn decimal_value_is_what_rust_decimal_reads_in_the_text() {
        for text in [
            "0",
            "-0",
            "-0.00",
            "+0",
            ".5",
            "5.",
            "10.50",
            "-10.50",
            "007",
            ".0000000000000000000000000001",
            "9999999999999999999999999999",
            "-9999999999999999999999999999",
            "-99999999999999.99999999999999",
            ".9999999999999999999999999999",
            "1234567890123456789.012345678",
        ] {
            let decimal = Decimal::parse(text).unwrap();
            let expected = rust_decimal::Decimal::from_str_exact(decimal.as_str()).unwrap();
            // The same number, scale and sign (zero is never negative), so sums print the same.
            assert_eq!(decimal.value().serialize(), expected.serialize(), "{text}");
            assert_eq!(decimal.value().to_string(), expected.to_string(), "{text}");
        }
    }

    #[test]
    fn decimal_is_positive_only_above_zero() {
        for (text, positive) in [
            ("1", true),
            ("0.001", true),
            ("+2.50", true),
            ("0", false),
            ("-0.00", false),
            (".0", false),
            ("-3", false),
        ] {
            assert_eq!(Decimal::parse(text).unwrap().is_positive(), positive, "{text}");
        }
    }

    #[test]
    fn the_longest_decimals_fit_and_one_digit_more_is_refused() {
        let longest = format!("-{}.{}", "9".repeat(14), "1".repeat(14));
        assert_eq!(Decimal::parse(&longest).unwrap().as_str(), longest);
        assert_eq!(Decimal::parse(&format!("+{}", "7".repeat(28))).unwrap().as_str(), "7".repeat(28));
        assert!(Decimal::parse(&format!("-{}.{}", "9".repeat(15), "1".repeat(14))).is_err());
        assert_eq!(Decimal::parse("1.50").unwrap(), Decimal::parse(" 1.50 ").unwrap());
        assert_ne!(Decimal::parse("1.50").unwrap(), Decimal::parse("1.5").unwrap());
    }

    #[test]
    fn decimal_rejects_non_numbers() {
        for bad in ["", "-", ".", "-.", "1e5", "1,5", "ten", "1.2.3", "1..2", "NaN", "0x10", "+-1", "-+1", "--1", "1-"]
        {
            assert!(Decimal::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn order_key_differs_between_buyers_with_the_same_number() {
        let seller = Party::named("Acme");
        let a = OrderKey::derive(&seller, &Party::named("Buyer A"), "PO-1");
        let b = OrderKey::derive(&seller, &Party::named("Buyer B"), "PO-1");
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("PO-1-"));
        assert_eq!(OrderKey::parse(a.as_str()).unwrap(), a);
    }

    /// Keys already stored must keep matching: each kind of identity, pinned.
    #[test]
    fn order_keys_are_stable() {
        let id =
            |scheme: Option<&str>, value: &str| Identifier { scheme: scheme.map(Text::from), value: Text::from(value) };
        let mut seller = Party::named("Acme S.A.");
        let mut buyer = Party::named("Büyer");
        assert_eq!(OrderKey::derive(&seller, &buyer, "PO-1").as_str(), "PO-1-62bff6c8f9258c1c");
        assert_eq!(OrderKey::derive(&seller, &buyer, "").as_str(), "-ddc28d42e3db395e");
        seller.endpoint_id = Some(id(Some("0088"), "123"));
        assert_eq!(OrderKey::derive(&seller, &buyer, "ñ/2026 #7?x").as_str(), "__2026__7_x-6d71ab099e428c69");
        buyer.ids = vec![id(None, "B-1"), id(Some("x"), "y")];
        assert_eq!(
            OrderKey::derive(&seller, &buyer, &"x".repeat(50)).as_str(),
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-4289e454a0c94c37"
        );
        seller.endpoint_id = None;
        seller.company_id = Some(id(Some("CL:RUT"), "76.1-2"));
        assert_eq!(
            OrderKey::derive(&seller, &buyer, &"é".repeat(45)).as_str(),
            "________________________________________-5b80beba8da678a6"
        );
        assert_eq!(seller.identity(), "CL:RUT:76.1-2");
        assert_eq!(buyer.identity(), "B-1");
        assert_eq!(Party::named("N").identity(), "name:N");
    }

    #[test]
    fn order_key_is_url_safe_for_any_order_number() {
        let k = OrderKey::derive(&Party::named("s"), &Party::named("b"), "PO/2026 #7?x");
        assert!(k.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert!(OrderKey::parse("../etc/passwd").is_err());
    }
}
