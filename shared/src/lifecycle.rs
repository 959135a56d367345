//! The order lifecycle: states, the one transition table, and the stored record with its history.
//!
//! Every state change goes through [`OrderRecord::transition`], which consults [`TRANSITIONS`];
//! stores then persist the record conditionally on the version that was read.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::order::{CanonicalOrder, OrderKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Received,
    Registered,
    IssuanceDte,
    BroadcastDte,
    Dispatched,
    Delivered,
    Refunded,
    Cancelled,
    Error,
    BroadcastFailed,
}

impl State {
    pub const ALL: [State; 10] = [
        State::Received,
        State::Registered,
        State::IssuanceDte,
        State::BroadcastDte,
        State::Dispatched,
        State::Delivered,
        State::Refunded,
        State::Cancelled,
        State::Error,
        State::BroadcastFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::Registered => "registered",
            State::IssuanceDte => "issuance_dte",
            State::BroadcastDte => "broadcast_dte",
            State::Dispatched => "dispatched",
            State::Delivered => "delivered",
            State::Refunded => "refunded",
            State::Cancelled => "cancelled",
            State::Error => "error",
            State::BroadcastFailed => "broadcast_failed",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// No transition leaves a final state.
    pub fn is_final(self) -> bool {
        TRANSITIONS.iter().all(|(from, _)| *from != self)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one table that decides which state may follow which.
///
/// `error` may move on only to the state whose stage failed (a retry that worked), to
/// `broadcast_failed` when recovery gives up, or to `cancelled`; [`OrderRecord::transition`]
/// enforces the "stage that failed" part.
pub const TRANSITIONS: &[(State, &[State])] = &[
    (State::Received, &[State::Registered, State::Error]),
    (State::Registered, &[State::IssuanceDte, State::Cancelled, State::Error]),
    (State::IssuanceDte, &[State::BroadcastDte, State::Cancelled, State::Refunded, State::Error]),
    (State::BroadcastDte, &[State::Dispatched, State::Cancelled, State::Refunded, State::Error]),
    (State::Dispatched, &[State::Delivered, State::Refunded, State::Error]),
    (State::Delivered, &[State::Refunded]),
    (
        State::Error,
        &[
            State::Registered,
            State::IssuanceDte,
            State::BroadcastDte,
            State::Dispatched,
            State::Delivered,
            State::BroadcastFailed,
            State::Cancelled,
        ],
    ),
    (State::BroadcastFailed, &[State::BroadcastDte, State::Cancelled]),
];

pub fn allowed(from: State, to: State) -> bool {
    TRANSITIONS.iter().any(|(f, tos)| *f == from && tos.contains(&to))
}

/// A stage of the pipeline, as named in routes (`/orders/{key}/issuance-dte`) and commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    IssuanceDte,
    BroadcastDte,
    Dispatch,
    Deliver,
    Cancel,
    Refund,
}

impl Stage {
    pub const ALL: [Stage; 6] =
        [Stage::IssuanceDte, Stage::BroadcastDte, Stage::Dispatch, Stage::Deliver, Stage::Cancel, Stage::Refund];

    /// The state an order reaches when this stage succeeds.
    pub fn target(self) -> State {
        match self {
            Stage::IssuanceDte => State::IssuanceDte,
            Stage::BroadcastDte => State::BroadcastDte,
            Stage::Dispatch => State::Dispatched,
            Stage::Deliver => State::Delivered,
            Stage::Cancel => State::Cancelled,
            Stage::Refund => State::Refunded,
        }
    }

    /// The last path segment of the stage's route.
    pub fn route(self) -> &'static str {
        match self {
            Stage::IssuanceDte => "issuance-dte",
            Stage::BroadcastDte => "broadcast-dte",
            Stage::Dispatch => "dispatch",
            Stage::Deliver => "deliver",
            Stage::Cancel => "cancel",
            Stage::Refund => "refund",
        }
    }

    pub fn from_route(segment: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.route() == segment)
    }

    /// The stage that runs automatically after this state is reached, if any. Fulfilment
    /// (dispatch, deliver) is driven by the warehouse, not queued.
    pub fn after(state: State) -> Option<Stage> {
        match state {
            State::Registered => Some(Stage::IssuanceDte),
            State::IssuanceDte => Some(Stage::BroadcastDte),
            _ => None,
        }
    }
}

/// What went wrong in a stage, as kept on the record while the order is in `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageError {
    pub stage: State,
    pub code: String,
    pub message: String,
    pub retryable: bool,
    pub attempt: u32,
}

/// One line of an order's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// RFC 3339 UTC with milliseconds.
    pub at: String,
    /// The route, function or operator that caused it.
    pub by: String,
    pub kind: HistoryKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<State>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<State>,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    Transition,
    /// Same key, different content: the newcomer was refused and kept in the pending queue.
    Conflict,
    Error,
    Notification,
    /// Something sent to the shop the order came from (see shop-sync): what, and the shop's id.
    ShopAction,
    /// An operator's action from the back-office portal: who, what, why, and the action's id.
    Operator,
}

/// The tax document's identifiers, filled in as the stages pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dte {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_id: Option<String>,
}

/// An order as stored: the canonical document plus its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRecord {
    pub key: OrderKey,
    pub state: State,
    /// Starts at 1; every write is conditional on it and increments it.
    pub version: u64,
    pub created_at: String,
    /// When the current state was entered; orders listing sorts on it.
    pub state_at: String,
    pub source: String,
    pub content_hash: String,
    /// Shared, not copied, between a record's copies: the document never changes once
    /// registered (its content hash is the record's), and the copies a write, a claim or the
    /// embedded table's change stream make would otherwise copy every line and party.
    pub order: Arc<CanonicalOrder>,
    #[serde(default)]
    pub dte: Dte,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<StageError>,
    /// Set once the customer email was claimed (see the email notifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<String>,
    /// An email send in flight; one older than the notifier's claim timeout may be taken over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_claim: Option<EffectClaim>,
    /// The parcel's tracking, given when the order was dispatched; shop sync passes it on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<Tracking>,
    /// Per state entered, the shop action for it: claimed, or done (see shop-sync).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shop_sync: BTreeMap<State, EffectSlot>,
    pub history: Vec<HistoryEntry>,
}

/// The parcel's tracking as the warehouse reports it on dispatch (`POST …/dispatch` with
/// `{"tracking": {…}}`). Every field is optional: carriers differ in what they give.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tracking {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The carrier, e.g. `UPS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
}

impl Tracking {
    /// Text fit for a history line: control characters would forge lines there.
    pub fn check(&self) -> Result<(), String> {
        for (field, value) in [("number", &self.number), ("url", &self.url), ("company", &self.company)] {
            match value {
                Some(v) if v.chars().any(char::is_control) => {
                    return Err(format!("tracking.{field} holds control characters"));
                }
                Some(v) if v.len() > 512 => return Err(format!("tracking.{field} is longer than 512 bytes")),
                _ => {}
            }
        }
        Ok(())
    }
}

/// One effect on another system that must happen once: in flight under a claim, or done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectSlot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<EffectClaim>,
    /// RFC 3339 UTC; set once the effect happened, or was found unnecessary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<String>,
}

/// Who is carrying out an effect (the customer email, a shop action), and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectClaim {
    /// RFC 3339 UTC with milliseconds.
    pub claimed_at: String,
    /// 1 for the first claim; a takeover after a timeout increments it.
    pub attempt: u32,
    /// Unique to the invocation that claimed: a claim write that landed but whose answer was
    /// lost is recognised as its own on the next read, not taken for another's. Empty on
    /// claims written before tokens existed.
    #[serde(default)]
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {key} is {from}; it cannot become {to}")]
pub struct IllegalTransition {
    pub key: OrderKey,
    pub from: State,
    pub to: State,
}

impl OrderRecord {
    /// A newly stored order: received (when it was queued) then registered (now).
    pub fn register(order: impl Into<Arc<CanonicalOrder>>, source: &str, by: &str, now: &str) -> Self {
        let order = order.into();
        let history = vec![
            entry(now, by, HistoryKind::Transition, None, Some(State::Received), source.to_owned()),
            entry(
                now,
                by,
                HistoryKind::Transition,
                Some(State::Received),
                Some(State::Registered),
                "stored and validated".into(),
            ),
        ];
        Self {
            key: order.order_key.clone(),
            state: State::Registered,
            version: 1,
            created_at: now.to_owned(),
            state_at: now.to_owned(),
            source: source.to_owned(),
            content_hash: order.content_hash(),
            order,
            dte: Dte::default(),
            last_error: None,
            notified_at: None,
            notification_claim: None,
            tracking: None,
            shop_sync: BTreeMap::new(),
            history,
        }
    }

    /// Whether `to` may follow the current state: the table, plus the rule that an order in
    /// `error` resumes only at the stage that failed.
    pub fn check(&self, to: State) -> Result<(), IllegalTransition> {
        let from_error_ok = self.state != State::Error
            || matches!(to, State::BroadcastFailed | State::Cancelled)
            || self.last_error.as_ref().is_some_and(|e| e.stage == to);
        if allowed(self.state, to) && from_error_ok {
            Ok(())
        } else {
            Err(IllegalTransition { key: self.key.clone(), from: self.state, to })
        }
    }

    /// Moves to `to` if [`check`](Self::check) allows it, appending history and bumping the version.
    pub fn transition(
        &mut self,
        to: State,
        by: &str,
        detail: impl Into<String>,
        now: &str,
    ) -> Result<(), IllegalTransition> {
        self.check(to)?;
        self.history.push(entry(now, by, HistoryKind::Transition, Some(self.state), Some(to), detail.into()));
        if to != State::Error {
            self.last_error = None;
        }
        self.state = to;
        self.state_at = now.to_owned();
        self.version += 1;
        Ok(())
    }

    /// Moves to `error`, recording which stage failed and why.
    pub fn fail(&mut self, error: StageError, by: &str, now: &str) -> Result<(), IllegalTransition> {
        let detail = format!("{} failed: {} ({})", error.stage, error.message, error.code);
        self.transition(State::Error, by, detail, now)?;
        self.last_error = Some(error);
        Ok(())
    }

    /// Appends an audit line that changes no state (a conflict, a notification outcome).
    pub fn note(&mut self, kind: HistoryKind, by: &str, detail: impl Into<String>, now: &str) {
        self.history.push(entry(now, by, kind, None, None, detail.into()));
        self.version += 1;
    }
}

fn entry(
    at: &str,
    by: &str,
    kind: HistoryKind,
    from: Option<State>,
    to: Option<State>,
    detail: String,
) -> HistoryEntry {
    HistoryEntry { at: at.to_owned(), by: by.to_owned(), kind, from, to, detail }
}

/// Now as RFC 3339 UTC with milliseconds: sortable as text, which the state index relies on.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    now.format(&format).expect("UTC time formats")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_but_the_final_ones_has_a_way_out() {
        let finals: Vec<_> = State::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals, [State::Refunded, State::Cancelled]);
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(State::parse("shipped"), None);
    }

    #[test]
    fn stages_round_trip_through_their_routes() {
        for s in Stage::ALL {
            assert_eq!(Stage::from_route(s.route()), Some(s));
        }
    }

    #[test]
    fn the_happy_path_is_allowed_and_skipping_a_stage_is_not() {
        assert!(allowed(State::Registered, State::IssuanceDte));
        assert!(allowed(State::IssuanceDte, State::BroadcastDte));
        assert!(!allowed(State::Registered, State::BroadcastDte));
        assert!(!allowed(State::Cancelled, State::Registered));
    }

    #[test]
    fn now_is_sortable_rfc3339_with_milliseconds() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.ends_with('Z'));
    }
}
