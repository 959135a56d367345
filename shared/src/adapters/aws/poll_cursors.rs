//! Poll cursors (the [`PollCursors`] port) in a small DynamoDB table, one item per source:
//!
//! | attribute | type | holds |
//! |---|---|---|
//! | `pk` | S | the source name (never a hash of its configuration, so a change keeps it) |
//! | `version` | N | what every save compares |
//! | `high_water_ms` | N | the cursor's high water, also compared so it never goes down |
//! | `cursor` | S | the [`Cursor`] as JSON |
//!
//! A cursor's `seen` holds only the orders inside the lookback window, so the item stays far
//! below DynamoDB's 400 KB limit for any window a schedule uses.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{ATTR_PK, classify};
use crate::error::PortError;
use crate::poll::Cursor;
use crate::ports::{CursorSave, PollCursors, StoredCursor};

const ATTR_VERSION: &str = "version";
const ATTR_HIGH_WATER: &str = "high_water_ms";
const ATTR_CURSOR: &str = "cursor";

#[derive(Debug, Clone)]
pub struct DynamoPollCursors {
    client: Client,
    table: String,
}

impl DynamoPollCursors {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

impl PollCursors for DynamoPollCursors {
    async fn load(&self, source: &str) -> Result<StoredCursor, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ATTR_PK, AttributeValue::S(source.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("dynamodb:GetItem", e))?;
        let Some(item) = out.item() else {
            return Ok(StoredCursor { cursor: Cursor::default(), version: 0 });
        };
        let version =
            item.get(ATTR_VERSION).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).ok_or_else(|| {
                PortError::permanent("poll_cursors.load", format!("cursor of {source} has no version"))
            })?;
        let cursor = item
            .get(ATTR_CURSOR)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| PortError::permanent("poll_cursors.load", format!("cursor of {source} has no body")))?;
        let cursor = serde_json::from_str(cursor)
            .map_err(|e| PortError::permanent("poll_cursors.load", format!("cursor of {source}: {e}")))?;
        Ok(StoredCursor { cursor, version })
    }

    async fn save(&self, source: &str, cursor: &Cursor, expected: u64) -> Result<CursorSave, PortError> {
        let number = |n: String| AttributeValue::N(n);
        let body = serde_json::to_string(cursor).expect("a cursor serialises");
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(ATTR_PK, AttributeValue::S(source.to_owned()))
            .item(ATTR_VERSION, number((expected + 1).to_string()))
            .item(ATTR_HIGH_WATER, number(cursor.high_water_ms.to_string()))
            .item(ATTR_CURSOR, AttributeValue::S(body));
        let put = if expected == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("#version = :expected AND #high_water <= :high_water")
                .expression_attribute_names("#version", ATTR_VERSION)
                .expression_attribute_names("#high_water", ATTR_HIGH_WATER)
                .expression_attribute_values(":expected", number(expected.to_string()))
                .expression_attribute_values(":high_water", number(cursor.high_water_ms.to_string()))
        };
        match put.send().await {
            Ok(_) => Ok(CursorSave::Saved),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(CursorSave::Superseded)
            }
            Err(e) => Err(classify("dynamodb:PutItem", e)),
        }
    }
}
