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
//!
//! Counts per state live in [`COUNTER_SHARDS`] counter items (`pk` = `counts#<n>`, one number
//! attribute `n_<state>` per state, no `state` attribute, so neither the index nor the stream
//! filter sees them). A write that creates an order or moves it to another state updates its
//! shard in the same transaction as the conditional put, so the counts are exact and
//! [`OrderStore::stats`] reads the shards and one index entry per state, whatever the table's
//! size. Sharded so that the writes of a busy system do not all land on one item.
//!
//! The portal's statistics come from day items (`pk` = `days#YYYY-MM-DD`, one number attribute
//! per counter of [`crate::day_counts`]), added to in the same transaction as the write they
//! count, so 30 days of statistics are one BatchGetItem of 30 items.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use super::classify;
use crate::day_counts::{self, DayCounts};
use crate::error::PortError;
use crate::lifecycle::{OrderRecord, State};
use crate::order::OrderKey;
use crate::ports::{Expected, ListError, MAX_DAYS, OrderPage, OrderStore, StateStats, WriteError};

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

/// How many counter items the per-state counts are spread over.
pub const COUNTER_SHARDS: u32 = 8;

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

    /// The items whose `pk` is one of `pks`, by one BatchGetItem (at most 100 keys), asking
    /// again for unprocessed keys (throttling) as the API expects.
    async fn batch_get(&self, pks: &[String]) -> Result<Vec<HashMap<String, AttributeValue>>, PortError> {
        let keys = pks.iter().map(|pk| HashMap::from([(ATTR_PK.to_owned(), string(pk))]));
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys.collect()))
                .consistent_read(true)
                .build()
                .map_err(|e| PortError::permanent("dynamodb:BatchGetItem", e.to_string()))?,
        );
        let mut items = Vec::with_capacity(pks.len());
        while let Some(keys) = request.take() {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, keys)
                .send()
                .await
                .map_err(|e| classify("dynamodb:BatchGetItem", e))?;
            items.extend(out.responses().and_then(|r| r.get(&self.table)).into_iter().flatten().cloned());
            request = out.unprocessed_keys().and_then(|u| u.get(&self.table)).cloned();
        }
        Ok(items)
    }

    /// Every state's count, summed over the counter shards: one BatchGetItem of
    /// [`COUNTER_SHARDS`] items.
    async fn counts(&self) -> Result<HashMap<State, i64>, PortError> {
        let keys: Vec<String> = (0..COUNTER_SHARDS).map(counter_key).collect();
        let mut counts = HashMap::new();
        for item in self.batch_get(&keys).await? {
            for state in State::ALL {
                let n = item.get(&counter_attr(state)).and_then(|v| v.as_n().ok());
                let n: i64 = n
                    .map(|n| n.parse())
                    .transpose()
                    .map_err(|e| PortError::permanent(DECODE, format!("counter {}: {e}", counter_attr(state))))?
                    .unwrap_or(0);
                *counts.entry(state).or_insert(0) += n;
            }
        }
        Ok(counts)
    }

    /// Writes each day's item whole, replacing what it held: the backfill of the days before
    /// the counters existed ([`crate::day_backfill`]), never a day the live writes add to.
    pub async fn replace_days(&self, days: &[DayCounts]) -> Result<(), PortError> {
        for day in days {
            let mut item = HashMap::from([(ATTR_PK.to_owned(), string(&day_key(&day.day)))]);
            for (name, n) in &day.counts {
                item.insert(name.clone(), AttributeValue::N(n.to_string()));
            }
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| classify("dynamodb:PutItem", e))?;
        }
        Ok(())
    }

    /// Adds `counts` to the day item of `day`, in the transaction of the write they count.
    fn day_update(
        &self,
        day: &str,
        counts: &BTreeMap<String, u64>,
    ) -> Result<Update, aws_sdk_dynamodb::error::BuildError> {
        let mut update = Update::builder().table_name(&self.table).key(ATTR_PK, string(&day_key(day)));
        let mut adds = Vec::with_capacity(counts.len());
        for (i, (name, n)) in counts.iter().enumerate() {
            adds.push(format!("#c{i} :n{i}"));
            update = update
                .expression_attribute_names(format!("#c{i}"), name)
                .expression_attribute_values(format!(":n{i}"), AttributeValue::N(n.to_string()));
        }
        update.update_expression(format!("ADD {}", adds.join(", "))).build()
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

    async fn put(&self, record: &OrderRecord, expected: Option<Expected>) -> Result<(), WriteError> {
        let condition = Condition::of(expected);
        let moved_from = match expected {
            None => Some(None),
            Some(e) if e.state != record.state => Some(Some(e.state)),
            Some(_) => None,
        };
        let Some(from) = moved_from else {
            // The state stays: no count changes, one conditional put.
            let req = self.client.put_item().table_name(&self.table).set_item(Some(item_of(record)?));
            let req = req
                .condition_expression(condition.expression)
                .set_expression_attribute_names(Some(condition.names))
                .set_expression_attribute_values(condition.values);
            return match req.send().await {
                Ok(_) => Ok(()),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                    Err(WriteError::VersionConflict)
                }
                Err(e) => Err(classify("dynamodb:PutItem", e).into()),
            };
        };
        let build =
            |e: aws_sdk_dynamodb::error::BuildError| PortError::permanent("dynamodb:TransactWriteItems", e.to_string());
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item_of(record)?))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values)
            .build()
            .map_err(build)?;
        let mut count = Update::builder()
            .table_name(&self.table)
            .key(ATTR_PK, string(&counter_key(counter_shard(&record.key))))
            .expression_attribute_names("#to", counter_attr(record.state))
            .expression_attribute_values(":one", AttributeValue::N("1".into()));
        count = match from {
            None => count.update_expression("ADD #to :one"),
            Some(from) => count
                .update_expression("ADD #to :one, #from :less")
                .expression_attribute_names("#from", counter_attr(from))
                .expression_attribute_values(":less", AttributeValue::N("-1".into())),
        };
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(count.build().map_err(build)?).build(),
        ];
        for (day, counts) in day_counts::increments(from, record) {
            items.push(TransactWriteItem::builder().update(self.day_update(&day, &counts).map_err(build)?).build());
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                // The put's condition failing cancels the transaction with that reason first.
                let lost_race = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        c.cancellation_reasons().first().and_then(|r| r.code()) == Some("ConditionalCheckFailed")
                    }
                    _ => false,
                };
                if lost_race {
                    Err(WriteError::VersionConflict)
                } else {
                    Err(classify("dynamodb:TransactWriteItems", e).into())
                }
            }
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
        let counts = self.counts().await?;
        let mut stats = Vec::with_capacity(State::ALL.len());
        for state in State::ALL {
            // Below zero only if a counter was lost, which a transaction rules out; shown as none.
            let count = u64::try_from(counts.get(&state).copied().unwrap_or(0)).unwrap_or(0);
            let oldest = if count == 0 { None } else { self.oldest(state).await? };
            stats.push(StateStats { state, count, oldest });
        }
        Ok(stats)
    }

    async fn oldest_in_state(&self, state: State, before: &str, limit: usize) -> Result<Vec<OrderRecord>, PortError> {
        let limit = limit.clamp(1, MAX_PAGE);
        // `state_at#pk` sorts below `before` exactly when `state_at` does.
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX_BY_STATE)
            .key_condition_expression("#state = :state AND #sort < :before")
            .expression_attribute_names("#state", ATTR_STATE)
            .expression_attribute_names("#sort", ATTR_STATE_SORT)
            .expression_attribute_values(":state", string(state.as_str()))
            .expression_attribute_values(":before", string(before))
            .scan_index_forward(true)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| classify("dynamodb:Query", e))?;
        out.items().iter().map(record_of).collect()
    }

    async fn days(&self, from: &str, to: &str) -> Result<Vec<DayCounts>, PortError> {
        let days = day_counts::days_between(from, to, MAX_DAYS);
        if days.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = days.iter().map(|d| day_key(d)).collect();
        let mut found: HashMap<String, BTreeMap<String, u64>> = HashMap::new();
        for item in self.batch_get(&keys).await? {
            let pk = string_attr(&item, ATTR_PK)?;
            let mut counts = BTreeMap::new();
            for (name, value) in item.iter().filter(|(name, _)| *name != ATTR_PK) {
                let n = value.as_n().ok().and_then(|n| n.parse().ok());
                let n = n.ok_or_else(|| PortError::permanent(DECODE, format!("{pk}: counter {name}")))?;
                counts.insert(name.clone(), n);
            }
            found.insert(pk.trim_start_matches("days#").to_owned(), counts);
        }
        Ok(days.into_iter().map(|day| DayCounts { counts: found.remove(&day).unwrap_or_default(), day }).collect())
    }
}

const DECODE: &str = "decode order item";

/// The day item of `day` (`YYYY-MM-DD`): like the counter items, no `state` attribute.
fn day_key(day: &str) -> String {
    format!("days#{day}")
}
const LIST: &str = "list orders by state";

/// A conditional write's condition: absent, or still at the version and state read.
struct Condition {
    expression: &'static str,
    names: HashMap<String, String>,
    values: Option<HashMap<String, AttributeValue>>,
}

impl Condition {
    fn of(expected: Option<Expected>) -> Self {
        match expected {
            None => Self {
                expression: "attribute_not_exists(#pk)",
                names: HashMap::from([("#pk".to_owned(), ATTR_PK.to_owned())]),
                values: None,
            },
            Some(e) => Self {
                expression: "#version = :expected AND #state = :state",
                names: HashMap::from([
                    ("#version".to_owned(), ATTR_VERSION.to_owned()),
                    ("#state".to_owned(), ATTR_STATE.to_owned()),
                ]),
                values: Some(HashMap::from([
                    (":expected".to_owned(), AttributeValue::N(e.version.to_string())),
                    (":state".to_owned(), string(e.state.as_str())),
                ])),
            },
        }
    }
}

/// The counter item of shard `n`.
fn counter_key(n: u32) -> String {
    format!("counts#{n}")
}

/// The count attribute of `state` on a counter item.
fn counter_attr(state: State) -> String {
    format!("n_{}", state.as_str())
}

/// An order's counter shard: fixed by its key, so a move between states is one item's update.
fn counter_shard(key: &OrderKey) -> u32 {
    key.as_str().bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % COUNTER_SHARDS
}

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
