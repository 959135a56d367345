//! The orders table's stream in, one [`ShopSyncMessage`] per transition into an action state out.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use orderflow_shared::lifecycle::State;
use orderflow_shared::order::OrderKey;
use orderflow_shared::ports::{FifoQueue, StateChange};
use orderflow_shared::shop::config::ACTION_STATES;
use orderflow_shared::telemetry::Metrics;
use tracing::{Instrument, info_span, warn};

use crate::message::ShopSyncMessage;
use crate::worker::FUNCTION;

/// The state a change moved the order into, when it is one shop actions may follow (the
/// template's filter, again: a test event may hold anything).
pub fn entered(change: &StateChange) -> Option<State> {
    ACTION_STATES.into_iter().find(|state| change.enters(state.as_str()))
}

/// Queues a message for each record that entered an action state; a record whose send fails
/// is reported, and the stream delivers it again (the FIFO dedup id keeps it one message).
pub async fn forward<Q: FifoQueue>(queue: &Q, event: &Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    let mut metrics = Metrics::new(FUNCTION);
    for record in &event.records {
        let sequence = record.change.sequence_number.as_deref().unwrap_or_default();
        let span = info_span!("stream_record", sequence);
        let sent = forward_one(queue, &StateChange::from(record)).instrument(span).await;
        match sent {
            Ok(queued) => {
                metrics.count(if queued { "ShopActionsQueued" } else { "ShopActionsFiltered" }, 1);
            }
            Err(error) => {
                warn!(sequence, %error, "queueing the shop action failed; the stream delivers the record again");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence.to_owned());
                response.batch_item_failures.push(failure);
            }
        }
    }
    metrics.flush();
    response
}

/// The changes of the embedded store that the stream filter would let through, queued in
/// order. For `orderflow demo` and `serve`: the same rule and the same message as the Lambda.
pub async fn forward_changes<Q: FifoQueue, C>(queue: &Q, changes: &[C]) -> Result<usize, String>
where
    for<'c> StateChange: From<&'c C>,
{
    let mut queued = 0;
    for change in changes.iter().map(StateChange::from) {
        if forward_one(queue, &change).await.map_err(|e| e.to_string())? {
            queued += 1;
        }
    }
    Ok(queued)
}

async fn forward_one<Q: FifoQueue>(
    queue: &Q,
    change: &StateChange,
) -> Result<bool, orderflow_shared::error::PortError> {
    let Some(state) = entered(change) else {
        return Ok(false);
    };
    let Some(order_key) = change.key.as_deref().and_then(|k| OrderKey::parse(k).ok()) else {
        warn!("a change into {state} without a valid order key; nothing to act on");
        return Ok(false);
    };
    queue.send(ShopSyncMessage { order_key, state }.to_message()).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(old: Option<&str>, new: &str) -> StateChange {
        StateChange { key: Some("k".into()), old_state: old.map(Into::into), new_state: Some(new.into()) }
    }

    #[test]
    fn only_entries_into_the_action_states_pass() {
        for state in ACTION_STATES {
            assert_eq!(entered(&change(Some("broadcast_dte"), state.as_str())), Some(state));
            assert_eq!(entered(&change(Some(state.as_str()), state.as_str())), None, "a rewrite (a claim) is no entry");
        }
        for other in ["registered", "issuance_dte", "broadcast_dte", "error", "broadcast_failed"] {
            assert_eq!(entered(&change(Some("received"), other)), None, "{other}");
        }
    }
}
