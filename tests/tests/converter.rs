//! The xml-order-converter's entry point, fed real S3 events, against S3 and SQS in moto.

use orderflow_e2e::*;
use orderflow_shared::adapters::aws::{self, S3ObjectStore, SqsFifoQueue};
use orderflow_shared::claim_check;
use orderflow_shared::command::OrderCommand;
use orderflow_shared::config::ConverterConfig;
use orderflow_shared::ubl::{self, Limits};
use xml_order_converter::{Converter, Outcome, handle};

struct Stack {
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    converter: Converter<S3ObjectStore, SqsFifoQueue>,
}

async fn stack() -> Stack {
    let sdk = sdk_config().await;
    let (s3, sqs) = (aws::s3_client(&sdk), aws::sqs_client(&sdk));
    let bucket = unique("orders");
    create_bucket(&s3, &bucket).await;
    let (queue_url, _) = create_fifo_with_dlq(&sqs, &unique("orders"), 10).await;
    let config = ConverterConfig {
        bucket: bucket.clone(),
        orders_queue_url: queue_url.clone(),
        incoming_prefix: "incoming/".into(),
        rejected_prefix: "rejected/".into(),
        limits: Limits::default(),
    };
    let converter = Converter {
        store: S3ObjectStore::new(s3.clone(), &bucket),
        queue: SqsFifoQueue::new(sqs.clone(), &queue_url),
        config,
    };
    Stack { s3, sqs, converter }
}

impl Stack {
    fn bucket(&self) -> &str {
        &self.converter.config.bucket
    }

    async fn upload(&self, key: &str, body: Vec<u8>) {
        self.s3.put_object().bucket(self.bucket()).key(key).body(body.into()).send().await.expect("upload");
    }

    async fn object(&self, key: &str) -> Option<Vec<u8>> {
        let out = self.s3.get_object().bucket(self.bucket()).key(key).send().await.ok()?;
        Some(out.body.collect().await.unwrap().into_bytes().to_vec())
    }

    async fn convert(&self, keys: &[&str]) -> Vec<Outcome> {
        handle(&self.converter, s3_put_event(self.bucket(), keys)).await.expect("handler succeeds").outcomes
    }

    async fn drain(&self) -> Vec<Drained> {
        drain(&self.sqs, &self.converter.config.orders_queue_url).await
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo_path(&format!("events/orders/{name}"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn valid_samples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_path("events/orders"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "expected the bundled samples, found {names:?}");
    names
}

#[tokio::test]
async fn each_valid_sample_becomes_exactly_its_register_message() {
    let stack = stack().await;
    for name in valid_samples() {
        let key = format!("incoming/{name}");
        stack.upload(&key, sample(&name)).await;
        let outcomes = stack.convert(&[&key]).await;

        let order = ubl::parse_order(&sample(&name), &Limits::default()).unwrap();
        let expected =
            OrderCommand::Register { source: format!("s3://{}/{key}", stack.bucket()), order: Box::new(order) };
        assert!(matches!(&outcomes[..], [Outcome::Queued { .. }]), "{name}: {outcomes:?}");
        let messages = stack.drain().await;
        assert_eq!(messages.len(), 1, "{name}");
        let body = claim_check::resolve(&stack.converter.store, messages[0].body.clone()).await.unwrap();
        let body: OrderCommand = serde_json::from_str(&body).unwrap();
        assert_eq!(body, expected, "{name}");
        assert_eq!(messages[0].group_id, expected.order_key().as_str());
        assert_eq!(messages[0].dedup_id, expected.to_message().dedup_id);
        assert_eq!(stack.object(&key).await.unwrap(), sample(&name), "original kept");
    }
}

#[tokio::test]
async fn every_malformed_sample_is_copied_to_rejected_with_a_sidecar() {
    let stack = stack().await;
    let dir = repo_path("events/orders/malformed");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in &names {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let key = format!("incoming/bad/{name}");
        stack.upload(&key, bytes.clone()).await;
        let outcomes = stack.convert(&[&key]).await;

        let expected_code = ubl::parse_order(&bytes, &Limits::default()).unwrap_err().code();
        let [Outcome::Rejected { code, rejected_key, .. }] = &outcomes[..] else { panic!("{name}: {outcomes:?}") };
        assert_eq!(code, expected_code, "{name}");
        assert_eq!(rejected_key, &format!("rejected/bad/{name}"));
        assert_eq!(stack.object(rejected_key).await.as_deref(), Some(&bytes[..]), "{name}: copy is byte-identical");
        let sidecar: serde_json::Value =
            serde_json::from_slice(&stack.object(&format!("{rejected_key}.error.json")).await.unwrap()).unwrap();
        assert_eq!(sidecar["code"], expected_code);
        assert_eq!(sidecar["source_key"], key.as_str());
        assert!(!sidecar["reason"].as_str().unwrap().is_empty());
        assert_eq!(stack.object(&key).await.as_deref(), Some(&bytes[..]), "{name}: original kept");
    }
    assert!(stack.drain().await.is_empty(), "no malformed order reaches the queue");
}

#[tokio::test]
async fn a_duplicate_upload_yields_no_second_distinct_message() {
    let stack = stack().await;
    let name = &valid_samples()[0];
    stack.upload("incoming/first.xml", sample(name)).await;
    stack.upload("incoming/again/first-copy.xml", sample(name)).await;
    stack.convert(&["incoming/first.xml"]).await;
    stack.convert(&["incoming/first.xml", "incoming/again/first-copy.xml"]).await;
    let messages = stack.drain().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
}

#[tokio::test]
async fn url_encoded_keys_with_spaces_and_accents_are_read() {
    let stack = stack().await;
    let key = "incoming/pedido de compra ñandú+1.xml";
    stack.upload(key, sample(&valid_samples()[0])).await;
    let outcomes = stack.convert(&[key]).await;
    assert!(matches!(&outcomes[..], [Outcome::Queued { key: k, .. }] if k == key), "{outcomes:?}");
}

#[tokio::test]
async fn an_object_deleted_before_the_read_leaves_an_audit_sidecar() {
    let stack = stack().await;
    let outcomes = stack.convert(&["incoming/vanished.xml"]).await;
    let [Outcome::Rejected { code, .. }] = &outcomes[..] else { panic!("{outcomes:?}") };
    assert_eq!(code, "object_missing");
    let sidecar = stack.object("rejected/vanished.xml.error.json").await.expect("sidecar written");
    assert!(String::from_utf8(sidecar).unwrap().contains("object_missing"));
}

#[tokio::test]
async fn the_s3_test_event_is_ignored() {
    let stack = stack().await;
    let event = serde_json::json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": stack.bucket()});
    let report = handle(&stack.converter, event).await.unwrap();
    assert!(report.outcomes.is_empty());
    assert!(stack.drain().await.is_empty());
}

#[tokio::test]
async fn an_unreachable_queue_fails_the_invocation_as_transient_for_lambda_to_retry() {
    let mut stack = stack().await;
    stack.upload("incoming/a.xml", sample(&valid_samples()[0])).await;
    let sdk = sdk_config().await;
    let unreachable = aws_sdk_sqs::config::Builder::from(&sdk).endpoint_url("http://127.0.0.1:9").build();
    stack.converter.queue = SqsFifoQueue::new(aws_sdk_sqs::Client::from_conf(unreachable), "http://127.0.0.1:9/q.fifo");
    let err = handle(&stack.converter, s3_put_event(stack.bucket(), &["incoming/a.xml"])).await.unwrap_err();
    use orderflow_shared::error::Classify;
    assert!(err.is_transient(), "{err}");
    assert!(stack.object("rejected/a.xml.error.json").await.is_none(), "a transient failure is not a rejection");
}
