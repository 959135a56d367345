//! The AWS bill of one order: what each recorded AWS call is billed as, and the price of it.
//!
//! The calls come from a recording proxy between the real AWS adapters and moto
//! (`orderflow_e2e::chaos::aws::AwsChaosProxy::recording`); everything AWS bills outside the
//! calls our code makes (Lambda invocations and their duration, API Gateway requests, the SQS
//! event source's receives and deletes, Step Functions transitions) is counted by the driver
//! (`bin/bill.rs`) where it plays that part.
//!
//! DynamoDB capacity is computed from item sizes, as DynamoDB bills on-demand tables (moto
//! returns no `ConsumedCapacity`): a write request unit per started KB written, a read request
//! unit per started 4 KB read strongly consistent (half eventually consistent), every item of a
//! transaction twice. Simplifications, all small at this system's item sizes: a write is sized
//! by the item it writes, not by the larger of the old and the new item; an UpdateItem or a
//! DeleteItem, and a transaction's Update, counts one unit (the items they touch here are
//! counters, day items and webhook claims, all well under 1 KB); item size is the attribute
//! names plus the values (strings and binaries by their bytes, numbers at 1 byte per two digits
//! plus 1, lists and maps 3 bytes plus their contents).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// SQS bills each 64 KB chunk of a request's payload as one request.
pub const SQS_CHUNK: usize = 64 * 1024;

/// What a billed quantity is priced by; the keys of `bench/prices.json`'s `per_million`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    LambdaRequest,
    LambdaGbSecond,
    ApiGatewayRestRequest,
    SqsFifoRequest,
    DynamodbWriteRequestUnit,
    DynamodbReadRequestUnit,
    S3PutClassRequest,
    S3GetClassRequest,
    SesMessage,
    StepFunctionsTransition,
    SecretsManagerApiCall,
    SsmStandardApiCall,
    /// Calls AWS does not bill by the call (e.g. StartExecution: Step Functions bills transitions).
    Free,
}

impl Unit {
    /// The service a unit is billed under, for the per-service table.
    pub fn service(self) -> &'static str {
        match self {
            Self::LambdaRequest | Self::LambdaGbSecond => "Lambda",
            Self::ApiGatewayRestRequest => "API Gateway (REST)",
            Self::SqsFifoRequest => "SQS (FIFO)",
            Self::DynamodbWriteRequestUnit | Self::DynamodbReadRequestUnit => "DynamoDB (on demand)",
            Self::S3PutClassRequest | Self::S3GetClassRequest => "S3",
            Self::SesMessage => "SES",
            Self::StepFunctionsTransition => "Step Functions",
            Self::SecretsManagerApiCall => "Secrets Manager",
            Self::SsmStandardApiCall => "SSM Parameter Store",
            Self::Free => "(not billed per call)",
        }
    }
}

/// One billed line: `count` requests of `operation`, billed as `units` of `unit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Billed {
    /// The function (or the AWS component) that made or caused the request.
    pub by: String,
    pub operation: String,
    pub requests: f64,
    pub unit: Unit,
    pub units: f64,
}

/// The price list: dollars per million units, with its date and sources.
#[derive(Debug, Clone, Deserialize)]
pub struct Prices {
    pub date: String,
    pub region: String,
    pub per_million: BTreeMap<Unit, f64>,
}

impl Prices {
    pub fn of(&self, unit: Unit) -> f64 {
        if unit == Unit::Free { 0.0 } else { self.per_million.get(&unit).copied().unwrap_or(f64::NAN) }
    }
}

/// What one recorded AWS call is billed as (`None` for a call the run made itself, never an
/// adapter: none are recorded here).
pub fn bill_call(
    by: &str,
    service: &str,
    method: &str,
    target: Option<&str>,
    request: &[u8],
    response: &[u8],
) -> Billed {
    let json = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).unwrap_or(Value::Null);
    let op = target.and_then(|t| t.rsplit('.').next()).unwrap_or("").to_owned();
    let line =
        |operation: String, unit: Unit, units: f64| Billed { by: by.to_owned(), operation, requests: 1.0, unit, units };
    match service {
        "dynamodb" => {
            let (unit, units) = dynamodb_units(&op, &json(request), &json(response));
            line(format!("dynamodb:{op}"), unit, units)
        }
        "sqs" => {
            let payload = sqs_payload(&op, &json(request), &json(response));
            line(format!("sqs:{op}"), Unit::SqsFifoRequest, payload.div_ceil(SQS_CHUNK).max(1) as f64)
        }
        "s3" => {
            // REST: the method tells the class (PUT, COPY, POST, LIST: PUT class; GET, HEAD: GET class).
            let (name, unit) = match method {
                "GET" | "HEAD" => ("s3:GetObject", Unit::S3GetClassRequest),
                _ => ("s3:PutObject", Unit::S3PutClassRequest),
            };
            line(name.to_owned(), unit, 1.0)
        }
        // SES v2 is REST-JSON: the one call our code makes is SendEmail, one recipient.
        "ses" => line("sesv2:SendEmail".into(), Unit::SesMessage, 1.0),
        "states" => line(format!("states:{op}"), Unit::Free, 0.0),
        "secretsmanager" => line(format!("secretsmanager:{op}"), Unit::SecretsManagerApiCall, 1.0),
        "ssm" => line(format!("ssm:{op}"), Unit::SsmStandardApiCall, 1.0),
        other => line(format!("{other}:{op}"), Unit::Free, 0.0),
    }
}

fn dynamodb_units(op: &str, request: &Value, response: &Value) -> (Unit, f64) {
    let consistent = request["ConsistentRead"].as_bool().unwrap_or(false);
    let read = |bytes: usize, consistent: bool| {
        let units = bytes.div_ceil(4096).max(1) as f64;
        if consistent { units } else { units / 2.0 }
    };
    let write = |bytes: usize| bytes.div_ceil(1024).max(1) as f64;
    match op {
        "GetItem" => (Unit::DynamodbReadRequestUnit, read(item_size(&response["Item"]), consistent)),
        "PutItem" => (Unit::DynamodbWriteRequestUnit, write(item_size(&request["Item"]))),
        "UpdateItem" | "DeleteItem" => (Unit::DynamodbWriteRequestUnit, 1.0),
        "TransactWriteItems" => {
            let items = request["TransactItems"].as_array().cloned().unwrap_or_default();
            let units: f64 = items
                .iter()
                .map(|item| match item.get("Put") {
                    Some(put) => 2.0 * write(item_size(&put["Item"])),
                    None => 2.0,
                })
                .sum();
            (Unit::DynamodbWriteRequestUnit, units)
        }
        "BatchGetItem" => {
            let mut units = 0.0;
            for (table, items) in response["Responses"].as_object().into_iter().flatten() {
                let consistent = request["RequestItems"][table]["ConsistentRead"].as_bool().unwrap_or(false);
                for item in items.as_array().into_iter().flatten() {
                    units += read(item_size(item), consistent);
                }
            }
            (Unit::DynamodbReadRequestUnit, units)
        }
        "Query" | "Scan" => {
            let bytes: usize = response["Items"].as_array().into_iter().flatten().map(item_size).sum();
            (Unit::DynamodbReadRequestUnit, read(bytes, consistent))
        }
        _ => (Unit::DynamodbWriteRequestUnit, 1.0),
    }
}

/// An item's size as DynamoDB counts it, from its JSON wire form.
pub fn item_size(item: &Value) -> usize {
    item.as_object().map_or(0, |attrs| attrs.iter().map(|(name, value)| name.len() + value_size(value)).sum())
}

fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|m| m.iter().next()) else { return 0 };
    match (kind.as_str(), inner) {
        ("S", Value::String(s)) => s.len(),
        ("N", Value::String(n)) => n.trim_start_matches('-').replace('.', "").len().div_ceil(2) + 1,
        ("B", Value::String(b)) => STANDARD.decode(b).map_or(b.len(), |bytes| bytes.len()),
        ("BOOL" | "NULL", _) => 1,
        ("M", map) => 3 + item_size(map),
        ("L", Value::Array(items)) => 3 + items.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        ("SS" | "NS" | "BS", Value::Array(items)) => items.iter().map(|v| v.as_str().map_or(0, str::len)).sum(),
        _ => 0,
    }
}

/// The payload SQS bills a request by: the message bodies and attributes sent or received.
fn sqs_payload(op: &str, request: &Value, response: &Value) -> usize {
    let attributes = |m: &Value| -> usize {
        m["MessageAttributes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, v)| {
                name.len() + v["DataType"].as_str().map_or(0, str::len) + v["StringValue"].as_str().map_or(0, str::len)
            })
            .sum()
    };
    let message = |m: &Value| m["MessageBody"].as_str().or(m["Body"].as_str()).map_or(0, str::len) + attributes(m);
    match op {
        "SendMessage" => message(request),
        "SendMessageBatch" => request["Entries"].as_array().into_iter().flatten().map(message).sum(),
        "ReceiveMessage" => response["Messages"].as_array().into_iter().flatten().map(message).sum(),
        _ => 0,
    }
}
