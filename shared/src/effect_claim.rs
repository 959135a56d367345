//! Once-only effects on other systems (the customer email, an action on the shop), carried by
//! the order record itself.
//!
//! 1. **Claim.** Read the record; if the effect is settled, this is a replay: done. Otherwise
//!    write an [`EffectClaim`] into the effect's [`Slot`], conditionally on the version read.
//!    Of two concurrent invocations only one wins the write.
//! 2. The caller carries out the effect.
//! 3. **Settle.** Mark the slot done and drop the claim ([`settle`]), again conditionally,
//!    re-reading and re-applying when the state router wrote in between or the write failed
//!    transiently; a record found settled means the write landed and only its answer was lost.
//!
//! A claim younger than the timeout makes other invocations fail, so their trigger retries
//! later. An older one means its owner died between claim and settle: the next invocation
//! takes it over (`attempt + 1`) and carries the effect out again. That window is why each
//! caller adds what the other system offers: an idempotency key, or a look before acting.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::warn;

use crate::error::{Classify, PortError};
use crate::lifecycle::{EffectClaim, OrderRecord, now_rfc3339};
use crate::order::OrderKey;
use crate::ports::{Expected, OrderStore, WriteError};

/// Conditional writes tried before giving up on a record that keeps changing, or on a store
/// that keeps failing.
pub const WRITE_ATTEMPTS: usize = 5;

/// Where on the record one effect keeps its claim and its outcome.
pub trait Slot: Sync {
    /// The effect happened, or was settled as needing none.
    fn settled(&self, record: &OrderRecord) -> bool;
    fn claim<'r>(&self, record: &'r OrderRecord) -> Option<&'r EffectClaim>;
    fn set_claim(&self, record: &mut OrderRecord, claim: Option<EffectClaim>);
}

/// What a claim attempt found.
#[derive(Debug)]
pub enum Claimed<T, D> {
    /// The claim is ours (written now, or ours already from a write whose answer was lost).
    Won { record: OrderRecord, prepared: T },
    /// Done before: a replay or a duplicate trigger.
    Settled,
    /// The order is not in the table.
    Missing,
    /// `prepare` refused the record before any claim was written.
    Declined { record: OrderRecord, why: D },
}

#[derive(Debug, thiserror::Error)]
pub enum EffectError {
    #[error("another invocation claimed this effect at {0}; retrying after the claim timeout")]
    ClaimHeld(String),
    #[error("{WRITE_ATTEMPTS} conditional writes of the order in a row did not land")]
    Contended,
    #[error(transparent)]
    Store(#[from] PortError),
}

/// Claims `slot` on the order `key` for this invocation. `prepare` runs on every record read
/// before a claim is written; what it returns travels with the won claim, and its refusal
/// ends the attempt with no write.
pub async fn claim<S: OrderStore, T, D>(
    store: &S,
    key: &OrderKey,
    slot: &impl Slot,
    timeout: Duration,
    mut prepare: impl FnMut(&OrderRecord) -> Result<T, D>,
) -> Result<Claimed<T, D>, EffectError> {
    let token = claim_token();
    for _ in 0..WRITE_ATTEMPTS {
        let Some(mut record) = store.get(key).await? else {
            return Ok(Claimed::Missing);
        };
        if slot.settled(&record) {
            return Ok(Claimed::Settled);
        }
        // The attempt this invocation claims as; `None` when the claim is already its own.
        let attempt = match slot.claim(&record) {
            // Our own claim write landed and its answer was lost: the claim is ours.
            Some(held) if held.token == token => None,
            Some(held) if !expired(held, timeout) => return Err(EffectError::ClaimHeld(held.claimed_at.clone())),
            Some(stale) => {
                warn!(claimed_at = stale.claimed_at, "taking over an unfinished claim");
                Some(stale.attempt + 1)
            }
            None => Some(1),
        };
        let prepared = match prepare(&record) {
            Ok(prepared) => prepared,
            Err(why) => return Ok(Claimed::Declined { record, why }),
        };
        let Some(attempt) = attempt else {
            return Ok(Claimed::Won { record, prepared });
        };
        let expected = Expected::of(&record);
        slot.set_claim(&mut record, Some(EffectClaim { claimed_at: now_rfc3339(), attempt, token: token.clone() }));
        record.version += 1;
        match store.put(&record, Some(expected)).await {
            Ok(()) => return Ok(Claimed::Won { record, prepared }),
            Err(WriteError::VersionConflict) => continue,
            Err(WriteError::Port(e)) => return Err(e.into()),
        }
    }
    Err(EffectError::Contended)
}

/// Applies `change` (which must bump the version) and writes it conditionally, re-reading and
/// re-applying when the write did not land. It gives up on a transient failure only after
/// [`WRITE_ATTEMPTS`]: a settle that gives up leaves the claim for the next trigger to take
/// over. A record found settled on re-reading is done: this very write went through and only
/// its answer was lost, and applying the change again would record the effect twice.
pub async fn settle<S: OrderStore>(
    store: &S,
    slot: &impl Slot,
    mut record: OrderRecord,
    change: impl Fn(&mut OrderRecord),
) -> Result<(), EffectError> {
    for _ in 0..WRITE_ATTEMPTS {
        let mut changed = record.clone();
        change(&mut changed);
        match store.put(&changed, Some(Expected::of(&record))).await {
            Ok(()) => return Ok(()),
            Err(WriteError::VersionConflict) => {}
            Err(WriteError::Port(e)) if e.is_transient() => warn!(error = %e, "settle write failed; reading again"),
            Err(WriteError::Port(e)) => return Err(e.into()),
        }
        match store.get(&record.key).await {
            Ok(Some(fresh)) if slot.settled(&fresh) => return Ok(()),
            Ok(Some(fresh)) => record = fresh,
            Ok(None) => return Err(PortError::permanent("settle effect", "the order disappeared").into()),
            // Write again on what was read last: a landed write fails its condition, and is read then.
            Err(e) if e.is_transient() => warn!(error = %e, "reading the order to settle failed"),
            Err(e) => return Err(e.into()),
        }
    }
    Err(EffectError::Contended)
}

/// Drops the claim so that a retry may claim at once instead of waiting out the timeout. A
/// failure is only logged: the claim then lapses after the timeout.
pub async fn release<S: OrderStore>(store: &S, slot: &impl Slot, record: OrderRecord) {
    let result = settle(store, slot, record, |r| {
        slot.set_claim(r, None);
        r.version += 1;
    })
    .await;
    if let Err(error) = result {
        warn!(%error, "could not release the claim; a retry takes it over after the timeout");
    }
}

/// A claim token no other invocation holds: the time in nanoseconds, the process, and a count
/// within the process (Lambda environments may share process ids, not all three).
fn claim_token() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{nanos:x}-{:x}-{count:x}", std::process::id())
}

fn expired(claim: &EffectClaim, timeout: Duration) -> bool {
    // A timestamp we cannot read cannot prove the owner alive.
    OffsetDateTime::parse(&claim.claimed_at, &Rfc3339).map_or(true, |at| OffsetDateTime::now_utc() - at >= timeout)
}
