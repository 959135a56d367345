//! Orders that reached `issuance_dte` in, one "your order is being processed" email each out.
//!
//! # Exactly once, as near as SES allows
//!
//! SES has no idempotency key, so the order record carries the guarantee, with the claim of
//! [`effect_claim`]: claim (`notification_claim`), send through the [`Mailer`], settle
//! (`notified_at` and a history line). An outcome already on the history is a replay.
//!
//! The claim timeout exceeds the function timeout, so a live send is never taken over. The
//! price is at-least-once in one window: a crash after SES accepted the message but before the
//! settle write sends it twice, and so do a settle that fails
//! [`effect_claim::WRITE_ATTEMPTS`] times in a row and an answer of SES lost after SES took the
//! message (the SDK, or the stream, sends it again). We chose that over the alternative
//! (settle before send), which loses the email on such a crash.
//!
//! A missing or malformed address, or one SES refuses, is recorded on the history as a
//! notification failure and the record succeeds: retrying cannot fix the order's data.
//! Throttling and 5xx release the claim and fail the record, so the stream retries it.

use std::time::Duration;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use orderflow_shared::effect_claim::{self, Claimed, EffectError, Slot};
use orderflow_shared::email::{self, ComposeError, RenderError};
use orderflow_shared::lifecycle::{EffectClaim, HistoryKind, OrderRecord, State, now_rfc3339};
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{MailError, Mailer, OrderStore, StateChange};
use orderflow_shared::telemetry::Metrics;
use tracing::{Instrument, info, info_span, instrument, warn};

pub const FUNCTION: &str = "email-notifier";

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
    #[error(transparent)]
    Claim(#[from] EffectError),
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

/// Where the customer email keeps its claim and its outcome on the record.
struct EmailSlot;

impl Slot for EmailSlot {
    /// The email went out, or a failure that retrying cannot fix was recorded.
    fn settled(&self, record: &OrderRecord) -> bool {
        record.notified_at.is_some()
            || record.history.iter().any(|h| h.kind == HistoryKind::Notification && h.by == FUNCTION)
    }
    fn claim<'r>(&self, record: &'r OrderRecord) -> Option<&'r EffectClaim> {
        record.notification_claim.as_ref()
    }
    fn set_claim(&self, record: &mut OrderRecord, claim: Option<EffectClaim>) {
        record.notification_claim = claim;
    }
}

/// Claim, send and settle one order's email. Both entry points end here.
#[instrument(skip_all, fields(order_key = %key))]
pub async fn notify<S: OrderStore, M: Mailer>(deps: &Notifier<S, M>, key: &OrderKey) -> Result<Notified, NotifyError> {
    let composed = effect_claim::claim(&deps.store, key, &EmailSlot, deps.claim_timeout, |record| {
        email::order_processing(&record.order, &deps.sender)
    })
    .await?;
    let (claimed, email) = match composed {
        Claimed::Won { record, prepared } => (record, prepared),
        Claimed::Settled => {
            info!("already notified: nothing to send");
            return Ok(Notified::AlreadySettled);
        }
        Claimed::Missing => {
            warn!("the order is not in the table");
            return Ok(Notified::Missing);
        }
        Claimed::Declined { why: ComposeError::Render(e), .. } => return Err(e.into()),
        Claimed::Declined { record, why: recipient } => {
            record_failure(deps, record, &recipient.to_string()).await?;
            return Ok(Notified::RecipientRejected);
        }
    };
    match deps.mailer.send(&email).await {
        Ok(message_id) => {
            let now = now_rfc3339();
            let detail = format!("email sent to {} (message id {message_id})", email.to);
            effect_claim::settle(&deps.store, &EmailSlot, claimed, |r| {
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
            effect_claim::release(&deps.store, &EmailSlot, claimed).await;
            Err(NotifyError::Mail(error))
        }
    }
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
    effect_claim::settle(&deps.store, &EmailSlot, record, |r| {
        r.notification_claim = None;
        r.note(HistoryKind::Notification, FUNCTION, detail.clone(), &now);
    })
    .await?;
    Ok(())
}
