//! A failed shop action, classified by whether a retry may cure it.

use std::fmt;
use std::time::Duration;

use crate::erp::ErpError;
use crate::error::{Classify, Retry};

/// `Transient` (5xx, 408, 429, a throttled GraphQL call, timeouts) is retried, after
/// `retry_after` when the shop said how long to wait; `Permanent` (another 4xx, a GraphQL
/// `userErrors` refusal, an order the shop does not know) is parked with `answer` for an
/// operator; `Auth` makes the caller read the credentials again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopError {
    pub retry: Retry,
    pub status: Option<u16>,
    /// The shop's own code when it gave one (`woocommerce_rest_shop_order_invalid_id`,
    /// `THROTTLED`), else `http_<status>`, or ours: `timeout`, `connect`, `bad_answer`,
    /// `user_errors`, `config`.
    pub code: String,
    pub message: String,
    /// The shop's answer body, cut short ([`crate::erp::MAX_ANSWER_BYTES`]).
    pub answer: Option<String>,
    /// How long the shop asked us to wait (`Retry-After`, or Shopify's cost bucket).
    pub retry_after: Option<Duration>,
}

impl ShopError {
    pub(crate) fn local(retry: Retry, code: &str, message: impl Into<String>) -> Self {
        Self { retry, status: None, code: code.to_owned(), message: message.into(), answer: None, retry_after: None }
    }
}

impl From<ErpError> for ShopError {
    fn from(e: ErpError) -> Self {
        Self {
            retry: e.retry,
            status: e.status,
            code: e.code,
            message: e.message,
            answer: e.erp_answer,
            retry_after: None,
        }
    }
}

impl fmt::Display for ShopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ShopError {}

impl Classify for ShopError {
    fn retry(&self) -> Retry {
        self.retry
    }
}
