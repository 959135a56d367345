//! Claim checks for queue messages too large for SQS.
//!
//! A canonical order of thousands of lines outgrows the SQS message limit (256 KiB in moto and
//! older regions). Such a body is stored in the object store under its SHA-256 and the message
//! carries a small pointer instead, as the SQS Extended Client does. Consumers call [`resolve`]
//! on every body; small messages pass through untouched.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::PortError;
use crate::ports::{ObjectStore, OutgoingMessage};

/// Bodies above this size travel by claim check; leaves headroom for attributes under 256 KiB.
pub const INLINE_LIMIT: usize = 192 * 1024;

const PREFIX: &str = "claims/";

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Pointer {
    claim_check: String,
    sha256: String,
    bytes: usize,
}

/// Stores an oversized body and swaps in a pointer; returns small messages unchanged.
pub async fn offload<S: ObjectStore>(store: &S, mut msg: OutgoingMessage) -> Result<OutgoingMessage, PortError> {
    if msg.body.len() <= INLINE_LIMIT {
        return Ok(msg);
    }
    let sha256 = hex::encode(Sha256::digest(msg.body.as_bytes()));
    let pointer = Pointer { claim_check: format!("{PREFIX}{sha256}.json"), sha256, bytes: msg.body.len() };
    store.put(&pointer.claim_check, std::mem::take(&mut msg.body).into_bytes(), "application/json").await?;
    msg.body = serde_json::to_string(&pointer).expect("pointer serialises");
    Ok(msg)
}

/// The real body of a received message, fetching and verifying it when it is a claim check.
pub async fn resolve<S: ObjectStore>(store: &S, body: String) -> Result<String, PortError> {
    let Ok(pointer) = serde_json::from_str::<Pointer>(&body) else {
        return Ok(body);
    };
    let bytes = store.get(&pointer.claim_check).await?;
    if hex::encode(Sha256::digest(&bytes)) != pointer.sha256 {
        return Err(PortError::permanent("claim check", format!("{} does not match its hash", pointer.claim_check)));
    }
    String::from_utf8(bytes).map_err(|_| PortError::permanent("claim check", "stored body is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::DirObjectStore;
    use crate::test_dir::TestDir;

    /// The store, and the guard that removes its directory.
    fn store() -> (DirObjectStore, TestDir) {
        let dir = TestDir::new("claim-check");
        (DirObjectStore::new(&*dir), dir)
    }

    #[tokio::test]
    async fn small_bodies_pass_through_untouched() {
        let (store, _dir) = store();
        let msg = OutgoingMessage::new("{\"a\":1}".into(), "g", "d");
        let out = offload(&store, msg.clone()).await.unwrap();
        assert_eq!(out, msg);
        assert_eq!(resolve(&store, out.body).await.unwrap(), "{\"a\":1}");
    }

    #[tokio::test]
    async fn large_bodies_round_trip_through_the_store() {
        let (store, _dir) = store();
        let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(INLINE_LIMIT));
        let out = offload(&store, OutgoingMessage::new(big.clone(), "g", "d")).await.unwrap();
        assert!(out.body.len() < 300, "pointer is small: {}", out.body);
        assert_eq!((out.group_id.as_str(), out.dedup_id.as_str()), ("g", "d"));
        assert_eq!(resolve(&store, out.body.clone()).await.unwrap(), big);

        let pointer: Pointer = serde_json::from_str(&out.body).unwrap();
        store.put(&pointer.claim_check, b"tampered".to_vec(), "application/json").await.unwrap();
        assert!(resolve(&store, out.body).await.is_err(), "a changed body is refused");
    }
}
