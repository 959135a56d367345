//! The AWS chaos proxy's faults as the product reads them: for each service the adapters call,
//! each kind of failure reaches the adapter as that service's own error (its code and status,
//! for a 500 or a throttle: the proxy's error bodies are what the SDK parses) and as transient,
//! so the pipeline retries it rather than parking or rejecting an order.

use std::collections::BTreeMap;
use std::sync::Arc;

use orderflow_e2e::chaos::aws::{AwsChaosProxy, AwsFault, AwsFaults, Service};
use orderflow_e2e::dynamo::create_orders_table;
use orderflow_e2e::{create_bucket, create_fifo, moto_endpoint, sdk_config, unique};
use orderflow_shared::adapters::aws::{
    self, AwsSecretStore, DynamoOrderStore, S3ObjectStore, SesMailer, SqsFifoQueue, dynamodb_client,
};
use orderflow_shared::email::{Email, EmailAddress};
use orderflow_shared::error::{Classify, PortError};
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{FifoQueue, MailError, Mailer, ObjectStore, OrderStore, OutgoingMessage};
use orderflow_shared::secrets::{SecretRef, SecretStore};

/// What each call is made on, created straight in moto: a call a timeout passes on works.
struct Targets {
    table: String,
    bucket: String,
    queue: String,
    secret: String,
    sender: String,
}

/// One call to each service through a proxy that fails every call with `kind`.
async fn fail_every_call(
    targets: Arc<Targets>,
    kind: &'static [AwsFault],
) -> (AwsChaosProxy, Vec<(Service, PortError)>) {
    let proxy = AwsChaosProxy::start(&moto_endpoint(), AwsFaults { share: 1.0, seed: 7, kinds: kind }).await;
    let sdk = proxy.sdk_config().await;
    let email = Email {
        from: targets.sender.clone(),
        to: EmailAddress::parse("buyer@example.cl").unwrap(),
        subject: "s".into(),
        html: "<p>h</p>".into(),
        text: "t".into(),
    };
    let key = OrderKey::parse("SHAPES-1-0000000000000000").unwrap();
    let secret = SecretRef::SecretsManager(targets.secret.clone());
    let (bucket, queue) = (S3ObjectStore::new(aws::s3_client(&sdk), &targets.bucket), aws::sqs_client(&sdk));
    let (queue, table) =
        (SqsFifoQueue::new(queue, &targets.queue), DynamoOrderStore::new(dynamodb_client(&sdk), &targets.table));
    let (mailer, secrets) =
        (SesMailer::new(aws::sesv2_client(&sdk), "orderflow-reliability"), AwsSecretStore::new(&sdk));
    let (s3, sqs, dynamodb, ses, secrets) = tokio::join!(
        bucket.get("incoming/none.xml"),
        queue.send(OutgoingMessage::new("{}".into(), "g", "d")),
        table.get(&key),
        mailer.send(&email),
        secrets.fetch(&secret),
    );
    let ses = ses.map_err(|e| match e {
        MailError::Port(e) => e,
        other => panic!("SES {kind:?}: not a port error: {other:?}"),
    });
    let failures = [
        (Service::S3, s3.err()),
        (Service::Sqs, sqs.err()),
        (Service::DynamoDb, dynamodb.err()),
        (Service::Ses, ses.err()),
        (Service::SecretsManager, secrets.err()),
    ];
    let failures = failures
        .into_iter()
        .map(|(service, e)| (service, e.unwrap_or_else(|| panic!("{service:?} {kind:?}: no error"))));
    (proxy, failures.collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_injected_aws_fault_reads_as_the_services_own_error_and_as_transient() {
    let sdk = sdk_config().await;
    let table = unique("shapes");
    create_orders_table(&dynamodb_client(&sdk), &table).await;
    let bucket = unique("shapes");
    create_bucket(&aws::s3_client(&sdk), &bucket).await;
    let queue = create_fifo(&aws::sqs_client(&sdk), &unique("shapes"), &[]).await;
    let secret = unique("shapes/secret");
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    secrets.create_secret().name(&secret).secret_string("s3cr3t").send().await.expect("create the secret");
    let sender = format!("{}@orderflow.local", unique("shapes"));
    let ses = aws::sesv2_client(&sdk);
    ses.create_email_identity().email_identity(&sender).send().await.expect("verify the sender");
    let targets = Arc::new(Targets { table, bucket, queue, secret, sender });

    static KINDS: [AwsFault; 4] = AwsFault::ALL;
    let mut runs = tokio::task::JoinSet::new();
    for kind in &KINDS {
        runs.spawn(fail_every_call(targets.clone(), std::slice::from_ref(kind)));
    }
    let mut seen: BTreeMap<(Service, AwsFault), String> = BTreeMap::new();
    for (proxy, failures) in runs.join_all().await {
        let tally = proxy.tally();
        for (service, error) in failures {
            let counted = &tally[&service];
            let kind = *counted.faults.keys().next().expect("a fault injected");
            assert_eq!(counted.faults[&kind], counted.calls, "{service:?}: every call failed: {counted:?}");
            assert!(error.is_transient(), "{service:?} {kind:?}: {error:?}");
            if matches!(kind, AwsFault::ServerError | AwsFault::Throttled) {
                let (status, code) = service.error(kind);
                let read = format!("{code} (HTTP {})", status.as_u16());
                assert!(error.message.starts_with(&read), "{service:?} {kind:?}: {error:?}, not {read}");
            }
            seen.insert((service, kind), error.message);
        }
    }
    assert_eq!(seen.len(), Service::ALL.len() * KINDS.len(), "every service failed every way: {seen:#?}");
}
