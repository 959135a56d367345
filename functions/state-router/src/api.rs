//! Routes of the Orders API. API Gateway enforces `x-api-key` before a request gets here.
//!
//! The path comes from the proxy event's resource path (without the stage prefix), so the
//! same routing serves API Gateway, `cargo lambda` and `orderflow serve`.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use orderflow_shared::api::{Refusal, error, from_service, json, json_body, route_path, route_segments};
use orderflow_shared::error::Classify;
use orderflow_shared::lifecycle::{Stage, State};
use orderflow_shared::order::{CanonicalOrder, OrderKey};
use orderflow_shared::order_service::{Applied, OrderService};
use orderflow_shared::orders_api::SOURCE_HEADER;
use orderflow_shared::ports::{DteProvider, FifoQueue, OrderStore, RecoveryStarter};
use orderflow_shared::telemetry::Metrics;
use percent_encoding::percent_decode_str;
use serde_json::json;
use tracing::instrument;

pub const FUNCTION: &str = "state-router";

/// Lambda's synchronous payload limit; API Gateway itself stops at 10 MB.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

const DEFAULT_PAGE: usize = 25;

#[instrument(skip_all, fields(method = %req.method(), path = %route_path(&req)))]
pub async fn handle<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let path = route_path(&req);
    let segments = route_segments(&path);
    let response = match (req.method().clone(), segments.as_slice()) {
        (Method::POST, ["orders"]) => register(service, &req).await,
        (Method::GET, ["orders"]) => list(service, &req).await,
        (Method::GET, ["orders", key]) => match parse_key(key) {
            Ok(key) => service.get(&key).await.map_or_else(|e| from_service(&e), |r| json(StatusCode::OK, &r)),
            Err(refusal) => refusal.response(),
        },
        (Method::POST, ["orders", key, stage]) => match (parse_key(key), Stage::from_route(stage)) {
            (Ok(key), Some(stage)) => run_stage(service, &key, stage).await,
            (Err(refusal), _) => refusal.response(),
            (_, None) => error(StatusCode::NOT_FOUND, "unknown_route", format!("no stage named {stage}")),
        },
        (Method::GET, ["stats"]) => match service.store.stats().await {
            Ok(stats) => json(StatusCode::OK, &json!({ "states": stats })),
            Err(e) => from_service(&e.into()),
        },
        (method, _) => error(StatusCode::NOT_FOUND, "unknown_route", format!("no route for {method} {path}")),
    };
    Ok(response)
}

fn parse_key(raw: &str) -> Result<OrderKey, Refusal> {
    OrderKey::parse(raw).map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, "invalid_key", e.to_string()))
}

async fn register<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    req: &Request,
) -> Response<Body> {
    let order: CanonicalOrder = match json_body(req, MAX_BODY_BYTES) {
        Ok(order) => order,
        Err(refusal) => return refusal.response(),
    };
    // The queue reader percent-encodes the source so that any S3 key is a valid header value.
    let source = req
        .headers()
        .get(SOURCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| "api".into(), |v| percent_decode_str(v).decode_utf8_lossy().into_owned());
    match service.register(order, &source, "POST /orders").await {
        Ok(Applied::Created(record)) => {
            count("OrdersRegistered");
            json(StatusCode::CREATED, &record)
        }
        Ok(applied) => json(StatusCode::OK, &json!({"duplicate": true, "order": applied.record()})),
        Err(e) => from_service(&e),
    }
}

async fn run_stage<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    key: &OrderKey,
    stage: Stage,
) -> Response<Body> {
    let by = format!("POST /orders/{{key}}/{}", stage.route());
    match service.run_stage(key, stage, &by).await {
        Ok(Applied::Unchanged(record)) => json(StatusCode::OK, &json!({"duplicate": true, "order": record})),
        // The broadcast failed and the recovery workflow owns the order now.
        Ok(Applied::HandedOver(record)) => {
            count("BroadcastsHandedOver");
            json(StatusCode::ACCEPTED, &record)
        }
        Ok(applied) => {
            count(reached_metric(stage));
            json(StatusCode::OK, applied.record())
        }
        Err(e) => from_service(&e),
    }
}

/// The EMF counter of orders that reached a stage's target state (the dashboard's "orders per
/// stage"; the dashboard in template.yaml names these).
fn reached_metric(stage: Stage) -> &'static str {
    match stage {
        Stage::IssuanceDte => "OrdersIssuanceDte",
        Stage::BroadcastDte => "OrdersBroadcastDte",
        Stage::Dispatch => "OrdersDispatched",
        Stage::Deliver => "OrdersDelivered",
        Stage::Cancel => "OrdersCancelled",
        Stage::Refund => "OrdersRefunded",
    }
}

fn count(metric: &'static str) {
    Metrics::new(FUNCTION).count(metric, 1).flush();
}

async fn list<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    req: &Request,
) -> Response<Body> {
    let query = req.query_string_parameters();
    let Some(state) = query.first("state") else {
        return error(StatusCode::BAD_REQUEST, "missing_parameter", "query parameter `state` is required");
    };
    let Some(state) = State::parse(state) else {
        return error(StatusCode::BAD_REQUEST, "invalid_parameter", format!("unknown state {state:?}"));
    };
    let limit = match query.first("limit").map(str::parse::<usize>) {
        None => DEFAULT_PAGE,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return error(StatusCode::BAD_REQUEST, "invalid_parameter", "`limit` must be 1 to 100"),
    };
    match service.store.list_by_state(state, limit, query.first("cursor")).await {
        Ok(page) => json(StatusCode::OK, &json!({"orders": page.orders, "cursor": page.cursor})),
        Err(e) if !e.is_transient() => error(StatusCode::BAD_REQUEST, "invalid_parameter", e.to_string()),
        Err(e) => from_service(&e.into()),
    }
}
