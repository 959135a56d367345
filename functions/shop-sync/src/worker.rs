//! The shop-sync worker: one SQS batch of [`ShopSyncMessage`]s in, at most one action on the
//! shop per order and state out.
//!
//! For each message: claim the state's slot on the order record ([`effect_claim`]), carry out
//! the action the shop's configuration names for that state, settle the slot with a history
//! line (what was sent and the shop's id for it, never a credential).
//!
//! - Nothing to do: the order came from a UBL document or the API (no shop in its origin), its
//!   shop is not configured, or the state triggers nothing there. Logged with the reason; no
//!   write.
//! - Done before (a duplicate message, a redelivery after a lost acknowledgement): no call.
//! - A status that a later transition has replaced (`completed` retried after the order was
//!   refunded) is settled as superseded, not sent: the shop must end in the order's status.
//! - Transient (5xx, 429, throttled, timeout): the claim is released and the record fails; SQS
//!   delivers it again after the visibility timeout, and after `maxReceiveCount` moves it to
//!   the DLQ. A `Retry-After` within [`MAX_WAIT`] is waited out here and the call repeated
//!   once; a longer one is left to the visibility timeout, which is longer still.
//! - Refused (another 4xx, GraphQL `userErrors`, our credentials refused even when read
//!   afresh): parked in the shop-sync DLQ with the shop's answer and class, noted on the
//!   order's history, and the record counts as done. `orderflow replay redrive` sends it back.
//!
//! Exactly once: the claim stops concurrent and repeated runs; the window it leaves (a crash
//! after the shop's answer, before the settle) is closed by the actions themselves: Shopify's
//! closed fulfillment orders are not fulfilled again, WooCommerce's note is looked for by its
//! idempotency key, the generic action sends an `Idempotency-Key`.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use orderflow_shared::batch::{Budget, process_batch};
use orderflow_shared::effect_claim::{self, Claimed, EffectError, Slot};
use orderflow_shared::error::{Classify, PortError};
use orderflow_shared::lifecycle::{EffectClaim, EffectSlot, HistoryKind, OrderRecord, State, now_rfc3339};
use orderflow_shared::parking::{Refusal, attributes, parking_message};
use orderflow_shared::ports::{FifoQueue, OrderStore, OutgoingMessage};
use orderflow_shared::shop::{
    ActionConfig, ActionDone, ActionRequest, ShopActions, ShopError, ShopOrderRef, idempotency_key,
};
use tracing::{info, instrument, warn};

use crate::message::ShopSyncMessage;

pub const FUNCTION: &str = "shop-sync";

/// The longest `Retry-After` waited out within an invocation.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// HTTP calls one action makes at most: Shopify reads then fulfils; WooCommerce sets the
/// status, reads the notes and adds one.
pub const SHOP_CALLS_PER_RECORD: u32 = 3;

/// One record's worst case: every shop call at its timeout twice (one repeat after a short
/// `Retry-After`, waited out), the wait, and the store and park calls at the SDK's timeout.
pub fn worst_case_per_record(shop_timeout: Duration, aws_operation_timeout: Duration) -> Duration {
    2 * SHOP_CALLS_PER_RECORD * shop_timeout + MAX_WAIT + 6 * aws_operation_timeout
}

pub struct ShopSync<S, A, Q> {
    pub store: S,
    pub shops: A,
    /// Where refused actions go, with the shop's answer.
    pub dlq: Q,
    pub claim_timeout: Duration,
}

/// What became of a record SQS may now delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Acted(ActionDone),
    /// Done before: no call made.
    AlreadyDone,
    /// A later transition's status replaced this one's.
    Superseded {
        by: State,
    },
    /// Nothing to do, and why.
    Skipped(String),
    Parked {
        status: Option<u16>,
        code: String,
    },
}

/// Why a record must come back.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the record has no body")]
    NoBody,
    #[error("the body is not a shop-sync message: {0}")]
    NotAMessage(#[source] serde_json::Error),
    #[error(transparent)]
    Claim(#[from] EffectError),
    #[error("the shop failed, may pass on retry: {0}")]
    Shop(ShopError),
    #[error("parking in the shop-sync DLQ after \"{failure}\" failed: {source}")]
    Park { failure: ShopError, source: PortError },
}

#[instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle<S: OrderStore, A: ShopActions, Q: FifoQueue>(
    deps: &ShopSync<S, A, Q>,
    event: SqsEvent,
    budget: Budget<'_>,
) -> SqsBatchResponse {
    let report = process_batch(&event.records, budget, |record| process(deps, record)).await;
    let done = |outcome: &Outcome| match outcome {
        Outcome::Acted(_) => "ShopActed",
        Outcome::AlreadyDone | Outcome::Superseded { .. } => "ShopActionReplayed",
        Outcome::Skipped(_) => "ShopActionSkipped",
        Outcome::Parked { .. } => "ShopParked",
    };
    report.counted(FUNCTION, done, |e| matches!(e, RecordError::NoBody | RecordError::NotAMessage(_)))
}

async fn process<S: OrderStore, A: ShopActions, Q: FifoQueue>(
    deps: &ShopSync<S, A, Q>,
    record: &SqsMessage,
) -> Result<Outcome, RecordError> {
    let raw = record.body.as_deref().ok_or(RecordError::NoBody)?;
    let message: ShopSyncMessage = serde_json::from_str(raw).map_err(RecordError::NotAMessage)?;
    match sync(deps, &message).await {
        Err(RecordError::Shop(failure)) if !failure.is_transient() => park(deps, &message, record, raw, failure).await,
        other => other,
    }
}

/// Where one state's shop action keeps its claim and its outcome on the record.
struct ShopSlot(State);

impl Slot for ShopSlot {
    fn settled(&self, record: &OrderRecord) -> bool {
        record.shop_sync.get(&self.0).is_some_and(|slot| slot.done_at.is_some())
    }
    fn claim<'r>(&self, record: &'r OrderRecord) -> Option<&'r EffectClaim> {
        record.shop_sync.get(&self.0).and_then(|slot| slot.claim.as_ref())
    }
    fn set_claim(&self, record: &mut OrderRecord, claim: Option<EffectClaim>) {
        record.shop_sync.entry(self.0).or_default().claim = claim;
    }
}

/// The shop and the action for one record, or why there is nothing to do.
fn plan<A: ShopActions>(shops: &A, record: &OrderRecord, state: State) -> Result<(ShopOrderRef, ActionConfig), String> {
    let shop = ShopOrderRef::from_origin(&record.source)
        .ok_or_else(|| format!("the order came from {}, not from a shop", record.source))?;
    let config = shops.shop(&shop.source).ok_or_else(|| format!("no shop named {} is configured", shop.source))?;
    let action = config.on.get(&state).ok_or_else(|| format!("shop {} takes no action on {state}", shop.source))?;
    Ok((shop, action.clone()))
}

/// Claims, acts and settles one order's action for one state. Both entry points end here.
#[instrument(skip_all, fields(order_key = %message.order_key, state = %message.state))]
pub async fn sync<S: OrderStore, A: ShopActions, Q>(
    deps: &ShopSync<S, A, Q>,
    message: &ShopSyncMessage,
) -> Result<Outcome, RecordError> {
    let slot = ShopSlot(message.state);
    let claimed = effect_claim::claim(&deps.store, &message.order_key, &slot, deps.claim_timeout, |record| {
        plan(&deps.shops, record, message.state)
    })
    .await?;
    let (record, (shop, action)) = match claimed {
        Claimed::Won { record, prepared } => (record, prepared),
        Claimed::Settled => return Ok(Outcome::AlreadyDone),
        Claimed::Missing => return Ok(Outcome::Skipped("the order is not in the table".into())),
        Claimed::Declined { why, .. } => {
            info!(reason = %why, "no shop action");
            return Ok(Outcome::Skipped(why));
        }
    };
    if let Some(by) = superseded(&deps.shops, &shop, &action, &record, message.state) {
        let detail = format!("{}: {} not sent; the order is {by} now", shop.source, message.state);
        settle(deps, &slot, record, detail).await?;
        return Ok(Outcome::Superseded { by });
    }
    let key = idempotency_key(&record, message.state);
    let request =
        ActionRequest { shop: &shop, state: message.state, action: &action, record: &record, idempotency_key: &key };
    let acted = match deps.shops.act(&request).await {
        Err(e) if e.is_transient() && e.retry_after.is_some_and(|wait| wait <= MAX_WAIT) => {
            let wait = e.retry_after.unwrap_or_default();
            info!(?wait, code = %e.code, "the shop asked to wait; waiting once");
            tokio::time::sleep(wait).await;
            deps.shops.act(&request).await
        }
        other => other,
    };
    match acted {
        Ok(done) => {
            let id = done.platform_id.as_deref().map(|id| format!(" → {id}")).unwrap_or_default();
            let detail = format!("{} on {}: {}{id}", shop.source, message.state, done.sent);
            settle(deps, &slot, record, detail).await?;
            info!(sent = %done.sent, platform_id = ?done.platform_id, "shop action done");
            Ok(Outcome::Acted(done))
        }
        Err(failure) => {
            effect_claim::release(&deps.store, &slot, record).await;
            Err(RecordError::Shop(failure))
        }
    }
}

/// A status action whose state the order has left for another state with an action of its
/// own on the same shop: that later action sets the status the shop must end in.
fn superseded<A: ShopActions>(
    shops: &A,
    shop: &ShopOrderRef,
    action: &ActionConfig,
    record: &OrderRecord,
    state: State,
) -> Option<State> {
    let is_status = matches!(action, ActionConfig::SetStatus { .. });
    let later = record.state != state && shops.shop(&shop.source).is_some_and(|c| c.on.contains_key(&record.state));
    (is_status && later).then_some(record.state)
}

async fn settle<S: OrderStore, A, Q>(
    deps: &ShopSync<S, A, Q>,
    slot: &ShopSlot,
    record: OrderRecord,
    detail: String,
) -> Result<(), EffectError> {
    let now = now_rfc3339();
    effect_claim::settle(&deps.store, slot, record, |r| {
        r.shop_sync.insert(slot.0, EffectSlot { claim: None, done_at: Some(now.clone()) });
        r.note(HistoryKind::ShopAction, FUNCTION, detail.clone(), &now);
    })
    .await
}

/// Parks a refused action with the shop's answer, and notes the refusal on the order.
async fn park<S: OrderStore, A, Q: FifoQueue>(
    deps: &ShopSync<S, A, Q>,
    message: &ShopSyncMessage,
    record: &SqsMessage,
    raw: &str,
    failure: ShopError,
) -> Result<Outcome, RecordError> {
    let parked = match deps.dlq.send(shop_parking_message(record, raw, &failure)).await {
        Ok(id) => id,
        Err(source) => return Err(RecordError::Park { failure, source }),
    };
    warn!(status = ?failure.status, code = %failure.code, dlq_id = %parked, "parked in the shop-sync DLQ: {failure}");
    note_refusal(&deps.store, message, &failure).await;
    Ok(Outcome::Parked { status: failure.status, code: failure.code })
}

/// The refusal on the order's history, so the order's page shows why its shop was not told.
/// Best effort: the parked message is the record an operator acts on.
async fn note_refusal<S: OrderStore>(store: &S, message: &ShopSyncMessage, failure: &ShopError) {
    let detail = format!("shop refused {}: {failure}; parked for replay", message.state);
    for _ in 0..effect_claim::WRITE_ATTEMPTS {
        let mut order = match store.get(&message.order_key).await {
            Ok(Some(order)) => order,
            Ok(None) => return,
            Err(e) => {
                warn!(error = %e, "reading the order to note the refusal failed");
                return;
            }
        };
        let expected = orderflow_shared::ports::Expected::of(&order);
        order.note(HistoryKind::ShopAction, FUNCTION, detail.clone(), &now_rfc3339());
        match store.put(&order, Some(expected)).await {
            Ok(()) => return,
            Err(orderflow_shared::ports::WriteError::VersionConflict) => continue,
            Err(e) => {
                warn!(error = %e, "noting the refusal on the order failed");
                return;
            }
        }
    }
}

/// The shared parking message, with the shop's answer attached for the operator.
fn shop_parking_message(record: &SqsMessage, raw: &str, failure: &ShopError) -> OutgoingMessage {
    let refusal =
        Refusal { status: failure.status, retry: failure.retry, code: &failure.code, message: &failure.message };
    // SQS refuses empty attribute values.
    let answer = failure.answer.clone().filter(|a| !a.is_empty()).unwrap_or_else(|| "none".to_owned());
    parking_message(record, raw, "shop-sync", refusal).with_attribute(attributes::SHOP_ANSWER, answer)
}
