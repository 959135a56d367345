//! UBL 2.1 Order (Peppol BIS Ordering 3) → canonical order.
//!
//! The document is streamed once with quick-xml's reader and namespace scopes kept as quick-xml's
//! resolver keeps them; elements are matched by namespace URI and local name, never by prefix.

mod error;
mod fields;
mod mapping;
mod names;
mod namespaces;
mod reader;
#[cfg(test)]
mod tests;

pub use error::ConvertError;

use crate::order::CanonicalOrder;

/// Bounds that keep hostile documents cheap to reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_bytes: 8 * 1024 * 1024, max_depth: 64 }
    }
}

/// Converts a UBL 2.1 Order into the canonical order, or says in one line why it can't.
pub fn parse_order(xml: &[u8], limits: &Limits) -> Result<CanonicalOrder, ConvertError> {
    if xml.len() > limits.max_bytes {
        return Err(ConvertError::TooLarge { size: xml.len(), limit: limits.max_bytes });
    }
    let mut builder = mapping::OrderBuilder::default();
    // An order line takes more than 256 bytes in any real document (its required elements
    // alone take about 200), and the rest of an order (the namespaces, the parties, the totals)
    // a kilobyte or more, so this seldom falls short; when it does, the list grows as usual.
    // Counting the kilobyte keeps a one-line order's list small enough for the allocator's
    // per-thread cache: at seven lines it took a trip through the heap's bins.
    builder.reserve_lines(xml.len().saturating_sub(1024) / 256);
    reader::walk(xml, limits.max_depth, &mut builder)?;
    builder.finish()
}
