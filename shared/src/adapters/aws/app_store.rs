//! The apps store (the [`AppStore`] port) in a small DynamoDB table, one item per record:
//!
//! | attribute | type | holds |
//! |---|---|---|
//! | `pk` | S | `app#<key>`, `version#<key>@<version>` or `connection#<id>` ([`Record::key`]) |
//! | `revision` | N | what every save compares |
//! | `body` | S | the record as JSON (a definition is a few KB; DynamoDB allows 400 KB) |
//!
//! A load is one paginated Scan: even fifty clients with a few versions each are a few hundred
//! items, and the functions read it at most every 30 seconds ([`crate::apps::LiveApps`]).
//! Only `orderflow apps` writes, after checking each definition and connection; a save is one
//! TransactWriteItems per 100 records, each put conditional on its revision.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::{ATTR_PK, classify};
use crate::apps::registry::RegistryFile;
use crate::apps::{AppRecord, Connection, Record, Registry, VersionRecord};
use crate::error::PortError;
use crate::ports::{AppStore, CHANGED_SINCE_READ};

const ATTR_REVISION: &str = "revision";
const ATTR_BODY: &str = "body";
/// DynamoDB's limit on the items of one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;

#[derive(Debug, Clone)]
pub struct DynamoAppStore {
    client: Client,
    table: String,
}

impl DynamoAppStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

impl AppStore for DynamoAppStore {
    async fn load(&self) -> Result<Registry, PortError> {
        let mut file = RegistryFile::default();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("dynamodb:Scan", e))?;
            for item in out.items() {
                let text = |name: &str| match item.get(name) {
                    Some(AttributeValue::S(s)) => Ok(s.as_str()),
                    Some(AttributeValue::N(n)) => Ok(n.as_str()),
                    _ => Err(PortError::permanent("dynamodb:Scan", format!("an apps item lacks {name}"))),
                };
                let (key, body) = (text(ATTR_PK)?, text(ATTR_BODY)?);
                let revision: u64 = text(ATTR_REVISION)?
                    .parse()
                    .map_err(|_| PortError::permanent("dynamodb:Scan", format!("{key}: revision is not a number")))?;
                let bad = |e: serde_json::Error| PortError::permanent("dynamodb:Scan", format!("{key}: {e}"));
                match key.split_once('#').map(|(kind, _)| kind) {
                    Some("app") => file.apps.push(AppRecord { revision, ..serde_json::from_str(body).map_err(bad)? }),
                    Some("version") => {
                        file.versions.push(VersionRecord { revision, ..serde_json::from_str(body).map_err(bad)? })
                    }
                    Some("connection") => {
                        file.connections.push(Connection { revision, ..serde_json::from_str(body).map_err(bad)? })
                    }
                    _ => return Err(PortError::permanent("dynamodb:Scan", format!("{key}: not an apps record"))),
                }
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(file.into())
    }

    async fn save(&self, records: &[Record]) -> Result<(), PortError> {
        let build =
            |e: aws_sdk_dynamodb::error::BuildError| PortError::permanent("dynamodb:TransactWriteItems", e.to_string());
        for chunk in records.chunks(MAX_TRANSACTION_ITEMS) {
            let mut items = Vec::with_capacity(chunk.len());
            for record in chunk {
                let revision = record.revision();
                let body = match record {
                    Record::Version(v) => {
                        serde_json::to_string(&VersionRecord { revision: revision + 1, ..(**v).clone() })
                    }
                    Record::App(a) => serde_json::to_string(&AppRecord { revision: revision + 1, ..a.clone() }),
                    Record::Connection(c) => serde_json::to_string(&Connection { revision: revision + 1, ..c.clone() }),
                }
                .map_err(|e| PortError::permanent("dynamodb:TransactWriteItems", e.to_string()))?;
                let put = Put::builder()
                    .table_name(&self.table)
                    .item(ATTR_PK, AttributeValue::S(record.key()))
                    .item(ATTR_REVISION, AttributeValue::N((revision + 1).to_string()))
                    .item(ATTR_BODY, AttributeValue::S(body));
                let put = if revision == 0 {
                    put.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", ATTR_PK)
                } else {
                    put.condition_expression("#rev = :rev")
                        .expression_attribute_names("#rev", ATTR_REVISION)
                        .expression_attribute_values(":rev", AttributeValue::N(revision.to_string()))
                };
                items.push(TransactWriteItem::builder().put(put.build().map_err(build)?).build());
            }
            if let Err(e) = self.client.transact_write_items().set_transact_items(Some(items)).send().await {
                let lost_race = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                    }
                    _ => false,
                };
                return Err(if lost_race {
                    PortError::permanent("dynamodb:TransactWriteItems", CHANGED_SINCE_READ)
                } else {
                    classify("dynamodb:TransactWriteItems", e)
                });
            }
        }
        Ok(())
    }
}

/// The apps as a function reads them: the table named in its configuration, through the cache,
/// on the function's DynamoDB client.
pub fn live_apps(
    dynamodb: aws_sdk_dynamodb::Client,
    apps: &crate::config::AppsConfig,
) -> crate::apps::LiveApps<DynamoAppStore> {
    let store = DynamoAppStore::new(dynamodb, &apps.table);
    crate::apps::LiveApps::new(store, std::sync::Arc::new(crate::ports::SystemClock), apps.ttl_ms)
}
