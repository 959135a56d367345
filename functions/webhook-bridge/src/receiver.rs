//! `POST /webhooks/{source}`: signed webhooks in, queued work out, acknowledged early.
//!
//! Checks run in this order, each before anything further looks at the body:
//! 1. unknown source → 404;
//! 2. body size against the source's limit → 413;
//! 3. signature over the raw bytes with the source's secret → 401 (400 when a signed body
//!    names no event type);
//! 4. payload mapping (pure, so a refused payload never holds a replay claim) → 400, or 200
//!    `ignored` for a topic this system does not act on;
//! 5. replay claim per effect on `<source>#<effect key>` (`order/<id>`, `refund/<order id>/<refund
//!    id>`: ids from the signed body, never a delivery-id header, which Shopify and WooCommerce
//!    do not sign and WooCommerce reuses within a second) → 200 `duplicate` when every effect
//!    was already processed, 409 `in_progress` while another delivery of one is being queued;
//! 6. queueing each claimed effect: erp-sync (group = source and external order id, dedup =
//!    the effect's origin), then the orders queue (`Register`, or a `Refund` stage command) →
//!    202 `queued`.
//!
//! Never lost, never doubled: the claim is taken before queueing, so concurrent deliveries of
//! one event queue once. If any send fails, the claim is released and the answer is 503, so
//! the platform's retry is processed again; sends that did succeed are then repeated with the
//! same FIFO dedup ids (SQS drops them within its 5-minute window), and beyond that window
//! both consumers are idempotent (the ERP push by order key, `Register` by order content).
//! Only after every send succeeded is the claim completed.
//!
//! Bodies, signatures and secrets are never logged.

use std::time::Duration;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use orderflow_shared::api::{json, route_path, route_segments};
use orderflow_shared::apps::Apps;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::erp::ErpSyncMessage;
use orderflow_shared::error::{Classify, PortError};
use orderflow_shared::intake::{Door, erp_group, queue_order};
use orderflow_shared::lifecycle::Stage;
use orderflow_shared::ports::{Claim, FifoQueue, OutgoingMessage, ReplayGuard};
use orderflow_shared::telemetry::Metrics;
use orderflow_shared::webhook::{Refund, SourceConfig, WebhookEvent, WebhookOrder, check_size, map_event, verify};
use serde_json::json;
use time::OffsetDateTime;
use tracing::{info, instrument, warn};

use crate::keys::KeySource;

pub const FUNCTION: &str = "webhook-bridge";

/// Default retention of replay claims.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(72 * 3600);

/// Everything the receiver needs, built once per cold start.
pub struct Receiver<A, K, G, E, O> {
    /// The connections: `{source}` is a connection id whose app has a webhook trigger.
    pub apps: A,
    pub keys: K,
    pub guard: G,
    /// The erp-sync FIFO queue the worker consumes.
    pub erp_sync: E,
    /// The orders FIFO queue the queue reader consumes.
    pub orders: O,
    /// How long a processed dedup id is answered as a duplicate.
    pub retention: Duration,
}

/// What became of one request: the status and the JSON body answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl Reply {
    fn status(status: StatusCode, text: &str) -> Self {
        Self { status, body: json!({ "status": text }) }
    }

    fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, body: json!({"error": {"code": code, "message": message.into()}}) }
    }

    pub fn into_response(self) -> Response<Body> {
        json(self.status, &self.body)
    }
}

/// The lambda_http entry point: routes `POST /webhooks/{source}` to [`Receiver::receive`].
#[instrument(skip_all, fields(method = %req.method()))]
pub async fn handle<A: Apps, K: KeySource, G: ReplayGuard, E: FifoQueue, O: FifoQueue>(
    receiver: &Receiver<A, K, G, E, O>,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let path = route_path(&req);
    let segments = route_segments(&path);
    let reply = match (req.method(), segments.as_slice()) {
        (&Method::POST, ["webhooks", source]) => {
            let headers: Vec<(String, String)> = req
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let body: &[u8] = req.body().as_ref();
            receiver.receive(source, &headers, body, OffsetDateTime::now_utc()).await
        }
        (_, ["webhooks", _]) => {
            Reply::error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "webhooks are POSTed")
        }
        _ => Reply::error(StatusCode::NOT_FOUND, "unknown_route", format!("no route for {} {path}", req.method())),
    };
    Ok(reply.into_response())
}

impl<A: Apps, K: KeySource, G: ReplayGuard, E: FifoQueue, O: FifoQueue> Receiver<A, K, G, E, O> {
    /// Handles one delivery for `source`. `now` is passed in for the timestamp check and the
    /// claim's expiry, so tests are deterministic.
    #[instrument(skip_all, fields(source = %source))]
    pub async fn receive(&self, source: &str, headers: &[(String, String)], body: &[u8], now: OffsetDateTime) -> Reply {
        let mut metrics = Metrics::new(FUNCTION);
        metrics.count("WebhooksReceived", 1);
        let reply = self.run(source, headers, body, now, &mut metrics).await;
        info!(status = reply.status.as_u16(), "answered");
        metrics.flush();
        reply
    }

    async fn run(
        &self,
        name: &str,
        headers: &[(String, String)],
        body: &[u8],
        now: OffsetDateTime,
        metrics: &mut Metrics,
    ) -> Reply {
        let runtime = match self.apps.runtime().await {
            Ok(runtime) => runtime,
            Err(e) => {
                warn!(error = %e, "apps unreadable");
                return unavailable_or_internal(e.is_transient(), "connections unavailable");
            }
        };
        let Some(source) = runtime.webhook_sources.get(name) else {
            // A connection past its version's deprecation date is gone for good, and says why;
            // the platform stops retrying on 410.
            let (status, code) = if runtime.deprecated(name) {
                (StatusCode::GONE, "version_deprecated")
            } else {
                (StatusCode::NOT_FOUND, "unknown_source")
            };
            metrics.count("WebhooksRefused", 1);
            return Reply::error(status, code, runtime.missing("webhook source", name));
        };
        if let Err(e) = check_size(body.len(), source.max_body_bytes) {
            metrics.count("WebhookVerificationFailures", 1);
            return Reply::error(StatusCode::PAYLOAD_TOO_LARGE, e.code(), e.to_string());
        }
        let key = match self.keys.key(source).await {
            Ok(key) => key,
            Err(e) => {
                warn!(error = %e, "no signing key");
                return unavailable_or_internal(e.is_transient(), "signing key unavailable");
            }
        };
        let verified = match verify(&source.scheme, &key, headers, body, now) {
            Ok(verified) => verified,
            Err(e) => {
                metrics.count("WebhookVerificationFailures", 1);
                warn!(code = e.code(), "verification failed");
                let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
                return Reply::error(status, e.code(), e.to_string());
            }
        };
        // The platform's delivery id, for logs only: effects are keyed on the signed body.
        let delivery_id = verified.dedup_id;
        let event = match map_event(source, &verified.event, body) {
            Ok(event) => event,
            Err(e) => {
                metrics.count("WebhooksRejected", 1);
                warn!(%delivery_id, code = e.code(), "payload refused");
                return Reply::error(StatusCode::BAD_REQUEST, e.code(), e.to_string());
            }
        };
        let effects: Vec<Effect> = match event {
            WebhookEvent::Order(order) => vec![Effect::Order(order)],
            WebhookEvent::Refunds(refunds) => refunds.into_iter().map(Effect::Refund).collect(),
            WebhookEvent::Unhandled(topic) => {
                metrics.count("WebhooksIgnored", 1);
                info!(%delivery_id, %topic, "ignored");
                return Reply::status(StatusCode::OK, "ignored");
            }
        };

        let (mut queued, mut in_progress) = (0, 0);
        for effect in effects {
            match self.apply(source, effect, now).await {
                Ok(Claim::Claimed) => queued += 1,
                Ok(Claim::Duplicate) => {}
                Ok(Claim::InProgress) => in_progress += 1,
                Err(reply) => {
                    metrics.count("WebhooksQueueFailures", 1);
                    return reply;
                }
            }
        }
        if in_progress > 0 {
            metrics.count("WebhooksDuplicate", 1);
            info!(%delivery_id, "delivery already in progress");
            return Reply::error(
                StatusCode::CONFLICT,
                "in_progress",
                "another delivery of this event is being processed; retry later",
            );
        }
        if queued == 0 {
            metrics.count("WebhooksDuplicate", 1);
            info!(%delivery_id, "duplicate delivery");
            return Reply::status(StatusCode::OK, "duplicate");
        }
        metrics.count("WebhooksQueued", 1);
        info!(%delivery_id, effects = queued, "queued");
        Reply::status(StatusCode::ACCEPTED, "queued")
    }

    /// Claims one effect under `<source>#<effect key>` and queues it. `Claimed` means it was
    /// queued now; on a failure the claim is released and the reply to give is returned.
    async fn apply(&self, source: &SourceConfig, effect: Effect, now: OffsetDateTime) -> Result<Claim, Reply> {
        let effect_key = effect.key();
        let claim_key = format!("{}#{effect_key}", source.name);
        let now_s = now.unix_timestamp();
        let expires_at = now_s.saturating_add(i64::try_from(self.retention.as_secs()).unwrap_or(i64::MAX));
        match self.guard.claim(&claim_key, now_s, expires_at).await {
            Ok(Claim::Claimed) => {}
            Ok(other) => {
                info!(%effect_key, claim = ?other, "already claimed");
                return Ok(other);
            }
            Err(e) => {
                warn!(%effect_key, error = %e, "replay claim failed");
                return Err(unavailable_or_internal(e.is_transient(), "replay guard unavailable"));
            }
        }
        if let Err(e) = self.enqueue(source, &effect_key, effect).await {
            warn!(%effect_key, error = %e, "queueing failed; releasing the claim");
            if let Err(release) = self.guard.release(&claim_key).await {
                // The claim lapses after its lease, and a retry is then processed.
                warn!(%effect_key, error = %release, "releasing the claim failed");
            }
            return Err(Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the webhook could not be queued; retry later",
            ));
        }
        if let Err(e) = self.guard.complete(&claim_key).await {
            // Queued: a redelivery after the lease is caught by the FIFO dedup ids and the
            // consumers' idempotency.
            warn!(%effect_key, error = %e, "completing the claim failed");
        }
        Ok(Claim::Claimed)
    }

    /// Queues one effect. Every id that decides something (the FIFO deduplication ids, the
    /// origin from which the ERP's refund reference is derived) comes from `effect_key`.
    async fn enqueue(&self, source: &SourceConfig, effect_key: &str, effect: Effect) -> Result<(), PortError> {
        let origin = Door::Webhook.origin(&source.name, effect_key);
        match effect {
            Effect::Order(order) => queue_order(&self.erp_sync, &self.orders, &source.name, &origin, &order).await?,
            Effect::Refund(refund) => {
                let group = erp_group(&source.name, &refund.external_order_id);
                let stage = refund.order_key.clone().map(|order_key| OrderCommand::Stage {
                    order_key,
                    stage: Stage::Refund,
                    attempt: 0,
                });
                if stage.is_none() {
                    // The lifecycle needs the order key; the ERP gets the refund regardless.
                    info!(external_order_id = %refund.external_order_id,
                        "refund without order key: queued for the ERP only");
                }
                let message = ErpSyncMessage::Refund { source: origin.clone(), refund };
                self.erp_sync.send(OutgoingMessage::new(message.to_json(), group, origin)).await?;
                if let Some(command) = stage {
                    self.orders.send(command.to_message()).await?;
                }
            }
        }
        Ok(())
    }
}

/// One thing a delivery asks for: a delivery may carry several refunds.
enum Effect {
    Order(Box<WebhookOrder>),
    Refund(Refund),
}

impl Effect {
    fn key(&self) -> String {
        match self {
            Self::Order(order) => order.effect_key(),
            Self::Refund(refund) => refund.effect_key(),
        }
    }
}

fn unavailable_or_internal(transient: bool, message: &str) -> Reply {
    if transient {
        Reply::error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    } else {
        Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}
