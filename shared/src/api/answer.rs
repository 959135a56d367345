//! JSON answers: `{"error": {"code", "message"}}` for failures, one status per failure kind.

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

use crate::error::{Classify, Retry};
use crate::order_service::ServiceError;

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

/// The code of a 502 whose upstream refused our credentials even when read afresh; callers
/// that see it park the request for an operator ([`Retry::Auth`]).
pub const CREDENTIALS_REFUSED: &str = "credentials_refused";

/// The one mapping from service failures to HTTP: 404 unknown, 409 illegal or conflicting,
/// 400 invalid, 422 refused by the DTE provider, 502 refused credentials, 503 for what a retry
/// may fix.
pub fn from_service(err: &ServiceError) -> Response<Body> {
    let message = err.to_string();
    match err {
        ServiceError::NotFound(_) => error(StatusCode::NOT_FOUND, "not_found", message),
        ServiceError::Conflict { .. } => error(StatusCode::CONFLICT, "conflict", message),
        ServiceError::Illegal(illegal) => json(
            StatusCode::CONFLICT,
            &json!({"error": {"code": "illegal_transition", "message": message, "current_state": illegal.from}}),
        ),
        ServiceError::StateMoved { now, .. } => json(
            StatusCode::CONFLICT,
            &json!({"error": {"code": "state_moved", "message": message, "current_state": now}}),
        ),
        ServiceError::Invalid(_) => error(StatusCode::BAD_REQUEST, "invalid_order", message),
        ServiceError::StageFailed { record, cause } => json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"error": {"code": cause.code, "message": message}, "order": record}),
        ),
        e if e.is_transient() => error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message),
        // An upstream refused our credentials: neither the caller's fault nor worth a retry
        // until an operator fixes the secret. The queue reader parks on this code.
        e if e.retry() == Retry::Auth => error(StatusCode::BAD_GATEWAY, CREDENTIALS_REFUSED, message),
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", message),
    }
}

/// The REST proxy integration's answer, for a plain Lambda handler that serves API Gateway
/// events itself (lambda_http does this for functions it runs). A binary body goes out base64
/// with `isBase64Encoded`, so it arrives byte for byte; text goes out as it is.
pub fn proxy_response(response: Response<Body>) -> ApiGatewayProxyResponse {
    let (parts, body) = response.into_parts();
    let is_base64_encoded = matches!(body, Body::Binary(_));
    let mut answer = ApiGatewayProxyResponse::default();
    answer.status_code = i64::from(parts.status.as_u16());
    answer.headers = parts.headers;
    answer.body = match body {
        Body::Empty => None,
        body => Some(body),
    };
    answer.is_base64_encoded = is_base64_encoded;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_body_goes_out_base64_and_comes_back_byte_for_byte() {
        let bytes = vec![0u8, 0xff, 0xfe, b'{', 0x80];
        let response = Response::builder().status(200).body(Body::Binary(bytes.clone())).unwrap();
        let wire = serde_json::to_value(proxy_response(response)).unwrap();
        assert_eq!(wire["isBase64Encoded"], true);
        let decoded =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, wire["body"].as_str().expect("a body"))
                .unwrap();
        assert_eq!(decoded, bytes);
    }

    #[test]
    fn a_text_body_goes_out_as_text_with_its_status_and_headers() {
        let wire = serde_json::to_value(proxy_response(error(StatusCode::NOT_FOUND, "not_found", "no such"))).unwrap();
        assert_eq!(wire["statusCode"], 404);
        assert_eq!(wire["isBase64Encoded"], false);
        assert_eq!(wire["headers"]["content-type"], "application/json");
        let body: serde_json::Value = serde_json::from_str(wire["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
}
