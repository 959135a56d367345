//! The two contestants of the conversion benchmark that run in Rust, shared by the criterion
//! bench (`benches/convert.rs`) and the interleaved rounds (`bin/conversion-pairs.rs`), so
//! both time the same code.

use std::hint::black_box;

use orderflow_shared::ubl::{Limits, parse_order};
use quick_xml::Reader;
use quick_xml::events::Event;

/// What the Lambda does per document: parse and map, then serialise the canonical JSON.
pub fn convert(xml: &[u8]) -> Vec<u8> {
    parse_order(xml, &Limits::default()).expect("the corpus is valid").to_json()
}

/// Plain `Reader` rather than `NsReader`: no namespace bookkeeping, so this is the tokenizer
/// alone, with no mapping and no output.
pub fn tokenize(xml: &[u8]) -> usize {
    let mut reader = Reader::from_reader(xml);
    let mut events = 0;
    loop {
        match reader.read_event().expect("the corpus is well-formed") {
            Event::Eof => return events,
            event => {
                black_box(event);
                events += 1;
            }
        }
    }
}
