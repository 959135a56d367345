//! Operations on stored orders, shared by every function that changes one: register, run a
//! stage, record a failure. Each is a read → decide → conditional write loop, so concurrent
//! callers never both win, and a lost race is re-decided on fresh state.
//!
//! A failed DTE broadcast is not retried here: the error is recorded and the order handed to
//! the recovery workflow ([`RecoveryStarter`]), whose retry task calls [`OrderService::retry_broadcast`].

use tracing::{info, instrument, warn};

use crate::command::OrderCommand;
use crate::error::{Classify, PortError, Retry};
use crate::lifecycle::{HistoryKind, IllegalTransition, OrderRecord, Stage, StageError, State, now_rfc3339};
use crate::order::{CanonicalOrder, OrderKey};
use crate::ports::{DteError, DteProvider, FifoQueue, OrderStore, RecoveryStarter, WriteError};

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
        for _ in 0..MAX_RACES {
            let now = now_rfc3339();
            let Some(mut stored) = self.store.get(&order.order_key).await? else {
                let record = OrderRecord::register(order.clone(), source, by, &now);
                match self.store.put(&record, None).await {
                    Ok(()) => {
                        info!("registered");
                        self.queue_next(&record).await?;
                        return Ok(Applied::Created(record));
                    }
                    Err(WriteError::VersionConflict) => continue,
                    Err(WriteError::Port(e)) => return Err(e.into()),
                }
            };
            let offered_hash = order.content_hash();
            if stored.content_hash == offered_hash {
                // A redelivery may follow a crash before the next stage was queued.
                self.queue_next(&stored).await?;
                return Ok(Applied::Unchanged(stored));
            }
            let expected = stored.version;
            let detail = format!("refused content {offered_hash} from {source}");
            stored.note(HistoryKind::Conflict, by, detail, &now);
            match self.store.put(&stored, Some(expected)).await {
                Ok(()) => {
                    warn!(%offered_hash, "conflicting content refused");
                    return Err(ServiceError::Conflict {
                        key: stored.key,
                        stored_hash: stored.content_hash,
                        offered_hash,
                    });
                }
                Err(WriteError::VersionConflict) => continue,
                Err(WriteError::Port(e)) => return Err(e.into()),
            }
        }
        Err(ServiceError::Contended(order.order_key))
    }

    /// Runs one stage: its side effect (DTE issue or broadcast), then the transition.
    /// Running a stage the order already passed is `Unchanged`, and re-queues what follows.
    #[instrument(skip(self), fields(order_key = %key))]
    pub async fn run_stage(&self, key: &OrderKey, stage: Stage, by: &str) -> Result<Applied, ServiceError> {
        self.advance(key, stage, by, OnFailure::Record).await
    }

    /// The recovery workflow's retry of a broadcast: the same stage code as the router's, but a
    /// DTE failure comes back as [`ServiceError::Dte`] with the order left as it was, for the
    /// workflow to record and classify.
    #[instrument(skip(self), fields(order_key = %key))]
    pub async fn retry_broadcast(&self, key: &OrderKey, by: &str) -> Result<Applied, ServiceError> {
        self.advance(key, Stage::BroadcastDte, by, OnFailure::Report).await
    }

    async fn advance(
        &self,
        key: &OrderKey,
        stage: Stage,
        by: &str,
        on_failure: OnFailure,
    ) -> Result<Applied, ServiceError> {
        let target = stage.target();
        for _ in 0..MAX_RACES {
            let mut record = self.get(key).await?;
            if record.state == target {
                self.queue_next(&record).await?;
                return Ok(Applied::Unchanged(record));
            }
            let expected = record.version;
            // Check legality before the side effect so an illegal call costs the provider nothing.
            record.check(target)?;
            let detail = match self.side_effect(&mut record, stage).await {
                Ok(detail) => detail,
                Err(cause) if on_failure == OnFailure::Report => return Err(ServiceError::Dte(cause)),
                Err(cause) if stage == Stage::BroadcastDte => {
                    return self.hand_over(record, expected, cause, by).await;
                }
                Err(cause) if cause.retry == Retry::Permanent => {
                    return self.record_stage_failure(record, expected, target, cause, by).await;
                }
                Err(cause) => return Err(ServiceError::Dte(cause)),
            };
            record.transition(target, by, detail, &now_rfc3339())?;
            match self.store.put(&record, Some(expected)).await {
                Ok(()) => {
                    info!(state = %target, "transition");
                    self.queue_next(&record).await?;
                    return Ok(Applied::Changed(record));
                }
                Err(WriteError::VersionConflict) => continue,
                Err(WriteError::Port(e)) => return Err(e.into()),
            }
        }
        Err(ServiceError::Contended(key.clone()))
    }

    /// Moves an order to `error`, keeping which stage failed and why (the error API's write).
    /// An order already in `error` keeps its state; the new error is appended to its history
    /// and replaces the last one. The same error again (a retried call) changes nothing.
    #[instrument(skip(self, error), fields(order_key = %key))]
    pub async fn record_error(&self, key: &OrderKey, error: StageError, by: &str) -> Result<Applied, ServiceError> {
        for _ in 0..MAX_RACES {
            let mut record = self.get(key).await?;
            let expected = record.version;
            if record.state == State::Error {
                if record.last_error.as_ref() == Some(&error) {
                    return Ok(Applied::Unchanged(record));
                }
                let detail =
                    format!("{} failed: {} ({}), attempt {}", error.stage, error.message, error.code, error.attempt);
                record.note(HistoryKind::Error, by, detail, &now_rfc3339());
                record.last_error = Some(error.clone());
            } else {
                record.fail(error.clone(), by, &now_rfc3339())?;
            }
            match self.store.put(&record, Some(expected)).await {
                Ok(()) => return Ok(Applied::Changed(record)),
                Err(WriteError::VersionConflict) => continue,
                Err(WriteError::Port(e)) => return Err(e.into()),
            }
        }
        Err(ServiceError::Contended(key.clone()))
    }

    /// Ends recovery: the order becomes `broadcast_failed`. Already there is `Unchanged`.
    #[instrument(skip(self, detail), fields(order_key = %key))]
    pub async fn give_up_broadcast(&self, key: &OrderKey, detail: &str, by: &str) -> Result<Applied, ServiceError> {
        for _ in 0..MAX_RACES {
            let mut record = self.get(key).await?;
            if record.state == State::BroadcastFailed {
                return Ok(Applied::Unchanged(record));
            }
            let expected = record.version;
            record.transition(State::BroadcastFailed, by, detail, &now_rfc3339())?;
            match self.store.put(&record, Some(expected)).await {
                Ok(()) => return Ok(Applied::Changed(record)),
                Err(WriteError::VersionConflict) => continue,
                Err(WriteError::Port(e)) => return Err(e.into()),
            }
        }
        Err(ServiceError::Contended(key.clone()))
    }

    /// Records a failed broadcast and starts the recovery workflow for it. The attempt counts
    /// on from an earlier broadcast error, so a redelivered command starts a new execution
    /// rather than colliding with the finished one.
    async fn hand_over(
        &self,
        mut record: OrderRecord,
        expected: u64,
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
        match self.store.put(&record, Some(expected)).await {
            Ok(()) => {}
            Err(WriteError::VersionConflict) => return Err(ServiceError::Contended(record.key)),
            Err(WriteError::Port(e)) => return Err(e.into()),
        }
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
        expected: u64,
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
        match self.store.put(&record, Some(expected)).await {
            Ok(()) => Err(ServiceError::StageFailed { record: Box::new(record), cause }),
            // Someone else moved the order meanwhile; let the caller retry on fresh state.
            Err(WriteError::VersionConflict) => Err(ServiceError::Contended(record.key)),
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
