//! The UBL parser on arbitrary bytes: it answers with an order or a one-line refusal, never a
//! panic, and what it accepts is a valid canonical order that survives a JSON round trip.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orderflow_shared::order::CanonicalOrder;
use orderflow_shared::ubl::{Limits, parse_order};

fuzz_target!(|data: &[u8]| {
    match parse_order(data, &Limits::default()) {
        Ok(order) => {
            order.validate().expect("the parser only accepts valid orders");
            let back: CanonicalOrder = serde_json::from_slice(&order.to_json()).expect("canonical JSON parses back");
            assert_eq!(back, order);
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!e.code().is_empty() && !message.is_empty());
            assert!(!message.contains('\n'), "refusals are one line: {message:?}");
        }
    }
});
