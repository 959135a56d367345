//! The xml-order-converter's entry point, fed real S3 events, against S3 and SQS in moto.

use std::time::Duration;

use orderflow_e2e::hostile::{self, Expect, XmlCase};
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

/// Converting one document may take this long at most; a hang or a blow-up fails the test.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// The hostile corpus (`orderflow_e2e::hostile`): each document gets exactly its outcome, the
/// original stays under `incoming/`, a rejected one is copied byte for byte beside a sidecar
/// with its code, and only accepted ones reach the queue.
#[tokio::test]
async fn every_hostile_document_gets_its_exact_outcome_and_the_original_is_kept() {
    let stack = stack().await;
    let corpus = hostile::xml_corpus();
    assert!(corpus.len() >= 35, "{} cases", corpus.len());
    for case in &corpus {
        let XmlCase { name, bytes, expect } = case;
        assert!(bytes.len() <= hostile::MAX_DOCUMENT_BYTES + 64 * 1024, "{name}: inputs stay bounded");
        let key = format!("incoming/hostile/{name}");
        stack.upload(&key, bytes.clone()).await;
        let outcomes = tokio::time::timeout(CASE_TIMEOUT, stack.convert(&[&key]))
            .await
            .unwrap_or_else(|_| panic!("{name}: not converted within {CASE_TIMEOUT:?}"));
        assert_eq!(stack.object(&key).await.as_deref(), Some(&bytes[..]), "{name}: original kept");
        let queued = stack.drain().await;
        match (expect, &outcomes[..]) {
            (Expect::Queued, [Outcome::Queued { .. }]) => assert_eq!(queued.len(), 1, "{name}"),
            (Expect::Rejected(expected), [Outcome::Rejected { code, rejected_key, .. }]) => {
                assert_eq!(code, expected, "{name}");
                assert!(queued.is_empty(), "{name}: a rejected document queues nothing");
                assert_eq!(rejected_key, &format!("rejected/hostile/{name}"));
                assert_eq!(
                    stack.object(rejected_key).await.as_deref(),
                    Some(&bytes[..]),
                    "{name}: copy is byte-identical"
                );
                let sidecar = stack.object(&format!("{rejected_key}.error.json")).await.expect("sidecar");
                let sidecar: serde_json::Value = serde_json::from_slice(&sidecar).unwrap();
                assert_eq!(
                    (sidecar["code"].as_str(), sidecar["source_key"].as_str()),
                    (Some(*expected), Some(key.as_str()))
                );
                let reason = sidecar["reason"].as_str().unwrap();
                assert!(!reason.is_empty() && !reason.contains('\n') && reason.len() < 512, "{name}: {reason:?}");
            }
            (expect, outcomes) => panic!("{name}: expected {expect:?}, got {outcomes:?}"),
        }
    }
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
async fn a_missing_object_or_one_deleted_before_the_read_leaves_an_audit_sidecar() {
    let stack = stack().await;
    stack.upload("incoming/deleted.xml", sample(&valid_samples()[0])).await;
    stack.s3.delete_object().bucket(stack.bucket()).key("incoming/deleted.xml").send().await.expect("delete");
    for name in ["never-uploaded.xml", "deleted.xml"] {
        let outcomes = stack.convert(&[&format!("incoming/{name}")]).await;
        let [Outcome::Rejected { code, rejected_key, .. }] = &outcomes[..] else { panic!("{name}: {outcomes:?}") };
        assert_eq!((code.as_str(), rejected_key.as_str()), ("object_missing", format!("rejected/{name}").as_str()));
        let sidecar: serde_json::Value =
            serde_json::from_slice(&stack.object(&format!("rejected/{name}.error.json")).await.expect("sidecar"))
                .unwrap();
        assert_eq!(sidecar["code"], "object_missing", "{name}");
        assert_eq!(stack.object(rejected_key).await, None, "{name}: nothing to copy");
    }
    assert!(stack.drain().await.is_empty());
}

#[tokio::test]
async fn notifications_for_other_places_are_skipped_and_unreadable_ones_fail_permanently() {
    use orderflow_shared::error::Classify;
    let stack = stack().await;
    let skipped =
        [s3_put_event(stack.bucket(), &["outgoing/a.xml"]), s3_put_event("another-bucket", &["incoming/a.xml"])];
    for event in skipped {
        let outcomes = handle(&stack.converter, event.clone()).await.expect("handled").outcomes;
        assert!(matches!(&outcomes[..], [Outcome::Skipped { .. }]), "{event}: {outcomes:?}");
    }
    let mut bad_key = s3_put_event(stack.bucket(), &["incoming/a.xml"]);
    bad_key["Records"][0]["s3"]["object"]["key"] = "incoming/%FF.xml".into();
    for event in [bad_key, serde_json::json!({"Records": [{"eventName": "ObjectCreated:Put"}]}), serde_json::json!([1])]
    {
        let err = handle(&stack.converter, event.clone()).await.expect_err("refused");
        assert!(!err.is_transient(), "{event}: {err}");
    }
    assert!(stack.drain().await.is_empty());
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

/// The S3 checksums the SDK checks originals against, computed by patches/crc-fast. moto
/// computes the whole-object CRC-64/NVME of a multipart upload with the AWS CRT, as S3 does;
/// the SDK computes the CRC-32 of a plain upload. The store's read checks the body against
/// the checksum S3 returns, so a CRC that differs from the CRT's fails it, as the object stored
/// with a wrong CRC-64 shows.
#[tokio::test]
async fn originals_are_read_against_the_checksums_s3_stored_with_them() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart};
    use orderflow_shared::ports::ObjectStore;

    let stack = stack().await;
    // The stack's client, sending a checksum only where S3 requires one.
    let unchecked = stack.s3.config().to_builder();
    let unchecked =
        unchecked.request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired);
    let unchecked = aws_sdk_s3::Client::from_conf(unchecked.build());
    // Long enough to cross the 16-byte blocks of the tables many times, with every byte value.
    let body: Vec<u8> = (0..200_003u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let (bucket, key) = (stack.bucket(), "incoming/multipart.xml");
    let store = S3ObjectStore::new(stack.s3.clone(), bucket);

    let upload =
        unchecked.create_multipart_upload().bucket(bucket).key(key).checksum_algorithm(ChecksumAlgorithm::Crc64Nvme);
    let upload = upload.checksum_type(ChecksumType::FullObject).send().await.unwrap();
    let id = upload.upload_id().unwrap();
    let part = unchecked.upload_part().bucket(bucket).key(key).upload_id(id).part_number(1).body(body.clone().into());
    let part = part.send().await.unwrap();
    let parts = CompletedMultipartUpload::builder()
        .parts(CompletedPart::builder().part_number(1).set_e_tag(part.e_tag().map(str::to_owned)).build())
        .build();
    unchecked
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .multipart_upload(parts)
        .send()
        .await
        .unwrap();
    let stored =
        stack.s3.get_object().bucket(bucket).key(key).checksum_mode(ChecksumMode::Enabled).send().await.unwrap();
    assert!(stored.checksum_crc64_nvme().is_some(), "moto returned no CRC-64/NVME: {stored:?}");
    assert_eq!(store.get(key).await.unwrap(), body);

    let crc32 = stack.s3.put_object().bucket(bucket).key("incoming/crc32.xml").body(body.clone().into());
    crc32.checksum_algorithm(ChecksumAlgorithm::Crc32).send().await.unwrap();
    assert_eq!(store.get("incoming/crc32.xml").await.unwrap(), body);

    let wrong = unchecked.put_object().bucket(bucket).key("incoming/wrong.xml").body(body.clone().into());
    let wrong = wrong.checksum_algorithm(ChecksumAlgorithm::Crc64Nvme).checksum_crc64_nvme("AAAAAAAAAAA=");
    wrong.send().await.unwrap();
    let refused = store.get("incoming/wrong.xml").await.expect_err("a body that does not match its CRC-64 is refused");
    assert!(refused.to_string().contains("checksum"), "{refused}");
}
