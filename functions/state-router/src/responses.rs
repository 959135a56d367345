//! JSON answers: `{"error": {"code", "message"}}` for failures, one status per failure kind.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use orderflow_shared::error::Classify;
use orderflow_shared::order_service::ServiceError;
use serde::Serialize;
use serde_json::json;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body = serde_json::to_string(value).expect("responses serialise");
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body))
        .expect("static response parts are valid")
}

pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response<Body> {
    json(status, &json!({"error": {"code": code, "message": message.into()}}))
}

/// The one mapping from service failures to HTTP: 404 unknown, 409 illegal or conflicting,
/// 400 invalid, 422 refused by the DTE provider, 503 for what a retry may fix.
pub fn from_service(err: &ServiceError) -> Response<Body> {
    let message = err.to_string();
    match err {
        ServiceError::NotFound(_) => error(StatusCode::NOT_FOUND, "not_found", message),
        ServiceError::Conflict { .. } => error(StatusCode::CONFLICT, "conflict", message),
        ServiceError::Illegal(illegal) => json(
            StatusCode::CONFLICT,
            &json!({"error": {"code": "illegal_transition", "message": message, "current_state": illegal.from}}),
        ),
        ServiceError::Invalid(_) => error(StatusCode::BAD_REQUEST, "invalid_order", message),
        ServiceError::StageFailed { record, cause } => json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"error": {"code": cause.code, "message": message}, "order": record}),
        ),
        e if e.is_transient() => error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message),
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", message),
    }
}
