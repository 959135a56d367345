//! Shared set-up for the end-to-end tests: moto connection, unique resource names, and
//! small AWS helpers. Every test needs moto; `scripts/test` starts it and sets
//! `AWS_ENDPOINT_URL`. Without it the tests fail loudly rather than skip.

pub mod apigw;
pub mod chaos;
pub mod dynamo;
pub mod fake_api;
pub mod fake_dte;
pub mod hostile;
pub mod ses_mail;

/// The local ERP servers live in their own crate, so the demo can run them too.
pub use orderflow_doubles as fake_erp;

use std::path::PathBuf;
use std::sync::OnceLock;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use orderflow_shared::adapters::aws;

/// The moto endpoint; panics with instructions when the emulator was not started.
pub fn moto_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL is not set: these tests run against moto server; start them with scripts/test")
    })
}

/// The product's SDK configuration (retries, connect timeout) with moto behind a pass-through
/// proxy that lets one DynamoDB call into moto at a time (see `chaos::aws` for why). The proxy
/// runs on a thread of its own, so it outlives the runtime of the test that started it.
///
/// The attempt and operation timeouts are [`MOTO_ATTEMPT_TIMEOUT`] and [`MOTO_OPERATION_TIMEOUT`],
/// not the product's 3 s and 5 s: moto is one Python process serving every test on two shared
/// cores while the arm64 build runs beside them, and a call queued behind another test's 10,000
/// writes can wait longer than DynamoDB ever would. An SDK timeout there would retry a call moto
/// already applied and fail a test for the emulator's speed, not for the code's behaviour. The
/// tests of timeouts themselves (`chaos::aws`) set their own, tighter ones.
pub async fn sdk_config() -> aws_config::SdkConfig {
    static GATE: OnceLock<String> = OnceLock::new();
    let gate = GATE.get_or_init(|| {
        let moto = moto_endpoint();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
            runtime.expect("a runtime for the moto gate").block_on(async {
                let proxy = chaos::aws::AwsChaosProxy::start(&moto, chaos::aws::AwsFaults::NONE).await;
                tx.send(proxy.url().to_owned()).expect("the test waits for the gate");
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("the moto gate started")
    });
    sdk_config_via(gate).await
}

/// An HTTP client on the product's TLS configuration: reqwest is built without a crypto
/// provider of its own, so `reqwest::Client::new()` and `reqwest::get` would panic.
pub fn http() -> reqwest::Client {
    orderflow_shared::http_client::builder().build().expect("a client on the product's TLS configuration")
}

/// [`sdk_config`]'s configuration with `endpoint` (a proxy in front of moto) instead of the gate.
pub async fn sdk_config_via(endpoint: &str) -> aws_config::SdkConfig {
    let product = aws::sdk_config().await;
    // Through the loader: a service client takes `AWS_ENDPOINT_URL` over an endpoint set on a
    // built SdkConfig.
    let loader = aws::loader().endpoint_url(endpoint);
    let product_timeouts = product.timeout_config().expect("the product sets timeouts");
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(product_timeouts.connect_timeout().expect("the product sets a connect timeout"))
        .operation_attempt_timeout(MOTO_ATTEMPT_TIMEOUT)
        .operation_timeout(MOTO_OPERATION_TIMEOUT)
        .build();
    loader.timeout_config(timeouts).load().await
}

/// Puts `value` as the SecureString parameter `name` in moto's SSM, over any earlier value.
pub async fn put_parameter(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put parameter {name}: {e}"));
}

/// How long one call to moto may take in the tests (see [`sdk_config`]).
pub const MOTO_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Three such attempts and the product's backoff between them.
pub const MOTO_OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(95);

/// Names no other test uses: one mechanism with the test directories' names.
pub use orderflow_shared::test_dir::unique;

/// The small Chilean sample, `events/orders/small-clp.xml`, as a canonical order: read and
/// parsed once per test binary (the portal's scale test asks for it 100,000 times).
pub fn sample_order() -> orderflow_shared::order::CanonicalOrder {
    static SAMPLE: OnceLock<orderflow_shared::order::CanonicalOrder> = OnceLock::new();
    SAMPLE
        .get_or_init(|| {
            let bytes = std::fs::read(repo_path("events/orders/small-clp.xml")).expect("the sample order");
            orderflow_shared::ubl::parse_order(&bytes, &Default::default()).expect("the sample parses")
        })
        .clone()
}

/// The sample under another order number, so each test has its own key.
pub fn order_numbered(number: &str) -> orderflow_shared::order::CanonicalOrder {
    let mut order = sample_order();
    order.renumber(number);
    order
}

/// The sample under its own number with `-<suffix>` added, so each suffix is its own order.
pub fn order_suffixed(suffix: impl std::fmt::Display) -> orderflow_shared::order::CanonicalOrder {
    let mut order = sample_order();
    order.renumber(format!("{}-{suffix}", order.order_number));
    order
}

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// The configuration local runs use, as the tests read it: the shipped app definitions
/// (`config/apps`) and the local connections (`config/connections.local.json`) bound to them,
/// with `config/local-secrets.json`. `connections` names another connections file (e.g.
/// `config/connections.json`, the deployed ones).
pub fn local_config(connections: Option<&str>) -> orderflow_cli::bridge::LocalConfig {
    orderflow_cli::bridge::LocalConfig {
        dir: orderflow_cli::config_dir::ConfigDir::Dir(repo_path("config")),
        connections: connections.map(repo_path),
        secrets: None,
    }
}

/// Every local connection as the functions run it: the webhook sources, poll sources, shops
/// and ERP connectors the local runs use. `origins` (configured origin, actual origin) moves a
/// connection's URLs to where a test server listens, e.g.
/// `("http://127.0.0.1:18090", "http://127.0.0.1:40123")` for the Shopify store.
pub fn local_runtime(origins: &[(&str, &str)]) -> orderflow_shared::apps::Runtime {
    local_config(None).runtime(origins).unwrap_or_else(|e| panic!("the local connections: {e}"))
}

pub async fn create_bucket(s3: &aws_sdk_s3::Client, name: &str) {
    let region = s3.config().region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let mut req = s3.create_bucket().bucket(name);
    // us-east-1 is the one region that refuses an explicit location constraint.
    if region != "us-east-1" {
        let location = aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str());
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(location).build(),
        );
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
        Err(e) => panic!("create bucket {name}: {e:?}"),
    }
}

/// A FIFO queue redriving to a FIFO dead-letter queue after `max_receives`; returns (queue, dlq) URLs.
pub async fn create_fifo_with_dlq(sqs: &aws_sdk_sqs::Client, name: &str, max_receives: u32) -> (String, String) {
    let dlq = create_fifo(sqs, &format!("{name}-pending"), &[]).await;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dlq arn")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("dlq arn attribute");
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max_receives}"}}"#);
    let queue = create_fifo(sqs, name, &[(QueueAttributeName::RedrivePolicy, policy)]).await;
    (queue, dlq)
}

pub async fn create_fifo(sqs: &aws_sdk_sqs::Client, name: &str, extra: &[(QueueAttributeName, String)]) -> String {
    let mut req = sqs
        .create_queue()
        .queue_name(format!("{name}.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "30");
    for (k, v) in extra {
        req = req.attributes(k.clone(), v);
    }
    req.send().await.expect("create fifo queue").queue_url().expect("queue url").to_owned()
}

/// A message as SQS holds it, with the FIFO attributes the tests assert on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drained {
    pub body: String,
    pub group_id: String,
    pub dedup_id: String,
    /// Message attributes with string values (reasons, statuses).
    pub attributes: Vec<(String, String)>,
}

/// Receives and deletes everything currently visible on a queue.
pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Drained> {
    let mut out = Vec::new();
    loop {
        let resp = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive");
        if resp.messages().is_empty() {
            return out;
        }
        for m in resp.messages() {
            let attr =
                |n: MessageSystemAttributeName| m.attributes().and_then(|a| a.get(&n)).cloned().unwrap_or_default();
            out.push(Drained {
                body: m.body().unwrap_or_default().to_owned(),
                group_id: attr(MessageSystemAttributeName::MessageGroupId),
                dedup_id: attr(MessageSystemAttributeName::MessageDeduplicationId),
                attributes: m
                    .message_attributes()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_owned()))
                    .collect(),
            });
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .expect("delete");
        }
    }
}

pub use orderflow_shared::s3_event::put_event as s3_put_event;
