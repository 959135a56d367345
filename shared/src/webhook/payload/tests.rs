use serde_json::{Value, json};

use super::*;
use crate::order::{Address, OrderLine, Origin, Totals};
use crate::webhook::WebhookSources;

const SHOPIFY_ORDER: &str = include_str!("../../../../events/webhooks/shopify-order-created.json");
const SHOPIFY_REFUND: &str = include_str!("../../../../events/webhooks/shopify-refund-created.json");
const WOO_ORDER: &str = include_str!("../../../../events/webhooks/woocommerce-order-created.json");
/// The `id` of the refund in `shopify-refund-created.json`.
const SHOPIFY_REFUND_ID: &str = "929361462584";
const STANDARD_ORDER: &str = include_str!("../../../../events/webhooks/standard-order-created.json");
const ZEPHYRCART_ORDER: &str = include_str!("../../../../events/webhooks/zephyrcart-order-created.json");

fn source(name: &str) -> SourceConfig {
    let scheme = match name {
        "shopify" => json!({"kind": "shopify"}),
        "woocommerce" => json!({"kind": "woocommerce"}),
        "standard" => json!({"kind": "standard_webhooks"}),
        _ => json!({"kind": "generic_hmac", "signature_header": "x-sig", "encoding": "hex",
                    "dedup_id_header": "x-id", "event_type": {"body_field": "type"}}),
    };
    let config = json!([{"name": name, "seller_name": "Demo Store", "seller_id": {"value": "S-1"},
                         "secret_ref": format!("local:{name}"), "scheme": scheme}]);
    WebhookSources::from_json(&config.to_string()).unwrap().get(name).unwrap().clone()
}

fn seller() -> Party {
    Party { ids: vec![Identifier { scheme: None, value: "S-1".into() }], ..Party::named("Demo Store") }
}

fn email_id(email: &str) -> Option<Identifier> {
    Some(Identifier { scheme: Some("EM".into()), value: email.into() })
}

fn decimal(text: &str) -> Decimal {
    Decimal::parse(text).unwrap()
}

fn order(source_name: &str, body: &[u8]) -> Result<WebhookOrder, PayloadError> {
    match map_event(&source(source_name), &EventType::OrderCreated, body)? {
        WebhookEvent::Order(order) => Ok(*order),
        other => panic!("expected an order, got {other:?}"),
    }
}

fn refund(source_name: &str, body: &[u8]) -> Result<Refund, PayloadError> {
    match map_event(&source(source_name), &EventType::OrderRefunded, body)? {
        WebhookEvent::Refunds(mut refunds) if refunds.len() == 1 => Ok(refunds.remove(0)),
        other => panic!("expected one refund, got {other:?}"),
    }
}

/// WooCommerce announces refunds in `order.updated`.
fn woo_update(body: &[u8]) -> Result<WebhookEvent, PayloadError> {
    map_event(&source("woocommerce"), &EventType::OrderUpdated, body)
}

/// A sample with one edit applied.
fn edited(sample: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_str(sample).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn a_shopify_order_maps_to_the_canonical_order_with_exact_decimals() {
    let mapped = order("shopify", SHOPIFY_ORDER.as_bytes()).unwrap();
    assert_eq!(mapped.external_order_id, "5792384213048");
    let o = mapped.order;
    let buyer = Party {
        endpoint_id: email_id("jane.doe@example.com"),
        ids: vec![Identifier { scheme: Some("shopify:customer".into()), value: "7391822934072".into() }],
        email: Some("Jane.Doe@example.com".into()),
        address: Some(Address {
            street: Some("123 Amoebobacterium St".into()),
            additional_street: Some("Apt 4B".into()),
            city: Some("Brooklyn".into()),
            postal_code: Some("11201".into()),
            region: Some("NY".into()),
            country: Some("US".into()),
        }),
        ..Party::named("Jane Doe")
    };
    assert_eq!(o.buyer, buyer);
    assert_eq!(o.seller, seller());
    assert_eq!(o.order_key, OrderKey::derive(&seller(), &buyer, "#1001"));
    assert_eq!(o.order_number, "#1001");
    assert_eq!(o.issue_date, "2026-03-14", "the shop's local date, not UTC");
    assert_eq!(o.currency, "USD");
    assert_eq!(o.language.as_deref(), Some("en-US"));
    assert_eq!(o.note.as_deref(), Some("Please leave at the back door."));
    assert_eq!(o.origin, Origin::Webhook);
    assert_eq!(o.delivery.unwrap().street.as_deref(), Some("55 Water St"));
    assert_eq!(
        o.lines,
        [
            OrderLine {
                line_id: "14329871540280".into(),
                sku: Some("OCT-BLK-M".into()),
                name: "Organic Cotton Tee".into(),
                quantity: decimal("2"),
                unit: "H87".into(),
                price: Some(decimal("19.90")),
                line_total: decimal("39.80"),
            },
            OrderLine {
                line_id: "14329871573048".into(),
                sku: None,
                name: "Gift wrap".into(),
                quantity: decimal("1"),
                unit: "H87".into(),
                price: Some(decimal("4.50")),
                line_total: decimal("4.50"),
            },
        ]
    );
    assert_eq!(
        o.totals,
        Totals {
            line_extension: Some(decimal("44.30")),
            tax_exclusive: None,
            tax_inclusive: None,
            allowance_total: Some(decimal("0.00")),
            charge_total: None,
            tax_total: Some(decimal("3.54")),
            payable: decimal("52.84"),
        }
    );
}

#[test]
fn a_shopify_refund_sums_its_successful_refund_transactions() {
    let r = refund("shopify", SHOPIFY_REFUND.as_bytes()).unwrap();
    assert_eq!(
        r,
        Refund {
            order_key: None,
            external_order_id: "5792384213048".into(),
            refund_id: SHOPIFY_REFUND_ID.into(),
            amount: decimal("21.49"),
            currency: "USD".into(),
            reason: Some("Tee arrived with a torn seam".into()),
        }
    );
    let body = edited(SHOPIFY_REFUND, |v| {
        let first = v["transactions"][0].clone();
        let failed = json!({"kind": "refund", "status": "failure", "amount": "99.00", "currency": "USD"});
        let second = json!({"kind": "refund", "status": "success", "amount": "5.01", "currency": "USD"});
        v["transactions"] = json!([first, failed, second]);
    });
    assert_eq!(refund("shopify", &body).unwrap().amount, decimal("26.50"));
}

#[test]
fn a_shopify_refund_without_a_successful_refund_transaction_is_refused() {
    let body = edited(SHOPIFY_REFUND, |v| v["transactions"][0]["status"] = json!("pending"));
    assert_eq!(
        refund("shopify", &body).unwrap_err(),
        PayloadError::Missing { field: "transactions[kind=refund, status=success]".into() }
    );
}

#[test]
fn a_woocommerce_order_keeps_number_prices_as_written() {
    let mapped = order("woocommerce", WOO_ORDER.as_bytes()).unwrap();
    assert_eq!(mapped.external_order_id, "727");
    let o = mapped.order;
    assert_eq!(o.order_number, "727");
    assert_eq!(o.issue_date, "2026-03-14");
    assert_eq!(o.currency, "EUR");
    assert_eq!(o.note.as_deref(), Some("Bitte vor 18 Uhr liefern."));
    assert_eq!(o.buyer.name, "Hans Müller");
    assert_eq!(o.buyer.identity(), "EM:hans.mueller@example.de");
    assert_eq!(o.buyer.ids, [Identifier { scheme: Some("woocommerce:customer".into()), value: "26".into() }]);
    assert_eq!(o.buyer.address.as_ref().unwrap().additional_street, None, "empty strings are absent");
    assert_eq!(o.order_key, OrderKey::derive(&seller(), &o.buyer, "727"));
    let delivery = o.delivery.unwrap();
    assert_eq!(delivery.street.as_deref(), Some("Torstraße 44"));
    assert_eq!(delivery.postal_code.as_deref(), Some("10119"));
    let prices: Vec<_> = o.lines.iter().map(|l| l.price.as_ref().unwrap().as_str()).collect();
    assert_eq!(prices, ["18.9", "24.95"]);
    let totals: Vec<_> = o.lines.iter().map(|l| l.line_total.as_str()).collect();
    assert_eq!(totals, ["37.80", "24.95"]);
    assert_eq!(o.lines[0].quantity, decimal("2"));
    assert_eq!(o.lines[1].sku.as_deref(), Some("MF-200"));
    assert_eq!(o.totals.payable, decimal("81.69"));
    assert_eq!(o.totals.tax_total, Some(decimal("13.04")));
    assert_eq!(o.totals.allowance_total, Some(decimal("0.00")));
}

#[test]
fn a_woocommerce_order_update_yields_every_refund_it_lists_each_under_its_id() {
    let body = edited(WOO_ORDER, |v| {
        v["refunds"] = json!([
            {"id": 731, "reason": "Frother broken", "total": "-24.95"},
            {"id": 730, "reason": "", "total": "-5.00"}
        ]);
    });
    let placed = order("woocommerce", WOO_ORDER.as_bytes()).unwrap();
    let refund = |refund_id: &str, amount: &str, reason: Option<&str>| Refund {
        order_key: Some(placed.order.order_key.clone()),
        external_order_id: "727".into(),
        refund_id: refund_id.into(),
        amount: decimal(amount),
        currency: "EUR".into(),
        reason: reason.map(str::to_owned),
    };
    assert_eq!(
        woo_update(&body).unwrap(),
        WebhookEvent::Refunds(vec![refund("731", "24.95", Some("Frother broken")), refund("730", "5.00", None)])
    );
    let keys: Vec<String> = match woo_update(&body).unwrap() {
        WebhookEvent::Refunds(refunds) => refunds.iter().map(Refund::effect_key).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(keys, ["refund/727/731", "refund/727/730"]);
}

#[test]
fn a_woocommerce_order_update_without_refunds_is_not_acted_on() {
    assert_eq!(woo_update(WOO_ORDER.as_bytes()).unwrap(), WebhookEvent::Unhandled("order.updated".into()));
    let empty = edited(WOO_ORDER, |v| v["refunds"] = json!([]));
    assert_eq!(woo_update(&empty).unwrap(), WebhookEvent::Unhandled("order.updated".into()));
    // A status change is not read further: a body that would not map as an order is fine.
    assert_eq!(
        woo_update(br#"{"id": 727, "status": "on-hold"}"#).unwrap(),
        WebhookEvent::Unhandled("order.updated".into())
    );
}

#[test]
fn a_woocommerce_refund_without_an_id_is_refused() {
    let body = edited(WOO_ORDER, |v| v["refunds"] = json!([{"reason": "", "total": "-5.00"}]));
    assert_eq!(woo_update(&body).unwrap_err(), PayloadError::Missing { field: "refunds[0].id".into() });
}

#[test]
fn a_standard_order_keeps_the_canonical_fields_it_was_sent() {
    let mapped = order("standard", STANDARD_ORDER.as_bytes()).unwrap();
    assert_eq!(mapped.external_order_id, "ord_01HQ7Z4K2M9V8T6R5P3N1B0C");
    let o = mapped.order;
    assert_eq!(o.order_number, "SO-2026-0042");
    assert_eq!(o.issue_date, "2026-03-14");
    assert_eq!(o.currency, "CLP");
    assert_eq!(o.language.as_deref(), Some("es-CL"));
    assert_eq!(o.buyer.identity(), "CL:RUT:76543210-K", "the sender's identifier wins over e-mail");
    assert_eq!(o.buyer.endpoint_id, None);
    assert_eq!(o.seller, seller());
    assert_eq!(o.order_key, OrderKey::derive(&seller(), &o.buyer, "SO-2026-0042"));
    assert_eq!(o.delivery.unwrap().additional_street.as_deref(), Some("Bodega 3"));
    assert_eq!(o.lines.len(), 2);
    assert_eq!(o.lines[1].name, "Filtros de papel N°102 (100 u.)");
    assert_eq!(o.lines[1].line_total, decimal("14900"));
    assert_eq!(o.totals.payable, decimal("64105"));
    assert_eq!(o.totals.tax_inclusive, Some(decimal("64105")));
}

#[test]
fn a_zephyrcart_buyer_without_identifiers_is_identified_by_email() {
    let o = order("zephyrcart", ZEPHYRCART_ORDER.as_bytes()).unwrap().order;
    assert_eq!(o.buyer.identity(), "EM:camille.laurent@example.fr");
    assert_eq!(o.buyer.email.as_deref(), Some("Camille.Laurent@example.fr"));
    assert_eq!(o.buyer.address.as_ref().unwrap().city.as_deref(), Some("Lyon"));
    assert_eq!(o.lines[0].price, Some(decimal("9.95")));
    assert_eq!(o.lines[0].line_total, decimal("19.90"));
    assert_eq!(o.totals.charge_total, Some(decimal("4.50")));
    assert_eq!(o.totals.payable, decimal("29.28"));
}

#[test]
fn a_standard_refund_derives_the_same_key_as_its_order() {
    let placed = order("zephyrcart", ZEPHYRCART_ORDER.as_bytes()).unwrap().order;
    let body = json!({"type": "order.refunded", "data": {
        "order_id": "zc_5f3a9e21", "refund_id": "rf_1", "order_number": "ZC-100482",
        "buyer": {"name": "Camille Laurent", "email": "camille.laurent@EXAMPLE.fr"},
        "amount": "9.95", "currency": "EUR", "reason": "Mug chipped"}});
    assert_eq!(
        refund("zephyrcart", body.to_string().as_bytes()).unwrap(),
        Refund {
            order_key: Some(placed.order_key),
            external_order_id: "zc_5f3a9e21".into(),
            refund_id: "rf_1".into(),
            amount: decimal("9.95"),
            currency: "EUR".into(),
            reason: Some("Mug chipped".into()),
        }
    );
}

#[test]
fn a_standard_refund_without_an_id_is_known_by_its_signed_body() {
    let body = |reason: &str| {
        json!({"type": "order.refunded", "data": {
            "order_id": "zc_5f3a9e21", "order_number": "ZC-100482",
            "buyer": {"name": "Camille Laurent", "email": "camille.laurent@example.fr"},
            "amount": "9.95", "currency": "EUR", "reason": reason}})
        .to_string()
    };
    let first = refund("zephyrcart", body("Mug chipped").as_bytes()).unwrap();
    let again = refund("zephyrcart", body("Mug chipped").as_bytes()).unwrap();
    let other = refund("zephyrcart", body("Mug chipped twice").as_bytes()).unwrap();
    assert!(first.refund_id.starts_with("body-") && first.refund_id.len() == 37, "{}", first.refund_id);
    assert_eq!(first.effect_key(), again.effect_key(), "the same body is the same refund");
    assert_ne!(first.effect_key(), other.effect_key(), "another body is another refund");
    let blank = body("x").replace(r#""order_id""#, r#""refund_id": " ", "order_id""#);
    assert!(refund("zephyrcart", blank.as_bytes()).unwrap().refund_id.starts_with("body-"), "a blank id is no id");
}

#[test]
fn unhandled_events_are_acknowledged_without_reading_the_body() {
    for name in ["shopify", "woocommerce", "standard"] {
        let event = EventType::Unhandled("orders/updated".into());
        assert_eq!(
            map_event(&source(name), &event, b"not json").unwrap(),
            WebhookEvent::Unhandled("orders/updated".into())
        );
    }
}

#[test]
fn platform_orders_without_lines_are_refused_naming_the_field() {
    let none = edited(SHOPIFY_ORDER, |v| v["line_items"] = json!([]));
    assert_eq!(order("shopify", &none).unwrap_err(), PayloadError::NoLines { field: "line_items".into() });
    let missing = edited(WOO_ORDER, |v| {
        v.as_object_mut().unwrap().remove("line_items");
    });
    assert_eq!(order("woocommerce", &missing).unwrap_err(), PayloadError::Missing { field: "line_items".into() });
}

#[test]
fn a_zero_or_negative_quantity_is_refused_naming_the_line() {
    let zero = edited(SHOPIFY_ORDER, |v| v["line_items"][1]["quantity"] = json!(0));
    assert_eq!(
        order("shopify", &zero).unwrap_err(),
        PayloadError::NonPositiveQuantity { field: "line_items[1].quantity".into(), value: decimal("0") }
    );
    let negative = edited(WOO_ORDER, |v| v["line_items"][0]["quantity"] = json!(-1));
    let err = order("woocommerce", &negative).unwrap_err();
    assert_eq!(err.to_string(), "line_items[0].quantity: quantity -1 must be greater than zero");
}

#[test]
fn a_currency_that_is_not_three_uppercase_letters_is_refused() {
    for bad in ["usd", "US", "USDT", "840"] {
        let body = edited(SHOPIFY_ORDER, |v| v["currency"] = json!(bad));
        assert_eq!(
            order("shopify", &body).unwrap_err(),
            PayloadError::BadCurrency { field: "currency".into(), value: bad.into() }
        );
    }
    let body = edited(WOO_ORDER, |v| v["currency"] = Value::Null);
    assert_eq!(order("woocommerce", &body).unwrap_err(), PayloadError::Missing { field: "currency".into() });
}

#[test]
fn fields_of_the_wrong_type_are_refused_naming_the_field() {
    type Case = (&'static str, fn(&mut Value), PayloadError);
    let cases: [Case; 5] = [
        (
            "shopify",
            |v| v["line_items"] = json!({}),
            PayloadError::WrongType { field: "line_items".into(), expected: "an array" },
        ),
        (
            "shopify",
            |v| v["line_items"][0]["quantity"] = json!(true),
            PayloadError::WrongType { field: "line_items[0].quantity".into(), expected: "a string or number" },
        ),
        (
            "shopify",
            |v| v["customer"] = json!("Jane"),
            PayloadError::WrongType { field: "customer".into(), expected: "an object" },
        ),
        (
            "shopify",
            |v| v["total_price"] = json!("52,84"),
            PayloadError::BadAmount { field: "total_price".into(), value: "52,84".into() },
        ),
        (
            "woocommerce",
            |v| v["line_items"][1]["price"] = json!({"amount": 24.95}),
            PayloadError::WrongType { field: "line_items[1].price".into(), expected: "a string or number" },
        ),
    ];
    for (name, edit, expected) in cases {
        let sample = if name == "shopify" { SHOPIFY_ORDER } else { WOO_ORDER };
        assert_eq!(order(name, &edited(sample, edit)).unwrap_err(), expected);
    }
}

#[test]
fn an_amount_in_exponent_form_is_refused_rather_than_rounded() {
    let body = WOO_ORDER.replace("\"price\": 18.9,", "\"price\": 1.89e1,");
    assert_eq!(
        order("woocommerce", body.as_bytes()).unwrap_err(),
        PayloadError::BadAmount { field: "line_items[0].price".into(), value: "1.89e1".into() }
    );
}

#[test]
fn a_date_that_does_not_start_with_a_calendar_date_is_refused() {
    let body = edited(SHOPIFY_ORDER, |v| v["created_at"] = json!("14/03/2026 09:26"));
    assert_eq!(order("shopify", &body).unwrap_err().code(), "bad_date");
    let body = edited(STANDARD_ORDER, |v| v["data"]["issue_date"] = json!("2026-03-14T10:00:00Z"));
    assert_eq!(
        order("standard", &body).unwrap_err(),
        PayloadError::BadDate { field: "data.issue_date".into(), value: "2026-03-14T10:00:00Z".into() }
    );
}

#[test]
fn the_standard_format_refuses_unknown_fields_and_numeric_amounts() {
    let unknown = edited(STANDARD_ORDER, |v| v["data"]["lines"][0]["discount"] = json!("1.00"));
    let err = order("standard", &unknown).unwrap_err();
    assert_eq!(err.code(), "invalid_payload");
    assert!(err.to_string().contains("unknown field `discount`"), "{err}");
    let numeric = edited(STANDARD_ORDER, |v| v["data"]["totals"]["payable"] = json!(64105));
    let err = order("standard", &numeric).unwrap_err();
    assert!(err.to_string().contains("expected a string"), "{err}");
    let extra = edited(STANDARD_ORDER, |v| v["timestamp"] = json!("2026-03-14T10:00:00Z"));
    assert_eq!(order("standard", &extra).unwrap_err().code(), "invalid_payload");
}

#[test]
fn the_standard_format_checks_lines_quantities_and_currency() {
    let empty = edited(STANDARD_ORDER, |v| v["data"]["lines"] = json!([]));
    assert_eq!(order("standard", &empty).unwrap_err(), PayloadError::NoLines { field: "data.lines".into() });
    let zero = edited(STANDARD_ORDER, |v| v["data"]["lines"][1]["quantity"] = json!("0.000"));
    assert_eq!(
        order("standard", &zero).unwrap_err(),
        PayloadError::NonPositiveQuantity { field: "data.lines[1].quantity".into(), value: decimal("0.000") }
    );
    let currency = edited(STANDARD_ORDER, |v| v["data"]["currency"] = json!("clp"));
    assert_eq!(order("standard", &currency).unwrap_err().code(), "bad_currency");
    let twice = edited(STANDARD_ORDER, |v| v["data"]["lines"][1]["line_id"] = json!("1"));
    assert!(order("standard", &twice).unwrap_err().to_string().contains("line id 1 appears twice"));
}

#[test]
fn a_standard_body_whose_type_differs_from_the_signed_event_is_refused() {
    let err = refund("standard", STANDARD_ORDER.as_bytes()).unwrap_err();
    assert_eq!(err, PayloadError::EventMismatch { found: "order.created".into(), expected: "order.refunded".into() });
}

#[test]
fn a_body_that_is_not_json_is_a_400() {
    let err = order("shopify", b"{\"id\": 1,").unwrap_err();
    assert_eq!((err.status(), err.code()), (400, "not_json"));
}
