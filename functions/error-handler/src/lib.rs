//! error-handler: the error API (POST /errors) and the broadcast recovery workflow's tasks.
//!
//! One Lambda function serves both the API and the workflow's error tasks ([`dispatch`] tells
//! them apart by the event's shape); the `broadcast-retry` binary is Task 2. Both go through
//! the shared `OrderService`, the same lifecycle code as the state router.

pub mod api;
pub mod backoff;
pub mod config;
pub mod local;
pub mod not_granted;
pub mod task;

use orderflow_shared::api::proxy_response;
use orderflow_shared::order_service::OrderService;
use orderflow_shared::ports::{DteProvider, FifoQueue, Mailer, OrderStore, RecoveryStarter};
use serde_json::Value;

use crate::backoff::{Backoff, Jitter};
use crate::config::AlertConfig;
use crate::task::TaskError;

/// Everything the error handler's function works with, built once per cold start.
pub struct Deps<S, Q, D, R, M> {
    pub service: OrderService<S, Q, D, R>,
    pub backoff: Backoff,
    pub mailer: M,
    pub alert: AlertConfig,
}

/// An API Gateway proxy event (it has `httpMethod`) goes to the API; anything else is a
/// workflow task, named by its `task` field.
pub async fn dispatch<S, Q, D, R, M>(deps: &Deps<S, Q, D, R, M>, event: Value) -> Result<Value, TaskError>
where
    S: OrderStore,
    Q: FifoQueue,
    D: DteProvider,
    R: RecoveryStarter,
    M: Mailer,
{
    if event.get("httpMethod").is_none() {
        let unit = Jitter::from_time().unit();
        return task::run_error_task(&deps.service, &deps.backoff, (&deps.mailer, &deps.alert), event, unit).await;
    }
    let request = lambda_http::request::from_str(&event.to_string())?;
    let answer = proxy_response(api::handle(&deps.service, request).await);
    Ok(serde_json::to_value(answer).expect("a proxy response is plain JSON"))
}
