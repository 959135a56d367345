use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::classify;
use crate::error::PortError;
use crate::ports::ObjectStore;
use crate::text::error_chain;

/// `x-amz-copy-source` is a URL path: encode everything but the characters S3 keeps literal.
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// One bucket, addressed by key.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    bucket: String,
}

impl S3ObjectStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A URL that fetches `key` without credentials until `expires_in` has passed (SigV4 query
    /// signing, done locally: no call to S3).
    pub async fn presigned_get(&self, key: &str, expires_in: std::time::Duration) -> Result<String, PortError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in)
            .map_err(|e| PortError::permanent("s3:presign", e.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| PortError::permanent("s3:presign", e.to_string()))?;
        Ok(request.uri().to_owned())
    }
}

impl ObjectStore for S3ObjectStore {
    async fn get(&self, key: &str) -> Result<Vec<u8>, PortError> {
        let out = self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                PortError::not_found("s3:GetObject", format!("s3://{}/{key} does not exist", self.bucket))
            } else {
                classify("s3:GetObject", e)
            }
        })?;
        let body = out
            .body
            .collect()
            .await
            // With its causes: "streaming error" alone hides a body that failed its checksum.
            .map_err(|e| PortError::transient("s3:GetObject", format!("reading body of {key}: {}", error_chain(&e))))?;
        Ok(body.into_bytes().to_vec())
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), PortError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| classify("s3:PutObject", e))?;
        Ok(())
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), PortError> {
        let source = format!("{}/{}", self.bucket, utf8_percent_encode(from, COPY_SOURCE));
        self.client.copy_object().bucket(&self.bucket).copy_source(source).key(to).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.code() == Some("NoSuchKey")) {
                PortError::not_found("s3:CopyObject", format!("s3://{}/{from} does not exist", self.bucket))
            } else {
                classify("s3:CopyObject", e)
            }
        })?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, PortError> {
        let mut keys = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("s3:ListObjectsV2", e))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        }
        keys.sort();
        Ok(keys)
    }
}
