//! A shop without a profile: a configured request, with the body the declarative mapping makes
//! of the order, plus the state entered and the tracking, and an `Idempotency-Key` header
//! derived from the order and the state (the de-facto header of HTTP APIs that dedupe).

use reqwest::Method;

use super::connector::ShopConnector;
use super::error::ShopError;
use super::{ActionDone, ActionRequest};
use crate::erp::http::encode;
use crate::error::Retry;
use crate::mapping::{MappingSource, Value};

pub(crate) async fn send<M: MappingSource>(
    shop: &ShopConnector<M>,
    request: &ActionRequest<'_>,
    method: &str,
    path: &str,
) -> Result<ActionDone, ShopError> {
    let config = |message: String| ShopError::local(Retry::Permanent, "config", message);
    let method = Method::from_bytes(method.as_bytes()).map_err(|e| config(e.to_string()))?;
    let mapping =
        shop.mappings.get(&request.state).ok_or_else(|| config(format!("no mapping for {}", request.state)))?;
    let mapping = mapping
        .current()
        .await
        .map_err(|e| ShopError::local(Retry::Transient, "mapping_unavailable", e.to_string()))?;
    let mut body = mapping
        .apply(&request.record.order)
        .map_err(|e| ShopError::local(Retry::Permanent, "mapping", e.to_string()))?;
    body.set("state", Value::String(request.state.as_str().to_owned()));
    if let Some(tracking) = &request.record.tracking {
        let json = serde_json::to_value(tracking).expect("tracking serialises");
        body.set("tracking", Value::from_json(&json));
    }
    let path = path.replace("{order_id}", &encode(&request.shop.order_id)).replace("{state}", request.state.as_str());
    let headers = vec![("Idempotency-Key", request.idempotency_key.to_owned())];
    let operation = format!("{method} {path}");
    let answer = shop.call(&operation, method, &path, Some(body.to_json().into_bytes()), headers).await?;
    let id = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|j| j.get("id").map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_owned)));
    Ok(ActionDone { sent: format!("{operation} (status {})", answer.status), platform_id: id })
}
