//! Amounts and quantities as customers read them, per locale and currency.
//!
//! Everything works on the exact decimal of the canonical order's string: a float would turn
//! `0.1` into `0.1000000000000000055…` and round a total the customer can check by hand.

use rust_decimal::{Decimal, RoundingStrategy};

use super::Locale;
use crate::order;

/// Digits after the decimal point that ISO 4217 gives a currency; 2 unless listed.
fn minor_units(currency: &str) -> u32 {
    match currency {
        "CLP" | "JPY" | "KRW" | "PYG" | "ISK" | "VND" | "XAF" | "XOF" | "UGX" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
        _ => 2,
    }
}

/// `amount` in `currency` as written in `locale`: rounded half away from zero to the
/// currency's minor units, grouped by thousands, with its symbol where the locale has one.
pub fn format_money(amount: &order::Decimal, currency: &str, locale: Locale) -> String {
    let digits = minor_units(currency);
    let mut value = amount.value().round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(digits);
    let number = group(value, locale);
    match (locale, currency) {
        (Locale::EsCl, "CLP") | (Locale::En, "USD") => signed_prefix(&number, "$"),
        (Locale::EsCl, "USD") => signed_prefix(&number, "US$"),
        (Locale::EsCl, "EUR") => format!("{number} €"),
        (Locale::En, "EUR") => signed_prefix(&number, "€"),
        (Locale::En, "GBP") => signed_prefix(&number, "£"),
        _ => format!("{currency} {number}"),
    }
}

/// A quantity with the locale's separators, keeping the scale the document gave it.
pub fn format_quantity(quantity: &order::Decimal, locale: Locale) -> String {
    group(quantity.value(), locale)
}

/// `-$1.000` rather than `$-1.000`.
fn signed_prefix(number: &str, symbol: &str) -> String {
    match number.strip_prefix('-') {
        Some(abs) => format!("-{symbol}{abs}"),
        None => format!("{symbol}{number}"),
    }
}

fn group(value: Decimal, locale: Locale) -> String {
    let (thousands, decimal) = match locale {
        Locale::EsCl => ('.', ','),
        Locale::En => (',', '.'),
    };
    let text = value.to_string();
    let (sign, unsigned) = text.strip_prefix('-').map_or(("", text.as_str()), |t| ("-", t));
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(thousands);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(decimal);
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: &str, currency: &str, locale: Locale) -> String {
        format_money(&order::Decimal::parse(amount).unwrap(), currency, locale)
    }

    #[test]
    fn clp_has_no_decimals_and_dots_between_thousands() {
        assert_eq!(money("103054", "CLP", Locale::EsCl), "$103.054");
        assert_eq!(money("103054.00", "CLP", Locale::EsCl), "$103.054");
        assert_eq!(money("1234567", "CLP", Locale::EsCl), "$1.234.567");
        assert_eq!(money("999", "CLP", Locale::EsCl), "$999");
    }

    #[test]
    fn eur_in_spanish_puts_the_symbol_after_a_decimal_comma() {
        assert_eq!(money("2696.22", "EUR", Locale::EsCl), "2.696,22 €");
        assert_eq!(money("2696.2", "EUR", Locale::EsCl), "2.696,20 €");
    }

    #[test]
    fn usd_in_english_uses_a_decimal_point() {
        assert_eq!(money("107.17", "USD", Locale::En), "$107.17");
        assert_eq!(money("1107.1", "USD", Locale::En), "$1,107.10");
        assert_eq!(money("-5", "USD", Locale::En), "-$5.00");
    }

    #[test]
    fn three_decimals_round_half_away_from_zero_exactly() {
        // 1.005 is 1.00499999… as a float, which would round down.
        assert_eq!(money("1.005", "USD", Locale::En), "$1.01");
        assert_eq!(money("10.125", "EUR", Locale::EsCl), "10,13 €");
        assert_eq!(money("1234.5", "KWD", Locale::En), "KWD 1,234.500");
        assert_eq!(money("0.4", "CLP", Locale::EsCl), "$0");
    }

    #[test]
    fn quantities_keep_their_scale() {
        let q = |s: &str, l| format_quantity(&order::Decimal::parse(s).unwrap(), l);
        assert_eq!(q("1.500", Locale::EsCl), "1,500");
        assert_eq!(q("12000", Locale::EsCl), "12.000");
        assert_eq!(q("2", Locale::En), "2");
    }
}
