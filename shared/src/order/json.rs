//! The canonical JSON of a [`CanonicalOrder`], written directly: the same bytes as
//! `serde_json::to_writer` with the derived `Serialize` (the test below holds the two together),
//! at a fraction of the cost. Through serde every key and every value went through the general
//! string escaper, a third of a large order's conversion after parsing; here keys are constants
//! and decimals need no escaping.

/// A field's key as written, `"name":`, put together at compile time.
macro_rules! key {
    ($name:literal) => {
        concat!("\"", $name, "\":")
    };
}

use super::{Address, CanonicalOrder, Decimal, Identifier, OrderLine, Origin, Party, Totals};

pub(super) fn write(order: &CanonicalOrder, out: &mut Vec<u8>) {
    let mut o = Object::open(out);
    o.string(key!("order_key"), order.order_key.as_str());
    o.string(key!("order_number"), &order.order_number);
    o.string(key!("issue_date"), &order.issue_date);
    o.string(key!("currency"), &order.currency);
    o.optional_string(key!("language"), order.language.as_deref());
    o.optional_string(key!("note"), order.note.as_deref());
    o.key(key!("origin"));
    o.out.extend_from_slice(match order.origin {
        Origin::UblXml => b"\"ubl_xml\"",
        Origin::Webhook => b"\"webhook\"",
    });
    o.key(key!("buyer"));
    party(o.out, &order.buyer);
    o.key(key!("seller"));
    party(o.out, &order.seller);
    if let Some(delivery) = &order.delivery {
        o.key(key!("delivery"));
        address(o.out, delivery);
    }
    o.key(key!("lines"));
    array(o.out, &order.lines, line);
    o.key(key!("totals"));
    totals(o.out, &order.totals);
    o.close();
}

fn party(out: &mut Vec<u8>, party: &Party) {
    let mut o = Object::open(out);
    o.string(key!("name"), &party.name);
    if let Some(id) = &party.endpoint_id {
        o.key(key!("endpoint_id"));
        identifier(o.out, id);
    }
    if !party.ids.is_empty() {
        o.key(key!("ids"));
        array(o.out, &party.ids, identifier);
    }
    if let Some(id) = &party.company_id {
        o.key(key!("company_id"));
        identifier(o.out, id);
    }
    o.optional_string(key!("email"), party.email.as_deref());
    if let Some(a) = &party.address {
        o.key(key!("address"));
        address(o.out, a);
    }
    o.close();
}

fn identifier(out: &mut Vec<u8>, id: &Identifier) {
    let mut o = Object::open(out);
    o.optional_string(key!("scheme"), id.scheme.as_deref());
    o.string(key!("value"), &id.value);
    o.close();
}

fn address(out: &mut Vec<u8>, a: &Address) {
    let mut o = Object::open(out);
    o.optional_string(key!("street"), a.street.as_deref());
    o.optional_string(key!("additional_street"), a.additional_street.as_deref());
    o.optional_string(key!("city"), a.city.as_deref());
    o.optional_string(key!("postal_code"), a.postal_code.as_deref());
    o.optional_string(key!("region"), a.region.as_deref());
    o.optional_string(key!("country"), a.country.as_deref());
    o.close();
}

fn line(out: &mut Vec<u8>, l: &OrderLine) {
    let mut o = Object::open(out);
    o.string(key!("line_id"), &l.line_id);
    o.optional_string(key!("sku"), l.sku.as_deref());
    o.string(key!("name"), &l.name);
    o.decimal(key!("quantity"), &l.quantity);
    o.string(key!("unit"), &l.unit);
    o.optional_decimal(key!("price"), l.price.as_ref());
    o.decimal(key!("line_total"), &l.line_total);
    o.close();
}

fn totals(out: &mut Vec<u8>, t: &Totals) {
    let mut o = Object::open(out);
    o.optional_decimal(key!("line_extension"), t.line_extension.as_ref());
    o.optional_decimal(key!("tax_exclusive"), t.tax_exclusive.as_ref());
    o.optional_decimal(key!("tax_inclusive"), t.tax_inclusive.as_ref());
    o.optional_decimal(key!("allowance_total"), t.allowance_total.as_ref());
    o.optional_decimal(key!("charge_total"), t.charge_total.as_ref());
    o.optional_decimal(key!("tax_total"), t.tax_total.as_ref());
    o.decimal(key!("payable"), &t.payable);
    o.close();
}

/// `[…]` with each item written by `write`.
fn array<T>(out: &mut Vec<u8>, items: &[T], write: fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// A JSON object being written: keys are the fields' names, which need no escaping.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// `key` is quoted and has its colon: see [`key!`].
    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.extend_from_slice(key.as_bytes());
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        string(self.out, value);
    }

    fn optional_string(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.string(key, value);
        }
    }

    /// Digits, a sign and a point: nothing to escape.
    fn decimal(&mut self, key: &str, value: &Decimal) {
        self.key(key);
        self.out.push(b'"');
        self.out.extend_from_slice(value.as_bytes());
        self.out.push(b'"');
    }

    fn optional_decimal(&mut self, key: &str, value: Option<&Decimal>) {
        if let Some(value) = value {
            self.decimal(key, value);
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A JSON string escaped as serde_json escapes it: `"` and `\`, control characters as `\n`-style
/// escapes where JSON has one and `\u00XX` (lower-case hex) otherwise; everything else as is.
fn string(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    let bytes = value.as_bytes();
    // Names and ids rarely hold anything to escape: checking first lets them go in one copy.
    if needs_escaping(bytes) {
        escaped(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// Whether `bytes` holds a control character, `"` or `\\`; eight bytes at a time, with the
/// word tricks of "Bit Twiddling Hacks" (`hasless`, `haszero`), which never miss one.
fn needs_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS != 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_ne_bytes(word.try_into().expect("chunks of eight"));
        if w.wrapping_sub(ONES * 0x20) & !w & HIGHS != 0
            || has_zero(w ^ (ONES * u64::from(b'"')))
            || has_zero(w ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0x00..=0x1F => {
                let mut unicode = *b"\\u0000";
                hex::encode_to_slice([b], &mut unicode[4..]).expect("a byte is two hex digits");
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(&unicode);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::super::{
        Address, CanonicalOrder, Decimal, Identifier, OrderKey, OrderLine, Origin, Party, Text, Totals,
    };

    fn serde(order: &CanonicalOrder) -> Vec<u8> {
        serde_json::to_vec(order).unwrap()
    }

    fn text(tag: &str) -> Text {
        // Every character class the escaper tells apart.
        let controls: String = (0u8..0x20).map(char::from).collect();
        format!("{tag} \"quoted\" back\\slash {controls} \u{7f} é ñ 漢 🦀 </script>").into()
    }

    fn some(tag: &str) -> Option<Text> {
        Some(text(tag))
    }

    fn id(tag: &str) -> Identifier {
        Identifier { scheme: some(tag), value: text(tag) }
    }

    fn address(tag: &str) -> Address {
        Address {
            street: some(tag),
            additional_street: some(tag),
            city: some(tag),
            postal_code: some(tag),
            region: some(tag),
            country: some(tag),
        }
    }

    fn dec(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn full() -> CanonicalOrder {
        let party = |tag| Party {
            name: text(tag),
            endpoint_id: Some(id(tag)),
            ids: vec![id(tag), Identifier { scheme: None, value: text(tag) }],
            company_id: Some(id(tag)),
            email: some(tag),
            address: Some(address(tag)),
        };
        let line = |n: &str| OrderLine {
            line_id: text(n),
            sku: some(n),
            name: text(n),
            quantity: dec("-12.50"),
            unit: text(n),
            price: Some(dec("0.001")),
            line_total: dec("9999999999999999999999999999"),
        };
        CanonicalOrder {
            order_key: OrderKey::derive(&Party::named("s"), &Party::named("b"), "PO-1"),
            order_number: text("number"),
            issue_date: text("date"),
            currency: text("currency"),
            language: some("language"),
            note: some("note"),
            origin: Origin::Webhook,
            buyer: party("buyer"),
            seller: party("seller"),
            delivery: Some(address("delivery")),
            lines: vec![line("1"), line("2")],
            totals: Totals {
                line_extension: Some(dec("1")),
                tax_exclusive: Some(dec("2")),
                tax_inclusive: Some(dec("3")),
                allowance_total: Some(dec("4")),
                charge_total: Some(dec("5")),
                tax_total: Some(dec("6")),
                payable: dec("7"),
            },
        }
    }

    #[test]
    fn the_word_check_finds_every_byte_to_escape_wherever_it_is() {
        // Around each byte value, fillers that sit next to the ones looked for or have the top
        // bit set (UTF-8), where the word tricks' borrows could go wrong.
        for filler in [b'a', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xc3, 0xff] {
            for len in 1..=24 {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut bytes = vec![filler; len];
                        bytes[at] = b;
                        let expected = b < 0x20 || b == b'"' || b == b'\\';
                        assert_eq!(super::needs_escaping(&bytes), expected, "{b:#x} at {at} of {len} in {filler:#x}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_field_is_written_as_serde_json_writes_it() {
        let order = full();
        assert_eq!(String::from_utf8(order.to_json()).unwrap(), String::from_utf8(serde(&order)).unwrap());
    }

    #[test]
    fn absent_fields_are_left_out_as_serde_json_leaves_them_out() {
        let mut order = full();
        order.language = None;
        order.note = None;
        order.origin = Origin::UblXml;
        order.buyer = Party::named("");
        order.seller.ids.clear();
        order.seller.address = Some(Address::default());
        order.delivery = None;
        order.lines.truncate(1);
        order.lines[0].sku = None;
        order.lines[0].price = None;
        order.totals = Totals {
            line_extension: None,
            tax_exclusive: None,
            tax_inclusive: None,
            allowance_total: None,
            charge_total: None,
            tax_total: None,
            payable: dec("0"),
        };
        assert_eq!(String::from_utf8(order.to_json()).unwrap(), String::from_utf8(serde(&order)).unwrap());
        order.lines.clear();
        assert_eq!(order.to_json(), serde(&order));
    }
}
