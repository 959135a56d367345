//! The field-mapping engine on arbitrary mapping documents: a document is refused with a
//! message or compiles, and a compiled one applies to a real order without panicking.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use orderflow_shared::mapping::Mapping;
use orderflow_shared::order::CanonicalOrder;
use orderflow_shared::ubl::{Limits, parse_order};

static ORDERS: LazyLock<Vec<CanonicalOrder>> = LazyLock::new(|| {
    [&include_bytes!("../../events/orders/small-clp.xml")[..], include_bytes!("../../events/orders/usd-default-ns.xml")]
        .iter()
        .map(|xml| parse_order(xml, &Limits::default()).expect("bundled samples parse"))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Mapping::from_json(text) {
        Ok(mapping) => {
            for order in ORDERS.iter() {
                if let Ok(value) = mapping.apply(order) {
                    assert!(!value.to_json().is_empty());
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
