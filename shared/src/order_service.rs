//! Operations on stored orders, shared by every function that changes one: register, run a
//! stage, record a failure. Each is a read → decide → conditional write loop, so concurrent
//! callers never both win, and a lost race is re-decided on fresh state.
//!
//! A failed DTE broadcast is not retried here: the error is recorded and the order handed to
//! the recovery workflow ([`RecoveryStarter`]), whose retry task calls [`OrderService::retry_broadcast`].

use std::future::Future;
use std::sync::Arc;

use tracing::{info, instrument, warn};

use crate::command::OrderCommand;
use crate::error::{Classify, PortError, Retry};
use crate::lifecycle::{HistoryKind, IllegalTransition, OrderRecord, Stage, StageError, State, Tracking, now_rfc3339};
use crate::order::{CanonicalOrder, OrderKey};
use crate::ports::{DteError, DteProvider, Expected, FifoQueue, OrderStore, RecoveryStarter, WriteError};

/// Re-reads after a lost conditional write before giving up with a transient error.
const MAX_RACES: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("order {0} does not exist")]
    NotFound(OrderKey),
    #[error("order {key} exists with different content (stored {stored_hash}, offered {offered_hash})")]
    Conflict { key: OrderKey, stored_hash: String, offered_hash: String },
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("invalid order: {0}")]
    Invalid(String),
    /// The DTE provider refused for good; the order is now in `error` with the reason.
    #[error("{} failed: {}", .record.state, .cause)]
    StageFailed { record: Box<OrderRecord>, cause: DteError },
    #[error(transparent)]
    Dte(DteError),
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("order {0} kept changing under concurrent writers")]
    Contended(OrderKey),
    /// An operator acted on what they saw, but the order has moved on since.
    #[error("order {key} is {now} now, no longer {seen}")]
    StateMoved { key: OrderKey, seen: State, now: State },
}

impl Classify for ServiceError {
    fn retry(&self) -> Retry {
        match self {
            Self::Dte(e) => e.retry(),
            Self::Port(e) => e.retry(),
            Self::Contended(_) => Retry::Transient,
            _ => Retry::Permanent,
        }
    }
}

/// What a call did; `Unchanged` is the idempotent answer to a repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Created(OrderRecord),
    Changed(OrderRecord),
    Unchanged(OrderRecord),
    /// The stage failed, the error is recorded and the recovery workflow took over.
    HandedOver(OrderRecord),
}

impl Applied {
    pub fn record(&self) -> &OrderRecord {
        match self {
            Self::Created(r) | Self::Changed(r) | Self::Unchanged(r) | Self::HandedOver(r) => r,
        }
    }
}

/// A failure as the error API and the recovery workflow carry it: the stage error plus the order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedError {
    pub order_key: OrderKey,
    pub stage: State,
    pub code: String,
    pub message: String,
    pub retryable: bool,
    pub attempt: u32,
}

impl ReportedError {
    pub fn new(order_key: OrderKey, error: StageError) -> Self {
        let StageError { stage, code, message, retryable, attempt } = error;
        Self { order_key, stage, code, message, retryable, attempt }
    }

    pub fn stage_error(&self) -> StageError {
        StageError {
            stage: self.stage,
            code: self.code.clone(),
            message: self.message.clone(),
            retryable: self.retryable,
            attempt: self.attempt,
        }
    }
}

/// What a stage does when its DTE call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnFailure {
    /// The router's path: record it, and hand a broadcast to the recovery workflow.
    Record,
    /// The recovery workflow's retry: report it; the workflow records and decides.
    Report,
}

/// What one pass of [`OrderService::decide_and_write`] decided.
// `T` is `Applied` at every use, which holds an `OrderRecord` too: the variants are alike in size.
#[allow(clippy::large_enum_variant)]
enum Pass<T> {
    /// The answer, with nothing (more) to write: a repeat, or an outcome that wrote itself.
    Done(T),
    /// Write `record` if the stored version is still `expected` (`None`: not stored yet).
    Write { record: OrderRecord, expected: Option<Expected> },
}

/// How the loop ended: with a pass's answer, or with the record it wrote.
#[allow(clippy::large_enum_variant)] // as for `Pass`
enum Decided<T> {
    Done(T),
    Written(OrderRecord),
}

impl Decided<Applied> {
    /// For operations whose write needs nothing after it: written is `Changed`.
    fn into_applied(self) -> Applied {
        match self {
            Self::Done(applied) => applied,
            Self::Written(record) => Applied::Changed(record),
        }
    }
}

pub struct OrderService<S, Q, D, R> {
    pub store: S,
    pub queue: Q,
    pub dte: D,
    pub recovery: R,
}

impl<S: OrderStore, Q: FifoQueue, D: DteProvider, R: RecoveryStarter> OrderService<S, Q, D, R> {
    pub async fn get(&self, key: &OrderKey) -> Result<OrderRecord, ServiceError> {
        self.store.get(key).await?.ok_or_else(|| ServiceError::NotFound(key.clone()))
    }

    /// Stores a new order and queues its first stage. The same content again is a no-op; other
    /// content under the same key is refused and noted on the stored order's history.
    #[instrument(skip_all, fields(order_key = %order.order_key))]
    pub async fn register(&self, order: CanonicalOrder, source: &str, by: &str) -> Result<Applied, ServiceError> {
        order.validate().map_err(ServiceError::Invalid)?;
        // A new order is the common case, and its conditional create already carries "not
        // stored yet": it is tried before any read. Only a key that is taken (a redelivery, a
        // conflict) is read and decided below, as before. The document is shared with the
        // record for that read, and its hash is the record's.
        let order = Arc::new(order);
        let record = OrderRecord::register(Arc::clone(&order), source, by, &now_rfc3339());
        let offered_hash = record.content_hash.clone();
        match self.store.put(&record, None).await {
            Ok(()) => {
                info!("registered");
                self.queue_next(&record).await?;
                return Ok(Applied::Created(record));
            }
            Err(WriteError::VersionConflict) => {}
            Err(WriteError::Port(e)) => return Err(e.into()),
        }
        let (order, offered) = (&order, offered_hash.as_str());
        let decided = self
            .decide_and_write(&order.order_key, move || async move {
                let now = now_rfc3339();
                let Some(mut stored) = self.store.get(&order.order_key).await? else {
                    let record = OrderRecord::register(Arc::clone(order), source, by, &now);
                    return Ok(Pass::Write { record, expected: None });
                };
                if stored.content_hash == offered {
                    // A redelivery may follow a crash before the next stage was queued.
                    self.queue_next(&stored).await?;
                    return Ok(Pass::Done(Applied::Unchanged(stored)));
                }
                let expected = Expected::of(&stored);
                stored.note(HistoryKind::Conflict, by, format!("refused content {offered} from {source}"), &now);
                Ok(Pass::Write { record: stored, expected: Some(expected) })
            })
            .await?;
        match decided {
            Decided::Done(applied) => Ok(applied),
            // Only a new order is written with the offered content; a conflict writes the note.
            Decided::Written(record) if record.content_hash == offered_hash => {
                info!("registered");
                self.queue_next(&record).await?;
                Ok(Applied::Created(record))
            }
            Decided::Written(stored) => {
                warn!(%offered_hash, "conflicting content refused");
                Err(ServiceError::Conflict { key: stored.key, stored_hash: stored.content_hash, offered_hash })
            }
        }
    }

    /// Runs one stage: its side effect (DTE issue or broadcast), then the transition.
    /// Running a stage the order already passed is `Unchanged`, and re-queues what follows.
    /// `tracking` is kept with a dispatch (and ignored by the other stages).
    #[instrument(skip(self, tracking), fields(order_key = %key))]
    pub async fn run_stage(
        &self,
        key: &OrderKey,
        stage: Stage,
        by: &str,
        tracking: Option<&Tracking>,
    ) -> Result<Applied, ServiceError> {
        self.advance(key, stage, by, OnFailure::Record, tracking).await
    }

    /// The recovery workflow's retry of a broadcast: the same stage code as the router's, but a
    /// DTE failure comes back as [`ServiceError::Dte`] with the order left as it was, for the
    /// workflow to record and classify.
    #[instrument(skip(self), fields(order_key = %key))]
    pub async fn retry_broadcast(&self, key: &OrderKey, by: &str) -> Result<Applied, ServiceError> {
        self.advance(key, Stage::BroadcastDte, by, OnFailure::Report, None).await
    }

    async fn advance(
        &self,
        key: &OrderKey,
        stage: Stage,
        by: &str,
        on_failure: OnFailure,
        tracking: Option<&Tracking>,
    ) -> Result<Applied, ServiceError> {
        let target = stage.target();
        let decided = self
            .decide_and_write(key, move || async move {
                let mut record = self.get(key).await?;
                if record.state == target {
                    self.queue_next(&record).await?;
                    return Ok(Pass::Done(Applied::Unchanged(record)));
                }
                // A late copy of a command the order has already passed (its history has the
                // transition): a duplicate, acknowledged as one. Refused, it would be parked and
                // raise the pending queue's alarm for nothing. What comes after was queued when
                // the transition was made, so nothing is queued now.
                if record.history.iter().any(|entry| entry.to == Some(target)) {
                    return Ok(Pass::Done(Applied::Unchanged(record)));
                }
                let expected = Expected::of(&record);
                // Check legality before the side effect so an illegal call costs the provider nothing.
                record.check(target)?;
                let detail = match self.side_effect(&mut record, stage).await {
                    Ok(detail) if stage == Stage::Dispatch => dispatched(&mut record, tracking, detail),
                    Ok(detail) => detail,
                    // Refused credentials are the deployment's fault, not the order's: the order
                    // stays where it is, and the command is parked for an operator (class `auth`).
                    Err(cause) if on_failure == OnFailure::Report || cause.retry == Retry::Auth => {
                        return Err(ServiceError::Dte(cause));
                    }
                    Err(cause) if stage == Stage::BroadcastDte => {
                        return self.hand_over(record, expected, cause, by).await.map(Pass::Done);
                    }
                    Err(cause) if cause.retry == Retry::Permanent => {
                        return self.record_stage_failure(record, expected, target, cause, by).await.map(Pass::Done);
                    }
                    Err(cause) => return Err(ServiceError::Dte(cause)),
                };
                record.transition(target, by, detail, &now_rfc3339())?;
                Ok(Pass::Write { record, expected: Some(expected) })
            })
            .await?;
        match decided {
            Decided::Done(applied) => Ok(applied),
            Decided::Written(record) => {
                info!(state = %target, "transition");
                self.queue_next(&record).await?;
                Ok(Applied::Changed(record))
            }
        }
    }

    /// Moves an order to `error`, keeping which stage failed and why (the error API's write).
    /// An order already in `error` keeps its state; the new error is appended to its history
    /// and replaces the last one. The same error again (a retried call) changes nothing.
    #[instrument(skip(self, error), fields(order_key = %key))]
    pub async fn record_error(&self, key: &OrderKey, error: StageError, by: &str) -> Result<Applied, ServiceError> {
        let error = &error;
        let decided = self
            .decide_and_write(key, move || async move {
                let mut record = self.get(key).await?;
                let expected = Expected::of(&record);
                if record.state == State::Error {
                    if record.last_error.as_ref() == Some(error) {
                        return Ok(Pass::Done(Applied::Unchanged(record)));
                    }
                    let detail = format!(
                        "{} failed: {} ({}), attempt {}",
                        error.stage, error.message, error.code, error.attempt
                    );
                    record.note(HistoryKind::Error, by, detail, &now_rfc3339());
                    record.last_error = Some(error.clone());
                } else {
                    record.fail(error.clone(), by, &now_rfc3339())?;
                }
                Ok(Pass::Write { record, expected: Some(expected) })
            })
            .await?;
        Ok(decided.into_applied())
    }

    /// Notes an operator's action on the order's history before it runs, conditionally on the
    /// state the operator saw: a moved order is refused with [`ServiceError::StateMoved`]. The
    /// note carries `action_id` (one per form shown), so a second submit of the same form finds
    /// it and is answered `Unchanged`, and the caller does not act twice.
    #[instrument(skip(self, detail), fields(order_key = %key))]
    pub async fn note_operator_action(
        &self,
        key: &OrderKey,
        seen: State,
        by: &str,
        detail: &str,
        action_id: &str,
    ) -> Result<Applied, ServiceError> {
        let marker = format!("[action {action_id}]");
        let decided = self
            .decide_and_write(key, || async {
                let mut record = self.get(key).await?;
                if record.history.iter().any(|e| e.kind == HistoryKind::Operator && e.detail.ends_with(&marker)) {
                    return Ok(Pass::Done(Applied::Unchanged(record)));
                }
                if record.state != seen {
                    return Err(ServiceError::StateMoved { key: key.clone(), seen, now: record.state });
                }
                let expected = Expected::of(&record);
                record.note(HistoryKind::Operator, by, format!("{detail} {marker}"), &now_rfc3339());
                Ok(Pass::Write { record, expected: Some(expected) })
            })
            .await?;
        Ok(decided.into_applied())
    }

    /// Ends recovery: the order becomes `broadcast_failed`. Already there is `Unchanged`.
    #[instrument(skip(self, detail), fields(order_key = %key))]
    pub async fn give_up_broadcast(&self, key: &OrderKey, detail: &str, by: &str) -> Result<Applied, ServiceError> {
        let decided = self
            .decide_and_write(key, move || async move {
                let mut record = self.get(key).await?;
                if record.state == State::BroadcastFailed {
                    return Ok(Pass::Done(Applied::Unchanged(record)));
                }
                let expected = Expected::of(&record);
                record.transition(State::BroadcastFailed, by, detail, &now_rfc3339())?;
                Ok(Pass::Write { record, expected: Some(expected) })
            })
            .await?;
        Ok(decided.into_applied())
    }

    /// Records a failed broadcast and starts the recovery workflow for it. The attempt counts
    /// on from an earlier broadcast error, so a redelivered command starts a new execution
    /// rather than colliding with the finished one.
    async fn hand_over(
        &self,
        mut record: OrderRecord,
        expected: Expected,
        cause: DteError,
        by: &str,
    ) -> Result<Applied, ServiceError> {
        let attempt = match &record.last_error {
            Some(e) if record.state == State::Error && e.stage == State::BroadcastDte => e.attempt + 1,
            _ => 1,
        };
        let error = StageError {
            stage: State::BroadcastDte,
            code: cause.code.clone(),
            message: cause.message.clone(),
            retryable: cause.retry == Retry::Transient,
            attempt,
        };
        let report = ReportedError::new(record.key.clone(), error.clone());
        if record.state == State::Error {
            let detail = format!("broadcast_dte failed: {} ({}), attempt {attempt}", cause.message, cause.code);
            record.note(HistoryKind::Error, by, detail, &now_rfc3339());
            record.last_error = Some(error);
        } else {
            record.fail(error, by, &now_rfc3339())?;
        }
        self.write_once(&record, expected).await?;
        let input = serde_json::json!({ "error": report });
        self.recovery.start(&record.key, attempt, input).await?;
        warn!(attempt, code = %cause.code, "broadcast failed; recovery workflow started");
        Ok(Applied::HandedOver(record))
    }

    async fn side_effect(&self, record: &mut OrderRecord, stage: Stage) -> Result<String, DteError> {
        Ok(match stage {
            Stage::IssuanceDte => {
                let folio = self.dte.issue(record).await?;
                let detail = format!("DTE issued, folio {folio}");
                record.dte.folio = Some(folio);
                detail
            }
            Stage::BroadcastDte => {
                let track_id = self.dte.broadcast(record).await?;
                let detail = format!("DTE broadcast, track id {track_id}");
                record.dte.track_id = Some(track_id);
                detail
            }
            other => format!("{} requested", other.route()),
        })
    }

    async fn record_stage_failure(
        &self,
        mut record: OrderRecord,
        expected: Expected,
        target: State,
        cause: DteError,
        by: &str,
    ) -> Result<Applied, ServiceError> {
        let error = StageError {
            stage: target,
            code: cause.code.clone(),
            message: cause.message.clone(),
            retryable: false,
            attempt: 1,
        };
        record.fail(error, by, &now_rfc3339())?;
        self.write_once(&record, expected).await?;
        Err(ServiceError::StageFailed { record: Box::new(record), cause })
    }

    /// The read → decide → conditional-write loop every operation runs: `pass` reads the order
    /// and decides, on fresh state each time; a write that lost the race to another writer is
    /// decided again, up to [`MAX_RACES`] times, then the caller gets a transient `Contended`.
    async fn decide_and_write<T, F, Fut>(&self, key: &OrderKey, mut pass: F) -> Result<Decided<T>, ServiceError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Pass<T>, ServiceError>>,
    {
        for _ in 0..MAX_RACES {
            match pass().await? {
                Pass::Done(answer) => return Ok(Decided::Done(answer)),
                Pass::Write { record, expected } => match self.store.put(&record, expected).await {
                    Ok(()) => return Ok(Decided::Written(record)),
                    Err(WriteError::VersionConflict) => continue,
                    Err(WriteError::Port(e)) => return Err(e.into()),
                },
            }
        }
        Err(ServiceError::Contended(key.clone()))
    }

    /// A write after a side effect that must not run again (a DTE call already made): a lost
    /// race is not re-decided here but answered `Contended`, so the caller retries the whole
    /// command on fresh state.
    async fn write_once(&self, record: &OrderRecord, expected: Expected) -> Result<(), ServiceError> {
        match self.store.put(record, Some(expected)).await {
            Ok(()) => Ok(()),
            Err(WriteError::VersionConflict) => Err(ServiceError::Contended(record.key.clone())),
            Err(WriteError::Port(e)) => Err(e.into()),
        }
    }

    /// Queues the stage that follows the record's state, if one runs automatically.
    async fn queue_next(&self, record: &OrderRecord) -> Result<(), PortError> {
        if let Some(stage) = Stage::after(record.state) {
            let command = OrderCommand::Stage { order_key: record.key.clone(), stage, attempt: 0 };
            self.queue.send(command.to_message()).await?;
        }
        Ok(())
    }
}

/// Keeps the parcel's tracking with the dispatch, and names its number in the history line.
fn dispatched(record: &mut OrderRecord, tracking: Option<&Tracking>, detail: String) -> String {
    record.tracking = tracking.cloned();
    match tracking.and_then(|t| t.number.as_deref()) {
        Some(number) => format!("{detail}, tracking {number}"),
        None => detail,
    }
}
