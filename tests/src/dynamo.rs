//! The orders table as the SAM template declares it, built from the store's layout constants,
//! and its stream read back as Lambda would deliver it (moto runs no event source mapping).

use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use orderflow_shared::adapters::aws::{ATTR_PK, ATTR_STATE, ATTR_STATE_SORT, INDEX_BY_STATE};
use serde_json::{Value, json};

use crate::moto_endpoint;

/// Creates the orders table: on-demand, stream with old and new images, and the `by-state` index.
pub async fn create_orders_table(client: &Client, name: &str) {
    let key = |attr: &str, key_type: KeyType| {
        KeySchemaElement::builder().attribute_name(attr).key_type(key_type).build().expect("key schema")
    };
    let string_attr = |attr: &str| {
        AttributeDefinition::builder()
            .attribute_name(attr)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute definition")
    };
    let by_state = GlobalSecondaryIndex::builder()
        .index_name(INDEX_BY_STATE)
        .key_schema(key(ATTR_STATE, KeyType::Hash))
        .key_schema(key(ATTR_STATE_SORT, KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .expect("by-state index");
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()
        .expect("stream specification");
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attr(ATTR_PK))
        .attribute_definitions(string_attr(ATTR_STATE))
        .attribute_definitions(string_attr(ATTR_STATE_SORT))
        .key_schema(key(ATTR_PK, KeyType::Hash))
        .global_secondary_indexes(by_state)
        .stream_specification(stream)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {e:?}"));
}

/// One call of the DynamoDB (Streams) JSON protocol; moto does not check signatures.
async fn call(target: &str, body: Value) -> Value {
    let auth =
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-west-2/dynamodb/aws4_request, SignedHeaders=host, Signature=0";
    let response = reqwest::Client::new()
        .post(format!("{}/", moto_endpoint()))
        .header("X-Amz-Target", target)
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("Authorization", auth)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{target}: {}", response.status());
    response.json().await.unwrap()
}

/// Every record on the table's stream so far, as Lambda would deliver them in one batch.
pub async fn stream_batch(table: &str) -> Event {
    let described = call("DynamoDB_20120810.DescribeTable", json!({ "TableName": table })).await;
    let arn = described["Table"]["LatestStreamArn"].as_str().unwrap().to_owned();
    let stream = call("DynamoDBStreams_20120810.DescribeStream", json!({ "StreamArn": arn })).await;
    let mut records = Vec::new();
    for shard in stream["StreamDescription"]["Shards"].as_array().unwrap() {
        let request = json!({ "StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON" });
        let iterator = call("DynamoDBStreams_20120810.GetShardIterator", request).await;
        let page =
            call("DynamoDBStreams_20120810.GetRecords", json!({ "ShardIterator": iterator["ShardIterator"] })).await;
        records.extend(page["Records"].as_array().unwrap().iter().cloned());
    }
    serde_json::from_value(json!({ "Records": records })).expect("stream records deserialize as a Lambda event")
}

/// Creates a table keyed by a string `pk` alone, on demand: the webhook dedup table's, the
/// poll cursor table's and the catalogue request log's layout (its TTL attribute needs no declaration).
pub async fn create_keyed_table(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(ATTR_PK)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .key_schema(KeySchemaElement::builder().attribute_name(ATTR_PK).key_type(KeyType::Hash).build().expect("key"))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {e}"));
}

/// Creates the catalogue staging table: hash key `pk` and the sparse `list-index` (hash
/// `list`, range `order`), as the template declares it.
pub async fn create_staging_table(client: &Client, name: &str) {
    use orderflow_shared::adapters::aws::STAGING_LIST_INDEX;
    let key = |attr: &str, key_type: KeyType| {
        KeySchemaElement::builder().attribute_name(attr).key_type(key_type).build().expect("key schema")
    };
    let string_attr = |attr: &str| {
        AttributeDefinition::builder()
            .attribute_name(attr)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute")
    };
    let list = GlobalSecondaryIndex::builder()
        .index_name(STAGING_LIST_INDEX)
        .key_schema(key("list", KeyType::Hash))
        .key_schema(key("order", KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .expect("list index");
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attr("pk"))
        .attribute_definitions(string_attr("list"))
        .attribute_definitions(string_attr("order"))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(list)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {e:?}"));
}
