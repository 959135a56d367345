//! Orders that reached `issuance_dte` in, one "your order is being processed" email each out.
//!
//! # Exactly once, as near as SES allows
//!
//! SES has no idempotency key, so the order record carries the guarantee:
//!
//! 1. **Claim.** Read the record; if `notified_at` is set or an outcome is already on its
//!    history, this is a replay: done. Otherwise write a [`NotificationClaim`] conditionally on
//!    the version read. Of two concurrent invocations only one wins the write.
//! 2. **Send** through the [`Mailer`].
//! 3. **Settle.** Set `notified_at`, drop the claim and add a history line, again
//!    conditionally (re-reading and re-applying if the state router wrote in between, or if the
//!    write failed transiently; a record found settled means the write landed and only its
//!    answer was lost).
//!
//! A claim younger than the claim timeout makes other invocations fail the record, so the
//! stream retries it later. An older one means its owner died between claim and settle: the
//! next invocation takes it over (`attempt + 1`) and sends. The timeout exceeds the function
//! timeout, so a live send is never taken over. The price is at-least-once in one window: a
//! crash after SES accepted the message but before the settle write sends it twice, and so do a
//! settle that fails [`WRITE_ATTEMPTS`] times in a row and an answer of SES lost after SES took
//! the message (the SDK, or the stream, sends it again). We chose that over the alternative
//! (settle before send), which loses the email on such a crash.
//!
//! A missing or malformed address, or one SES refuses, is recorded on the history as a
//! notification failure and the record succeeds: retrying cannot fix the order's data.
//! Throttling and 5xx release the claim and fail the record, so the stream retries it.

use std::time::Duration;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use orderflow_shared::email::{self, ComposeError, RenderError};
use orderflow_shared::error::{Classify, PortError};
use orderflow_shared::lifecycle::{HistoryKind, NotificationClaim, OrderRecord, State, now_rfc3339};
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{Expected, MailError, Mailer, OrderStore, StateChange, WriteError};
use orderflow_shared::telemetry::Metrics;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::{Instrument, info, info_span, instrument, warn};

pub const FUNCTION: &str = "email-notifier";

/// Conditional writes tried before giving up on a record that keeps changing, or on a store that
/// keeps failing.
const WRITE_ATTEMPTS: usize = 5;

pub struct Notifier<S, M> {
    pub store: S,
    pub mailer: M,
    /// The verified identity the email comes from.
    pub sender: String,
    pub claim_timeout: Duration,
}

/// What became of one order's notification; every variant lets the stream move on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    Sent {
        message_id: String,
    },
    /// Sent or recorded as failed before: a replay or a duplicate record.
    AlreadySettled,
    /// No usable address; recorded on the order's history.
    RecipientRejected,
    /// The order is not in the table (deleted since the change).
    Missing,
}

/// Why a record must come back.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("stream record without {0}")]
    BadRecord(&'static str),
    #[error("another invocation claimed this email at {0}; retrying after the claim timeout")]
    ClaimHeld(String),
    #[error("{WRITE_ATTEMPTS} conditional writes of the order in a row did not land")]
    Contended,
    #[error(transparent)]
    Store(#[from] PortError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("sending: {0}")]
    Mail(#[source] MailError),
}

/// One stream batch in; the records that must come back out, by sequence number. Lambda
/// retries from the lowest one (`ReportBatchItemFailures`), and replays are harmless.
pub async fn handle<S: OrderStore, M: Mailer>(deps: &Notifier<S, M>, event: Event) -> DynamoDbEventResponse {
    let mut metrics = Metrics::new(FUNCTION);
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let sequence = record.change.sequence_number.as_deref().unwrap_or_default();
        let span = info_span!("stream_record", sequence, event = %record.event_name);
        match process_record(deps, record).instrument(span).await {
            Ok(outcome) => {
                metrics.count(metric(outcome.as_ref()), 1);
            }
            Err(error) => {
                warn!(sequence, %error, "record failed; the stream will deliver it again");
                metrics.count("NotificationFailed", 1);
                // An empty identifier (no sequence number) fails the whole batch: retried, not lost.
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence.to_owned());
                response.batch_item_failures.push(failure);
            }
        }
    }
    metrics.flush();
    response
}

/// The changes of the embedded store that the stream filter would let through, notified in
/// order. For `orderflow demo`: same rule and same [`notify`] as the Lambda.
pub async fn notify_changes<S: OrderStore, M: Mailer, C>(
    deps: &Notifier<S, M>,
    changes: &[C],
) -> Vec<(OrderKey, Result<Notified, NotifyError>)>
where
    for<'c> StateChange: From<&'c C>,
{
    let mut results = Vec::new();
    for change in changes.iter().map(StateChange::from) {
        if !enters_issuance(&change) {
            continue;
        }
        match change.key.as_deref().map(OrderKey::parse) {
            Some(Ok(key)) => results.push((key.clone(), notify(deps, &key).await)),
            _ => warn!("a change into issuance_dte without a valid order key"),
        }
    }
    results
}

/// The template's FilterCriteria, again: the new image is `issuance_dte`, the old one is not.
fn enters_issuance(change: &StateChange) -> bool {
    change.enters(State::IssuanceDte.as_str())
}

fn metric(outcome: Option<&Notified>) -> &'static str {
    match outcome {
        None => "NotificationFiltered",
        Some(Notified::Sent { .. }) => "NotificationSent",
        Some(Notified::AlreadySettled) => "NotificationReplayed",
        Some(Notified::RecipientRejected) => "NotificationRecipientRejected",
        Some(Notified::Missing) => "NotificationOrderMissing",
    }
}

/// `None` when the record is not an entry into `issuance_dte` (the filter should not let
/// such records through; a test event may).
async fn process_record<S: OrderStore, M: Mailer>(
    deps: &Notifier<S, M>,
    record: &EventRecord,
) -> Result<Option<Notified>, NotifyError> {
    let change = StateChange::from(record);
    if !enters_issuance(&change) {
        return Ok(None);
    }
    let pk = change.key.ok_or(NotifyError::BadRecord("NewImage.pk"))?;
    let key = OrderKey::parse(&pk).map_err(|_| NotifyError::BadRecord("a valid order key in NewImage.pk"))?;
    // Boxed: claim, send and settle nest deep enough to overflow the layout query otherwise.
    Box::pin(notify(deps, &key)).await.map(Some)
}

/// Claim, send and settle one order's email. Both entry points end here.
#[instrument(skip_all, fields(order_key = %key))]
pub async fn notify<S: OrderStore, M: Mailer>(deps: &Notifier<S, M>, key: &OrderKey) -> Result<Notified, NotifyError> {
    let (claimed, email) = match claim(deps, key).await? {
        Claim::Won(won) => *won,
        Claim::Done(outcome) => return Ok(outcome),
    };
    match deps.mailer.send(&email).await {
        Ok(message_id) => {
            let now = now_rfc3339();
            let detail = format!("email sent to {} (message id {message_id})", email.to);
            settle(&deps.store, claimed, |r| {
                r.notified_at = Some(now.clone());
                r.notification_claim = None;
                r.note(HistoryKind::Notification, FUNCTION, detail.clone(), &now);
            })
            .await?;
            info!(message_id, to = %email.to, "order email sent");
            Ok(Notified::Sent { message_id })
        }
        Err(MailError::InvalidRecipient(why)) => {
            record_failure(deps, claimed, &why).await?;
            Ok(Notified::RecipientRejected)
        }
        Err(error) => {
            // Let the retry claim at once instead of waiting out the timeout.
            if let Err(release) = settle(&deps.store, claimed, |r| {
                r.notification_claim = None;
                r.version += 1;
            })
            .await
            {
                warn!(%release, "could not release the claim; a retry takes it over after the timeout");
            }
            Err(NotifyError::Mail(error))
        }
    }
}

enum Claim {
    Won(Box<(OrderRecord, email::Email)>),
    Done(Notified),
}

async fn claim<S: OrderStore, M: Mailer>(deps: &Notifier<S, M>, key: &OrderKey) -> Result<Claim, NotifyError> {
    let token = claim_token();
    for _ in 0..WRITE_ATTEMPTS {
        let Some(mut record) = deps.store.get(key).await? else {
            warn!("the order is not in the table");
            return Ok(Claim::Done(Notified::Missing));
        };
        if settled(&record) {
            info!("already notified: nothing to send");
            return Ok(Claim::Done(Notified::AlreadySettled));
        }
        // The attempt this invocation claims as; `None` when the claim is already its own.
        let attempt = match &record.notification_claim {
            // Our own claim write landed and its answer was lost: the claim is ours.
            Some(held) if held.token == token => None,
            Some(held) if !expired(held, deps.claim_timeout) => {
                return Err(NotifyError::ClaimHeld(held.claimed_at.clone()));
            }
            Some(stale) => {
                warn!(claimed_at = stale.claimed_at, "taking over an unfinished claim");
                Some(stale.attempt + 1)
            }
            None => Some(1),
        };
        let email = match email::order_processing(&record.order, &deps.sender) {
            Ok(email) => email,
            Err(ComposeError::Render(e)) => return Err(e.into()),
            Err(recipient) => {
                record_failure(deps, record, &recipient.to_string()).await?;
                return Ok(Claim::Done(Notified::RecipientRejected));
            }
        };
        let Some(attempt) = attempt else {
            return Ok(Claim::Won(Box::new((record, email))));
        };
        let expected = Expected::of(&record);
        record.notification_claim =
            Some(NotificationClaim { claimed_at: now_rfc3339(), attempt, token: token.clone() });
        record.version += 1;
        match deps.store.put(&record, Some(expected)).await {
            Ok(()) => return Ok(Claim::Won(Box::new((record, email)))),
            Err(WriteError::VersionConflict) => continue,
            Err(WriteError::Port(e)) => return Err(e.into()),
        }
    }
    Err(NotifyError::Contended)
}

/// A claim token no other invocation holds: the time in nanoseconds, the process, and a count
/// within the process (Lambda environments may share process ids, not all three).
fn claim_token() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{nanos:x}-{:x}-{count:x}", std::process::id())
}

/// The email went out, or a failure that retrying cannot fix was recorded.
fn settled(record: &OrderRecord) -> bool {
    record.notified_at.is_some()
        || record.history.iter().any(|h| h.kind == HistoryKind::Notification && h.by == FUNCTION)
}

fn expired(claim: &NotificationClaim, timeout: Duration) -> bool {
    // A timestamp we cannot read cannot prove the owner alive.
    OffsetDateTime::parse(&claim.claimed_at, &Rfc3339).map_or(true, |at| OffsetDateTime::now_utc() - at >= timeout)
}

/// `why` names the address masked only (see `EmailAddress`'s Display).
async fn record_failure<S: OrderStore, M: Mailer>(
    deps: &Notifier<S, M>,
    record: OrderRecord,
    why: &str,
) -> Result<(), NotifyError> {
    warn!(reason = why, "no usable recipient; recorded on the order, not retried");
    let now = now_rfc3339();
    let detail = format!("email not sent: {why}");
    settle(&deps.store, record, |r| {
        r.notification_claim = None;
        r.note(HistoryKind::Notification, FUNCTION, detail.clone(), &now);
    })
    .await
}

/// Applies `change` (which must bump the version) and writes it conditionally, re-reading and
/// re-applying when the write did not land. It gives up on a transient failure only after
/// [`WRITE_ATTEMPTS`]: once the email went out, a settle that gives up leaves the claim for the
/// next delivery to take over and send the email again. A record found settled on re-reading is
/// done: this very write went through and only its answer was lost (the SDK's retry of it then
/// failed its condition), and applying the change again would note the email twice.
async fn settle<S: OrderStore>(
    store: &S,
    mut record: OrderRecord,
    change: impl Fn(&mut OrderRecord),
) -> Result<(), NotifyError> {
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
            Ok(Some(fresh)) if settled(&fresh) => return Ok(()),
            Ok(Some(fresh)) => record = fresh,
            Ok(None) => return Err(PortError::permanent("settle notification", "the order disappeared").into()),
            // Write again on what was read last: a landed write fails its condition, and is read then.
            Err(e) if e.is_transient() => warn!(error = %e, "reading the order to settle failed"),
            Err(e) => return Err(e.into()),
        }
    }
    Err(NotifyError::Contended)
}
