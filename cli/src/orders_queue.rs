//! `POST /orders/queue` as API Gateway serves it in the stack, where no function answers it
//! (template.yaml: a request validator, then an AWS integration that sends the order to the
//! orders FIFO queue as a registration command). Here the same steps run over the embedded
//! orders queue, with the same model, the same ids and the same answers:
//!
//! 1. a Content-Type other than application/json is 415 (no Content-Type counts as JSON, as on
//!    API Gateway);
//! 2. the validator: no `Idempotency-Key` is 400 `missing_parameter`; a body that is not JSON or
//!    does not fit the canonical order model (`schema/canonical-order.draft4.json`, the model of
//!    the template) is 400 `invalid_body`;
//! 3. the mapping template: group id = base64 of the buyer's company id (else name), cut to 128;
//!    deduplication id = the `Idempotency-Key`; body = the command around the order as sent;
//! 4. SQS: an id or a body that SQS would refuse is 502 `queue_unavailable`, as the template maps
//!    every SQS error; else 202 with the message id.

use base64::Engine;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orderflow_shared::api::{self, Refusal};
use orderflow_shared::ports::{FifoQueue, OutgoingMessage, is_fifo_id};
use serde_json::{Value, json};

const MODEL: &str = include_str!("../../schema/canonical-order.draft4.json");
const KEY_HEADER: &str = "idempotency-key";
/// SQS's largest message (1 MiB since August 2025).
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The answers API Gateway gives, with the gateway responses of template.yaml.
const UNSUPPORTED_MEDIA_TYPE: &str = "Unsupported Media Type";
const INVALID_BODY: &str = "Invalid request body";
const MISSING_KEY: &str = "Missing required request parameters: [Idempotency-Key]";
const QUEUE_UNAVAILABLE: &str =
    "the orders queue did not take the order; nothing was queued: send it again with the same Idempotency-Key";

pub struct OrdersQueueRoute {
    model: jsonschema::Validator,
}

impl Default for OrdersQueueRoute {
    fn default() -> Self {
        let model: Value = serde_json::from_str(MODEL).expect("the bundled model is JSON");
        let model = jsonschema::draft4::new(&model).expect("the bundled model is a draft 4 schema");
        Self { model }
    }
}

impl OrdersQueueRoute {
    pub async fn handle(&self, queue: &impl FifoQueue, req: &Request, request_id: &str) -> Response<Body> {
        match self.message(req, request_id) {
            Ok(message) => send(queue, message).await,
            Err(refusal) => refusal.response(),
        }
    }

    fn message(&self, req: &Request, request_id: &str) -> Result<OutgoingMessage, Refusal> {
        let content_type = req.headers().get("content-type").map(|v| v.to_str().unwrap_or(""));
        let media_type = content_type.map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        if media_type.is_some_and(|t| t != "application/json") {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                UNSUPPORTED_MEDIA_TYPE,
            ));
        }
        let key = req.headers().get(KEY_HEADER).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let Some(key) = key else {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, "missing_parameter", MISSING_KEY));
        };
        let invalid = || Refusal::new(StatusCode::BAD_REQUEST, "invalid_body", INVALID_BODY);
        let body = std::str::from_utf8(req.body().as_ref()).map_err(|_| invalid())?;
        let order: Value = serde_json::from_str(body).map_err(|_| invalid())?;
        if !self.model.is_valid(&order) {
            return Err(invalid());
        }
        let command = format!(
            r#"{{"command":"register","source":"api-gateway:POST /orders/queue {request_id}","order":{body}}}"#
        );
        // The ids as the mapping template passes them, unchecked: SQS refuses an invalid one,
        // and `send` stands in for that. (`OutgoingMessage::new` would make any text valid.)
        Ok(OutgoingMessage { body: command, group_id: group_of(&order), dedup_id: key, attributes: Vec::new() })
    }
}

/// The buyer's company id, else its name, in base64 (characters SQS allows in a group id)
/// and cut to SQS's 128: one buyer's orders are received in order.
fn group_of(order: &Value) -> String {
    let buyer = &order["buyer"];
    let who = match buyer["company_id"]["value"].as_str() {
        Some(id) if !id.is_empty() => id,
        _ => buyer["name"].as_str().unwrap_or_default(),
    };
    let mut group = base64::engine::general_purpose::STANDARD.encode(who);
    group.truncate(128);
    group
}

async fn send(queue: &impl FifoQueue, message: OutgoingMessage) -> Response<Body> {
    let refused = || api::error(StatusCode::BAD_GATEWAY, "queue_unavailable", QUEUE_UNAVAILABLE);
    if !is_fifo_id(&message.group_id) || !is_fifo_id(&message.dedup_id) || message.body.len() > MAX_MESSAGE_BYTES {
        return refused();
    }
    match queue.send(message).await {
        Ok(message_id) => api::json(StatusCode::ACCEPTED, &json!({"status": "queued", "message_id": message_id})),
        Err(_) => refused(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_is_the_buyers_company_id_else_its_name_in_base64_cut_to_128() {
        let with_id = json!({"buyer": {"name": "A B", "company_id": {"value": "76.123.456-7"}}});
        assert_eq!(group_of(&with_id), "NzYuMTIzLjQ1Ni03");
        let by_name = json!({"buyer": {"name": "Panadería Ñuñoa SpA"}});
        assert_eq!(group_of(&by_name), base64::engine::general_purpose::STANDARD.encode("Panadería Ñuñoa SpA"));
        let long = json!({"buyer": {"name": "x".repeat(500)}});
        assert_eq!(group_of(&long).len(), 128);
        assert!(is_fifo_id(&group_of(&long)));
    }
}
