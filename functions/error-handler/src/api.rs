//! POST /errors: another stage reports a failure; the order moves to `error` with it.
//! API Gateway enforces `x-api-key` before a request gets here. Errors are JSON
//! `{"error": {"code", "message"}}` as everywhere in the Orders API.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
// The Orders API's own answers, so POST /errors fails exactly as the other routes do.
use orderflow_shared::api::{error, from_service, json, json_body, route_path, route_segments};
use orderflow_shared::order_service::{OrderService, ReportedError};
use orderflow_shared::ports::{DteProvider, FifoQueue, OrderStore, RecoveryStarter};
use tracing::instrument;

/// An error report is a few hundred bytes; anything near this is not one.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[instrument(skip_all, fields(method = %req.method()))]
pub async fn handle<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    req: Request,
) -> Response<Body> {
    let path = route_path(&req);
    if (req.method(), route_segments(&path).as_slice()) != (&Method::POST, ["errors"].as_slice()) {
        return error(StatusCode::NOT_FOUND, "unknown_route", format!("no route for {} {path}", req.method()));
    }
    let report: ReportedError = match json_body(&req, MAX_BODY_BYTES) {
        Ok(report) => report,
        Err(refusal) => return refusal.response(),
    };
    match service.record_error(&report.order_key, report.stage_error(), "POST /errors").await {
        Ok(applied) => json(StatusCode::OK, applied.record()),
        Err(e) => from_service(&e),
    }
}
