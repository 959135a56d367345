//! The poller's HTTP calls: the ERP connectors' request and auth stack (one implementation of
//! each mechanism, with its 401 renewal), plus what polling needs on top: retries of 5xx, 429
//! and timeouts within the run, honouring `Retry-After`, and a cap on how long one run waits.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, Url};
use tracing::warn;

use super::PollError;
use super::config::PollSourceConfig;
use crate::erp::auth::Authenticator;
use crate::erp::http::{Answer, Request, send};
use crate::error::Retry;
use crate::http_client::http_client;
use crate::ports::Clock;
use crate::secrets::Secret;

/// Waits for a duration: tokio's sleep in Lambda, a manual clock's advance in tests (so a
/// double's throttle bucket refills without real waiting).
pub type Pause = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Real time.
pub fn real_pause() -> Pause {
    Arc::new(|d| Box::pin(tokio::time::sleep(d)))
}

/// First wait after a 5xx or timeout without `Retry-After`; doubled on each try.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// An answer the poller can read: status, body and the headers it looks at.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: HeaderMap,
}

pub struct PollClient {
    source: String,
    client: Client,
    auth: Authenticator,
    max_attempts: u32,
    max_wait: Duration,
    pause: Pause,
}

impl PollClient {
    /// `secrets` holds the values of the source's secret references.
    pub fn new(
        config: &PollSourceConfig,
        secrets: &HashMap<String, Secret>,
        clock: Arc<dyn Clock>,
        pause: Pause,
    ) -> Result<Self, PollError> {
        let client = http_client(Duration::from_millis(config.timeout_ms), HeaderMap::new())
            .map_err(|e| PollError::Config(format!("building the HTTP client: {e}")))?;
        let auth = Authenticator::new(&config.auth, secrets, clock).map_err(|e| PollError::Config(e.to_string()))?;
        Ok(Self {
            source: config.name.clone(),
            client,
            auth,
            max_attempts: config.max_attempts,
            max_wait: Duration::from_secs(config.max_wait_seconds),
            pause,
        })
    }

    pub fn pause(&self) -> &Pause {
        &self.pause
    }

    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// GET `url`; see [`Self::call`].
    pub async fn get(&self, url: Url) -> Result<Reply, PollError> {
        self.call(Method::GET, url, None).await
    }

    /// POST a JSON body; see [`Self::call`].
    pub async fn post_json(&self, url: Url, body: &serde_json::Value) -> Result<Reply, PollError> {
        self.call(Method::POST, url, Some(body.to_string().into_bytes())).await
    }

    /// Sends, retrying 5xx, 408, 429 and transport failures up to `max_attempts` tries. A 429
    /// waits its `Retry-After` (seconds) or the backoff; a wait beyond `max_wait` is not made:
    /// the run stops there, its progress saved, and the next scheduled run goes on. A 2xx is
    /// returned; any other status is an error carrying the platform's answer.
    async fn call(&self, method: Method, url: Url, body: Option<Vec<u8>>) -> Result<Reply, PollError> {
        let operation = format!("{method} {}", url.path());
        let request = Request { method, url, body, headers: Vec::new() };
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let outcome = send(&self.client, &self.auth, &operation, &request).await;
            let (error, retry_after) = match outcome {
                Ok(Answer { status, body, headers, .. }) if (200..300).contains(&status) => {
                    return Ok(Reply { status, body, headers });
                }
                Ok(answer) => {
                    let retry_after = answer.retry_after();
                    (crate::erp::ErpError::from_answer(&operation, answer.status, &answer.body), retry_after)
                }
                Err(e) => (e, None),
            };
            if error.retry != Retry::Transient || attempt >= self.max_attempts {
                return Err(PollError::Http { source_name: self.source.clone(), error });
            }
            let wait = retry_after.unwrap_or(backoff);
            if wait > self.max_wait {
                return Err(PollError::WaitTooLong { source_name: self.source.clone(), wait, error });
            }
            warn!(source = %self.source, %operation, code = %error.code, attempt, wait_ms = wait.as_millis() as u64,
                "retrying");
            (self.pause)(wait).await;
            backoff = backoff.saturating_mul(2);
            attempt += 1;
        }
    }
}
