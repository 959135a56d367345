//! xml-order-converter: UBL orders landing in S3 become `register` commands on the orders queue.

pub mod handler;

pub use handler::{Converter, ConverterError, Outcome, Report, handle};
