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
