//! POST /errors: another stage reports a failure; the order moves to `error` with it.
//! API Gateway enforces `x-api-key` before a request gets here. Errors are JSON
//! `{"error": {"code", "message"}}` as everywhere in the Orders API.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use orderflow_shared::order_service::{OrderService, ReportedError};
use orderflow_shared::ports::{DteProvider, FifoQueue, OrderStore, RecoveryStarter};
// The Orders API's own answers, so POST /errors fails exactly as the other routes do.
use state_router::responses::{error, from_service, json};
use tracing::instrument;

/// An error report is a few hundred bytes; anything near this is not one.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[instrument(skip_all, fields(method = %req.method()))]
pub async fn handle<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    req: Request,
) -> Response<Body> {
    let path = match req.raw_http_path() {
        "" => req.uri().path().to_owned(),
        raw => raw.to_owned(),
    };
    if (req.method(), path.trim_end_matches('/')) != (&Method::POST, "/errors") {
        return error(StatusCode::NOT_FOUND, "unknown_route", format!("no route for {} {path}", req.method()));
    }
    let report = match parse(&req) {
        Ok(report) => report,
        Err((status, code, message)) => return error(status, code, message),
    };
    match service.record_error(&report.order_key, report.stage_error(), "POST /errors").await {
        Ok(applied) => json(StatusCode::OK, applied.record()),
        Err(e) => from_service(&e),
    }
}

/// Why a body was refused: status, error code, message.
type Rejection = (StatusCode, &'static str, String);

fn parse(req: &Request) -> Result<ReportedError, Rejection> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        let message = format!("body is {} bytes; the limit is {MAX_BODY_BYTES}", bytes.len());
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", message));
    }
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        let message = format!("content-type must be application/json, not {content_type:?}");
        return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message));
    }
    serde_json::from_slice(bytes).map_err(|e| (StatusCode::BAD_REQUEST, "invalid_body", e.to_string()))
}
