//! What every API function shares: reading a request (its route path, its JSON body) and
//! writing the answer (`{"error": {"code", "message"}}` for failures, one status per failure
//! kind, and the REST proxy integration's response shape). One implementation, so every route
//! of the Orders API refuses and answers alike.

mod answer;
mod request;
mod shape;

pub use answer::{CREDENTIALS_REFUSED, error, from_service, json, proxy_response};
pub use request::{Refusal, json_body, route_path, route_segments};
