//! queue-reader: delivers the commands on the orders FIFO queue to the Orders API, and parks
//! the ones the API refuses for good in the pending queue.

pub mod handler;

pub use handler::{FUNCTION, OrdersApi, Outcome, QueueReader, RecordError, handle};
