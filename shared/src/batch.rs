//! One SQS batch in, one partial-failure response out.
//!
//! Records are processed one at a time, in the order Lambda delivered them, each inside a span
//! carrying its message id. On FIFO queues a failed record fails the rest of its message group
//! without running them: SQS then redelivers the group from the failed record on, so commands
//! for one order never overtake each other. The event source mapping must set
//! `ReportBatchItemFailures`, or SQS deletes the failed records with the rest.
//!
//! Records run against the invocation's [`Budget`]: a record starts only while the time left
//! covers the worst case of one record, so the invocation ends before Lambda's timeout would
//! cut it (and SQS would deliver the whole batch again, done records included, raising receive
//! counts towards the pending queue). The records it did not start are reported as failures,
//! which SQS delivers again; FIFO order is kept as for any failure.

use std::collections::HashSet;
use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsMessage};
use tracing::{Instrument, info_span, warn};

use crate::ports::{Clock, SystemClock, duration_ms};
use crate::telemetry::Metrics;

/// The system attribute SQS sets on every FIFO message.
pub const MESSAGE_GROUP_ID: &str = "MessageGroupId";

/// What became of one record.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordOutcome<T, E> {
    Done(T),
    Failed(E),
    /// Not run because an earlier record of its message group failed in this batch.
    Skipped,
    /// Not run because the invocation's time left could not cover it.
    Deferred,
}

/// The time an invocation has left, and how long one record may take at worst.
#[derive(Debug, Clone, Copy)]
pub struct Budget<'c> {
    clock: &'c dyn Clock,
    deadline_ms: u64,
    per_record_ms: u64,
}

impl<'c> Budget<'c> {
    /// `deadline_ms` is Lambda's (the invocation context's `deadline`, epoch milliseconds);
    /// `per_record` the worst case of one record, every outbound call at its timeout.
    pub fn new(clock: &'c dyn Clock, deadline_ms: u64, per_record: Duration) -> Self {
        Self { clock, deadline_ms, per_record_ms: duration_ms(per_record) }
    }

    /// From the invocation context's `deadline`: epoch milliseconds in Lambda. `cargo lambda`'s
    /// emulator sends its timeout in milliseconds there instead (600000), which read as a date
    /// is long past; a value before 2001 is taken as the time left from now.
    pub fn from_lambda(clock: &'c dyn Clock, deadline: u64, per_record: Duration) -> Self {
        const YEAR_2001_MS: u64 = 978_307_200_000;
        let deadline_ms = if deadline < YEAR_2001_MS { clock.now_ms().saturating_add(deadline) } else { deadline };
        Self::new(clock, deadline_ms, per_record)
    }

    /// No deadline: embedded runs and tests that are not about time.
    pub fn unlimited() -> Budget<'static> {
        Budget { clock: &SystemClock, deadline_ms: u64::MAX, per_record_ms: 0 }
    }

    fn covers_one_more(&self) -> bool {
        self.clock.now_ms().saturating_add(self.per_record_ms) <= self.deadline_ms
    }
}

/// The outcome of every record, in record order, and the response that reports the failures.
#[derive(Debug)]
pub struct BatchReport<T, E> {
    pub outcomes: Vec<RecordOutcome<T, E>>,
    pub response: SqsBatchResponse,
}

/// Runs `process` on each record in order, within `budget`, and reports failed, skipped and
/// deferred records by message id. The first record always runs, so a function whose timeout
/// is shorter than one record's worst case still makes progress.
///
/// A record without a message id (never sent by Lambda) that fails is reported with an empty
/// id, which Lambda treats as a failure of the whole batch: retried rather than lost.
pub async fn process_batch<'a, T, E, F, Fut>(
    records: &'a [SqsMessage],
    budget: Budget<'_>,
    mut process: F,
) -> BatchReport<T, E>
where
    F: FnMut(&'a SqsMessage) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Display,
{
    let mut failed_groups: HashSet<&str> = HashSet::new();
    let mut outcomes = Vec::with_capacity(records.len());
    let mut response = SqsBatchResponse::default();
    for (i, record) in records.iter().enumerate() {
        let message_id = record.message_id.as_deref().unwrap_or_default();
        let group = record.attributes.get(MESSAGE_GROUP_ID).map(String::as_str);
        let span = info_span!("sqs_record", message_id, group = group.unwrap_or_default());
        let blocked = group.is_some_and(|g| failed_groups.contains(g));
        let out_of_time = i > 0 && !budget.covers_one_more();
        let outcome = async {
            if blocked {
                warn!("skipped: an earlier record of its message group failed in this batch");
                return RecordOutcome::Skipped;
            }
            if out_of_time {
                warn!("deferred: the invocation's time left does not cover one more record");
                return RecordOutcome::Deferred;
            }
            match process(record).await {
                Ok(value) => RecordOutcome::Done(value),
                Err(error) => {
                    warn!(%error, "record failed; SQS will deliver it again");
                    RecordOutcome::Failed(error)
                }
            }
        }
        .instrument(span)
        .await;
        if !matches!(outcome, RecordOutcome::Done(_)) {
            response.add_failure(message_id);
            failed_groups.extend(group);
        }
        outcomes.push(outcome);
    }
    BatchReport { outcomes, response }
}

impl<T, E> BatchReport<T, E> {
    /// Counts each record's outcome as an EMF metric of `function` and hands back the response:
    /// `done` names a done record's metric, `malformed` picks the failures no retry can cure
    /// (`Malformed`); other failures and records skipped behind one are `Retried`.
    pub fn counted(
        self,
        function: &'static str,
        done: impl Fn(&T) -> &'static str,
        malformed: impl Fn(&E) -> bool,
    ) -> SqsBatchResponse {
        let mut metrics = Metrics::new(function);
        for outcome in &self.outcomes {
            let metric = match outcome {
                RecordOutcome::Done(value) => done(value),
                RecordOutcome::Failed(error) if malformed(error) => "Malformed",
                RecordOutcome::Failed(_) | RecordOutcome::Skipped => "Retried",
                RecordOutcome::Deferred => "Deferred",
            };
            metrics.count(metric, 1);
        }
        metrics.flush();
        self.response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, group: Option<&str>, body: &str) -> SqsMessage {
        let mut r = SqsMessage::default();
        r.message_id = Some(id.to_owned());
        r.body = Some(body.to_owned());
        if let Some(g) = group {
            r.attributes.insert(MESSAGE_GROUP_ID.to_owned(), g.to_owned());
        }
        r
    }

    fn failed_ids(response: &SqsBatchResponse) -> Vec<&str> {
        response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
    }

    /// Fails records whose body is `fail`, and notes which records ran, in order.
    async fn run(records: &[SqsMessage]) -> (BatchReport<String, String>, Vec<String>) {
        let mut ran = Vec::new();
        let report = process_batch(records, Budget::unlimited(), |r| {
            let body = r.body.clone().unwrap_or_default();
            ran.push(r.message_id.clone().unwrap_or_default());
            async move { if body == "fail" { Err(format!("{body} refused")) } else { Ok(body) } }
        })
        .await;
        (report, ran)
    }

    #[tokio::test]
    async fn a_batch_without_failures_reports_none() {
        let records = [record("1", Some("a"), "x"), record("2", Some("b"), "y")];
        let (report, ran) = run(&records).await;
        assert!(report.response.batch_item_failures.is_empty());
        assert_eq!(ran, ["1", "2"]);
        assert_eq!(report.outcomes, [RecordOutcome::Done("x".into()), RecordOutcome::Done("y".into())]);
    }

    #[tokio::test]
    async fn a_failure_fails_the_later_records_of_its_group_without_running_them() {
        let records = [
            record("1", Some("a"), "ok"),
            record("2", Some("a"), "fail"),
            record("3", Some("b"), "ok"),
            record("4", Some("a"), "ok"),
        ];
        let (report, ran) = run(&records).await;
        assert_eq!(ran, ["1", "2", "3"], "record 4 must not run");
        assert_eq!(failed_ids(&report.response), ["2", "4"]);
        assert_eq!(report.outcomes[1], RecordOutcome::Failed("fail refused".into()));
        assert_eq!(report.outcomes[3], RecordOutcome::Skipped);
    }

    #[tokio::test]
    async fn records_without_a_group_fail_alone() {
        let records = [record("1", None, "fail"), record("2", None, "ok")];
        let (report, ran) = run(&records).await;
        assert_eq!(ran, ["1", "2"]);
        assert_eq!(failed_ids(&report.response), ["1"]);
    }

    #[tokio::test]
    async fn a_failed_record_without_a_message_id_fails_the_whole_batch() {
        let mut anonymous = record("", Some("a"), "fail");
        anonymous.message_id = None;
        let (report, _) = run(&[anonymous]).await;
        assert_eq!(failed_ids(&report.response), [""], "an empty id makes Lambda retry the batch");
    }

    #[tokio::test]
    async fn records_the_time_left_cannot_cover_are_deferred_with_their_groups() {
        use crate::adapters::embedded::ManualClock;
        let clock = ManualClock::new(1_000_000);
        // 30 s left, 8 s per record at worst: three records fit (after the third, 6 s are left).
        let budget = Budget::new(&clock, 1_030_000, Duration::from_secs(8));
        let records: Vec<SqsMessage> =
            (1..=5).map(|i| record(&i.to_string(), Some(if i % 2 == 0 { "a" } else { "b" }), "ok")).collect();
        let mut ran = Vec::new();
        let report = process_batch(&records, budget, |r| {
            ran.push(r.message_id.clone().unwrap_or_default());
            // A slow provider: each record takes 8 s of the clock.
            clock.advance(Duration::from_secs(8));
            async { Ok::<_, String>(()) }
        })
        .await;
        assert_eq!(ran, ["1", "2", "3"]);
        assert_eq!(failed_ids(&report.response), ["4", "5"]);
        assert_eq!(report.outcomes[3], RecordOutcome::Deferred);
        assert_eq!(report.outcomes[4], RecordOutcome::Deferred);
    }

    #[tokio::test]
    async fn the_first_record_runs_even_when_one_record_outlasts_the_time_left() {
        use crate::adapters::embedded::ManualClock;
        let clock = ManualClock::new(0);
        let budget = Budget::new(&clock, 5_000, Duration::from_secs(8));
        let records = [record("1", Some("a"), "ok"), record("2", Some("b"), "ok")];
        let mut ran = Vec::new();
        let report = process_batch(&records, budget, |r| {
            ran.push(r.message_id.clone().unwrap_or_default());
            async { Ok::<_, String>(()) }
        })
        .await;
        assert_eq!(ran, ["1"], "progress, however short the function's timeout");
        assert_eq!(failed_ids(&report.response), ["2"]);
    }

    #[test]
    fn a_deadline_that_reads_as_a_past_date_is_the_time_left() {
        use crate::adapters::embedded::ManualClock;
        let clock = ManualClock::new(1_796_317_768_971);
        let per_record = Duration::from_secs(15);
        // Lambda: epoch milliseconds, 20 s ahead.
        assert!(Budget::from_lambda(&clock, 1_796_317_788_971, per_record).covers_one_more());
        assert!(!Budget::from_lambda(&clock, 1_796_317_778_971, per_record).covers_one_more());
        // cargo lambda's emulator: 600,000 ms left.
        assert!(Budget::from_lambda(&clock, 600_000, per_record).covers_one_more());
        assert!(!Budget::from_lambda(&clock, 10_000, per_record).covers_one_more());
    }
}
