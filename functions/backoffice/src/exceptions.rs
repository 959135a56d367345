//! The exceptions inbox. Open: every order in `error` or `broadcast_failed`, and every message
//! waiting in the orders pending queue and the ERP dead-letter queue, each with its reason
//! class and its actions. Resolved: recently moved orders whose history shows an error or an
//! operator's action, read from the first page of each state they can move on to.

use axum::Extension;
use axum::extract::{Query, State as AxumState};
use axum::response::Response;
use orderflow_shared::lifecycle::{HistoryKind, OrderRecord, State};
use orderflow_shared::operator;
use orderflow_shared::order::Text;
use orderflow_shared::ports::{Clock, OrderStore, SystemClock};

use crate::classes;
use crate::layout::{self, render, waited};
use crate::portal::{App, Ports, Visitor};

/// The states of orders waiting for an operator.
pub const OPEN: [State; 2] = [State::Error, State::BroadcastFailed];
/// Where an exception goes when it is resolved.
const RESOLVED_INTO: [State; 5] =
    [State::IssuanceDte, State::BroadcastDte, State::Dispatched, State::Delivered, State::Cancelled];
/// Orders read per state for the inbox; more are reached through search and bulk actions.
pub const PAGE: usize = 100;

#[derive(serde::Deserialize)]
pub struct Tab {
    #[serde(default)]
    tab: Option<String>,
}

#[derive(serde::Serialize)]
struct Row {
    key: String,
    number: Text,
    buyer: Text,
    state: State,
    stage: Option<State>,
    class: &'static str,
    class_label: &'static str,
    reason: String,
    at: String,
    resolved_by: Option<String>,
}

impl Row {
    fn of(record: &OrderRecord) -> Self {
        let reason = match (&record.last_error, record.history.last()) {
            (Some(e), _) => format!("{}: {}", e.code, e.message),
            (None, Some(entry)) => entry.detail.clone(),
            _ => String::new(),
        };
        // `broadcast_failed` keeps no stage error: recovery's last line says what failed.
        let (stage, class) = match (&record.last_error, record.state) {
            (Some(e), _) => (Some(e.stage), classes::of_error(Some(e))),
            (None, State::BroadcastFailed) => (Some(State::BroadcastDte), classes::of_code(&reason, false)),
            (None, _) => (None, "unknown"),
        };
        let resolved_by = record.history.iter().rev().find(|e| e.kind == HistoryKind::Operator).map(|e| e.by.clone());
        Self {
            key: record.key.to_string(),
            number: record.order.order_number.clone(),
            buyer: record.order.buyer.name.clone(),
            state: record.state,
            stage,
            class,
            class_label: classes::label(class),
            reason,
            at: record.state_at.clone(),
            resolved_by,
        }
    }
}

#[derive(serde::Serialize)]
struct Message {
    id: String,
    group: String,
    class: String,
    class_label: &'static str,
    reason: String,
    waited: String,
    deliveries: u32,
}

impl Message {
    fn of(m: operator::Waiting) -> Self {
        let class_label = classes::label(&m.class);
        Self {
            id: m.message_id,
            group: m.group_id,
            class: m.class,
            class_label,
            reason: m.reason,
            waited: waited(i64::try_from(m.age_ms / 1000).unwrap_or(i64::MAX)),
            deliveries: m.receive_count,
        }
    }
}

pub async fn page<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    Extension(me): Extension<Visitor>,
    Query(tab): Query<Tab>,
) -> Response {
    let store = &portal.service.store;
    if tab.tab.as_deref() == Some("resolved") {
        let mut rows = Vec::new();
        for state in RESOLVED_INTO {
            match store.list_by_state(state, PAGE, None).await {
                Ok(page) => rows.extend(page.orders.iter().filter(|r| was_exception(r)).map(Row::of)),
                Err(e) => return layout::unavailable(&portal.config, &me, "The resolved exceptions", &e),
            }
        }
        rows.sort_by(|a, b| b.at.cmp(&a.at));
        let page = crate::page! { "title": "Exceptions: resolved", "tab": "resolved", "resolved": rows };
        return render(&portal.config, &me, "exceptions.html", "exceptions", page);
    }
    let mut orders = Vec::new();
    for state in OPEN {
        match store.list_by_state(state, PAGE, None).await {
            Ok(page) => orders.extend(page.orders.iter().map(Row::of)),
            Err(e) => return layout::unavailable(&portal.config, &me, "The orders in error", &e),
        }
    }
    orders.sort_by(|a, b| a.at.cmp(&b.at));
    let now = SystemClock.now_ms();
    let pending = match operator::list(&portal.queues.pending, now).await {
        Ok(waiting) => waiting.into_iter().map(Message::of).collect::<Vec<_>>(),
        Err(e) => return layout::unavailable(&portal.config, &me, "The orders pending queue", &e),
    };
    let erp = match operator::list(&portal.queues.erp_dlq, now).await {
        Ok(waiting) => waiting.into_iter().map(Message::of).collect::<Vec<_>>(),
        Err(e) => return layout::unavailable(&portal.config, &me, "The ERP dead-letter queue", &e),
    };
    let page = crate::page! {
        "title": "Exceptions",
        "tab": "open",
        "orders": orders,
        "pending": pending,
        "erp": erp,
        "open_states": OPEN,
    };
    render(&portal.config, &me, "exceptions.html", "exceptions", page)
}

/// Whether an order went through an exception (an error, a failed broadcast) or an operator
/// acted on it.
fn was_exception(record: &OrderRecord) -> bool {
    record
        .history
        .iter()
        .any(|e| e.kind == HistoryKind::Operator || matches!(e.to, Some(State::Error | State::BroadcastFailed)))
}
