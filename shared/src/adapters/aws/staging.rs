//! The catalogue staging table and request log on DynamoDB.
//!
//! Staging: hash key `pk`. An item is `item#<sku>` with its JSON in `body`. The sparse index
//! `list-index` (hash `list`, range `order`) holds only what carries `list`: dirty items
//! (`list` = `dirty`, `order` = the SKU), refused items (`refused`), and run summaries (`run`,
//! `order` = the start time, zero-padded, and the run id). A clean item has no `list`, so
//! listing the dirty SKUs reads only them. The push checkpoint is `checkpoint#push`.
//!
//! Request log: hash key `pk` = `<run id>#<seq>`, the exchange's JSON in `body`, and the TTL
//! attribute `expires_at` (epoch seconds), after which DynamoDB drops it.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::classify;
use crate::catalog::{AuditLog, Checkpoint, Exchange, ItemState, RunSummary, Sku, StagedItem, StagingStore};
use crate::error::PortError;

pub const STAGING_LIST_INDEX: &str = "list-index";
const CHECKPOINT_KEY: &str = "checkpoint#push";
/// BatchWriteItem's limit.
const BATCH: usize = 25;

type Item = HashMap<String, AttributeValue>;

fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

fn encode<T: Serialize>(value: &T) -> AttributeValue {
    s(serde_json::to_string(value).expect("JSON serialises"))
}

fn decode<T: DeserializeOwned>(item: &Item, operation: &'static str) -> Result<T, PortError> {
    let body = item
        .get("body")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| PortError::permanent(operation, "an item without a body"))?;
    serde_json::from_str(body).map_err(|e| PortError::permanent(operation, format!("an unreadable body: {e}")))
}

/// Writes `items` in batches of 25, sending unprocessed items again.
async fn batch_write(client: &Client, table: &str, items: Vec<Item>) -> Result<(), PortError> {
    for chunk in items.chunks(BATCH) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item.clone())).build().expect("a put request"))
                    .build()
            })
            .collect();
        for _attempt in 0..5 {
            let out = client
                .batch_write_item()
                .request_items(table, requests)
                .send()
                .await
                .map_err(|e| classify("dynamodb:BatchWriteItem", e))?;
            requests = out.unprocessed_items().and_then(|u| u.get(table)).cloned().unwrap_or_default();
            if requests.is_empty() {
                break;
            }
        }
        if !requests.is_empty() {
            return Err(PortError::transient(
                "dynamodb:BatchWriteItem",
                format!("{} items left unprocessed", requests.len()),
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct DynamoStaging {
    client: Client,
    table: String,
}

impl DynamoStaging {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// One page of a list of the sparse index, after `after`.
    async fn list(&self, list: &str, after: Option<&str>, limit: usize, forward: bool) -> Result<Vec<Item>, PortError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        let (condition, bound) = match (after, forward) {
            (Some(after), true) => ("#list = :list AND #order > :after", Some(after)),
            _ => ("#list = :list", None),
        };
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(STAGING_LIST_INDEX)
                .key_condition_expression(condition)
                .expression_attribute_names("#list", "list")
                .expression_attribute_values(":list", s(list))
                .scan_index_forward(forward)
                .limit(i32::try_from(limit - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            if let Some(bound) = bound {
                query =
                    query.expression_attribute_names("#order", "order").expression_attribute_values(":after", s(bound));
            }
            let out = query.send().await.map_err(|e| classify("dynamodb:Query", e))?;
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key() {
                Some(key) if items.len() < limit => start = Some(key.clone()),
                _ => return Ok(items),
            }
        }
    }
}

impl StagingStore for DynamoStaging {
    async fn all(&self) -> Result<Vec<StagedItem>, PortError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :item)")
                .expression_attribute_values(":item", s("item#"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("dynamodb:Scan", e))?;
            for item in out.items() {
                items.push(decode(item, "dynamodb:Scan")?);
            }
            match out.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => return Ok(items),
            }
        }
    }

    async fn put(&self, items: &[StagedItem]) -> Result<(), PortError> {
        let rows = items
            .iter()
            .map(|item| {
                let mut row = Item::from([
                    ("pk".to_owned(), s(format!("item#{}", item.sku()))),
                    ("body".to_owned(), encode(item)),
                ]);
                let list = match item.state {
                    ItemState::Dirty => Some("dirty"),
                    ItemState::Refused => Some("refused"),
                    ItemState::Clean => None,
                };
                if let Some(list) = list {
                    row.insert("list".into(), s(list));
                    row.insert("order".into(), s(item.sku().as_str()));
                }
                row
            })
            .collect();
        batch_write(&self.client, &self.table, rows).await
    }

    async fn dirty(&self, after: Option<&Sku>, limit: usize) -> Result<Vec<StagedItem>, PortError> {
        let rows = self.list("dirty", after.map(Sku::as_str), limit, true).await?;
        rows.iter().map(|r| decode(r, "dynamodb:Query")).collect()
    }

    async fn refused(&self) -> Result<Vec<StagedItem>, PortError> {
        let rows = self.list("refused", None, usize::MAX, true).await?;
        rows.iter().map(|r| decode(r, "dynamodb:Query")).collect()
    }

    async fn checkpoint(&self) -> Result<Option<Checkpoint>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(CHECKPOINT_KEY))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("dynamodb:GetItem", e))?;
        out.item().map(|item| decode(item, "dynamodb:GetItem")).transpose()
    }

    async fn set_checkpoint(&self, checkpoint: Option<&Checkpoint>) -> Result<(), PortError> {
        match checkpoint {
            Some(checkpoint) => {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .item("pk", s(CHECKPOINT_KEY))
                    .item("body", encode(checkpoint))
                    .send()
                    .await
                    .map_err(|e| classify("dynamodb:PutItem", e))?;
            }
            None => {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", s(CHECKPOINT_KEY))
                    .send()
                    .await
                    .map_err(|e| classify("dynamodb:DeleteItem", e))?;
            }
        }
        Ok(())
    }

    async fn record_run(&self, summary: &RunSummary) -> Result<(), PortError> {
        let order = format!("{:020}#{}", summary.started_ms, summary.run_id);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("run#{order}#{}", summary.phase)))
            .item("body", encode(summary))
            .item("list", s("run"))
            .item("order", s(order))
            .send()
            .await
            .map_err(|e| classify("dynamodb:PutItem", e))?;
        Ok(())
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, PortError> {
        let rows = self.list("run", None, limit, false).await?;
        rows.iter().map(|r| decode(r, "dynamodb:Query")).collect()
    }
}

/// The request log table: hash key `pk`, TTL attribute `expires_at`.
#[derive(Debug, Clone)]
pub struct DynamoAuditLog {
    client: Client,
    table: String,
}

impl DynamoAuditLog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

impl AuditLog for DynamoAuditLog {
    async fn record(&self, exchanges: &[Exchange]) -> Result<(), PortError> {
        let rows = exchanges
            .iter()
            .map(|e| {
                Item::from([
                    ("pk".to_owned(), s(format!("{}#{:08}", e.run_id, e.seq))),
                    ("body".to_owned(), encode(e)),
                    ("expires_at".to_owned(), AttributeValue::N(e.expires_at.to_string())),
                ])
            })
            .collect();
        batch_write(&self.client, &self.table, rows).await
    }
}
