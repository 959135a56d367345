//! Rendering with minijinja. `.html` templates autoescape every value; `.txt` and `.subject`
//! are plain text. Undefined variables are errors, so a template typo fails a test, not a
//! customer's email.

use std::sync::LazyLock;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use super::{Locale, format_money, format_quantity};
use crate::order::{CanonicalOrder, Text};

macro_rules! templates {
    ($($locale:literal),*) => {
        &[$(
            (concat!($locale, "/order-processing.subject"), include_str!(concat!("../../../templates/email/", $locale, "/order-processing.subject"))),
            (concat!($locale, "/order-processing.txt"), include_str!(concat!("../../../templates/email/", $locale, "/order-processing.txt"))),
            (concat!($locale, "/order-processing.html"), include_str!(concat!("../../../templates/email/", $locale, "/order-processing.html"))),
        )*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!("es-CL", "en");

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // The default callback escapes by extension: `.html` as HTML, the rest not at all.
    for (name, source) in TEMPLATES {
        env.add_template(name, source).expect("bundled email templates parse (see the tests)");
    }
    env
});

#[derive(Debug, thiserror::Error)]
#[error("rendering email template {template}: {source}")]
pub struct RenderError {
    template: String,
    #[source]
    source: minijinja::Error,
}

/// The three parts of a rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Serialize)]
struct Line {
    name: Text,
    sku: Option<Text>,
    quantity: String,
    unit: Text,
    total: String,
}

#[derive(Serialize)]
struct Context {
    order_number: Text,
    date: String,
    buyer_name: Text,
    seller_name: Text,
    lines: Vec<Line>,
    total: String,
}

/// Renders the email in the order's language, with amounts formatted for that locale.
pub fn render_order_processing(order: &CanonicalOrder) -> Result<Rendered, RenderError> {
    let locale = Locale::for_language(order.language.as_deref());
    let money = |d| format_money(d, &order.currency, locale);
    let ctx = Value::from(Serde(Context {
        order_number: order.order_number.clone(),
        date: format_date(&order.issue_date, locale),
        buyer_name: order.buyer.name.clone(),
        seller_name: order.seller.name.clone(),
        lines: order
            .lines
            .iter()
            .map(|l| Line {
                name: l.name.clone(),
                sku: l.sku.clone(),
                quantity: format_quantity(&l.quantity, locale),
                unit: l.unit.clone(),
                total: money(&l.line_total),
            })
            .collect(),
        total: money(&order.totals.payable),
    }));
    let render = |part: &str| {
        let template = format!("{}/order-processing.{part}", locale.tag());
        ENV.get_template(&template).and_then(|t| t.render(&ctx)).map_err(|source| RenderError { template, source })
    };
    // A header cannot hold a line break: collapse any whitespace run the data brought in.
    let subject = render("subject")?.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Rendered { subject, html: render("html")?, text: render("txt")? })
}

/// `25-11-2026` in Chile, `Nov 25, 2026` in English; a date that does not parse is shown as is.
fn format_date(iso: &str, locale: Locale) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let parts: Vec<&str> = iso.splitn(3, '-').collect();
    let [y, m, d] = parts[..] else {
        return iso.to_owned();
    };
    let month = m.parse::<usize>().ok().and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    match (locale, month) {
        (Locale::EsCl, Some(_)) => format!("{d}-{m}-{y}"),
        (Locale::En, Some(name)) => format!("{name} {}, {y}", d.trim_start_matches('0')),
        _ => iso.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{Decimal, Party};
    use crate::ubl::{Limits, parse_order};

    fn sample(language: Option<&str>) -> CanonicalOrder {
        let xml = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/orders/small-clp.xml")).unwrap();
        let mut order = parse_order(&xml, &Limits::default()).unwrap();
        order.language = language.map(Text::from);
        order
    }

    #[test]
    fn every_bundled_template_parses() {
        for (name, _) in TEMPLATES {
            ENV.get_template(name).unwrap();
        }
    }

    #[test]
    fn spanish_is_the_default_with_chilean_pesos() {
        let order = sample(None);
        let r = render_order_processing(&order).unwrap();
        let total = format_money(&order.totals.payable, "CLP", Locale::EsCl);
        assert!(r.subject.contains(order.order_number.as_str()) && r.subject.contains("pedido"), "{}", r.subject);
        assert!(r.text.contains(&total) && r.html.contains(&total), "{total}");
        assert!(r.text.contains("en proceso"), "{}", r.text);
        assert!(!total.contains(','), "CLP has no decimals: {total}");
    }

    #[test]
    fn english_when_the_order_says_so() {
        let mut order = sample(Some("en"));
        order.currency = "USD".into();
        order.totals.payable = Decimal::parse("107.17").unwrap();
        let r = render_order_processing(&order).unwrap();
        assert!(r.subject.starts_with("Your order"), "{}", r.subject);
        assert!(r.text.contains("$107.17") && r.html.contains("$107.17"));
        assert!(r.text.contains("being processed"), "{}", r.text);
    }

    #[test]
    fn hostile_names_are_escaped_in_html_only() {
        let mut order = sample(None);
        let hostile = r#"<script>alert(1)</script> & "Ñandú""#;
        order.buyer = Party { name: hostile.into(), ..order.buyer };
        order.lines[0].name = "<img src=x onerror=alert(2)>".into();
        let r = render_order_processing(&order).unwrap();
        assert!(!r.html.contains("<script>") && !r.html.contains("<img"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; &quot;Ñandú&quot;"), "{}", r.html);
        assert!(r.text.contains(hostile), "plain text carries the name as is");
    }

    #[test]
    fn a_line_break_in_the_order_number_cannot_split_the_subject() {
        let mut order = sample(None);
        order.order_number = "PO-1\r\nBcc: victim@example.com".into();
        let r = render_order_processing(&order).unwrap();
        assert!(!r.subject.contains('\n') && !r.subject.contains('\r'), "{:?}", r.subject);
    }

    #[test]
    fn dates_follow_the_locale() {
        assert_eq!(format_date("2026-11-05", Locale::EsCl), "05-11-2026");
        assert_eq!(format_date("2026-11-05", Locale::En), "Nov 5, 2026");
        assert_eq!(format_date("yesterday", Locale::En), "yesterday");
    }
}
