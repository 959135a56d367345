//! An in-process DTE provider for local runs and tests: ids derived from the order key, call
//! counters, and failures injected on chosen orders or on a seeded share of calls.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use sha2::{Digest, Sha256};

use super::{Operation, folio};
use crate::error::Retry;
use crate::lifecycle::OrderRecord;
use crate::order::OrderKey;
use crate::ports::{DteError, DteProvider};

/// How an injected failure presents itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// `provider_unavailable`: a retry may pass.
    Transient,
    /// `rut_invalid` on issue, `dte_rejected` on broadcast: retrying repeats it.
    Permanent,
}

impl Failure {
    fn error(self, op: Operation) -> DteError {
        let (code, message, retry) = match (self, op) {
            (Self::Transient, _) => {
                ("provider_unavailable", "the DTE provider is temporarily unavailable (simulated)", Retry::Transient)
            }
            (Self::Permanent, Operation::Issue) => {
                ("rut_invalid", "the buyer's RUT failed validation (simulated)", Retry::Permanent)
            }
            (Self::Permanent, Operation::Broadcast) => {
                ("dte_rejected", "the tax authority rejected the document (simulated)", Retry::Permanent)
            }
        };
        DteError { operation: op.as_str(), code: code.into(), message: message.into(), retry }
    }
}

/// Failures on a share of calls, decided by a seeded generator.
///
/// Each decision depends only on the seed, the order key, the operation and how many times
/// that order and operation were called before, never on the order in which concurrent
/// callers arrive, so one seed replays the same failures run after run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomFailures {
    share: f64,
    permanent_share: f64,
    seed: u64,
}

impl RandomFailures {
    /// `share` of the calls fail, every one transiently.
    pub fn transient(share: f64, seed: u64) -> Self {
        Self::mixed(share, 0.0, seed)
    }

    /// `share` of the calls fail, every one permanently.
    pub fn permanent(share: f64, seed: u64) -> Self {
        Self::mixed(share, 1.0, seed)
    }

    /// `share` of the calls fail; `permanent_share` of those permanently, the rest transiently.
    ///
    /// # Panics
    /// When either share is outside 0.0–1.0: a misconfigured simulation should not run.
    pub fn mixed(share: f64, permanent_share: f64, seed: u64) -> Self {
        for (name, value) in [("share", share), ("permanent_share", permanent_share)] {
            assert!((0.0..=1.0).contains(&value), "{name} {value} is outside 0.0–1.0");
        }
        Self { share, permanent_share, seed }
    }

    fn draw(&self, key: &OrderKey, op: Operation, attempt: u32) -> Option<Failure> {
        let key_word = u64::from_le_bytes(digest(&[key.as_str()])[..8].try_into().expect("8 bytes"));
        let mut rng = SplitMix64(self.seed);
        for word in [key_word, op as u64, u64::from(attempt)] {
            rng = SplitMix64(rng.next() ^ word);
        }
        if rng.unit() >= self.share {
            return None;
        }
        Some(if rng.unit() < self.permanent_share { Failure::Permanent } else { Failure::Transient })
    }
}

/// SplitMix64 (Steele, Lea & Flood, 2014): tiny and well mixed, plenty for failure injection.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits, as many as an f64 holds exactly.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A failure scripted for one order and operation.
#[derive(Debug)]
struct Rule {
    failure: Failure,
    /// Failures still to deliver; `None` fails forever.
    remaining: Option<u32>,
}

impl Rule {
    /// The failure this call gets, if any, counting it off.
    fn take(&mut self) -> Option<Failure> {
        match &mut self.remaining {
            Some(0) => None,
            Some(n) => {
                *n -= 1;
                Some(self.failure)
            }
            None => Some(self.failure),
        }
    }
}

#[derive(Debug, Default)]
struct Calls {
    per_operation: HashMap<Operation, u32>,
    per_order: HashMap<(OrderKey, Operation), u32>,
    rules: HashMap<(OrderKey, Operation), Rule>,
}

/// The stand-in provider. Issue and broadcast succeed with ids derived from the order key
/// (same key, same id, like the real provider's idempotency) unless a failure is injected.
#[derive(Debug, Default)]
pub struct SimulatedDteProvider {
    random: Option<RandomFailures>,
    /// The first calls of an operation for every order that fail, and how.
    first: Option<(Operation, Failure, u32)>,
    calls: Mutex<Calls>,
}

impl SimulatedDteProvider {
    pub fn with_random_failures(mut self, random: RandomFailures) -> Self {
        self.random = Some(random);
        self
    }

    /// The first `times` calls of `op` for every order fail with `failure` (counted in this
    /// process), e.g. to try the recovery workflow with `orderflow serve`.
    pub fn with_first_failures(mut self, op: Operation, failure: Failure, times: u32) -> Self {
        self.first = Some((op, failure, times));
        self
    }

    /// The next `times` calls of `op` for `key` fail (`None`: every call), then calls pass.
    /// Replaces an earlier rule for the same order and operation.
    pub fn fail_order(&self, key: &OrderKey, op: Operation, failure: Failure, times: Option<u32>) {
        let rule = Rule { failure, remaining: times };
        self.lock().rules.insert((key.clone(), op), rule);
    }

    /// Calls of `op` that reached the provider, failed ones included.
    pub fn calls(&self, op: Operation) -> u32 {
        self.lock().per_operation.get(&op).copied().unwrap_or(0)
    }

    // The state is plain counters, consistent after any panic, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn call(&self, op: Operation, key: &OrderKey) -> Result<String, DteError> {
        let mut calls = self.lock();
        *calls.per_operation.entry(op).or_default() += 1;
        let earlier = calls.per_order.entry((key.clone(), op)).or_default();
        let attempt = *earlier;
        *earlier += 1;
        let scripted = calls.rules.get_mut(&(key.clone(), op)).and_then(Rule::take).or_else(|| match self.first {
            Some((first_op, failure, times)) if first_op == op && attempt < times => Some(failure),
            _ => None,
        });
        if let Some(failure) = scripted.or_else(|| self.random?.draw(key, op, attempt)) {
            return Err(failure.error(op));
        }
        let (prefix, tag) = match op {
            Operation::Issue => ("F-", "folio"),
            Operation::Broadcast => ("T-", "track"),
        };
        Ok(format!("{prefix}{}", &hex::encode(digest(&[tag, key.as_str()]))[..10]))
    }
}

impl DteProvider for SimulatedDteProvider {
    async fn issue(&self, record: &OrderRecord) -> Result<String, DteError> {
        self.call(Operation::Issue, &record.key)
    }

    async fn broadcast(&self, record: &OrderRecord) -> Result<String, DteError> {
        folio(record)?;
        self.call(Operation::Broadcast, &record.key)
    }
}

/// SHA-256 of the parts, each followed by a separator so `["ab", "c"]` and `["a", "bc"]` differ.
fn digest(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ubl::{Limits, parse_order};

    fn record() -> OrderRecord {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/orders/small-clp.xml");
        let order = parse_order(&std::fs::read(path).unwrap(), &Limits::default()).unwrap();
        OrderRecord::register(order, "test", "test", "2026-11-25T10:00:00.000Z")
    }

    /// `n` records that differ only in their key.
    fn records(n: u64) -> Vec<OrderRecord> {
        let base = record();
        (0..n)
            .map(|i| OrderRecord { key: OrderKey::parse(&format!("PO-{i}-{i:016x}")).unwrap(), ..base.clone() })
            .collect()
    }

    /// Issue then broadcast, as the lifecycle does.
    async fn run(dte: &SimulatedDteProvider, mut record: OrderRecord) -> Result<(String, String), DteError> {
        let folio = dte.issue(&record).await?;
        record.dte.folio = Some(folio.clone());
        Ok((folio, dte.broadcast(&record).await?))
    }

    /// Whether each of `records` failed, and how, across one issue call each.
    async fn outcomes(dte: &SimulatedDteProvider, records: &[OrderRecord]) -> Vec<Option<Retry>> {
        let mut out = Vec::new();
        for r in records {
            out.push(dte.issue(r).await.err().map(|e| e.retry));
        }
        out
    }

    #[tokio::test]
    async fn ids_depend_on_the_order_key_alone() {
        let [a, b] = <[OrderRecord; 2]>::try_from(records(2)).unwrap();
        let (folio, track_id) = run(&SimulatedDteProvider::default(), a.clone()).await.unwrap();
        assert!(folio.starts_with("F-") && folio.len() == 12, "{folio}");
        assert!(track_id.starts_with("T-") && track_id.len() == 12, "{track_id}");
        let again = run(&SimulatedDteProvider::default(), a).await.unwrap();
        assert_eq!(again, (folio.clone(), track_id), "same key, same ids, even on another instance");
        assert_ne!(run(&SimulatedDteProvider::default(), b).await.unwrap().0, folio);
    }

    #[tokio::test]
    async fn broadcast_without_a_folio_is_a_permanent_no_folio() {
        let dte = SimulatedDteProvider::default();
        let err = dte.broadcast(&record()).await.unwrap_err();
        assert_eq!((err.code.as_str(), err.retry), ("no_folio", Retry::Permanent));
        assert_eq!(dte.calls(Operation::Broadcast), 0, "nothing was sent");
    }

    #[tokio::test]
    async fn a_seeded_share_of_calls_fails_the_same_way_every_run() {
        let records = records(1000);
        let seeded = |seed| SimulatedDteProvider::default().with_random_failures(RandomFailures::transient(0.3, seed));
        let first = outcomes(&seeded(7), &records).await;
        assert_eq!(outcomes(&seeded(7), &records).await, first, "same seed, same failing calls");
        assert_ne!(outcomes(&seeded(8), &records).await, first, "another seed, other failing calls");
        let failed = first.iter().filter(|o| o.is_some()).count();
        // Binomial(1000, 0.3) has a standard deviation of 14.5; ±60 is four of them.
        assert!((240..=360).contains(&failed), "{failed} of 1000 failed");
        assert!(first.iter().flatten().all(|r| *r == Retry::Transient));
    }

    #[tokio::test]
    async fn a_retry_of_a_randomly_failed_call_gets_a_fresh_draw() {
        let dte = SimulatedDteProvider::default().with_random_failures(RandomFailures::transient(0.5, 1));
        let record = &records(1)[0];
        let mut attempts = 1;
        while dte.issue(record).await.is_err() {
            attempts += 1;
            assert!(attempts < 64, "a share of 0.5 should let some attempt through");
        }
        assert_eq!(dte.calls(Operation::Issue), attempts);
    }

    #[tokio::test]
    async fn a_mix_splits_failures_between_transient_and_permanent() {
        let dte = SimulatedDteProvider::default().with_random_failures(RandomFailures::mixed(1.0, 0.25, 3));
        let all = outcomes(&dte, &records(400)).await;
        assert!(all.iter().all(Option::is_some), "a share of 1.0 fails every call");
        let permanent = all.iter().filter(|o| **o == Some(Retry::Permanent)).count();
        assert!((60..=140).contains(&permanent), "{permanent} of 400 permanent");
    }

    #[tokio::test]
    async fn a_chosen_order_fails_the_given_number_of_times_then_succeeds() {
        let dte = SimulatedDteProvider::default();
        let [flaky, other] = <[OrderRecord; 2]>::try_from(records(2)).unwrap();
        dte.fail_order(&flaky.key, Operation::Issue, Failure::Transient, Some(2));
        for _ in 0..2 {
            let err = dte.issue(&flaky).await.unwrap_err();
            assert_eq!(
                (err.operation, err.code.as_str(), err.retry),
                ("issue", "provider_unavailable", Retry::Transient)
            );
        }
        assert!(dte.issue(&flaky).await.is_ok(), "the third call passes");
        assert!(dte.issue(&other).await.is_ok(), "other orders are untouched");
        assert_eq!(dte.calls(Operation::Issue), 4);
    }

    #[tokio::test]
    async fn a_chosen_order_without_a_count_fails_for_good_on_that_operation_only() {
        let dte = SimulatedDteProvider::default();
        let mut record = record();
        dte.fail_order(&record.key, Operation::Broadcast, Failure::Permanent, None);
        record.dte.folio = Some(dte.issue(&record).await.expect("issue is not scripted to fail"));
        for _ in 0..3 {
            let err = dte.broadcast(&record).await.unwrap_err();
            assert_eq!((err.operation, err.code.as_str(), err.retry), ("broadcast", "dte_rejected", Retry::Permanent));
        }
        assert_eq!(dte.calls(Operation::Broadcast), 3);
    }

    #[test]
    #[should_panic(expected = "outside 0.0–1.0")]
    fn a_share_above_one_is_refused() {
        RandomFailures::transient(1.5, 0);
    }
}
