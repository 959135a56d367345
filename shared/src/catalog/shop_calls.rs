//! Calls to the shop for catalogue sync, through the shop connector (its auth, its error
//! classification), each one noted in the request log and counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::audit::{Call, Recorder};
use crate::error::Retry;
use crate::mapping::MappingSource;
use crate::ports::Clock;
use crate::shop::{ShopConnector, ShopError};

/// Sends of one throttled call before the run stops on it.
const THROTTLE_RETRIES: u32 = 5;
/// The longest wait for one throttled call.
const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(10);

fn throttled(e: &ShopError) -> bool {
    e.code == "THROTTLED" || e.status == Some(429)
}

pub(crate) struct ShopCalls<'a, M> {
    pub(crate) shop: &'a ShopConnector<M>,
    audit: &'a Recorder,
    clock: &'a dyn Clock,
    count: AtomicU64,
}

impl<'a, M: MappingSource> ShopCalls<'a, M> {
    pub(crate) fn new(shop: &'a ShopConnector<M>, audit: &'a Recorder, clock: &'a dyn Clock) -> Self {
        Self { shop, audit, clock, count: AtomicU64::new(0) }
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// One request; its JSON answer, or the classified error.
    pub(crate) async fn json(
        &self,
        operation: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ShopError> {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("JSON serialises"));
        let started = Instant::now();
        self.count.fetch_add(1, Ordering::Relaxed);
        let result = self.shop.call(operation, method.clone(), path, bytes.clone(), Vec::new()).await;
        let (status, answer) = match &result {
            Ok(a) => (Some(a.status), Some(a.body.as_str())),
            Err(e) => (e.status, e.answer.as_deref()),
        };
        let url = self.shop.url(path);
        let call = Call {
            system: "shop",
            operation,
            method: method.as_str(),
            url: &url,
            request: bytes.as_deref(),
            status,
            answer,
        };
        self.audit.note(&call, started, self.clock.now_ms());
        let answer = result?;
        serde_json::from_str(&answer.body).map_err(|e| ShopError {
            retry: Retry::Transient,
            status: Some(answer.status),
            code: "bad_answer".into(),
            message: format!("{operation}: the answer is not JSON: {e}"),
            answer: None,
            retry_after: None,
        })
    }

    /// One GraphQL call; its `data`, or the error its `errors` describe. A throttled call
    /// (Shopify's cost bucket, or a 429) waits as long as the shop asks, up to
    /// [`MAX_THROTTLE_WAIT`], and is sent again, at most [`THROTTLE_RETRIES`] times: a large
    /// first sync drains the bucket by design, and stopping there would leave most SKUs dirty.
    pub(crate) async fn graphql(&self, operation: &str, query: &str, variables: Value) -> Result<Value, ShopError> {
        let body = json!({"query": query, "variables": variables});
        let mut attempt = 0;
        loop {
            let result = self.json(operation, Method::POST, "/graphql.json", Some(&body)).await.and_then(|json| {
                match json["errors"].as_array().filter(|e| !e.is_empty()) {
                    Some(errors) => Err(crate::shop::shopify::errors_to_error(operation, errors, &json)),
                    None => Ok(json["data"].clone()),
                }
            });
            match result {
                Err(e) if attempt < THROTTLE_RETRIES && throttled(&e) => {
                    attempt += 1;
                    let wait = e.retry_after.unwrap_or(Duration::from_secs(1)).min(MAX_THROTTLE_WAIT);
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}
