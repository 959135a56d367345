//! What the Shopify double holds (orders, their fulfillment orders, the fulfillments created)
//! and how each reads as a GraphQL object: every field the double serves, with `__typename`,
//! ids as `gid://shopify/<Type>/<n>`, money as a `MoneyBag` of decimal strings, times as UTC
//! ISO 8601. The shop's currency is the order's, so shop and presentment money agree.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::cost::Bucket;
use super::select::connection;
use crate::shop::{Desk, SeedCustomer, SeedOrder, ShopState, utc_text};

/// Everything the Shopify double holds.
#[derive(Default)]
pub struct ShopifyState {
    pub(crate) desk: Desk,
    pub(crate) orders: Vec<Order>,
    pub(crate) fulfillment_orders: Vec<FulfillmentOrder>,
    pub(crate) fulfillments: Vec<ShopifyFulfillment>,
    pub(crate) bucket: Bucket,
    pub(crate) catalogue: super::catalog::Catalogue,
    /// Customer emails, by id - 1.
    customers: Vec<String>,
    /// Ids handed out so far for line items, fulfillment orders and fulfillments.
    minted: u64,
}

impl ShopState for ShopifyState {
    fn desk(&mut self) -> &mut Desk {
        &mut self.desk
    }
}

pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) number: u64,
    pub(crate) created_ms: u64,
    pub(crate) updated_ms: u64,
    currency: String,
    customer_id: u64,
    customer: SeedCustomer,
    pub(crate) lines: Vec<LineItem>,
}

pub(crate) struct LineItem {
    pub(crate) id: u64,
    pub(crate) sku: String,
    name: String,
    quantity: u32,
    unit_price: Decimal,
}

pub(crate) struct FulfillmentOrder {
    pub(crate) id: u64,
    pub(crate) order_id: u64,
    /// A `FulfillmentOrderStatus`: OPEN, IN_PROGRESS, CLOSED, …
    pub(crate) status: &'static str,
    created_ms: u64,
    pub(crate) updated_ms: u64,
    pub(crate) lines: Vec<FulfillmentOrderLine>,
}

pub(crate) struct FulfillmentOrderLine {
    pub(crate) id: u64,
    pub(crate) line_item_id: u64,
    total: u32,
    pub(crate) remaining: u32,
}

/// A fulfillment the double created, with what the request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyFulfillment {
    /// `gid://shopify/Fulfillment/<n>`.
    pub id: String,
    /// `gid://shopify/Order/<n>`.
    pub order_id: String,
    /// Always `SUCCESS`: the double does not model carrier events.
    pub status: String,
    pub tracking: Option<Tracking>,
    pub notify_customer: bool,
    /// SKU and quantity fulfilled, per line item.
    pub line_items: Vec<(String, u32)>,
    pub(crate) created_ms: u64,
    /// Its number within the order, for its name (`#1001.1`).
    pub(crate) ordinal: usize,
    /// Per entry of `line_items`: the id of its `FulfillmentLineItem`, and of the line item.
    pub(crate) parts: Vec<(u64, u64)>,
}

/// `FulfillmentTrackingInput` as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    pub number: Option<String>,
    pub url: Option<String>,
    pub company: Option<String>,
}

pub(crate) fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The number at the end of a `gid://shopify/<kind>/<n>`.
pub(crate) fn gid_number(kind: &str, gid: &str) -> Option<u64> {
    gid.strip_prefix("gid://shopify/")?.strip_prefix(kind)?.strip_prefix('/')?.parse().ok()
}

fn money_bag(amount: Decimal, currency: &str) -> Value {
    let money = json!({"__typename": "MoneyV2", "amount": amount.to_string(), "currencyCode": currency});
    json!({"__typename": "MoneyBag", "shopMoney": money, "presentmentMoney": money})
}

impl ShopifyState {
    /// A new id for a line item, fulfillment order (line), fulfillment (line item).
    pub(crate) fn mint(&mut self) -> u64 {
        self.minted += 1;
        9_000_000_000 + self.minted
    }

    /// Adds `seed` as a paid order with one open fulfillment order holding all its lines.
    pub(crate) fn seed(&mut self, seed: &SeedOrder) -> String {
        let customer_id = match self.customers.iter().position(|e| *e == seed.customer.email) {
            Some(index) => index as u64 + 1,
            None => {
                self.customers.push(seed.customer.email.clone());
                self.customers.len() as u64
            }
        };
        let lines: Vec<LineItem> = seed
            .lines
            .iter()
            .map(|l| LineItem {
                id: self.mint(),
                sku: l.sku.clone(),
                name: l.name.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect();
        let fulfillment_lines = lines
            .iter()
            .map(|l| FulfillmentOrderLine {
                id: self.mint(),
                line_item_id: l.id,
                total: l.quantity,
                remaining: l.quantity,
            })
            .collect();
        let fulfillment_order = FulfillmentOrder {
            id: self.mint(),
            order_id: seed.id,
            status: "OPEN",
            created_ms: seed.created_ms,
            updated_ms: seed.created_ms,
            lines: fulfillment_lines,
        };
        self.fulfillment_orders.push(fulfillment_order);
        self.orders.push(Order {
            id: seed.id,
            number: seed.number,
            created_ms: seed.created_ms,
            updated_ms: seed.updated_ms,
            currency: seed.currency.clone(),
            customer_id,
            customer: seed.customer.clone(),
            lines,
        });
        gid("Order", seed.id)
    }

    fn fulfilled_quantity(&self, order_id: u64, line_item_id: u64) -> u32 {
        self.fulfillment_orders
            .iter()
            .filter(|fo| fo.order_id == order_id)
            .flat_map(|fo| &fo.lines)
            .filter(|l| l.line_item_id == line_item_id)
            .map(|l| l.total - l.remaining)
            .sum()
    }

    fn line_node(order: &Order, line: &LineItem, unfulfilled: u32) -> Value {
        json!({
            "__typename": "LineItem",
            "id": gid("LineItem", line.id),
            "sku": line.sku,
            "name": line.name,
            "title": line.name,
            "quantity": line.quantity,
            "currentQuantity": line.quantity,
            "unfulfilledQuantity": unfulfilled,
            "originalUnitPriceSet": money_bag(line.unit_price, &order.currency),
            "originalTotalSet": money_bag(line.unit_price * Decimal::from(line.quantity), &order.currency),
            "discountedTotalSet": money_bag(line.unit_price * Decimal::from(line.quantity), &order.currency),
        })
    }

    fn order_reference(order: &Order) -> Value {
        json!({"__typename": "Order", "id": gid("Order", order.id), "name": format!("#{}", order.number)})
    }

    pub(crate) fn order_node(&self, order: &Order) -> Value {
        let line_nodes: Vec<(String, Value)> = order
            .lines
            .iter()
            .map(|l| {
                let unfulfilled = l.quantity - self.fulfilled_quantity(order.id, l.id);
                (cursor(l.id), Self::line_node(order, l, unfulfilled))
            })
            .collect();
        let fulfilled: u32 = order.lines.iter().map(|l| self.fulfilled_quantity(order.id, l.id)).sum();
        let ordered: u32 = order.lines.iter().map(|l| l.quantity).sum();
        let fulfillment_status = match fulfilled {
            0 => "UNFULFILLED",
            n if n >= ordered => "FULFILLED",
            _ => "PARTIALLY_FULFILLED",
        };
        let total: Decimal = order.lines.iter().map(|l| l.unit_price * Decimal::from(l.quantity)).sum();
        let fulfillment_orders = self
            .fulfillment_orders
            .iter()
            .filter(|fo| fo.order_id == order.id)
            .map(|fo| (cursor(fo.id), self.fulfillment_order_node(order, fo)))
            .collect();
        let fulfillments: Vec<Value> = self
            .fulfillments
            .iter()
            .filter(|f| f.order_id == gid("Order", order.id))
            .map(|f| self.fulfillment_node(order, f))
            .collect();
        let customer = json!({
            "__typename": "Customer",
            "id": gid("Customer", order.customer_id),
            "firstName": order.customer.first_name,
            "lastName": order.customer.last_name,
            "legacyResourceId": order.customer_id.to_string(),
            "displayName": format!("{} {}", order.customer.first_name, order.customer.last_name).trim(),
            "email": order.customer.email,
        });
        json!({
            "__typename": "Order",
            "id": gid("Order", order.id),
            "legacyResourceId": order.id.to_string(),
            "name": format!("#{}", order.number),
            "createdAt": utc_text(order.created_ms, true),
            "processedAt": utc_text(order.created_ms, true),
            "updatedAt": utc_text(order.updated_ms, true),
            "cancelledAt": null,
            "closed": false,
            "closedAt": null,
            "email": order.customer.email,
            // Seeds carry no note, locale or addresses; Shopify answers null for each.
            "note": null,
            "customerLocale": null,
            "billingAddress": null,
            "shippingAddress": null,
            "currencyCode": order.currency,
            "displayFinancialStatus": "PAID",
            "displayFulfillmentStatus": fulfillment_status,
            "customer": customer,
            "subtotalPriceSet": money_bag(total, &order.currency),
            "totalPriceSet": money_bag(total, &order.currency),
            "totalTaxSet": money_bag(Decimal::ZERO, &order.currency),
            "totalDiscountsSet": money_bag(Decimal::ZERO, &order.currency),
            "totalShippingPriceSet": money_bag(Decimal::ZERO, &order.currency),
            "lineItems": connection("LineItemConnection", line_nodes, false, false),
            "fulfillmentOrders": connection("FulfillmentOrderConnection", fulfillment_orders, false, false),
            "fulfillments": fulfillments,
        })
    }

    fn fulfillment_order_node(&self, order: &Order, fo: &FulfillmentOrder) -> Value {
        let lines = fo
            .lines
            .iter()
            .filter_map(|l| {
                let line = order.lines.iter().find(|li| li.id == l.line_item_id)?;
                let unfulfilled = line.quantity - self.fulfilled_quantity(order.id, line.id);
                let node = json!({
                    "__typename": "FulfillmentOrderLineItem",
                    "id": gid("FulfillmentOrderLineItem", l.id),
                    "totalQuantity": l.total,
                    "remainingQuantity": l.remaining,
                    "sku": line.sku,
                    "productTitle": line.name,
                    "lineItem": Self::line_node(order, line, unfulfilled),
                });
                Some((cursor(l.id), node))
            })
            .collect();
        json!({
            "__typename": "FulfillmentOrder",
            "id": gid("FulfillmentOrder", fo.id),
            "orderId": gid("Order", order.id),
            "orderName": format!("#{}", order.number),
            "status": fo.status,
            "requestStatus": "UNSUBMITTED",
            "createdAt": utc_text(fo.created_ms, true),
            "updatedAt": utc_text(fo.updated_ms, true),
            "order": Self::order_reference(order),
            "lineItems": connection("FulfillmentOrderLineItemConnection", lines, false, false),
        })
    }

    pub(crate) fn fulfillment_node(&self, order: &Order, fulfillment: &ShopifyFulfillment) -> Value {
        let tracking: Vec<Value> = fulfillment
            .tracking
            .iter()
            .map(|t| json!({"__typename": "FulfillmentTrackingInfo", "number": t.number, "url": t.url, "company": t.company}))
            .collect();
        let lines = fulfillment
            .line_items
            .iter()
            .zip(&fulfillment.parts)
            .filter_map(|((_, quantity), (id, line_item_id))| {
                let line = order.lines.iter().find(|l| l.id == *line_item_id)?;
                let unfulfilled = line.quantity - self.fulfilled_quantity(order.id, line.id);
                let node = json!({
                    "__typename": "FulfillmentLineItem",
                    "id": gid("FulfillmentLineItem", *id),
                    "quantity": quantity,
                    "lineItem": Self::line_node(order, line, unfulfilled),
                });
                Some((cursor(*id), node))
            })
            .collect();
        let total: u32 = fulfillment.line_items.iter().map(|(_, q)| q).sum();
        json!({
            "__typename": "Fulfillment",
            "id": fulfillment.id,
            "name": format!("#{}.{}", order.number, fulfillment.ordinal),
            "status": fulfillment.status,
            "createdAt": utc_text(fulfillment.created_ms, true),
            "updatedAt": utc_text(fulfillment.created_ms, true),
            "totalQuantity": total,
            "trackingInfo": tracking,
            "fulfillmentLineItems": connection("FulfillmentLineItemConnection", lines, false, false),
            "order": Self::order_reference(order),
        })
    }

    /// A fulfillment of the shape [`Self::fulfillment_node`] gives, for checking a selection
    /// before a mutation runs.
    pub(crate) fn fulfillment_template(&self) -> Value {
        let order = Order {
            id: 0,
            number: 0,
            created_ms: 0,
            updated_ms: 0,
            currency: String::new(),
            customer_id: 0,
            customer: SeedCustomer {
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                company: None,
            },
            lines: vec![LineItem {
                id: 0,
                sku: String::new(),
                name: String::new(),
                quantity: 1,
                unit_price: Decimal::ZERO,
            }],
        };
        let fulfillment = ShopifyFulfillment {
            id: gid("Fulfillment", 0),
            order_id: gid("Order", 0),
            status: String::new(),
            tracking: Some(Tracking::default()),
            notify_customer: false,
            line_items: vec![(String::new(), 1)],
            created_ms: 0,
            ordinal: 0,
            parts: vec![(0, 0)],
        };
        self.fulfillment_node(&order, &fulfillment)
    }
}

/// The cursor of an item in a nested connection: opaque, like Shopify's.
fn cursor(id: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(json!({"last_id": id}).to_string())
}
