//! What the WooCommerce double holds (orders, their notes and status changes, products) and
//! how each reads in the REST API v3: money as decimal strings with the scale of the seed,
//! dates as `2026-03-01T10:00:00` in the site's time zone and again as `_gmt`; the double's
//! site runs on UTC, so both agree.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::shop::{Desk, SeedCustomer, SeedLine, SeedOrder, ShopState, utc_text};

/// The order statuses of WooCommerce, in its order; `trash` and `any` are filters only.
pub(crate) const ORDER_STATUSES: [&str; 8] =
    ["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "checkout-draft"];

/// Everything the WooCommerce double holds.
#[derive(Default)]
pub struct WooState {
    pub(crate) desk: Desk,
    pub(crate) orders: Vec<WooOrder>,
    pub(crate) notes: Vec<WooNote>,
    pub(crate) status_changes: Vec<StatusChange>,
    pub(crate) products: Vec<WooProduct>,
    /// Ids handed out so far for line items, notes and products.
    minted: u64,
}

impl ShopState for WooState {
    fn desk(&mut self) -> &mut Desk {
        &mut self.desk
    }
}

pub(crate) struct WooOrder {
    pub(crate) id: u64,
    number: u64,
    pub(crate) status: &'static str,
    pub(crate) created_ms: u64,
    pub(crate) modified_ms: u64,
    paid_ms: Option<u64>,
    pub(crate) completed_ms: Option<u64>,
    currency: String,
    customer: SeedCustomer,
    lines: Vec<(u64, SeedLine)>,
    total: Decimal,
}

/// A note on an order, as `POST /orders/{id}/notes` or a status change left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WooNote {
    pub id: u64,
    pub order_id: u64,
    pub note: String,
    /// Shown to the customer, who is emailed.
    pub customer_note: bool,
    /// Attributed to the API user rather than to the system.
    pub added_by_user: bool,
    pub(crate) created_ms: u64,
}

/// An order's status moved through the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub order_id: u64,
    pub from: String,
    pub to: String,
}

pub(crate) struct WooProduct {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) sku: String,
    pub(crate) regular_price: String,
    pub(crate) manage_stock: bool,
    pub(crate) stock_quantity: Option<i64>,
    pub(crate) status: String,
    pub(crate) created_ms: u64,
    pub(crate) modified_ms: u64,
}

/// WooCommerce's label of a status, as its notes word it.
fn label(status: &str) -> &str {
    match status {
        "pending" => "Pending payment",
        "processing" => "Processing",
        "on-hold" => "On hold",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        "refunded" => "Refunded",
        "failed" => "Failed",
        "checkout-draft" => "Draft",
        other => other,
    }
}

fn dates(key: &str, ms: Option<u64>) -> [(String, Value); 2] {
    let text = ms.map_or(Value::Null, |ms| Value::String(utc_text(ms, false)));
    [(key.to_owned(), text.clone()), (format!("{key}_gmt"), text)]
}

impl WooState {
    pub(crate) fn mint(&mut self) -> u64 {
        self.minted += 1;
        self.minted
    }

    /// Adds `seed` with `status`; an order processing or completed was paid when created.
    pub(crate) fn seed(&mut self, seed: &SeedOrder, status: &'static str) -> u64 {
        let lines = seed.lines.iter().map(|l| (self.mint(), l.clone())).collect();
        let paid = matches!(status, "processing" | "completed").then_some(seed.created_ms);
        self.orders.push(WooOrder {
            id: seed.id,
            number: seed.number,
            status,
            created_ms: seed.created_ms,
            modified_ms: seed.updated_ms,
            paid_ms: paid,
            completed_ms: (status == "completed").then_some(seed.updated_ms),
            currency: seed.currency.clone(),
            customer: seed.customer.clone(),
            lines,
            total: seed.total(),
        });
        seed.id
    }

    /// Moves an order to `to`, as `WC_Order::set_status` and `save` do: the modified date,
    /// the paid and completed dates, and the system note naming the change.
    pub(crate) fn change_status(&mut self, index: usize, to: &'static str, now_ms: u64) {
        let order = &mut self.orders[index];
        let from = order.status;
        if from == to {
            return;
        }
        order.status = to;
        order.modified_ms = now_ms;
        if matches!(to, "processing" | "completed") && order.paid_ms.is_none() {
            order.paid_ms = Some(now_ms);
        }
        if to == "completed" && order.completed_ms.is_none() {
            order.completed_ms = Some(now_ms);
        }
        let order_id = order.id;
        self.status_changes.push(StatusChange { order_id, from: from.into(), to: to.into() });
        let note = format!("Order status changed from {} to {}.", label(from), label(to));
        self.add_note(order_id, note, false, false, now_ms);
    }

    pub(crate) fn add_note(
        &mut self,
        order_id: u64,
        note: String,
        customer_note: bool,
        added_by_user: bool,
        now_ms: u64,
    ) -> WooNote {
        let note = WooNote { id: self.mint(), order_id, note, customer_note, added_by_user, created_ms: now_ms };
        self.notes.push(note.clone());
        note
    }

    pub(crate) fn order_json(order: &WooOrder) -> Value {
        let money = |d: Decimal| d.to_string();
        let zero = money(Decimal::ZERO);
        let c = &order.customer;
        let line_items: Vec<Value> = order
            .lines
            .iter()
            .map(|(id, l)| {
                json!({
                    "id": id,
                    "name": l.name,
                    "product_id": 0,
                    "variation_id": 0,
                    "quantity": l.quantity,
                    "tax_class": "",
                    "subtotal": money(l.total()),
                    "subtotal_tax": zero,
                    "total": money(l.total()),
                    "total_tax": zero,
                    "taxes": [],
                    "meta_data": [],
                    "sku": l.sku,
                    // WooCommerce gives the unit price as a JSON number, unlike every total.
                    "price": l.unit_price.to_string().parse::<f64>().unwrap_or_default(),
                    "parent_name": null,
                })
            })
            .collect();
        let mut body = json!({
            "id": order.id,
            "parent_id": 0,
            "number": order.number.to_string(),
            "order_key": format!("wc_order_{:013x}", order.id),
            "created_via": "checkout",
            "status": order.status,
            "currency": order.currency,
            "prices_include_tax": false,
            "discount_total": zero,
            "discount_tax": zero,
            "shipping_total": zero,
            "shipping_tax": zero,
            "cart_tax": zero,
            "total": money(order.total),
            "total_tax": zero,
            "customer_id": 0,
            "customer_note": "",
            "billing": {
                "first_name": c.first_name, "last_name": c.last_name, "company": "", "address_1": "", "address_2": "",
                "city": "", "state": "", "postcode": "", "country": "", "email": c.email, "phone": "",
            },
            "shipping": {
                "first_name": c.first_name, "last_name": c.last_name, "company": "", "address_1": "", "address_2": "",
                "city": "", "state": "", "postcode": "", "country": "", "phone": "",
            },
            "payment_method": "bacs",
            "payment_method_title": "Direct bank transfer",
            "transaction_id": "",
            "line_items": line_items,
            "tax_lines": [],
            "shipping_lines": [],
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": [],
            "meta_data": [],
        });
        let object = body.as_object_mut().expect("an object");
        for (key, ms) in [
            ("date_created", Some(order.created_ms)),
            ("date_modified", Some(order.modified_ms)),
            ("date_paid", order.paid_ms),
            ("date_completed", order.completed_ms),
        ] {
            object.extend(dates(key, ms));
        }
        body
    }

    pub(crate) fn note_json(note: &WooNote) -> Value {
        let mut body = json!({
            "id": note.id,
            "author": if note.added_by_user { super::WOO_USER } else { "system" },
            "note": note.note,
            "customer_note": note.customer_note,
        });
        body.as_object_mut().expect("an object").extend(dates("date_created", Some(note.created_ms)));
        body
    }

    pub(crate) fn product_json(product: &WooProduct) -> Value {
        let in_stock = !product.manage_stock || product.stock_quantity.unwrap_or(0) > 0;
        let mut body = json!({
            "id": product.id,
            "name": product.name,
            "slug": product.name.to_lowercase().replace(' ', "-"),
            "type": "simple",
            "status": product.status,
            "sku": product.sku,
            "price": product.regular_price,
            "regular_price": product.regular_price,
            "sale_price": "",
            "manage_stock": product.manage_stock,
            "stock_quantity": product.stock_quantity,
            "stock_status": if in_stock { "instock" } else { "outofstock" },
        });
        let object = body.as_object_mut().expect("an object");
        object.extend(dates("date_created", Some(product.created_ms)));
        object.extend(dates("date_modified", Some(product.modified_ms)));
        body
    }
}
