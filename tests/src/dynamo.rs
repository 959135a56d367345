//! The tables as the SAM template declares them (orders, catalogue staging, the `pk`-keyed ones),
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
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()
        .expect("stream specification");
    create_indexed_table(client, name, (INDEX_BY_STATE, ATTR_STATE, ATTR_STATE_SORT), Some(stream)).await;
}

/// Creates an on-demand table keyed by the string `pk` with one global index `(name, hash,
/// range)` over string attributes, projecting everything, and `stream` if given.
async fn create_indexed_table(
    client: &Client,
    name: &str,
    (index, hash, range): (&str, &str, &str),
    stream: Option<StreamSpecification>,
) {
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
    let index = GlobalSecondaryIndex::builder()
        .index_name(index)
        .key_schema(key(hash, KeyType::Hash))
        .key_schema(key(range, KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .expect("index");
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attr(ATTR_PK))
        .attribute_definitions(string_attr(hash))
        .attribute_definitions(string_attr(range))
        .key_schema(key(ATTR_PK, KeyType::Hash))
        .global_secondary_indexes(index)
        .set_stream_specification(stream)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {e:?}"));
}

/// One call of the DynamoDB (Streams) JSON protocol; moto does not check signatures.
async fn call(target: &str, body: Value) -> Value {
    let auth =
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-west-2/dynamodb/aws4_request, SignedHeaders=host, Signature=0";
    let response = crate::http()
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
    create_indexed_table(client, name, (STAGING_LIST_INDEX, "list", "order"), None).await;
}
