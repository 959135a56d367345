//! Shopify `orders/create` and `refunds/create` webhook payloads (Admin REST JSON).

use super::json::Node;
use super::{
    PIECE, PayloadError, Refund, WebhookOrder, address, currency, customer, issue_date, positive_quantity, times,
    validated,
};
use crate::order::{CanonicalOrder, Decimal, Identifier, OrderKey, OrderLine, Origin, Party, Text, Totals};

const SHOPIFY_ADDRESS: [&str; 6] = ["address1", "address2", "city", "zip", "province_code", "country_code"];

pub(super) fn order(seller: &Party, root: &Node) -> Result<WebhookOrder, PayloadError> {
    let created_at = root.get("created_at")?;
    let currency_field = root.get("currency")?;
    // `name` ("#1001") is the number the shop and the customer see.
    let order_number = Text::from(root.get("name")?.text()?);
    let seller = seller.clone();
    let buyer = buyer(root)?;
    let order = CanonicalOrder {
        order_key: OrderKey::derive(&seller, &buyer, &order_number),
        order_number,
        issue_date: issue_date(created_at.path(), created_at.text()?)?,
        currency: currency(currency_field.path(), currency_field.text()?)?,
        language: root.get("customer_locale")?.opt_text()?.map(Text::from),
        note: root.get("note")?.opt_text()?.map(Text::from),
        origin: Origin::Webhook,
        buyer,
        seller,
        delivery: address(&root.get("shipping_address")?, SHOPIFY_ADDRESS)?,
        lines: lines(root)?,
        // A line's `price` is before discounts, so the lines add up to
        // `total_line_items_price`; order and line discounts together are `total_discounts`.
        totals: Totals {
            line_extension: root.get("total_line_items_price")?.opt_decimal()?,
            tax_exclusive: None,
            tax_inclusive: None,
            allowance_total: root.get("total_discounts")?.opt_decimal()?,
            charge_total: None,
            tax_total: root.get("total_tax")?.opt_decimal()?,
            payable: root.get("total_price")?.decimal()?,
        },
    };
    let external_order_id = root.get("id")?.text()?.to_owned();
    Ok(WebhookOrder { external_order_id, order: validated(order)? })
}

/// The money refunded is the sum of the successful `refund` transactions. The payload names
/// neither the order number nor the customer, so the order key is left to a lookup.
pub(super) fn refund(root: &Node) -> Result<Refund, PayloadError> {
    let transactions = root.get("transactions")?;
    let mut refunded: Option<(Decimal, Text)> = None;
    for t in transactions.items()? {
        let kind = t.get("kind")?.opt_text()?;
        let status = t.get("status")?.opt_text()?;
        if kind != Some("refund") || status != Some("success") {
            continue;
        }
        let amount = t.get("amount")?;
        let amount_value = amount.decimal()?;
        let currency_field = t.get("currency")?;
        let currency = currency(currency_field.path(), currency_field.text()?)?;
        refunded = Some(match refunded {
            None => (amount_value, currency),
            Some((sum, first)) if first == currency => {
                let total = sum.value().checked_add(amount_value.value());
                let total = total.and_then(|t| Decimal::parse(&t.to_string()).ok());
                let total = total.ok_or_else(|| PayloadError::BadAmount {
                    field: amount.path().to_owned(),
                    value: amount_value.to_string(),
                })?;
                (total, first)
            }
            Some((_, first)) => {
                return Err(PayloadError::Invalid(format!(
                    "{}: currency {currency} differs from {first} of the earlier refund transactions",
                    currency_field.path()
                )));
            }
        });
    }
    let (amount, currency) = refunded.ok_or_else(|| PayloadError::Missing {
        field: format!("{}[kind=refund, status=success]", transactions.path()),
    })?;
    Ok(Refund {
        order_key: None,
        external_order_id: root.get("order_id")?.text()?.to_owned(),
        refund_id: root.get("id")?.text()?.to_owned(),
        amount,
        currency,
        reason: root.get("note")?.opt_text()?.map(str::to_owned),
    })
}

fn buyer(root: &Node) -> Result<Party, PayloadError> {
    let customer_field = root.get("customer")?;
    let billing = root.get("billing_address")?;
    let email = match customer_field.get("email")?.opt_text()? {
        Some(email) => Some(email),
        None => root.get("email")?.opt_text()?,
    };
    let name = match full_name(&customer_field)? {
        Some(name) => name,
        None => full_name(&billing)?
            .or_else(|| email.map(str::to_owned))
            .ok_or_else(|| PayloadError::Missing { field: "customer".into() })?,
    };
    let customer_id = customer_field
        .get("id")?
        .opt_text()?
        .map(|id| Identifier { scheme: Some("shopify:customer".into()), value: Text::from(id) });
    let mut buyer = customer(name, email, customer_id);
    buyer.address = address(&billing, SHOPIFY_ADDRESS)?;
    Ok(buyer)
}

fn full_name(node: &Node) -> Result<Option<String>, PayloadError> {
    let parts = [node.get("first_name")?.opt_text()?, node.get("last_name")?.opt_text()?];
    let name = parts.into_iter().flatten().collect::<Vec<_>>().join(" ");
    Ok(Some(name).filter(|n| !n.is_empty()))
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
            let quantity = positive_quantity(quantity.path(), quantity.decimal()?)?;
            let price_field = item.get("price")?;
            let price = price_field.decimal()?;
            Ok(OrderLine {
                line_id: Text::from(item.get("id")?.text()?),
                sku: item.get("sku")?.opt_text()?.map(Text::from),
                name: Text::from(item.get("title")?.text()?),
                line_total: times(price_field.path(), &price, &quantity)?,
                quantity,
                unit: Text::from(PIECE),
                price: Some(price),
            })
        })
        .collect()
}
