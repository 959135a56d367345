//! state-router: the Orders API (REST v1 proxy payload) over the shared order service.

pub mod api;

pub use api::{MAX_BODY_BYTES, handle};
