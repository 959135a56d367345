//! What differs between ERPs once auth and mapping are set aside: where orders go, which
//! field carries our reference, and how the ERP says "I already have this one".

use serde::Deserialize;

use super::error::detail;

/// One ERP dialect. Every profile is OData-shaped: `POST {base}/{orders_path}` creates an
/// order, and `GET {base}/{orders_path}?$filter={reference_field} eq '<order key>'` finds one,
/// answering `{"value": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    pub orders_path: String,
    /// The field that carries the order key, set by the connector over whatever the mapping says:
    /// it is what makes a push idempotent.
    pub reference_field: String,
    /// The field of a stored record that identifies it in the ERP.
    pub id_field: String,
    /// Statuses that mean the reference is already taken, e.g. 409.
    #[serde(default)]
    pub duplicate_statuses: Vec<u16>,
    /// Text in a 4xx error message that means the same, compared without case.
    #[serde(default)]
    pub duplicate_markers: Vec<String>,
    /// Where refunds go, as credit memos; without it the connector cannot push refunds.
    #[serde(default)]
    pub refunds: Option<RefundSpec>,
}

/// Credit memos for refunds, found and created like orders (`GET ?$filter=` on
/// `reference_field`, then `POST`) at `path`, with the refund's own reference so a partial
/// refund and a second one of the same order stay two documents. The body is these fields:
/// refunds carry too little (amount, currency, reason) for a field mapping to pay off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundSpec {
    pub path: String,
    /// Gets the refund reference ([`crate::erp::refund_reference`]).
    pub reference_field: String,
    /// Gets the refunded order's key (or, without one, the platform's order id).
    pub order_reference_field: String,
    /// Gets the amount as a JSON number written with the refund's own digits.
    pub amount_field: String,
    pub currency_field: String,
    /// Gets the platform's reason, when it gave one.
    pub reason_field: Option<String>,
}

impl ProfileSpec {
    /// Whether a refused create means the order is already there.
    pub(crate) fn is_duplicate(&self, status: u16, body: &str) -> bool {
        if self.duplicate_statuses.contains(&status) {
            return true;
        }
        if !(400..500).contains(&status) || self.duplicate_markers.is_empty() {
            return false;
        }
        // The ERP's message rather than the whole body, which may echo the order's own text.
        let message = detail(body).map_or_else(|| body.to_owned(), |(_, m)| m).to_lowercase();
        self.duplicate_markers.iter().any(|m| message.contains(&m.to_lowercase()))
    }
}
