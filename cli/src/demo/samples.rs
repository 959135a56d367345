//! The demo's sample documents, compiled in so that `orderflow demo` runs from any folder: the
//! UBL orders of `events/orders` and the two Standard Webhooks bodies it signs. `--orders DIR`
//! reads other UBL orders from disk instead.

use std::borrow::Cow;
use std::path::Path;

/// `events/orders/<name>`, as (name, bytes).
macro_rules! orders {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../../events/orders/", $name)))),*]
    };
}

/// In the demo's order: valid samples first, then the malformed ones, each sorted by name.
const BUILT_IN_ORDERS: &[(&str, &[u8])] = orders![
    "large-clp.xml",
    "medium-eur.xml",
    "small-clp.xml",
    "usd-default-ns.xml",
    "malformed/dtd-billion-laughs.xml",
    "malformed/external-entity.xml",
    "malformed/missing-payable.xml",
    "malformed/negative-quantity.xml",
    "malformed/no-lines.xml",
    "malformed/non-numeric-amount.xml",
    "malformed/not-xml.txt",
    "malformed/too-deep.xml",
    "malformed/totals-mismatch.xml",
    "malformed/truncated.xml",
    "malformed/utf16.xml",
    "malformed/wrong-root-invoice.xml",
    "malformed/zero-quantity.xml",
];

pub const ORDER_CREATED: &[u8] = include_bytes!("../../../events/webhooks/standard-order-created.json");
pub const ORDER_REFUNDED: &[u8] = include_bytes!("../../../events/webhooks/standard-order-refunded.json");
pub const SHOPIFY_ORDER_CREATED: &[u8] = include_bytes!("../../../events/webhooks/shopify-order-created.json");

/// A sample order: its name relative to the samples folder, and its bytes.
pub type Sample = (String, Cow<'static, [u8]>);

/// The UBL samples of `dir` (`*` plus `malformed/*`), or without it the built-in ones.
pub fn orders(dir: Option<&Path>) -> Result<Vec<Sample>, String> {
    let Some(dir) = dir else {
        return Ok(BUILT_IN_ORDERS.iter().map(|(name, bytes)| ((*name).to_owned(), Cow::Borrowed(*bytes))).collect());
    };
    let mut found = Vec::new();
    for (sub, prefix) in [(dir.to_path_buf(), ""), (dir.join("malformed"), "malformed/")] {
        let entries = std::fs::read_dir(&sub).map_err(|e| format!("{}: {e}", sub.display()))?;
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| (format!("{prefix}{}", e.file_name().to_string_lossy()), e.path()))
            .collect();
        files.sort();
        for (name, path) in files {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            found.push((name, Cow::Owned(bytes)));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample added to (or removed from) `events/orders` must be added here too, or the
    /// installed demo would run another set than the repository's.
    #[test]
    fn the_built_in_orders_are_the_files_of_events_orders_in_the_same_order() {
        let on_disk = orders(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/orders"))).unwrap();
        assert_eq!(orders(None).unwrap(), on_disk);
    }
}
