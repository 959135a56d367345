//! Where a browser gets an order's original document: in AWS a short-lived presigned S3 URL (the
//! document never passes through the function or its 6 MB answer limit); with `serve`, the
//! local file, streamed by the portal.

use std::future::Future;
use std::time::Duration;

use orderflow_shared::adapters::aws::S3ObjectStore;
use orderflow_shared::adapters::embedded::DirObjectStore;
use orderflow_shared::error::PortError;
use orderflow_shared::ports::ObjectStore;

/// How long a presigned link to an original works.
pub const LINK_TTL: Duration = Duration::from_secs(300);

/// The bucket of the originals, as the portal reads it.
pub trait Originals: ObjectStore {
    /// A URL to send the browser to, or `None` when the portal serves the bytes itself.
    fn link(&self, key: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

impl Originals for S3ObjectStore {
    async fn link(&self, key: &str) -> Result<Option<String>, PortError> {
        self.presigned_get(key, LINK_TTL).await.map(Some)
    }
}

impl Originals for DirObjectStore {
    async fn link(&self, _key: &str) -> Result<Option<String>, PortError> {
        Ok(None)
    }
}
