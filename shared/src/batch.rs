//! One SQS batch in, one partial-failure response out.
//!
//! Records are processed one at a time, in the order Lambda delivered them, each inside a span
//! carrying its message id. On FIFO queues a failed record fails the rest of its message group
//! without running them: SQS then redelivers the group from the failed record on, so commands
//! for one order never overtake each other. The event source mapping must set
//! `ReportBatchItemFailures`, or SQS deletes the failed records with the rest.

use std::collections::HashSet;
use std::fmt::Display;
use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsMessage};
use tracing::{Instrument, info_span, warn};

/// The system attribute SQS sets on every FIFO message.
pub const MESSAGE_GROUP_ID: &str = "MessageGroupId";

/// What became of one record.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordOutcome<T, E> {
    Done(T),
    Failed(E),
    /// Not run because an earlier record of its message group failed in this batch.
    Skipped,
}

/// The outcome of every record, in record order, and the response that reports the failures.
#[derive(Debug)]
pub struct BatchReport<T, E> {
    pub outcomes: Vec<RecordOutcome<T, E>>,
    pub response: SqsBatchResponse,
}

/// Runs `process` on each record in order and reports failed and skipped records by message id.
///
/// A record without a message id (never sent by Lambda) that fails is reported with an empty
/// id, which Lambda treats as a failure of the whole batch: retried rather than lost.
pub async fn process_batch<'a, T, E, F, Fut>(records: &'a [SqsMessage], mut process: F) -> BatchReport<T, E>
where
    F: FnMut(&'a SqsMessage) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Display,
{
    let mut failed_groups: HashSet<&str> = HashSet::new();
    let mut outcomes = Vec::with_capacity(records.len());
    let mut response = SqsBatchResponse::default();
    for record in records {
        let message_id = record.message_id.as_deref().unwrap_or_default();
        let group = record.attributes.get(MESSAGE_GROUP_ID).map(String::as_str);
        let span = info_span!("sqs_record", message_id, group = group.unwrap_or_default());
        let blocked = group.is_some_and(|g| failed_groups.contains(g));
        let outcome = async {
            if blocked {
                warn!("skipped: an earlier record of its message group failed in this batch");
                return RecordOutcome::Skipped;
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
        let report = process_batch(records, |r| {
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
}
