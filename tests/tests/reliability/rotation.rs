//! Credentials rotate: the secret changes in Secrets Manager or SSM (moto) and at the provider
//! between two orders, and the second order goes through with no operator action, the logs
//! saying the credentials were refreshed. A provider that refuses even the credentials read
//! afresh is an operator's matter (`Retry::Auth`), never a terminal state of the order.

use crate::logs;
use orderflow_e2e::fake_dte::FakeDte;
use orderflow_e2e::fake_erp::{self, FakeBc};
use orderflow_e2e::order_numbered as order;
use orderflow_e2e::{local_runtime, repo_path, sdk_config, unique};
use orderflow_shared::adapters::aws::AwsSecretStore;
use orderflow_shared::adapters::embedded::{EmbeddedFifoQueue, EmbeddedOrderStore, EmbeddedRecovery, ManualClock};
use orderflow_shared::api::from_service;
use orderflow_shared::dte::LazyDteProvider;
use orderflow_shared::erp::{ErpConnector, PushOutcome, SecretConnector};
use orderflow_shared::error::Retry;
use orderflow_shared::lifecycle::{OrderRecord, Stage, State};
use orderflow_shared::mapping::FileSource;
use orderflow_shared::order_service::{OrderService, ServiceError};
use orderflow_shared::orders_api::ApiFailure;
use orderflow_shared::parking::class;
use orderflow_shared::ports::{DteProvider, OrderStore};
use orderflow_shared::secrets::SecretRef;
use std::sync::Arc;
use std::time::Duration;

fn record(number: &str) -> OrderRecord {
    OrderRecord::register(order(number), "test", "test", "2026-11-25T10:00:00.000Z")
}

#[tokio::test]
async fn a_dte_token_rotated_in_secrets_manager_is_read_again_when_the_provider_refuses_the_old_one() {
    logs::capture();
    let sdk = sdk_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let name = unique("orderflow/dte-token");
    secrets.create_secret().name(&name).secret_string("tok-rotation-1").send().await.expect("create secret");
    let fake = FakeDte::start().await;
    fake.require_token("tok-rotation-1");
    let reference = SecretRef::SecretsManager(name.clone());
    let dte = LazyDteProvider::new(AwsSecretStore::new(&sdk), reference, fake.url(), Duration::from_secs(5)).unwrap();

    dte.issue(&record("ROT-1")).await.expect("the first order, on the first token");
    // The provider and the secret rotate together, as an operator's runbook does.
    fake.require_token("tok-rotation-2");
    secrets.put_secret_value().secret_id(&name).secret_string("tok-rotation-2").send().await.expect("rotate");
    dte.issue(&record("ROT-2")).await.expect("the second order, with no operator action");

    let sent: Vec<Option<String>> =
        fake.requests().iter().map(|r| r.header("authorization").map(str::to_owned)).collect();
    let bearer = |t: &str| Some(format!("Bearer {t}"));
    assert_eq!(sent, [bearer("tok-rotation-1"), bearer("tok-rotation-1"), bearer("tok-rotation-2")]);
    let refreshed = logs::lines_containing("credentials refreshed");
    assert!(refreshed.iter().any(|l| l.contains("DTE provider")), "{refreshed:?}");

    // The provider moves on without the secret: refused even when read afresh, the failure is
    // the operator's class, and the order it was for stays where it was.
    fake.require_token("tok-rotation-3");
    let err = dte.issue(&record("ROT-3")).await.unwrap_err();
    assert_eq!(err.retry, Retry::Auth, "{err}");
    let service = OrderService {
        store: EmbeddedOrderStore::new(),
        queue: EmbeddedFifoQueue::new("orders.fifo"),
        dte,
        recovery: EmbeddedRecovery::new().unwrap(),
    };
    let waiting = record("ROT-4");
    service.store.put(&waiting, None).await.unwrap();
    let err = service.run_stage(&waiting.key, Stage::IssuanceDte, "test", None).await.unwrap_err();
    assert!(matches!(&err, ServiceError::Dte(e) if e.retry == Retry::Auth), "{err}");
    let stored = service.store.get(&waiting.key).await.unwrap().unwrap();
    assert_eq!((stored.state, stored.last_error), (State::Registered, None), "not in error, not failed");

    // What the queue reader makes of the API's answer: parked with the class `auth`.
    let response = from_service(&err);
    let status = response.status().as_u16();
    let failure = ApiFailure::from_response(status, response.body().as_ref());
    assert_eq!((status, failure.code.as_str(), failure.retry), (502, "credentials_refused", Retry::Auth));
    assert_eq!(class(failure.status, failure.retry), "auth");
}

#[tokio::test]
async fn an_erp_client_secret_rotated_in_ssm_is_read_again_when_the_token_endpoint_refuses_the_old_one() {
    logs::capture();
    let sdk = sdk_config().await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let parameter = format!("/orderflow/test/{}", unique("bc-client-secret"));
    let put = async |value: &str| orderflow_e2e::put_parameter(&ssm, &parameter, value).await;
    put(fake_erp::BC_CLIENT_SECRET).await;

    let clock = ManualClock::new(1_772_409_600_000);
    let fake = FakeBc::start(clock.clone()).await;
    let origin = fake.token_url().trim_end_matches("/token").to_owned();
    let reference = format!("ssm:{parameter}");
    let mut runtime =
        local_runtime(&[("http://127.0.0.1:18080", &origin), ("local:bc-client-secret", reference.as_str())]);
    let config = runtime.connectors.connectors.remove("business-central").unwrap();
    let mapping = FileSource::new(repo_path("config/mappings/business-central.json"));
    let store = AwsSecretStore::new(&sdk);
    let connector = SecretConnector::new("business-central", config, store, mapping, Arc::new(clock.clone())).unwrap();

    let first = connector.push(&order("ROT-ERP-1")).await.expect("the first order");
    assert!(matches!(first, PushOutcome::Created { .. }), "{first:?}");
    // An admin rotates the client secret in Entra ID and in SSM; the held token lapses.
    fake.rotate_client_secret("rotated-bc-client-secret-2");
    put("rotated-bc-client-secret-2").await;
    clock.advance(fake_erp::BC_TOKEN_LIFETIME);
    let second = connector.push(&order("ROT-ERP-2")).await.expect("the second order, with no operator action");
    assert!(matches!(second, PushOutcome::Created { .. }), "{second:?}");
    assert_eq!(fake.orders().len(), 2);
    let refreshed = logs::lines_containing("credentials refreshed");
    assert!(refreshed.iter().any(|l| l.contains("business-central")), "{refreshed:?}");

    // Rotated at the ERP but not in SSM: refused afresh, the push is the operator's class.
    fake.rotate_client_secret("rotated-bc-client-secret-3");
    clock.advance(fake_erp::BC_TOKEN_LIFETIME);
    let err = connector.push(&order("ROT-ERP-3")).await.unwrap_err();
    assert_eq!((err.retry, err.status), (Retry::Auth, Some(401)), "{err}");
    assert_eq!(class(err.status, err.retry), "auth");
    assert_eq!(fake.orders().len(), 2);
}
