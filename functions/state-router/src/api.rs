//! Routes of the Orders API. API Gateway enforces `x-api-key` before a request gets here.
//!
//! The path comes from the proxy event's resource path (without the stage prefix), so the
//! same routing serves API Gateway, `cargo lambda` and `orderflow serve`.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use orderflow_shared::api::{Refusal, error, from_service, json, json_body, route_path, route_segments};
use orderflow_shared::lifecycle::{Stage, State, Tracking};
use orderflow_shared::order::{CanonicalOrder, OrderKey};
use orderflow_shared::order_service::{Applied, OrderService};
use orderflow_shared::orders_api::SOURCE_HEADER;
use orderflow_shared::ports::{DteProvider, FifoQueue, ListError, OrderStore, RecoveryStarter};
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
            (Ok(key), Some(stage)) => match stage_body(&req, stage) {
                Ok(body) => run_stage(service, &key, stage, body.tracking.as_ref()).await,
                Err(refusal) => refusal.response(),
            },
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
    // It goes into the order's history as it is: a line break or an escape sequence there
    // would forge lines in whatever shows the history.
    if source.chars().any(char::is_control) {
        let message = format!("{SOURCE_HEADER} holds control characters once decoded");
        return Refusal::new(StatusCode::BAD_REQUEST, "invalid_header", message).response();
    }
    match service.register(order, &source, "POST /orders").await {
        Ok(Applied::Created(record)) => {
            count("OrdersRegistered");
            json(StatusCode::CREATED, &record)
        }
        Ok(applied) => json(StatusCode::OK, &json!({"duplicate": true, "order": applied.record()})),
        Err(e) => from_service(&e),
    }
}

/// What a stage's request may carry: the queue reader sends `{"attempt": n}`; a dispatch from
/// the warehouse may give the parcel's tracking, which shop sync passes on to the shop.
#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
struct StageBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tracking: Option<Tracking>,
}

/// Only a dispatch reads its body (the other stages take nothing from the caller), and an
/// empty one is no tracking.
fn stage_body(req: &Request, stage: Stage) -> Result<StageBody, Refusal> {
    if stage != Stage::Dispatch || req.body().is_empty() {
        return Ok(StageBody::default());
    }
    let body: StageBody = json_body(req, MAX_BODY_BYTES)?;
    if let Some(tracking) = &body.tracking {
        tracking.check().map_err(|why| Refusal::new(StatusCode::BAD_REQUEST, "invalid_body", why))?;
    }
    Ok(body)
}

async fn run_stage<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter>(
    service: &OrderService<S, Q, D, R>,
    key: &OrderKey,
    stage: Stage,
    tracking: Option<&Tracking>,
) -> Response<Body> {
    let by = format!("POST /orders/{{key}}/{}", stage.route());
    match service.run_stage(key, stage, &by, tracking).await {
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
        // Only a cursor is the caller's mistake; a store fault (a record that does not decode,
        // access denied) is a 5xx whatever its retry class.
        Err(ListError::InvalidCursor(why)) => {
            error(StatusCode::BAD_REQUEST, "invalid_parameter", format!("cursor: {why}"))
        }
        Err(ListError::Port(e)) => from_service(&e.into()),
    }
}

#[cfg(test)]
mod tests {
    use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, EmbeddedOrderStore, EmbeddedRecovery};
    use orderflow_shared::dte::SimulatedDteProvider;
    use orderflow_shared::error::PortError;
    use orderflow_shared::lifecycle::OrderRecord;
    use orderflow_shared::ports::{Expected, OrderPage, StateStats, WriteError};

    use super::*;

    /// The embedded table, but a listing fails the way DynamoDB does when a stored record does
    /// not decode or access is denied: a permanent fault of the store, not of the request.
    struct ListFails(EmbeddedOrderStore);

    impl OrderStore for ListFails {
        async fn get(&self, key: &OrderKey) -> Result<Option<OrderRecord>, PortError> {
            self.0.get(key).await
        }
        async fn put(&self, record: &OrderRecord, expected: Option<Expected>) -> Result<(), WriteError> {
            self.0.put(record, expected).await
        }
        async fn list_by_state(&self, _: State, _: usize, _: Option<&str>) -> Result<OrderPage, ListError> {
            Err(PortError::permanent("dynamodb:Query", "AccessDeniedException: not authorized").into())
        }
        async fn stats(&self) -> Result<Vec<StateStats>, PortError> {
            self.0.stats().await
        }
        async fn oldest_in_state(
            &self,
            state: State,
            before: &str,
            limit: usize,
        ) -> Result<Vec<OrderRecord>, PortError> {
            self.0.oldest_in_state(state, before, limit).await
        }
        async fn days(&self, from: &str, to: &str) -> Result<Vec<orderflow_shared::day_counts::DayCounts>, PortError> {
            self.0.days(from, to).await
        }
    }

    async fn get(store: impl OrderStore, uri: &str) -> (u16, String) {
        let service = OrderService {
            store,
            queue: EmbeddedFifoQueue::new("orders.fifo"),
            dte: SimulatedDteProvider::default(),
            recovery: EmbeddedRecovery::new().unwrap(),
        };
        let path = uri.split('?').next().unwrap().to_owned();
        let query: std::collections::HashMap<String, String> = uri
            .split_once('?')
            .map(|(_, q)| q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect())
            .unwrap_or_default();
        let req = lambda_http::http::Request::builder()
            .method("GET")
            .uri(uri)
            .body(Body::Empty)
            .unwrap()
            .with_raw_http_path(path)
            .with_query_string_parameters(query);
        let resp = handle(&service, req).await.unwrap();
        (resp.status().as_u16(), String::from_utf8_lossy(resp.body().as_ref()).into_owned())
    }

    #[tokio::test]
    async fn a_store_fault_while_listing_is_a_5xx_and_a_bad_cursor_a_400() {
        let (status, body) = get(ListFails(EmbeddedOrderStore::new()), "/orders?state=registered").await;
        assert_eq!(status, 500, "{body}");
        assert!(body.contains("\"internal\""), "{body}");
        let (status, body) = get(EmbeddedOrderStore::new(), "/orders?state=registered&cursor=not-a-cursor").await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("invalid_parameter") && body.contains("cursor"), "{body}");
    }
}
