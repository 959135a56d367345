//! Tests over the sample documents in `events/orders` (expected values worked out by hand from
//! the files) and over small inline documents for each rule.

use std::fs;
use std::path::{Path, PathBuf};

use super::{ConvertError, Limits, parse_order};
use crate::order::{Address, CanonicalOrder, Decimal, Identifier, OrderKey, OrderLine, Origin, Party, Text, Totals};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/orders")
}

fn parse_sample(name: &str) -> CanonicalOrder {
    let xml = fs::read(samples().join(name)).unwrap();
    parse_order(&xml, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn dec(text: &str) -> Decimal {
    Decimal::parse(text).unwrap()
}

fn id(scheme: &str, value: &str) -> Identifier {
    Identifier { scheme: Some(scheme.into()), value: value.into() }
}

fn s(text: &str) -> Option<Text> {
    Some(text.into())
}

fn line(
    line_id: &str,
    sku: Option<&str>,
    name: &str,
    (quantity, unit): (&str, &str),
    price: Option<&str>,
    line_total: &str,
) -> OrderLine {
    OrderLine {
        line_id: line_id.into(),
        sku: sku.map(Text::from),
        name: name.into(),
        quantity: dec(quantity),
        unit: unit.into(),
        price: price.map(dec),
        line_total: dec(line_total),
    }
}

fn line_sum(order: &CanonicalOrder) -> rust_decimal::Decimal {
    order.lines.iter().map(|l| l.line_total.value()).sum()
}

#[test]
fn small_clp_maps_every_field() {
    let order = parse_sample("small-clp.xml");
    let buyer = Party {
        name: "Panadería Ñuñoa SpA".into(),
        endpoint_id: Some(id("0088", "7801234000013")),
        ids: vec![id("0088", "7801234000013")],
        company_id: Some(id("CL:RUT", "76.123.456-7")),
        email: s("compras@panaderianunoa.cl"),
        address: Some(Address {
            street: s("Av. Irarrázaval 2401"),
            additional_street: s("Local 3"),
            city: s("Ñuñoa"),
            postal_code: s("7750000"),
            region: s("Región Metropolitana"),
            country: s("CL"),
        }),
    };
    let seller = Party {
        name: "Distribuidora Los Andes Ltda.".into(),
        endpoint_id: Some(id("0088", "7809876000018")),
        ids: vec![],
        company_id: Some(id("CL:RUT", "77.654.321-K")),
        email: None,
        address: Some(Address {
            street: s("Camino a Melipilla 10500"),
            city: s("Maipú"),
            country: s("CL"),
            ..Address::default()
        }),
    };
    let expected = CanonicalOrder {
        order_key: OrderKey::derive(&seller, &buyer, "OC-2026-00417"),
        order_number: "OC-2026-00417".into(),
        issue_date: "2026-03-02".into(),
        currency: "CLP".into(),
        language: None,
        note: s("Entregar en horario de mañana & llamar antes de llegar"),
        origin: Origin::UblXml,
        buyer,
        seller,
        delivery: Some(Address {
            street: s("Los Jardines 845"),
            city: s("Ñuñoa"),
            postal_code: s("7750001"),
            country: s("CL"),
            ..Address::default()
        }),
        lines: vec![
            line("1", Some("DLA-CAFE-1000"), "Café de grano tostado 1 kg", ("4", "H87"), Some("12990"), "51960"),
            line("2", Some("7801234567897"), "Azúcar rubia 1 kg", ("10", "H87"), Some("1490"), "14900"),
            line("3", Some("PN-TE-07"), "Té verde \"Sencha\" en hojas", ("6", "H87"), Some("3290"), "19740"),
        ],
        totals: Totals {
            line_extension: Some(dec("86600")),
            tax_exclusive: Some(dec("86600")),
            tax_inclusive: Some(dec("103054")),
            allowance_total: None,
            charge_total: None,
            tax_total: Some(dec("16454")),
            payable: dec("103054"),
        },
    };
    assert_eq!(order, expected);
    assert_eq!(line_sum(&order), order.totals.line_extension.as_ref().unwrap().value());
    assert!(order.order_key.as_str().starts_with("OC-2026-00417-"));
}

#[test]
fn medium_eur_with_unusual_prefixes() {
    let order = parse_sample("medium-eur.xml");
    assert_eq!(order.order_number, "4500012345");
    assert_eq!(order.issue_date, "2026-02-17");
    assert_eq!(order.currency, "EUR");
    assert_eq!((order.note.as_deref(), order.language.as_deref()), (None, None));
    assert_eq!(order.buyer.name, "Müller Bürobedarf GmbH");
    assert_eq!(order.buyer.endpoint_id, Some(id("9930", "DE123456789")));
    assert_eq!(order.buyer.company_id, Some(id("0204", "HRB 98765")));
    assert_eq!(order.buyer.email, None);
    // No cac:PartyName: the registration name stands in.
    assert_eq!(order.seller.name, "Papier & Co. KG");
    assert_eq!(
        order.seller.ids,
        vec![id("0088", "4012345000009"), Identifier { scheme: None, value: "LIEF-0815".into() },]
    );
    assert_eq!(order.seller.email.as_deref(), Some("auftrag@papier-co.example"));
    // Only the first cac:Delivery counts; it has a DeliveryAddress and no DeliveryLocation.
    assert_eq!(
        order.delivery,
        Some(Address {
            street: s("Industriestraße 7"),
            additional_street: s("Tor 3, Warenannahme"),
            city: s("Hürth"),
            postal_code: s("50354"),
            region: s("Nordrhein-Westfalen"),
            country: s("DE"),
        })
    );
    assert_eq!(order.lines.len(), 50);
    let kopierpapier = "Kopierpapier A4 80 g, 500 Blatt";
    assert_eq!(order.lines[0], line("10", Some("PC-001"), kopierpapier, ("8", "C62"), Some("4.95"), "39.60"));
    assert_eq!(
        order.lines[1],
        line("20", Some("PC-002"), "Kugelschreiber blau, 10er Pack", ("15", "C62"), Some("3.49"), "52.35")
    );
    // SKU falls back to the buyer's id, then to the standard id.
    assert_eq!(order.lines[6].sku.as_deref(), Some("MB-0007"));
    assert_eq!(order.lines[9].sku.as_deref(), Some("4000000000010"));
    assert_eq!(order.lines[24], line("250", Some("PC-005"), "Ordner A4 breit, rot", ("15", "C62"), None, "41.85"));
    assert_eq!(
        order.lines[49],
        line("500", Some("4000000000050"), "Whiteboard-Marker, 4 Farben", ("6", "C62"), Some("7.25"), "43.50")
    );
    assert_eq!(
        order.totals,
        Totals {
            line_extension: Some(dec("2250.73")),
            tax_exclusive: Some(dec("2265.73")),
            tax_inclusive: Some(dec("2696.22")),
            allowance_total: Some(dec("10.00")),
            charge_total: Some(dec("25.00")),
            tax_total: Some(dec("430.49")),
            payable: dec("2696.22"),
        }
    );
    assert_eq!(line_sum(&order), order.totals.line_extension.as_ref().unwrap().value());
}

#[test]
fn usd_with_default_namespaces_and_bom() {
    let order = parse_sample("usd-default-ns.xml");
    assert_eq!(order.order_number, "PO-77-0042");
    assert_eq!(order.issue_date, "2026-01-30");
    assert_eq!(order.currency, "USD");
    // The buyer's locale; the seller's `fr` is not the order's language.
    assert_eq!(order.language.as_deref(), Some("en"));
    assert_eq!(order.buyer.name, "Harbor & Pine Café");
    assert_eq!(order.buyer.endpoint_id, Some(id("0060", "123456789")));
    assert_eq!(order.buyer.email.as_deref(), Some("orders@harborpine.example"));
    assert_eq!(
        order.buyer.address,
        Some(Address {
            street: s("120 Water Street"),
            city: s("Portland"),
            postal_code: s("04101"),
            region: s("ME"),
            country: s("US"),
            ..Address::default()
        })
    );
    assert_eq!(order.seller.name, "Northeast Roasters Supply Inc.");
    assert_eq!(order.delivery, None);
    assert_eq!(
        order.lines,
        vec![
            line("A-1", Some("NRS-COF-ORG"), "Organic coffee beans, whole", ("2.500", "KGM"), Some("18.40"), "46.00"),
            line("A-2", Some("NRS-SUG-CANE"), "Cane sugar", ("10.000", "KGM"), Some("2.15"), "21.50"),
            line("A-3", None, "Loose-leaf green tea", ("0.750", "KGM"), Some("42.00"), "31.50"),
        ]
    );
    assert_eq!(order.totals.line_extension, Some(dec("99.00")));
    assert_eq!(order.totals.tax_total, Some(dec("8.17")));
    assert_eq!(order.totals.payable, dec("107.17"));
    assert_eq!(line_sum(&order), order.totals.line_extension.as_ref().unwrap().value());
    // The scale of the source survives into the JSON.
    let json = String::from_utf8(order.to_json()).unwrap();
    assert!(json.contains(r#""quantity":"2.500""#), "{json}");
}

#[test]
fn large_clp() {
    let order = parse_sample("large-clp.xml");
    assert_eq!(order.order_number, "OC-2026-90001");
    assert_eq!(order.currency, "CLP");
    assert_eq!(order.buyer.name, "Panaderías del Sur S.A.");
    assert_eq!(order.lines.len(), 1500);
    assert_eq!(
        order.lines[0],
        line("1", Some("MAB-00001"), "Harina de trigo 25 kg", ("2", "H87"), Some("18990"), "37980")
    );
    assert_eq!(order.lines[1499].line_id, "1500");
    assert_eq!(order.lines[1499].line_total, dec("80270"));
    assert_eq!(order.totals.line_extension, Some(dec("355875040")));
    assert_eq!(order.totals.tax_total, Some(dec("67616258")));
    assert_eq!(order.totals.payable, dec("423491298"));
    assert_eq!(line_sum(&order), order.totals.line_extension.as_ref().unwrap().value());
}

/// Every file in `malformed/` must have an expectation here, and every expectation a file.
#[test]
fn malformed_samples_fail_with_their_code() {
    let expected = [
        ("dtd-billion-laughs.xml", "dtd_forbidden"),
        ("external-entity.xml", "dtd_forbidden"),
        ("too-deep.xml", "too_deep"),
        ("not-xml.txt", "not_xml"),
        ("wrong-root-invoice.xml", "wrong_root"),
        ("missing-payable.xml", "missing_field"),
        ("non-numeric-amount.xml", "bad_amount"),
        ("zero-quantity.xml", "non_positive_quantity"),
        ("negative-quantity.xml", "non_positive_quantity"),
        ("no-lines.xml", "no_lines"),
        ("truncated.xml", "not_xml"),
        ("utf16.xml", "unsupported_encoding"),
        ("totals-mismatch.xml", "totals_mismatch"),
    ];
    let dir = samples().join("malformed");
    let mut files: Vec<String> =
        fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    let mut listed: Vec<String> = expected.iter().map(|(f, _)| (*f).to_owned()).collect();
    listed.sort();
    assert_eq!(files, listed, "files in {} and expectations differ", dir.display());

    for (file, code) in expected {
        let xml = fs::read(dir.join(file)).unwrap();
        let err = parse_order(&xml, &Limits::default()).expect_err(file);
        assert_eq!(err.code(), code, "{file}: {err}");
        let message = err.to_string();
        assert!(!message.contains('\n') && !message.is_empty(), "{file}: {message:?}");
    }
}

#[test]
fn malformed_samples_name_what_is_wrong() {
    let err = |file: &str| {
        let xml = fs::read(samples().join("malformed").join(file)).unwrap();
        parse_order(&xml, &Limits::default()).unwrap_err()
    };
    assert_eq!(
        err("wrong-root-invoice.xml"),
        ConvertError::WrongRoot { found: "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice".to_owned() }
    );
    assert_eq!(
        err("missing-payable.xml"),
        ConvertError::MissingField { path: "cac:AnticipatedMonetaryTotal/cbc:PayableAmount", line: None }
    );
    assert_eq!(
        err("non-numeric-amount.xml").to_string(),
        r#"cac:OrderLine/cac:LineItem/cbc:LineExtensionAmount in order line 2: "14.900,00" is not a decimal number"#
    );
    assert_eq!(err("negative-quantity.xml"), ConvertError::NonPositiveQuantity { line: 2, value: "-10".to_owned() });
    assert_eq!(
        err("totals-mismatch.xml"),
        ConvertError::TotalsMismatch { declared: "66850".to_owned(), line_sum: "66860".to_owned() }
    );
    assert_eq!(err("utf16.xml"), ConvertError::UnsupportedEncoding { encoding: "UTF-16LE".to_owned() });
    assert!(matches!(err("dtd-billion-laughs.xml"), ConvertError::DtdForbidden { position: 39 }));
    assert!(matches!(err("too-deep.xml"), ConvertError::TooDeep { limit: 64, .. }));
}

/// A small valid order; tests break one thing at a time with `str::replace`.
const MINIMAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:ID>PO-1</cbc:ID>
<cbc:IssueDate>2026-03-02</cbc:IssueDate>
<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
<cac:BuyerCustomerParty><cac:Party><cac:PartyName><cbc:Name>Buyer</cbc:Name></cac:PartyName></cac:Party></cac:BuyerCustomerParty>
<cac:SellerSupplierParty><cac:Party><cac:PartyName><cbc:Name>Seller</cbc:Name></cac:PartyName></cac:Party></cac:SellerSupplierParty>
<cac:AnticipatedMonetaryTotal><cbc:LineExtensionAmount currencyID="EUR">10.50</cbc:LineExtensionAmount><cbc:PayableAmount currencyID="EUR">12.50</cbc:PayableAmount></cac:AnticipatedMonetaryTotal>
<cac:OrderLine><cac:LineItem><cbc:ID>1</cbc:ID><cbc:Quantity unitCode="EA">3</cbc:Quantity><cbc:LineExtensionAmount currencyID="EUR">10.50</cbc:LineExtensionAmount><cac:Item><cbc:Name>Widget</cbc:Name></cac:Item></cac:LineItem></cac:OrderLine>
</Order>
"#;

fn parse(xml: &str) -> Result<CanonicalOrder, ConvertError> {
    parse_order(xml.as_bytes(), &Limits::default())
}

fn with(from: &str, to: &str) -> String {
    assert!(MINIMAL.contains(from), "{from} not in MINIMAL");
    MINIMAL.replacen(from, to, 1)
}

fn code_of(xml: &str) -> &'static str {
    parse(xml).expect_err("should be refused").code()
}

#[test]
fn minimal_order_parses() {
    let order = parse(MINIMAL).unwrap();
    assert_eq!(order.lines[0].quantity.as_str(), "3");
    assert_eq!(order.totals.payable.as_str(), "12.50");
    assert_eq!(order.buyer, Party::named("Buyer"));
}

#[test]
fn prefixes_mean_nothing_only_namespaces_do() {
    // `cbc` bound to the aggregate namespace and `cac` to the basic one: confusing, but legal.
    let swapped = MINIMAL
        .replace("xmlns:cac=", "xmlns:tmp=")
        .replace("xmlns:cbc=", "xmlns:cac=")
        .replace("xmlns:tmp=", "xmlns:cbc=")
        .replace("<cac:", "<tmp:")
        .replace("</cac:", "</tmp:")
        .replace("<cbc:", "<cac:")
        .replace("</cbc:", "</cac:")
        .replace("<tmp:", "<cbc:")
        .replace("</tmp:", "</cbc:");
    assert_eq!(parse(&swapped).unwrap(), parse(MINIMAL).unwrap());
}

#[test]
fn fields_are_taken_only_at_their_path() {
    let xml = with(
        "<cbc:ID>PO-1</cbc:ID>",
        r#"<other:ID xmlns:other="urn:example:not-ubl">WRONG-NS</other:ID>
        <cac:OrderReference><cbc:ID>WRONG-DEPTH</cbc:ID></cac:OrderReference>
        <cbc:ID>PO-1</cbc:ID>"#,
    )
    .replace(
        "<cac:PartyName><cbc:Name>Buyer</cbc:Name></cac:PartyName>",
        "<cac:Contact><cbc:Name>Contact person</cbc:Name></cac:Contact><cac:PartyName><cbc:Name>Buyer</cbc:Name></cac:PartyName>",
    );
    let order = parse(&xml).unwrap();
    assert_eq!(order.order_number, "PO-1");
    assert_eq!(order.buyer.name, "Buyer");
}

#[test]
fn text_is_unescaped_joined_and_trimmed() {
    let xml = with(
        "<cbc:Name>Widget</cbc:Name>",
        "<cbc:Name>\n  Nuts &amp; bolts <![CDATA[<M8>]]> &#x2013; &#8364;5 &lt;&gt;&apos;&quot;\n</cbc:Name>",
    );
    assert_eq!(parse(&xml).unwrap().lines[0].name, "Nuts & bolts <M8> – €5 <>'\"");
}

#[test]
fn line_breaks_in_values_are_normalised() {
    let xml = with("<cbc:Name>Widget</cbc:Name>", "<cbc:Name>Nuts\r\nand\rbolts\n</cbc:Name>");
    assert_eq!(parse(&xml).unwrap().lines[0].name, "Nuts\nand\nbolts");
}

/// The reader keeps its own namespace scopes (`namespaces.rs`); these are the declarations
/// quick-xml's resolver treats specially, refused or accepted as it does.
#[test]
fn namespace_declarations_follow_the_xml_rules() {
    const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
    let xml_ns = "http://www.w3.org/XML/1998/namespace";
    let message = |xml: &str| match parse(xml).unwrap_err() {
        ConvertError::NotXml { message, .. } => message,
        other => panic!("{other:?}"),
    };
    // A default namespace on a subtree, an undeclared one, and the reserved prefixes.
    let subtree = with("<cbc:ID>PO-1</cbc:ID>", &format!(r#"<ID xmlns="{CBC}">PO-1</ID>"#));
    assert_eq!(parse(&subtree).unwrap().order_number, "PO-1");
    let undeclared = with("<cbc:ID>PO-1</cbc:ID>", r#"<X xmlns=""><ID>PO-2</ID></X><cbc:ID>PO-1</cbc:ID>"#);
    assert_eq!(parse(&undeclared).unwrap().order_number, "PO-1");
    let reserved = with("<cbc:ID>PO-1</cbc:ID>", &format!(r#"<xml:X xmlns:xml="{xml_ns}"/><cbc:ID>PO-1</cbc:ID>"#));
    assert_eq!(parse(&reserved).unwrap().order_number, "PO-1");
    // A prefix undeclared below, used again after its scope closed, or empty.
    assert_eq!(
        message(&with("<cac:OrderLine>", r#"<cac:OrderLine xmlns:cbc="">"#)),
        r#"namespace prefix "cbc" is not declared"#
    );
    assert_eq!(
        message(&with("<cbc:ID>PO-1</cbc:ID>", r#"<q:X xmlns:q="urn:q"/><q:Y/>"#)),
        r#"namespace prefix "q" is not declared"#
    );
    assert_eq!(message(&with("<cbc:ID>PO-1</cbc:ID>", "<:X/>")), r#"namespace prefix "" is not declared"#);
    // The reserved prefixes and namespaces cannot be rebound.
    for (declaration, refusal) in [
        (r#"xmlns:xml="urn:x""#, "the namespace prefix 'xml' cannot be bound to 'urn:x'"),
        (r#"xmlns:xmlns="urn:x""#, "the namespace prefix 'xmlns' cannot be bound to 'urn:x'"),
        (
            r#"xmlns:p="http://www.w3.org/XML/1998/namespace""#,
            "the namespace prefix 'p' cannot be bound to 'http://www.w3.org/XML/1998/namespace'",
        ),
        (
            r#"xmlns:p="http://www.w3.org/2000/xmlns/""#,
            "the namespace prefix 'p' cannot be bound to 'http://www.w3.org/2000/xmlns/'",
        ),
    ] {
        assert_eq!(message(&with("<cac:OrderLine>", &format!("<cac:OrderLine {declaration}>"))), refusal);
    }
    // At most 128 declarations in scope, counting the root's three.
    let many = |n: usize| {
        let declarations: Vec<String> = (0..n).map(|i| format!(r#"xmlns:p{i}="urn:{i}""#)).collect();
        with("<cbc:ID>PO-1</cbc:ID>", &format!("<X {}/><cbc:ID>PO-1</cbc:ID>", declarations.join(" ")))
    };
    assert!(parse(&many(125)).is_ok());
    assert_eq!(
        message(&many(126)),
        "more than 128 namespace bindings in scope; raise the limit with NamespaceResolver::set_max_namespace_bindings"
    );
}

#[test]
fn currency_falls_back_to_the_payable_amount() {
    let xml = with("<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>", "");
    assert_eq!(parse(&xml).unwrap().currency, "EUR");
}

#[test]
fn field_rules() {
    let missing_unit = with(r#"<cbc:Quantity unitCode="EA">"#, "<cbc:Quantity>");
    assert_eq!(
        parse(&missing_unit).unwrap_err(),
        ConvertError::MissingField { path: "cac:OrderLine/cac:LineItem/cbc:Quantity/@unitCode", line: Some(1) }
    );
    assert_eq!(
        parse(&with("<cbc:Name>Widget</cbc:Name>", "<cbc:Name>  </cbc:Name>")).unwrap_err().to_string(),
        "missing required field cac:OrderLine/cac:LineItem/cac:Item/cbc:Name in order line 1"
    );
    let cases = [
        (with("2026-03-02", "2026-02-30"), "bad_date"),
        (with("2026-03-02", "02/03/2026"), "bad_date"),
        (with(">EUR</cbc:DocumentCurrencyCode>", ">eur</cbc:DocumentCurrencyCode>"), "bad_currency"),
        (with(">EUR</cbc:DocumentCurrencyCode>", ">EURO</cbc:DocumentCurrencyCode>"), "bad_currency"),
        (with(">12.50</cbc:PayableAmount>", ">-12.50</cbc:PayableAmount>"), "bad_amount"),
        (with(">12.50</cbc:PayableAmount>", ">1.2e1</cbc:PayableAmount>"), "bad_amount"),
        (with(">3</cbc:Quantity>", ">three</cbc:Quantity>"), "bad_amount"),
        (with(">3</cbc:Quantity>", ">-0</cbc:Quantity>"), "non_positive_quantity"),
        (with("<cbc:ID>PO-1</cbc:ID>", ""), "missing_field"),
        (with("<cbc:IssueDate>2026-03-02</cbc:IssueDate>", ""), "missing_field"),
        (with("<cbc:Name>Seller</cbc:Name>", ""), "missing_field"),
        (
            with(
                "</cac:OrderLine>",
                "</cac:OrderLine><cac:OrderLine><cac:LineItem><cbc:ID>1</cbc:ID><cbc:Quantity unitCode=\"EA\">1</cbc:Quantity><cbc:LineExtensionAmount>0</cbc:LineExtensionAmount><cac:Item><cbc:Name>Again</cbc:Name></cac:Item></cac:LineItem></cac:OrderLine>",
            ),
            "duplicate_line_id",
        ),
        // Ids out of order are checked one against every other, not only against the last.
        (
            with("<cbc:ID>1</cbc:ID><cbc:Quantity", "<cbc:ID>2</cbc:ID><cbc:Quantity")
                .replace("</cac:OrderLine>", &format!("</cac:OrderLine>{}{}", other_line("1"), other_line("2"))),
            "duplicate_line_id",
        ),
    ];
    for (xml, code) in cases {
        assert_eq!(code_of(&xml), code, "{xml}");
    }
    let shuffled = with("<cbc:ID>1</cbc:ID><cbc:Quantity", "<cbc:ID>10</cbc:ID><cbc:Quantity")
        .replace("</cac:OrderLine>", &format!("</cac:OrderLine>{}{}", other_line("9"), other_line("A")));
    let ids: Vec<Text> = parse(&shuffled).unwrap().lines.into_iter().map(|l| l.line_id).collect();
    assert_eq!(ids, ["10", "9", "A"]);
    // 10.5 and 10.50 are the same amount.
    assert!(
        parse(&with(">10.50</cbc:LineExtensionAmount><cbc:Pay", ">10.5</cbc:LineExtensionAmount><cbc:Pay")).is_ok()
    );
}

/// An order line with `id` and a zero line total, to add to [`MINIMAL`].
fn other_line(id: &str) -> String {
    format!(
        r#"<cac:OrderLine><cac:LineItem><cbc:ID>{id}</cbc:ID><cbc:Quantity unitCode="EA">1</cbc:Quantity><cbc:LineExtensionAmount>0</cbc:LineExtensionAmount><cac:Item><cbc:Name>Other</cbc:Name></cac:Item></cac:LineItem></cac:OrderLine>"#
    )
}

#[test]
fn xml_level_rejections() {
    let cases: [(Vec<u8>, &str); 12] = [
        (b"".to_vec(), "not_xml"),
        (b"  \n ".to_vec(), "not_xml"),
        (b"<Order".to_vec(), "not_xml"),
        (with("</Order>", "</Order><Order/>").into_bytes(), "not_xml"),
        (with("<cbc:ID>PO-1</cbc:ID>", "<cbc:ID>&nbsp;</cbc:ID>").into_bytes(), "not_xml"),
        (with("<cbc:ID>PO-1</cbc:ID>", "<u:ID>PO-1</u:ID>").into_bytes(), "not_xml"),
        (with("<cbc:ID>PO-1</cbc:ID>", "<cbc:ID>PO-1</cbc:Id>").into_bytes(), "not_xml"),
        (with("<cbc:ID>PO-1</cbc:ID>", "<!ENTITY x 'y'>").into_bytes(), "dtd_forbidden"),
        (b"<Order xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Order-3\"/>".to_vec(), "wrong_root"),
        (b"<Order/>".to_vec(), "wrong_root"),
        (with("UTF-8", "ISO-8859-1").into_bytes(), "unsupported_encoding"),
        (b"\xFE\xFF\x00<\x00O".to_vec(), "unsupported_encoding"),
    ];
    for (xml, code) in cases {
        assert_eq!(
            parse_order(&xml, &Limits::default()).unwrap_err().code(),
            code,
            "{}",
            String::from_utf8_lossy(&xml)
        );
    }
}

#[test]
fn invalid_utf8_is_reported_at_its_byte() {
    let mut xml = with("<cbc:Name>Widget</cbc:Name>", "<cbc:Name>Wid\u{e9}get</cbc:Name>").into_bytes();
    let at = xml.windows(3).position(|w| w == "d\u{e9}".as_bytes()).unwrap() + 1;
    xml[at] = 0xE9; // Latin-1 é: a lone lead byte
    xml.remove(at + 1);
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(&xml);
    assert_eq!(parse_order(&xml, &Limits::default()), Err(ConvertError::InvalidUtf8 { position: at as u64 }));
    assert_eq!(parse_order(&with_bom, &Limits::default()), Err(ConvertError::InvalidUtf8 { position: at as u64 + 3 }));
}

/// What keeps hostile input cheap, checked without timing anything: where the walk stops.
#[test]
fn hostile_input_is_refused_early() {
    // Size is checked before a byte is parsed: this is not even XML.
    let limits = Limits { max_bytes: 1024, max_depth: 64 };
    assert_eq!(parse_order(&[b'x'; 1025], &limits), Err(ConvertError::TooLarge { size: 1025, limit: 1024 }));
    // 100 000 levels deep: refused at the 65th opening tag, long before the end.
    let open = "<cac:X>".repeat(100_000);
    let deep = with("<cbc:ID>PO-1</cbc:ID>", &format!("{open}{}", "</cac:X>".repeat(100_000)));
    let Err(ConvertError::TooDeep { limit: 64, position }) = parse(&deep) else {
        panic!("expected too_deep");
    };
    let first = deep.find("<cac:X>").unwrap() as u64;
    assert_eq!(position, first + 63 * 7, "stops at the 64th nested <cac:X> (depth 65)");
    // The DTD is refused where it starts; nothing in it is ever expanded.
    let laughs = with("<cbc:ID>PO-1</cbc:ID>", "<cbc:ID>&lol9;</cbc:ID>").replacen(
        "<Order ",
        "<!DOCTYPE Order [<!ENTITY lol9 \"&lol8;&lol8;\">]>\n<Order ",
        1,
    );
    assert!(matches!(parse(&laughs), Err(ConvertError::DtdForbidden { position: 39 })));
    // A depth limit of the caller's choosing is honoured exactly.
    // MINIMAL nests 5 deep (Order/cac:OrderLine/cac:LineItem/cac:Item/cbc:Name).
    let shallow = Limits { max_bytes: 1 << 20, max_depth: 4 };
    assert!(parse_order(MINIMAL.as_bytes(), &Limits { max_depth: 5, ..shallow }).is_ok());
    assert_eq!(parse_order(MINIMAL.as_bytes(), &shallow).unwrap_err().code(), "too_deep");
}

/// Found by fuzzing (`fuzz/ubl_parse`): a root namespace with a line break made a two-line message.
#[test]
fn a_wrong_root_with_a_line_break_in_its_namespace_is_reported_on_one_line() {
    let err = parse("<Order xmlns=\"urn:a\n<b>\u{1}\"/>").unwrap_err();
    assert_eq!(err.code(), "wrong_root");
    let message = err.to_string();
    assert!(!message.contains('\n') && message.contains("urn:a\\n"), "{message:?}");
}

/// Found by fuzzing (`fuzz/ubl_parse`): quick-xml quotes a mismatched end tag whole, line breaks
/// included, and a hostile one can be as long as the document.
#[test]
fn a_mismatched_end_tag_is_quoted_on_one_line_and_cut_short() {
    let spanning = with("<cbc:ID>PO-1</cbc:ID>", "<cbc:ID>PO-1</cbc:ID?\n  <cac:Other>");
    let message = parse(&spanning).unwrap_err().to_string();
    assert!(!message.contains('\n') && message.contains("cbc:ID?\\n  <cac:Other"), "{message:?}");
    let long = with("<cbc:ID>PO-1</cbc:ID>", &format!("<cbc:ID>PO-1</cbc:{}>", "x".repeat(100_000)));
    let err = parse(&long).unwrap_err();
    assert_eq!(err.code(), "not_xml");
    assert!(err.to_string().len() < 512, "{} bytes", err.to_string().len());
}

/// A renumbered order carries the key of its new number, so it still validates.
#[test]
fn a_renumbered_order_has_the_key_of_its_new_number() {
    let mut order = parse_sample("small-clp.xml");
    let before = order.order_key.clone();
    order.renumber("OC-RENUMBERED-1");
    assert_eq!(order.order_number, "OC-RENUMBERED-1");
    assert_eq!(order.order_key, OrderKey::derive(&order.seller, &order.buyer, "OC-RENUMBERED-1"));
    assert_ne!(order.order_key, before);
    order.validate().unwrap();
}
