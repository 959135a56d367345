//! Ports the error handler's functions are not given. The shared `OrderService` takes all four;
//! recording an error needs neither the DTE provider (and its token) nor the right to start
//! workflows, so these refuse instead of holding credentials the function must not have.

use orderflow_shared::error::PortError;
use orderflow_shared::lifecycle::OrderRecord;
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{DteError, DteProvider, RecoveryStarter};

#[derive(Debug, Clone, Copy, Default)]
pub struct NotGranted;

impl DteProvider for NotGranted {
    async fn issue(&self, _: &OrderRecord) -> Result<String, DteError> {
        Err(refused("issue"))
    }

    async fn broadcast(&self, _: &OrderRecord) -> Result<String, DteError> {
        Err(refused("broadcast"))
    }
}

/// The retry task runs inside the workflow; starting another one from there would fork it.
impl RecoveryStarter for NotGranted {
    async fn start(&self, _: &OrderKey, _: u32, _: serde_json::Value) -> Result<(), PortError> {
        Err(PortError::permanent("states:StartExecution", "not granted inside the recovery workflow"))
    }
}

fn refused(operation: &'static str) -> DteError {
    DteError {
        operation,
        code: "not_granted".into(),
        message: "the error handler holds no DTE credentials".into(),
        retry: orderflow_shared::error::Retry::Permanent,
    }
}
