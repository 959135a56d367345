//! The part of encoding_rs that lambda_http 1.3 calls when it turns a handler's text response
//! into the string API Gateway takes: [`Encoding::for_label`] on the response's `charset`,
//! [`UTF_8`] when the label names nothing, and [`Encoding::decode`].
//!
//! Why not encoding_rs itself: `decode` dispatches on the encoding at run time, so the tables
//! and decoders of all 40 WHATWG encodings were linked into every function that answers HTTP
//! (0.16 MB of each, docs/PERFORMANCE.md "Size"), while orderflow's responses are UTF-8.
//!
//! What is kept of encoding_rs's behaviour: the WHATWG labels of UTF-8, UTF-16LE and UTF-16BE
//! (ASCII case and surrounding whitespace ignored), decoding with a byte-order mark taking
//! precedence over the label and removed, and malformed input replaced with U+FFFD. What is
//! not: the legacy encodings. `for_label` answers `None` for their labels, and lambda_http then
//! decodes as UTF-8. No orderflow handler labels a body with one.

use std::borrow::Cow;

/// One of the encodings this stand-in decodes.
#[derive(Debug, PartialEq, Eq)]
pub struct Encoding {
    form: Form,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Utf8,
    Utf16Le,
    Utf16Be,
}

static UTF_8_INIT: Encoding = Encoding { form: Form::Utf8 };
static UTF_16LE_INIT: Encoding = Encoding { form: Form::Utf16Le };
static UTF_16BE_INIT: Encoding = Encoding { form: Form::Utf16Be };

pub static UTF_8: &Encoding = &UTF_8_INIT;
static UTF_16LE: &Encoding = &UTF_16LE_INIT;
static UTF_16BE: &Encoding = &UTF_16BE_INIT;

/// The WHATWG Encoding Standard's labels of the three encodings (encoding.spec.whatwg.org,
/// "Encodings" table), lower case.
const LABELS: &[(&str, &Encoding)] = &[
    ("unicode-1-1-utf-8", &UTF_8_INIT),
    ("unicode11utf8", &UTF_8_INIT),
    ("unicode20utf8", &UTF_8_INIT),
    ("utf-8", &UTF_8_INIT),
    ("utf8", &UTF_8_INIT),
    ("x-unicode20utf8", &UTF_8_INIT),
    ("csunicode", &UTF_16LE_INIT),
    ("iso-10646-ucs-2", &UTF_16LE_INIT),
    ("ucs-2", &UTF_16LE_INIT),
    ("unicode", &UTF_16LE_INIT),
    ("unicodefeff", &UTF_16LE_INIT),
    ("utf-16", &UTF_16LE_INIT),
    ("utf-16le", &UTF_16LE_INIT),
    ("unicodefffe", &UTF_16BE_INIT),
    ("utf-16be", &UTF_16BE_INIT),
];

impl Encoding {
    /// The encoding a label names, as the WHATWG "get an encoding" algorithm finds it; `None`
    /// for labels of the encodings this stand-in does not carry, and for unknown ones.
    pub fn for_label(label: &[u8]) -> Option<&'static Encoding> {
        let label = label.trim_ascii();
        LABELS.iter().find(|(known, _)| known.as_bytes().eq_ignore_ascii_case(label)).map(|(_, encoding)| *encoding)
    }

    /// The encoding a byte-order mark at the start of `bytes` names, and the mark's length.
    fn for_bom(bytes: &[u8]) -> Option<(&'static Encoding, usize)> {
        match bytes {
            [0xEF, 0xBB, 0xBF, ..] => Some((UTF_8, 3)),
            [0xFF, 0xFE, ..] => Some((UTF_16LE, 2)),
            [0xFE, 0xFF, ..] => Some((UTF_16BE, 2)),
            _ => None,
        }
    }

    /// `bytes` decoded whole: the encoding a byte-order mark names, else this one, without the
    /// mark; malformed sequences replaced with U+FFFD. Also the encoding used, and whether
    /// anything was replaced.
    pub fn decode<'a>(&'static self, bytes: &'a [u8]) -> (Cow<'a, str>, &'static Encoding, bool) {
        let (encoding, bytes) = match Encoding::for_bom(bytes) {
            Some((encoding, length)) => (encoding, &bytes[length..]),
            None => (self, bytes),
        };
        let (text, had_errors) = match encoding.form {
            Form::Utf8 => match String::from_utf8_lossy(bytes) {
                Cow::Borrowed(text) => (Cow::Borrowed(text), false),
                Cow::Owned(text) => (Cow::Owned(text), true),
            },
            Form::Utf16Le => utf16(bytes, u16::from_le_bytes),
            Form::Utf16Be => utf16(bytes, u16::from_be_bytes),
        };
        (text, encoding, had_errors)
    }
}

/// UTF-16 code units decoded, an unpaired surrogate or a trailing odd byte as U+FFFD.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> (Cow<'static, str>, bool) {
    let pairs = bytes.chunks_exact(2);
    let odd_byte = !pairs.remainder().is_empty();
    let mut had_errors = odd_byte;
    let mut text = String::with_capacity(bytes.len() / 2);
    for decoded in char::decode_utf16(pairs.map(|pair| unit([pair[0], pair[1]]))) {
        text.push(decoded.unwrap_or_else(|_| {
            had_errors = true;
            char::REPLACEMENT_CHARACTER
        }));
    }
    if odd_byte {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    (Cow::Owned(text), had_errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_their_encoding_in_any_ascii_case_and_legacy_ones_name_none() {
        assert_eq!(Encoding::for_label(b"utf-8"), Some(UTF_8));
        assert_eq!(Encoding::for_label(b" UTF8\t"), Some(UTF_8));
        assert_eq!(Encoding::for_label(b"Unicode-1-1-UTF-8"), Some(UTF_8));
        assert_eq!(Encoding::for_label(b"utf-16"), Some(UTF_16LE));
        assert_eq!(Encoding::for_label(b"UTF-16BE"), Some(UTF_16BE));
        for legacy in [&b"iso-8859-1"[..], b"windows-1252", b"shift_jis", b"utf-7", b"", b"utf-8x"] {
            assert_eq!(Encoding::for_label(legacy), None, "{}", String::from_utf8_lossy(legacy));
        }
    }

    #[test]
    fn valid_utf8_is_borrowed_and_malformed_bytes_become_replacement_characters() {
        let (text, encoding, had_errors) = UTF_8.decode("Orden nº 7 — ok".as_bytes());
        assert!(matches!(text, Cow::Borrowed("Orden nº 7 — ok")));
        assert_eq!((encoding, had_errors), (UTF_8, false));

        let (text, _, had_errors) = UTF_8.decode(b"a\xFFb\xE2\x82");
        assert_eq!((text.as_ref(), had_errors), ("a\u{FFFD}b\u{FFFD}", true));
    }

    #[test]
    fn a_byte_order_mark_wins_over_the_label_and_is_removed() {
        let (text, encoding, _) = UTF_16LE.decode(b"\xEF\xBB\xBFhi");
        assert_eq!((text.as_ref(), encoding), ("hi", UTF_8));

        let (text, encoding, had_errors) = UTF_8.decode(b"\xFF\xFEh\x00\xED\x00");
        assert_eq!((text.as_ref(), encoding, had_errors), ("hí", UTF_16LE, false));

        let (text, encoding, _) = UTF_8.decode(b"\xFE\xFF\x00h\x00\xED");
        assert_eq!((text.as_ref(), encoding), ("hí", UTF_16BE));
    }

    #[test]
    fn utf16_marks_unpaired_surrogates_and_an_odd_last_byte() {
        // "a", an unpaired high surrogate, "b", then half a code unit.
        let (text, _, had_errors) = UTF_16LE.decode(b"a\x00\x00\xD8b\x00c");
        assert_eq!((text.as_ref(), had_errors), ("a\u{FFFD}b\u{FFFD}", true));
        // A surrogate pair: U+1F4E6.
        let (text, _, had_errors) = UTF_16BE.decode(b"\xD8\x3D\xDC\xE6");
        assert_eq!((text.as_ref(), had_errors), ("\u{1F4E6}", false));
    }
}
