//! `OrderStore` on a DynamoDB table.
//!
//! Item layout; the SAM template and the tests' table creation mirror the constants below:
//!
//! | attribute | type | holds |
//! |---|---|---|
//! | `pk` | S | the order key: the table's hash key |
//! | `state` | S | the lifecycle state: hash key of the `by-state` index, and the stream filter |
//! | `version` | N | what every conditional write compares |
//! | `state_at`, `created_at` | S | RFC 3339 with milliseconds |
//! | `order_number` | S | for operators reading the table |
//! | `notified_at` | S | only once the customer email was claimed |
//! | `state_sort` | S | `state_at#pk`: range key of `by-state`; sorts by time, and no two orders tie |
//! | `record` | B | gzip of the `OrderRecord` JSON: the only attribute reads decode |
//!
//! The other attributes are copies of record fields, kept at the top level so conditions,
//! the index and the stream filter can see them. The record is compressed because an order
//! of thousands of lines is larger than DynamoDB's 400 KB item limit as plain JSON.
//!
//! `by-state` projects ALL, so a page of a state list is one Query. Index reads are
//! eventually consistent, so a just-written order may take a moment to appear in lists.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use super::classify;
use crate::error::PortError;
use crate::lifecycle::{OrderRecord, State};
use crate::order::OrderKey;
use crate::ports::{ListError, OrderPage, OrderStore, StateStats, WriteError};

pub const ATTR_PK: &str = "pk";
pub const ATTR_STATE: &str = "state";
pub const ATTR_VERSION: &str = "version";
pub const ATTR_STATE_AT: &str = "state_at";
pub const ATTR_CREATED_AT: &str = "created_at";
pub const ATTR_ORDER_NUMBER: &str = "order_number";
pub const ATTR_NOTIFIED_AT: &str = "notified_at";
pub const ATTR_STATE_SORT: &str = "state_sort";
pub const ATTR_RECORD: &str = "record";
/// Global secondary index: hash [`ATTR_STATE`], range [`ATTR_STATE_SORT`], projection ALL.
pub const INDEX_BY_STATE: &str = "by-state";
/// The largest page `list_by_state` returns; larger limits are clamped to it.
pub const MAX_PAGE: usize = 100;

/// The key attributes of an index entry: what a listing cursor carries.
const CURSOR_ATTRS: [&str; 3] = [ATTR_PK, ATTR_STATE, ATTR_STATE_SORT];

pub fn dynamodb_client(config: &aws_config::SdkConfig) -> Client {
    Client::new(config)
}

/// The orders table, addressed by name.
#[derive(Debug, Clone)]
pub struct DynamoOrderStore {
    client: Client,
    table: String,
}

impl DynamoOrderStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A Query of one state's index partition; `state` is a reserved word, hence `#state`.
    fn query_state(&self, state: State) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(INDEX_BY_STATE)
            .key_condition_expression("#state = :state")
            .expression_attribute_names("#state", ATTR_STATE)
            .expression_attribute_values(":state", string(state.as_str()))
    }

    async fn count(&self, state: State) -> Result<u64, PortError> {
        let mut count = 0;
        let mut start = None;
        loop {
            let out = self
                .query_state(state)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("dynamodb:Query", e))?;
            count += u64::try_from(out.count()).unwrap_or_default();
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    async fn oldest(&self, state: State) -> Result<Option<(OrderKey, String)>, PortError> {
        let out = self
            .query_state(state)
            .scan_index_forward(true)
            .limit(1)
            .projection_expression("#pk, #state_at")
            .expression_attribute_names("#pk", ATTR_PK)
            .expression_attribute_names("#state_at", ATTR_STATE_AT)
            .send()
            .await
            .map_err(|e| classify("dynamodb:Query", e))?;
        let Some(item) = out.items().first() else {
            return Ok(None);
        };
        let pk = string_attr(item, ATTR_PK)?;
        let key = OrderKey::parse(pk).map_err(|e| PortError::permanent(DECODE, e.to_string()))?;
        Ok(Some((key, string_attr(item, ATTR_STATE_AT)?.to_owned())))
    }
}

impl OrderStore for DynamoOrderStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<OrderRecord>, PortError> {
        // Strongly consistent: callers write conditionally on the version they read here.
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ATTR_PK, string(key.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("dynamodb:GetItem", e))?;
        out.item().map(record_of).transpose()
    }

    async fn put(&self, record: &OrderRecord, expected: Option<u64>) -> Result<(), WriteError> {
        let req = self.client.put_item().table_name(&self.table).set_item(Some(item_of(record)?));
        let req = match expected {
            None => req.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", ATTR_PK),
            Some(version) => req
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", ATTR_VERSION)
                .expression_attribute_values(":expected", AttributeValue::N(version.to_string())),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Err(WriteError::VersionConflict)
            }
            Err(e) => Err(classify("dynamodb:PutItem", e).into()),
        }
    }

    async fn list_by_state(&self, state: State, limit: usize, cursor: Option<&str>) -> Result<OrderPage, ListError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let start = cursor.map(|c| decode_cursor(c, state)).transpose()?;
        // One more than asked: only an extra item proves there is a next page, so the last
        // page carries no cursor even when the count is a multiple of the limit.
        let out = self
            .query_state(state)
            .scan_index_forward(false)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| classify("dynamodb:Query", e))?;
        let items = out.items();
        // A 1 MB response may stop short of the limit; LastEvaluatedKey then says so.
        let more = items.len() > limit || out.last_evaluated_key().is_some();
        let items = &items[..items.len().min(limit)];
        let orders = items.iter().map(record_of).collect::<Result<Vec<_>, _>>()?;
        let cursor = match items.last() {
            Some(last) if more => Some(encode_cursor(last)?),
            _ => None,
        };
        Ok(OrderPage { orders, cursor })
    }

    async fn stats(&self) -> Result<Vec<StateStats>, PortError> {
        let mut stats = Vec::with_capacity(State::ALL.len());
        for state in State::ALL {
            let count = self.count(state).await?;
            let oldest = if count == 0 { None } else { self.oldest(state).await? };
            stats.push(StateStats { state, count, oldest });
        }
        Ok(stats)
    }
}

const DECODE: &str = "decode order item";
const LIST: &str = "list orders by state";

fn string(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn string_attr<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Result<&'a str, PortError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| PortError::permanent(DECODE, format!("attribute {name} is missing or not a string")))
}

fn item_of(record: &OrderRecord) -> Result<HashMap<String, AttributeValue>, PortError> {
    let key = record.key.as_str();
    let mut item = HashMap::from([
        (ATTR_PK.to_owned(), string(key)),
        (ATTR_STATE.to_owned(), string(record.state.as_str())),
        (ATTR_VERSION.to_owned(), AttributeValue::N(record.version.to_string())),
        (ATTR_STATE_AT.to_owned(), string(&record.state_at)),
        (ATTR_CREATED_AT.to_owned(), string(&record.created_at)),
        (ATTR_ORDER_NUMBER.to_owned(), string(&record.order.order_number)),
        (ATTR_STATE_SORT.to_owned(), string(&format!("{}#{key}", record.state_at))),
        (ATTR_RECORD.to_owned(), AttributeValue::B(Blob::new(compress(record)?))),
    ]);
    if let Some(at) = &record.notified_at {
        item.insert(ATTR_NOTIFIED_AT.to_owned(), string(at));
    }
    Ok(item)
}

fn compress(record: &OrderRecord) -> Result<Vec<u8>, PortError> {
    let fail = |e: &dyn std::fmt::Display| PortError::permanent("encode order record", format!("{}: {e}", record.key));
    let json = serde_json::to_vec(record).map_err(|e| fail(&e))?;
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::default());
    gz.write_all(&json).and_then(|()| gz.finish()).map_err(|e| fail(&e))
}

fn record_of(item: &HashMap<String, AttributeValue>) -> Result<OrderRecord, PortError> {
    let pk = string_attr(item, ATTR_PK)?;
    let fail = |e: &dyn std::fmt::Display| PortError::permanent(DECODE, format!("{pk}: {e}"));
    let blob = item
        .get(ATTR_RECORD)
        .and_then(|v| v.as_b().ok())
        .ok_or_else(|| fail(&format!("attribute {ATTR_RECORD} is missing or not binary")))?;
    let mut json = Vec::new();
    GzDecoder::new(blob.as_ref()).read_to_end(&mut json).map_err(|e| fail(&e))?;
    serde_json::from_slice(&json).map_err(|e| fail(&e))
}

/// The index key of the last order on a page, as URL-safe base64 of a JSON object.
fn encode_cursor(item: &HashMap<String, AttributeValue>) -> Result<String, PortError> {
    let mut key = BTreeMap::new();
    for name in CURSOR_ATTRS {
        key.insert(name, string_attr(item, name)?);
    }
    let json = serde_json::to_vec(&key).map_err(|e| PortError::permanent(LIST, format!("encode cursor: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

fn decode_cursor(cursor: &str, state: State) -> Result<HashMap<String, AttributeValue>, ListError> {
    let invalid = ListError::InvalidCursor;
    let key: BTreeMap<String, String> = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .filter(|key: &BTreeMap<String, String>| {
            key.len() == CURSOR_ATTRS.len() && CURSOR_ATTRS.iter().all(|a| key.contains_key(*a))
        })
        .ok_or_else(|| invalid("it is not one a listing returned".into()))?;
    if key[ATTR_STATE] != state.as_str() {
        return Err(invalid(format!("it continues the {} list, not {state}", key[ATTR_STATE])));
    }
    Ok(key.into_iter().map(|(name, value)| (name, AttributeValue::S(value))).collect())
}
