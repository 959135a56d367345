//! WooCommerce REST v3: `GET /orders?modified_after=…&orderby=modified&order=asc`, paged by
//! `page`/`per_page` with `X-WP-TotalPages`. `modified_after` is exclusive and to the second,
//! so the poll asks from one second before its window and the cursor drops what is older.
//! Dates are sent and read in GMT (`dates_are_gmt`, `date_modified_gmt`): the shop's own
//! time zone would shift the window.

use super::config::{rfc3339_ms, utc_seconds};
use super::{Listed, Page, PollError, Source, text};
use crate::webhook::{WebhookOrder, parse_platform_json, woocommerce_order};

pub(super) async fn page(
    source: &Source<'_>,
    per_page: u32,
    since_ms: i64,
    next: Option<&str>,
) -> Result<Page, PollError> {
    let page: u64 = next.map_or(Ok(1), str::parse).map_err(|_| source.answer_error("bad page number"))?;
    let mut url = source.url("/orders")?;
    url.query_pairs_mut()
        .append_pair("modified_after", utc_seconds(since_ms.saturating_sub(1_000)).trim_end_matches('Z'))
        .append_pair("dates_are_gmt", "true")
        .append_pair("orderby", "modified")
        .append_pair("order", "asc")
        .append_pair("per_page", &per_page.to_string())
        .append_pair("page", &page.to_string());
    let reply = source.client.get(url).await?;
    let records = parse_platform_json(reply.body.as_bytes()).map_err(|e| source.answer_error(e.to_string()))?;
    let serde_json::Value::Array(records) = records else {
        return Err(source.answer_error("GET /orders did not answer a list"));
    };
    let listed = records
        .into_iter()
        .map(|record| {
            let id = text(record.get("id")).ok_or_else(|| source.answer_error("an order without id"))?;
            let modified = text(record.get("date_modified_gmt"))
                .and_then(|t| rfc3339_ms(&format!("{t}Z")))
                .ok_or_else(|| source.answer_error(format!("order {id}: no date_modified_gmt")))?;
            Ok(Listed { id, updated_ms: modified, record })
        })
        .collect::<Result<Vec<_>, PollError>>()?;
    let pages: u64 = reply.headers.get("x-wp-totalpages").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0);
    Ok(Page { listed, next: (page < pages).then(|| (page + 1).to_string()) })
}

pub(super) fn order(source: &Source<'_>, listed: &Listed) -> Result<WebhookOrder, PollError> {
    woocommerce_order(&source.config.seller(), &listed.record)
        .map_err(|e| source.mapping_error(&listed.id, e.to_string()))
}
