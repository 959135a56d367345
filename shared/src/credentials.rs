//! Clients built from secrets, built again from the secrets read afresh when the far side
//! refuses their credentials.
//!
//! Rotation is routine: the DTE token or an ERP password changes in Secrets Manager or SSM while
//! warm functions still hold the old value. A call refused with [`Retry::Auth`] (a 401/403 that
//! the client's own renewal, such as a new OAuth2 token, did not cure) makes [`Refreshing`] read
//! the secrets again, build the client anew and retry the call once. Refused again, the error
//! stays [`Retry::Auth`]: the secret itself is wrong, and an operator must fix it.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::error::{Classify, Retry};

/// Builds a client from its secrets, read when it is called.
pub trait BuildClient: Send + Sync {
    type Client: Send + Sync;
    type Error;

    /// What the client talks to, for the log lines.
    fn target(&self) -> &str;

    fn build(&self) -> impl Future<Output = Result<Self::Client, Self::Error>> + Send;
}

/// One client, built on first use (a cold start reads no secret and calls nothing) and built
/// again when its credentials are refused.
pub struct Refreshing<B: BuildClient> {
    builder: B,
    // An async lock held across a build, so concurrent callers wait for one read of the secrets.
    current: Mutex<Option<Arc<B::Client>>>,
}

impl<B: BuildClient> Refreshing<B> {
    pub fn new(builder: B) -> Self {
        Self { builder, current: Mutex::new(None) }
    }

    /// Runs `op` with the client; on a refusal of its credentials, once more with a client
    /// built from the secrets as they are now.
    pub async fn call<T, E, F, Fut>(&self, op: F) -> Result<T, E>
    where
        F: Fn(Arc<B::Client>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Classify + From<B::Error>,
    {
        let client = self.client(None).await?;
        match op(client.clone()).await {
            Err(e) if e.retry() == Retry::Auth => {
                let target = self.builder.target();
                info!(target, "credentials refused; reading them again from their secrets");
                let fresh = self.client(Some(&client)).await?;
                let result = op(fresh).await;
                match &result {
                    Err(e) if e.retry() == Retry::Auth => {
                        warn!(target, "credentials refused even when read afresh; an operator must fix the secret");
                    }
                    _ => info!(target, "credentials refreshed"),
                }
                result
            }
            other => other,
        }
    }

    /// The current client; with `stale`, a new one unless another caller has already replaced
    /// it. A failed build leaves nothing behind, so the next call tries again.
    async fn client(&self, stale: Option<&Arc<B::Client>>) -> Result<Arc<B::Client>, B::Error> {
        let mut current = self.current.lock().await;
        if let Some(client) = current.as_ref()
            && stale.is_none_or(|stale| !Arc::ptr_eq(client, stale))
        {
            return Ok(client.clone());
        }
        let client = Arc::new(self.builder.build().await?);
        *current = Some(client.clone());
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A "client" that is the generation of the secret it was built with.
    struct Counting(AtomicU32);

    impl BuildClient for Counting {
        type Client = u32;
        type Error = Failure;

        fn target(&self) -> &str {
            "test"
        }

        async fn build(&self) -> Result<u32, Failure> {
            Ok(self.0.fetch_add(1, Ordering::SeqCst) + 1)
        }
    }

    #[derive(Debug, PartialEq)]
    struct Failure(Retry);

    impl Classify for Failure {
        fn retry(&self) -> Retry {
            self.0
        }
    }

    #[tokio::test]
    async fn a_refusal_rebuilds_the_client_once_and_retries_once() {
        let refreshing = Refreshing::new(Counting(AtomicU32::new(0)));
        // The far side accepts generation 2 and later (the secret was rotated after build 1).
        let accepts_from_2 = |generation: Arc<u32>| async move {
            if *generation >= 2 { Ok(*generation) } else { Err(Failure(Retry::Auth)) }
        };
        assert_eq!(refreshing.call(accepts_from_2).await, Ok(2));
        assert_eq!(refreshing.call(accepts_from_2).await, Ok(2), "the new client is kept");
        assert_eq!(refreshing.builder.0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_second_refusal_is_returned_and_other_failures_are_not_retried() {
        let refreshing = Refreshing::new(Counting(AtomicU32::new(0)));
        let never = |_: Arc<u32>| async { Err::<u32, _>(Failure(Retry::Auth)) };
        assert_eq!(refreshing.call(never).await, Err(Failure(Retry::Auth)));
        assert_eq!(refreshing.builder.0.load(Ordering::SeqCst), 2, "one rebuild, not a loop");
        let down = |_: Arc<u32>| async { Err::<u32, _>(Failure(Retry::Transient)) };
        assert_eq!(refreshing.call(down).await, Err(Failure(Retry::Transient)));
        assert_eq!(refreshing.builder.0.load(Ordering::SeqCst), 2, "only a refusal of credentials rebuilds");
    }
}
