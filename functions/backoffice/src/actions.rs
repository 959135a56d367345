//! What operators do: retry the failed stage, cancel with a reason, redrive a pending message,
//! replay an ERP message, and retry every order a filter matches.
//!
//! Every order action goes through the order service: first a note on the history naming the
//! operator, the action and the reason, written only if the order is still in the state the
//! operator saw (else: refused, with the state it is in now) and only once per form (a second
//! submit finds the note and does nothing); then the stage itself, as the pipeline runs it.

use axum::Extension;
use axum::extract::{Form, Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use orderflow_shared::lifecycle::{OrderRecord, Stage, State};
use orderflow_shared::operator::{self, Selection};
use orderflow_shared::order::OrderKey;
use orderflow_shared::order_service::{Applied, ServiceError};
use orderflow_shared::ports::{Clock, OrderStore, SystemClock};

use crate::exceptions::OPEN;
use crate::layout::{csrf_refusal, render_status};
use crate::portal::{App, Ports, Visitor};

/// The most orders one bulk action touches; a larger filter is refused, not cut short.
pub const MAX_BULK: usize = 5000;

#[derive(serde::Deserialize)]
pub struct OrderAction {
    csrf: String,
    /// One per form shown: the same form posted twice acts once.
    action_id: String,
    /// The state the operator saw.
    seen: String,
    #[serde(default)]
    reason: String,
}

#[derive(serde::Deserialize)]
pub struct Redrive {
    csrf: String,
    message_id: String,
}

#[derive(serde::Deserialize)]
pub struct Bulk {
    csrf: String,
    action_id: String,
    state: String,
    /// `YYYY-MM-DD`, inclusive; on the day the order entered its state.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// What one action did to one order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    pub key: String,
    /// `done`, `already_done`, `skipped` (the state moved) or `failed`.
    pub result: &'static str,
    pub detail: String,
}

/// The stage a retry runs: the one that failed, or the broadcast after recovery gave up.
pub fn retry_stage(record: &OrderRecord) -> Option<Stage> {
    match record.state {
        State::BroadcastFailed => Some(Stage::BroadcastDte),
        State::Error => record.last_error.as_ref().and_then(|e| stage_reaching(e.stage)),
        _ => None,
    }
}

fn stage_reaching(state: State) -> Option<Stage> {
    Stage::ALL.into_iter().find(|s| s.target() == state)
}

pub async fn retry<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    Extension(me): Extension<Visitor>,
    Path(key): Path<String>,
    Form(form): Form<OrderAction>,
) -> Response {
    if let Some(refused) = csrf_refusal(&me, &form.csrf) {
        return refused;
    }
    let outcome = match target(&key, &form) {
        Ok((key, seen)) => retry_one::<P>(&portal, &me, &key, seen, &form.action_id, &form.reason).await,
        Err(refused) => refused,
    };
    answer::<P>(&portal, &me, "Retry", vec![outcome])
}

pub async fn cancel<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    Extension(me): Extension<Visitor>,
    Path(key): Path<String>,
    Form(form): Form<OrderAction>,
) -> Response {
    if let Some(refused) = csrf_refusal(&me, &form.csrf) {
        return refused;
    }
    let reason = form.reason.trim();
    let outcome = match target(&key, &form) {
        _ if reason.is_empty() || reason.chars().any(char::is_control) => {
            Outcome { key, result: "failed", detail: "a cancellation needs a reason (one line of text)".into() }
        }
        Ok((key, seen)) => {
            let detail = format!("cancel: {reason}");
            act::<P>(&portal, &me, &key, seen, Stage::Cancel, &detail, &form.action_id).await
        }
        Err(refused) => refused,
    };
    answer::<P>(&portal, &me, "Cancel", vec![outcome])
}

/// The order a form acts on and the state its page showed.
fn target(key: &str, form: &OrderAction) -> Result<(OrderKey, State), Outcome> {
    match (OrderKey::parse(key), State::parse(&form.seen)) {
        (Ok(key), Some(seen)) => Ok((key, seen)),
        _ => Err(Outcome { key: key.to_owned(), result: "failed", detail: "the form names no order or state".into() }),
    }
}

/// Moves one message of the pending queue (to the orders queue) or of the ERP dead-letter
/// queue (to erp-sync) back. Twice the same message: the second finds it gone.
pub async fn redrive<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    Extension(me): Extension<Visitor>,
    Path(queue): Path<String>,
    Form(form): Form<Redrive>,
) -> Response {
    if let Some(refused) = csrf_refusal(&me, &form.csrf) {
        return refused;
    }
    let queues = &portal.queues;
    let now = SystemClock.now_ms();
    let selection = Selection::Ids(vec![form.message_id.clone()]);
    let report = match queue.as_str() {
        "pending" => operator::redrive(&queues.pending, &portal.service.queue, &selection, now).await,
        "erp" => operator::redrive(&queues.erp_dlq, &queues.erp_sync, &selection, now).await,
        _ => return answer_status::<P>(&portal, &me, StatusCode::NOT_FOUND, "Redrive", Vec::new()),
    };
    let key = form.message_id;
    let outcome = match report {
        Ok(r) if !r.moved.is_empty() => Outcome { key, result: "done", detail: format!("moved back ({queue})") },
        Ok(r) if !r.not_found.is_empty() => {
            Outcome { key, result: "already_done", detail: "no longer waiting: already moved".into() }
        }
        Ok(r) => Outcome { key, result: "failed", detail: r.failed.into_iter().map(|(_, why)| why).collect() },
        Err(e) => Outcome { key, result: "failed", detail: e.to_string() },
    };
    tracing::info!(operator = %me.identity.name, queue, result = outcome.result, "redrive");
    answer::<P>(&portal, &me, "Redrive", vec![outcome])
}

/// Retries every order in `error` or `broadcast_failed` that entered it in the date range, all
/// of them, page after page, with a result per order.
pub async fn bulk_retry<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    Extension(me): Extension<Visitor>,
    Form(form): Form<Bulk>,
) -> Response {
    if let Some(refused) = csrf_refusal(&me, &form.csrf) {
        return refused;
    }
    let Some(state) = State::parse(&form.state).filter(|s| OPEN.contains(s)) else {
        let outcome =
            Outcome { key: form.state, result: "failed", detail: "bulk retry takes error or broadcast_failed".into() };
        return answer_status::<P>(&portal, &me, StatusCode::BAD_REQUEST, "Bulk retry", vec![outcome]);
    };
    let in_range = |at: &str| {
        let day = at.get(..10).unwrap_or("");
        (form.from.is_empty() || day >= form.from.as_str()) && (form.to.is_empty() || day <= form.to.as_str())
    };
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = match portal.service.store.list_by_state(state, 100, cursor.as_deref()).await {
            Ok(page) => page,
            Err(e) => {
                let outcome = Outcome { key: state.to_string(), result: "failed", detail: e.to_string() };
                return answer_status::<P>(&portal, &me, StatusCode::SERVICE_UNAVAILABLE, "Bulk retry", vec![outcome]);
            }
        };
        keys.extend(page.orders.into_iter().filter(|r| in_range(&r.state_at)).map(|r| r.key));
        if keys.len() > MAX_BULK {
            let detail = format!("more than {MAX_BULK} orders match; narrow the dates");
            let outcome = Outcome { key: state.to_string(), result: "failed", detail };
            return answer_status::<P>(&portal, &me, StatusCode::BAD_REQUEST, "Bulk retry", vec![outcome]);
        }
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut outcomes = Vec::with_capacity(keys.len());
    for key in &keys {
        // One action id per order, from the form's: a second submit finds every note.
        let action_id = format!("{}-{key}", form.action_id);
        outcomes.push(retry_one::<P>(&portal, &me, key, state, &action_id, "bulk retry").await);
    }
    answer::<P>(&portal, &me, "Bulk retry", outcomes)
}

async fn retry_one<P: Ports>(
    portal: &App<P>,
    me: &Visitor,
    key: &OrderKey,
    seen: State,
    action_id: &str,
    reason: &str,
) -> Outcome {
    let record = match portal.service.get(key).await {
        Ok(record) => record,
        Err(e) => return failed(key, &e),
    };
    // The stage comes from the order as it is. A moved order goes to the note all the same:
    // it answers a second submit of this form as done already, and any other as refused.
    let stage = match (record.state == seen).then(|| retry_stage(&record)).flatten() {
        Some(stage) => stage,
        None if record.state != seen => return act_on_moved::<P>(portal, me, key, seen, action_id).await,
        None => return Outcome { key: key.to_string(), result: "failed", detail: "nothing to retry".into() },
    };
    let reason = reason.trim();
    let detail = match reason.is_empty() || reason.chars().any(char::is_control) {
        true => format!("retry {}", stage.route()),
        false => format!("retry {}: {reason}", stage.route()),
    };
    act::<P>(portal, me, key, seen, stage, &detail, action_id).await
}

/// The answer to an action on an order that has left the state the operator saw.
async fn act_on_moved<P: Ports>(
    portal: &App<P>,
    me: &Visitor,
    key: &OrderKey,
    seen: State,
    action_id: &str,
) -> Outcome {
    let actor = me.identity.actor();
    match portal.service.note_operator_action(key, seen, &actor, "retry", action_id).await {
        Ok(Applied::Unchanged(record)) => already_done(key, &record),
        Err(ServiceError::StateMoved { now, .. }) => skipped(key, seen, now),
        Ok(applied) => skipped(key, seen, applied.record().state),
        Err(e) => failed(key, &e),
    }
}

fn already_done(key: &OrderKey, record: &OrderRecord) -> Outcome {
    let detail = format!("this action was already applied; the order is {}", record.state);
    Outcome { key: key.to_string(), result: "already_done", detail }
}

/// Notes the action, then runs the stage; see the module comment.
async fn act<P: Ports>(
    portal: &App<P>,
    me: &Visitor,
    key: &OrderKey,
    seen: State,
    stage: Stage,
    detail: &str,
    action_id: &str,
) -> Outcome {
    let service = &portal.service;
    let actor = me.identity.actor();
    match service.note_operator_action(key, seen, &actor, detail, action_id).await {
        Ok(Applied::Unchanged(record)) => return already_done(key, &record),
        Ok(_) => {}
        Err(ServiceError::StateMoved { now, .. }) => return skipped(key, seen, now),
        Err(e) => return failed(key, &e),
    }
    tracing::info!(operator = %me.identity.name, order_key = %key, stage = stage.route(), "operator action");
    match service.run_stage(key, stage, &actor, None).await {
        Ok(Applied::HandedOver(record)) => Outcome {
            key: key.to_string(),
            result: "failed",
            detail: format!("the stage failed again; the order is {} and recovery took over", record.state),
        },
        Ok(applied) => Outcome {
            key: key.to_string(),
            result: "done",
            detail: format!("the order is {} now", applied.record().state),
        },
        Err(e) => failed(key, &e),
    }
}

fn skipped(key: &OrderKey, seen: State, now: State) -> Outcome {
    Outcome { key: key.to_string(), result: "skipped", detail: format!("the order is {now} now, no longer {seen}") }
}

fn failed(key: &OrderKey, e: &ServiceError) -> Outcome {
    Outcome { key: key.to_string(), result: "failed", detail: e.to_string() }
}

fn answer<P: Ports>(portal: &App<P>, me: &Visitor, title: &str, outcomes: Vec<Outcome>) -> Response {
    // A refusal because the order moved is a conflict; anything else that failed alone is too.
    let status = match outcomes.as_slice() {
        [one] if one.result == "skipped" => StatusCode::CONFLICT,
        _ => StatusCode::OK,
    };
    answer_status::<P>(portal, me, status, title, outcomes)
}

fn answer_status<P: Ports>(
    portal: &App<P>,
    me: &Visitor,
    status: StatusCode,
    title: &str,
    outcomes: Vec<Outcome>,
) -> Response {
    let count = |r: &str| outcomes.iter().filter(|o| o.result == r).count();
    // Order keys link to their order; message ids and filters do not.
    let rows: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| serde_json::json!({"key": o.key, "result": o.result, "detail": o.detail, "link": OrderKey::parse(&o.key).is_ok()}))
        .collect();
    let page = crate::page! {
        "title": title,
        "outcomes": rows,
        "done": count("done"),
        "already_done": count("already_done"),
        "skipped": count("skipped"),
        "failed": count("failed"),
    };
    render_status(status, &portal.config, me, "outcome.html", "exceptions", page)
}
