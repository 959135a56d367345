//! The hostile-input corpus for the converter: every file in `events/orders/malformed` plus cases
//! built here from the small sample, the huge ones generated in memory rather than committed.
//! Each case names the outcome it must have: queued, or rejected with one `ConvertError` code.

use orderflow_shared::ubl::{Limits, parse_order};

use crate::repo_path;

/// What the converter must do with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Queued,
    Rejected(&'static str),
}

pub struct XmlCase {
    pub name: String,
    pub bytes: Vec<u8>,
    pub expect: Expect,
}

const MIB: usize = 1024 * 1024;
/// `ubl::Limits::default().max_bytes`, which the converter runs with.
pub const MAX_DOCUMENT_BYTES: usize = 8 * MIB;

/// The small sample; every generated case breaks one thing in it.
pub fn small_sample() -> String {
    std::fs::read_to_string(repo_path("events/orders/small-clp.xml")).expect("events/orders/small-clp.xml")
}

/// The small sample under another order number: a new, valid order with its own key.
pub fn numbered_sample(number: &str) -> String {
    let sample = small_sample();
    assert!(sample.contains("<cbc:ID>OC-2026-00417</cbc:ID>"));
    sample.replacen("<cbc:ID>OC-2026-00417</cbc:ID>", &format!("<cbc:ID>{number}</cbc:ID>"), 1)
}

fn replaced(from: &str, to: &str) -> Vec<u8> {
    let sample = small_sample();
    assert!(sample.contains(from), "{from:?} is not in the small sample");
    sample.replacen(from, to, 1).into_bytes()
}

/// The committed malformed samples, each expecting the code the parser gives it (which
/// `shared/src/ubl/tests.rs` pins file by file).
fn malformed_files() -> Vec<XmlCase> {
    let dir = repo_path("events/orders/malformed");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
        .into_iter()
        .map(|file| {
            let bytes = std::fs::read(dir.join(&file)).unwrap();
            let code = parse_order(&bytes, &Limits::default()).expect_err("a malformed sample").code();
            XmlCase { name: format!("malformed/{file}"), bytes, expect: Expect::Rejected(code) }
        })
        .collect()
}

fn generated() -> Vec<XmlCase> {
    let sample = small_sample();
    let decl_end = sample.find("?>").expect("an XML declaration") + 2;
    let with_doctype =
        |doctype: &str| format!("{}\n{doctype}{}", &sample[..decl_end], &sample[decl_end..]).into_bytes();
    let deep = format!("{}{}", "<cac:X>".repeat(100_000), "</cac:X>".repeat(100_000));
    let mut invalid_utf8 =
        replaced("<cbc:Name>Azúcar rubia 1 kg</cbc:Name>", "<cbc:Name>Az\u{fa}car rubia 1 kg</cbc:Name>");
    let at = invalid_utf8.windows(2).position(|w| w == "ú".as_bytes()).unwrap();
    invalid_utf8.splice(at..at + 2, [0xFA]); // Latin-1 ú: a lone lead byte
    let utf16_be: Vec<u8> = sample.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(numbered_sample("HOSTILE-BOM").as_bytes());
    let mut nul = sample.clone().into_bytes();
    nul.insert(decl_end + 1, 0);

    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "parameter-entity-to-remote-dtd",
            with_doctype("<!DOCTYPE Order [<!ENTITY % remote SYSTEM \"http://127.0.0.1:9/evil.dtd\"> %remote;]>\n"),
            Expect::Rejected("dtd_forbidden"),
        ),
        (
            "external-dtd-subset",
            with_doctype("<!DOCTYPE Order SYSTEM \"file:///etc/passwd\">\n"),
            Expect::Rejected("dtd_forbidden"),
        ),
        (
            "entity-declared-without-doctype",
            replaced("<cbc:IssueDate>", "<!ENTITY x \"y\"><cbc:IssueDate>"),
            Expect::Rejected("dtd_forbidden"),
        ),
        ("undeclared-entity-reference", replaced(">OC-2026-00417<", ">&xxe;<"), Expect::Rejected("not_xml")),
        (
            "nesting-100000-deep",
            replaced("<cbc:IssueDate>", &format!("{deep}<cbc:IssueDate>")),
            Expect::Rejected("too_deep"),
        ),
        (
            // 6 MiB in an attribute of an element nobody reads: parsed, skipped, bounded.
            "huge-attribute-on-an-ignored-element",
            replaced(
                "<cbc:CustomizationID>",
                &format!("<cbc:Ignored a=\"{}\"/><cbc:CustomizationID>", "A".repeat(6 * MIB)),
            ),
            Expect::Queued,
        ),
        (
            "huge-attribute-over-the-size-limit",
            replaced(
                "<cbc:CustomizationID>",
                &format!("<cbc:Ignored a=\"{}\"/><cbc:CustomizationID>", "A".repeat(MAX_DOCUMENT_BYTES)),
            ),
            Expect::Rejected("too_large"),
        ),
        (
            "huge-text-over-the-size-limit",
            replaced(
                "<cbc:Note>Segunda nota: no se usa</cbc:Note>",
                &format!("<cbc:Note>{}</cbc:Note>", "x".repeat(MAX_DOCUMENT_BYTES)),
            ),
            Expect::Rejected("too_large"),
        ),
        ("exactly-one-byte-over-the-limit", vec![b' '; MAX_DOCUMENT_BYTES + 1], Expect::Rejected("too_large")),
        ("invalid-utf8-in-a-line-name", invalid_utf8, Expect::Rejected("invalid_utf8")),
        ("utf8-with-bom", bom, Expect::Queued),
        ("utf16-big-endian-without-bom", utf16_be, Expect::Rejected("unsupported_encoding")),
        (
            "latin1-declared",
            replaced("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\""),
            Expect::Rejected("unsupported_encoding"),
        ),
        ("nul-byte-after-the-declaration", nul, Expect::Rejected("not_xml")),
        ("empty-document", Vec::new(), Expect::Rejected("not_xml")),
        ("missing-order-number", replaced("<cbc:ID>OC-2026-00417</cbc:ID>", ""), Expect::Rejected("missing_field")),
        (
            "missing-issue-date",
            replaced("<cbc:IssueDate>2026-03-02</cbc:IssueDate>", ""),
            Expect::Rejected("missing_field"),
        ),
        ("impossible-issue-date", replaced(">2026-03-02<", ">2026-02-30<"), Expect::Rejected("bad_date")),
        (
            "lower-case-currency",
            replaced(">CLP</cbc:DocumentCurrencyCode>", ">clp</cbc:DocumentCurrencyCode>"),
            Expect::Rejected("bad_currency"),
        ),
        (
            "exponent-amount",
            replaced(">103054</cbc:PayableAmount>", ">1.03054e5</cbc:PayableAmount>"),
            Expect::Rejected("bad_amount"),
        ),
        (
            "negative-payable",
            replaced(">103054</cbc:PayableAmount>", ">-103054</cbc:PayableAmount>"),
            Expect::Rejected("bad_amount"),
        ),
        ("word-quantity", replaced(">4</cbc:Quantity>", ">four</cbc:Quantity>"), Expect::Rejected("bad_amount")),
        (
            "zero-quantity-written-0.000",
            replaced(">4</cbc:Quantity>", ">0.000</cbc:Quantity>"),
            Expect::Rejected("non_positive_quantity"),
        ),
        (
            "duplicate-line-id",
            replaced("<cbc:ID>2</cbc:ID>", "<cbc:ID>1</cbc:ID>"),
            Expect::Rejected("duplicate_line_id"),
        ),
        (
            "line-sum-one-peso-off",
            replaced(">86600</cbc:LineExtensionAmount>", ">86601</cbc:LineExtensionAmount>"),
            Expect::Rejected("totals_mismatch"),
        ),
        (
            "invoice-root",
            sample
                .replace("Order-2\"", "Invoice-2\"")
                .replace("<Order ", "<Invoice ")
                .replace("</Order>", "</Invoice>")
                .into_bytes(),
            Expect::Rejected("wrong_root"),
        ),
    ];
    cases.into_iter().map(|(name, bytes, expect)| XmlCase { name: name.to_owned(), bytes, expect }).collect()
}

/// The whole corpus: committed malformed samples first, then the generated cases.
pub fn xml_corpus() -> Vec<XmlCase> {
    let mut cases = malformed_files();
    cases.extend(generated());
    cases
}
