//! Set-up shared by the error handler and recovery workflow tests: the shared order service on
//! DynamoDB and SQS in moto, the simulated DTE provider, and a mailer that keeps what it sends.

use error_handler::Deps;
use error_handler::backoff::Backoff;
use error_handler::config::AlertConfig;
use orderflow_e2e::dynamo::create_orders_table;
use orderflow_e2e::*;
pub use orderflow_e2e::{order_numbered, sample_order};
use orderflow_shared::adapters::aws::{self, DynamoOrderStore, SqsFifoQueue, dynamodb_client};
use orderflow_shared::adapters::embedded::EmbeddedRecovery;
use orderflow_shared::dte::SimulatedDteProvider;
use orderflow_shared::email::{Email, EmailAddress};
use orderflow_shared::lifecycle::Stage;
use orderflow_shared::order::{CanonicalOrder, OrderKey};
use orderflow_shared::order_service::OrderService;
use orderflow_shared::ports::{MailError, Mailer};
use std::sync::{Arc, Mutex};

pub type TestDeps =
    Deps<DynamoOrderStore, SqsFifoQueue, Arc<SimulatedDteProvider>, Arc<EmbeddedRecovery>, RecordingMailer>;

#[derive(Debug, Default)]
pub struct RecordingMailer {
    pub sent: Mutex<Vec<Email>>,
}

impl Mailer for RecordingMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let mut sent = self.sent.lock().unwrap();
        sent.push(email.clone());
        Ok(format!("msg-{}", sent.len()))
    }
}

pub struct Harness {
    pub deps: TestDeps,
    pub dte: Arc<SimulatedDteProvider>,
    pub recovery: Arc<EmbeddedRecovery>,
}

pub async fn harness(max_attempts: u32) -> Harness {
    let sdk = sdk_config().await;
    let dynamo = dynamodb_client(&sdk);
    let table = unique("orders");
    create_orders_table(&dynamo, &table).await;
    let sqs = aws::sqs_client(&sdk);
    let (queue_url, _) = create_fifo_with_dlq(&sqs, &unique("orders"), 10).await;
    let dte = Arc::new(SimulatedDteProvider::default());
    let recovery = Arc::new(EmbeddedRecovery::new().expect("the bundled definition parses"));
    let deps = Deps {
        service: OrderService {
            store: DynamoOrderStore::new(dynamo, &table),
            queue: SqsFifoQueue::new(sqs, &queue_url),
            dte: dte.clone(),
            recovery: recovery.clone(),
        },
        backoff: Backoff { base_seconds: 30, cap_seconds: 600, max_attempts },
        mailer: RecordingMailer::default(),
        alert: AlertConfig {
            to: EmailAddress::parse("ops@example.com").unwrap(),
            from: "orders@example.com".into(),
            configuration_set: "ops".into(),
        },
    };
    Harness { deps, dte, recovery }
}

/// A stored order whose DTE was issued: the next stage is the broadcast.
pub async fn issued(h: &Harness, order: CanonicalOrder) -> OrderKey {
    let key = order.order_key.clone();
    h.deps.service.register(order, "test", "test").await.expect("register");
    h.deps.service.run_stage(&key, Stage::IssuanceDte, "test", None).await.expect("issue");
    key
}
