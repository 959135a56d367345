//! WooCommerce order webhook payloads (REST API v3 order JSON).

use super::json::Node;
use super::{
    PIECE, PayloadError, Refund, WebhookOrder, address, currency, customer, issue_date, positive_quantity, validated,
};
use crate::order::{CanonicalOrder, Decimal, Identifier, OrderKey, OrderLine, Origin, Party, Text, Totals};
use crate::webhook::SourceConfig;

const WOOCOMMERCE_ADDRESS: [&str; 6] = ["address_1", "address_2", "city", "postcode", "state", "country"];

pub(super) fn order(seller: &Party, root: &Node) -> Result<WebhookOrder, PayloadError> {
    let date_created = root.get("date_created")?;
    let currency_field = root.get("currency")?;
    let order_number = Text::from(root.get("number")?.text()?);
    let seller = seller.clone();
    let buyer = buyer(root)?;
    let order = CanonicalOrder {
        order_key: OrderKey::derive(&seller, &buyer, &order_number),
        order_number,
        // The shop's local time, as the shop states the order date.
        issue_date: issue_date(date_created.path(), date_created.text()?)?,
        currency: currency(currency_field.path(), currency_field.text()?)?,
        language: None,
        note: root.get("customer_note")?.opt_text()?.map(Text::from),
        origin: Origin::Webhook,
        buyer,
        seller,
        delivery: address(&root.get("shipping")?, WOOCOMMERCE_ADDRESS)?,
        lines: lines(root)?,
        totals: Totals {
            line_extension: None,
            tax_exclusive: None,
            tax_inclusive: None,
            allowance_total: root.get("discount_total")?.opt_decimal()?,
            charge_total: None,
            tax_total: root.get("total_tax")?.opt_decimal()?,
            payable: root.get("total")?.decimal()?,
        },
    };
    let external_order_id = root.get("id")?.text()?.to_owned();
    Ok(WebhookOrder { external_order_id, order: validated(order)? })
}

/// Every refund an `order.updated` delivery lists (WooCommerce sends the whole order, with
/// `refunds[]` newest first and each total negative). Empty when the order has none: then the
/// order is not read any further, as most updates are status changes this system does not
/// act on. Each refund is its own effect, keyed by its id, so the same refunds listed again by
/// a later update of the order change nothing.
pub(super) fn refunds(source: &SourceConfig, root: &Node) -> Result<Vec<Refund>, PayloadError> {
    let items = root.get("refunds")?.opt_items()?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let placed = order(&source.seller(), root)?;
    items
        .iter()
        .map(|item| {
            let total = item.get("total")?.decimal()?;
            let amount = Decimal::parse(total.as_str().trim_start_matches('-'))
                .expect("a decimal without its sign is a decimal");
            Ok(Refund {
                order_key: Some(placed.order.order_key.clone()),
                external_order_id: placed.external_order_id.clone(),
                refund_id: item.get("id")?.text()?.to_owned(),
                amount,
                currency: placed.order.currency.clone(),
                reason: item.get("reason")?.opt_text()?.map(str::to_owned),
            })
        })
        .collect()
}

fn buyer(root: &Node) -> Result<Party, PayloadError> {
    let billing = root.get("billing")?;
    let email = billing.get("email")?.opt_text()?;
    let parts = [billing.get("first_name")?.opt_text()?, billing.get("last_name")?.opt_text()?];
    let full_name = parts.into_iter().flatten().collect::<Vec<_>>().join(" ");
    let name = match (full_name.is_empty(), billing.get("company")?.opt_text()?, email) {
        (false, _, _) => full_name,
        (true, Some(company), _) => company.to_owned(),
        (true, None, Some(email)) => email.to_owned(),
        (true, None, None) => {
            return Err(PayloadError::Missing { field: "billing.email".into() });
        }
    };
    // Guests have customer_id 0.
    let customer_id = root
        .get("customer_id")?
        .opt_text()?
        .filter(|id| *id != "0")
        .map(|id| Identifier { scheme: Some("woocommerce:customer".into()), value: Text::from(id) });
    let mut buyer = customer(name, email, customer_id);
    buyer.address = address(&billing, WOOCOMMERCE_ADDRESS)?;
    Ok(buyer)
}

fn lines(root: &Node) -> Result<Vec<OrderLine>, PayloadError> {
    let line_items = root.get("line_items")?;
    let items = line_items.items()?;
    if items.is_empty() {
        return Err(PayloadError::NoLines { field: line_items.path().to_owned() });
    }
    items
        .iter()
        .map(|item| {
            let quantity = item.get("quantity")?;
            Ok(OrderLine {
                line_id: Text::from(item.get("id")?.text()?),
                sku: item.get("sku")?.opt_text()?.map(Text::from),
                name: Text::from(item.get("name")?.text()?),
                quantity: positive_quantity(quantity.path(), quantity.decimal()?)?,
                unit: Text::from(PIECE),
                // A JSON number, kept as the text WooCommerce wrote (see json.rs).
                price: item.get("price")?.opt_decimal()?,
                // After line discounts, before tax.
                line_total: item.get("total")?.decimal()?,
            })
        })
        .collect()
}
