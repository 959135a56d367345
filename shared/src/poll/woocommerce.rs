//! WooCommerce REST v3: `GET /orders?modified_after=…&orderby=modified&order=asc`, paged by
//! `page`/`per_page` with `X-WP-TotalPages`. `modified_after` is exclusive and to the second,
//! so the poll asks from one second before its window and the cursor drops what is older.
//! Dates are sent and read in GMT (`dates_are_gmt`, `date_modified_gmt`): the shop's own
//! time zone would shift the window.
//!
//! WooCommerce pages by offset, so an order modified while a run pages moves to the end of the
//! sort and shifts every later order back by one: the next page by number would pass one by.
//! Each next page is therefore asked from the last modified time read (`<ms>:1`), by number
//! (`<ms>:<n>`) only while a whole page shares one second; the orders read again at that
//! second are the cursor's to skip.

use super::config::{rfc3339_ms, utc_seconds};
use super::{Listed, Page, PollError, Source, text};
use crate::webhook::{WebhookOrder, parse_platform_json, woocommerce_order};

pub(super) async fn page(
    source: &Source<'_>,
    per_page: u32,
    since_ms: i64,
    next: Option<&str>,
) -> Result<Page, PollError> {
    let (since_ms, page) = match next {
        None => (since_ms, 1),
        Some(token) => token
            .split_once(':')
            .and_then(|(ms, page)| Some((ms.parse::<i64>().ok()?, page.parse::<u64>().ok()?)))
            .ok_or_else(|| source.answer_error(format!("bad page token {token}")))?,
    };
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
    let last_second = listed.iter().map(|l| l.updated_ms.div_euclid(1_000)).max();
    let next = match last_second {
        _ if page >= pages => None,
        Some(second) if second > since_ms.div_euclid(1_000) => Some(format!("{}:1", second * 1_000)),
        // The whole page at the bound's second: only the page number can move on.
        _ => Some(format!("{since_ms}:{}", page + 1)),
    };
    Ok(Page { listed, next })
}

pub(super) fn order(source: &Source<'_>, listed: &Listed) -> Result<WebhookOrder, PollError> {
    woocommerce_order(&source.config.seller(), &listed.record)
        .map_err(|e| source.mapping_error(&listed.id, e.to_string()))
}
