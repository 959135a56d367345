//! A generic B2B REST source: a partner's order list, paged by cursor or page number, from an
//! update time on, each record mapped to the canonical order by a declarative inbound mapping
//! ([`crate::mapping::Mapping::inbound_from_json`]). The partner system that downloads from a
//! central store on a timer, turned around: here we download from it.

use serde_json::Value;

use super::config::{Paging, PartnerSpec, rfc3339_ms, utc_seconds};
use super::{Listed, Page, PollError, Source, text};
use crate::order::{CanonicalOrder, OrderKey, Origin, Party};
use crate::webhook::{WebhookOrder, parse_platform_json};

pub(super) async fn page(
    source: &Source<'_>,
    spec: &PartnerSpec,
    since_ms: i64,
    next: Option<&str>,
) -> Result<Page, PollError> {
    let mut url = source.url(&spec.orders_path)?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair(&spec.updated_after_param, &utc_seconds(since_ms));
        for (name, value) in &spec.query {
            query.append_pair(name, value);
        }
        match &spec.paging {
            Paging::Cursor { param, size_param, .. } => {
                query.append_pair(size_param, &spec.page_size.to_string());
                if let Some(cursor) = next {
                    query.append_pair(param, cursor);
                }
            }
            Paging::Page { param, size_param } => {
                query.append_pair(size_param, &spec.page_size.to_string());
                query.append_pair(param, next.unwrap_or("1"));
            }
        }
    }
    let reply = source.client.get(url).await?;
    let answer = parse_platform_json(reply.body.as_bytes()).map_err(|e| source.answer_error(e.to_string()))?;
    let items = if spec.items_field.is_empty() { &answer } else { &answer[spec.items_field.as_str()] };
    let Some(items) = items.as_array() else {
        return Err(source.answer_error(format!("the answer's `{}` is not a list", spec.items_field)));
    };
    let listed = items
        .iter()
        .map(|record| {
            let id = text(record.get(&spec.id_field))
                .ok_or_else(|| source.answer_error(format!("a record without `{}`", spec.id_field)))?;
            let updated = text(record.get(&spec.updated_field))
                .and_then(|t| rfc3339_ms(&t))
                .ok_or_else(|| source.answer_error(format!("record {id}: `{}` is not RFC 3339", spec.updated_field)))?;
            Ok(Listed { id, updated_ms: updated, record: record.clone() })
        })
        .collect::<Result<Vec<_>, PollError>>()?;
    let next = match &spec.paging {
        Paging::Cursor { next_field, .. } => text(answer.get(next_field)),
        Paging::Page { .. } => {
            let page: u64 = next.map_or(Ok(1), str::parse).map_err(|_| source.answer_error("bad page number"))?;
            (listed.len() >= spec.page_size as usize).then(|| (page + 1).to_string())
        }
    };
    Ok(Page { listed, next })
}

/// The record through the mapping, completed with what the poller knows: the seller (the
/// configured partner), the origin and the order key from seller, buyer and order number.
pub(super) fn order(source: &Source<'_>, spec: &PartnerSpec, listed: &Listed) -> Result<WebhookOrder, PollError> {
    let refuse = |message: String| source.mapping_error(&listed.id, message);
    let mapped = spec.mapping.apply_json(&listed.record).map_err(|e| refuse(e.to_string()))?;
    let mut fields: Value = serde_json::from_str(&mapped.to_json()).map_err(|e| refuse(e.to_string()))?;
    let seller = source.config.seller();
    let Some(object) = fields.as_object_mut() else {
        return Err(refuse("the mapping must produce an object".into()));
    };
    let buyer: Party = serde_json::from_value(object.get("buyer").cloned().unwrap_or(Value::Null))
        .map_err(|e| refuse(format!("buyer: {e}")))?;
    let number = object.get("order_number").and_then(Value::as_str).ok_or_else(|| refuse("no order_number".into()))?;
    let key = OrderKey::derive(&seller, &buyer, number);
    object.insert("order_key".into(), Value::String(key.as_str().to_owned()));
    object.insert("seller".into(), serde_json::to_value(&seller).expect("a party serialises"));
    // A shop or partner API, like a webhook: not a UBL document.
    object.insert("origin".into(), serde_json::to_value(Origin::Webhook).expect("an origin serialises"));
    let order: CanonicalOrder = serde_json::from_value(fields).map_err(|e| refuse(e.to_string()))?;
    order.validate().map_err(refuse)?;
    Ok(WebhookOrder { external_order_id: listed.id.clone(), order })
}
