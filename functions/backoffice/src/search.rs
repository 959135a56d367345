//! Search: an order key goes straight to its order; otherwise the orders of one state, or of
//! every state in the lifecycle's order (the default: an operator with an order number need
//! not know where it stands), newest first within a state, narrowed by order number, buyer and
//! the day they entered the state.
//!
//! Pagination follows the state index's cursor (`state_at#key` of the last order seen), so a
//! page never repeats or skips an order that stays put while others move; across states the
//! link's cursor also names the state it is in (`<state>~<index cursor>`). Filters are applied
//! to at most [`SCAN_PAGES`] index pages per result page; the next link goes on from there.

use axum::Extension;
use axum::extract::{Query, State as AxumState};
use axum::response::{IntoResponse, Redirect, Response};
use orderflow_shared::lifecycle::{OrderRecord, State};
use orderflow_shared::order::{OrderKey, Text};
use orderflow_shared::ports::{ListError, OrderStore};

use crate::layout::{self, render};
use crate::portal::{App, Ports, Visitor};

pub const PAGE: usize = 25;
/// Index pages read for one page of results at most.
pub const SCAN_PAGES: usize = 10;

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct Filter {
    #[serde(default)]
    key: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    buyer: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
}

impl Filter {
    fn matches(&self, record: &OrderRecord) -> bool {
        let day = record.state_at.get(..10).unwrap_or("");
        let contains = |text: &str, part: &str| part.is_empty() || text.to_lowercase().contains(&part.to_lowercase());
        contains(&record.order.order_number, self.number.trim())
            && contains(&record.order.buyer.name, self.buyer.trim())
            && (self.from.is_empty() || day >= self.from.as_str())
            && (self.to.is_empty() || day <= self.to.as_str())
    }
}

#[derive(serde::Serialize)]
struct Row {
    key: String,
    number: Text,
    buyer: Text,
    state: State,
    state_at: String,
    payable: String,
    currency: Text,
}

pub async fn page<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    Extension(me): Extension<Visitor>,
    Query(filter): Query<Filter>,
) -> Response {
    let base = &portal.config.base;
    let key = filter.key.trim();
    if !key.is_empty() {
        return match OrderKey::parse(key) {
            Ok(key) => Redirect::to(&format!("{base}/orders/{key}")).into_response(),
            Err(_) => results::<P>(&portal, &me, &filter, Vec::new(), None, Some("That is not an order key.")),
        };
    }
    let states: Vec<State> = match filter.state.as_str() {
        "" | ANY => State::ALL.to_vec(),
        one => match State::parse(one) {
            Some(state) => vec![state],
            None => return results::<P>(&portal, &me, &filter, Vec::new(), None, Some("Choose a state.")),
        },
    };
    let Some((mut at, mut cursor)) = resume(&states, &filter.cursor) else {
        return results::<P>(&portal, &me, &filter, Vec::new(), None, Some("That page link is not valid any more."));
    };
    let mut found = Vec::new();
    let mut done = false;
    for _ in 0..SCAN_PAGES {
        let page = match portal.service.store.list_by_state(states[at], PAGE, cursor.as_deref()).await {
            Ok(page) => page,
            Err(ListError::InvalidCursor(_)) => {
                return results::<P>(
                    &portal,
                    &me,
                    &filter,
                    Vec::new(),
                    None,
                    Some("That page link is not valid any more."),
                );
            }
            Err(ListError::Port(e)) => return layout::unavailable(&portal.config, &me, "The orders", &e),
        };
        found.extend(page.orders.iter().filter(|r| filter.matches(r)).map(|r| Row {
            key: r.key.to_string(),
            number: r.order.order_number.clone(),
            buyer: r.order.buyer.name.clone(),
            state: r.state,
            state_at: r.state_at.clone(),
            payable: r.order.totals.payable.to_string(),
            currency: r.order.currency.clone(),
        }));
        cursor = page.cursor;
        if cursor.is_none() {
            // This state is read to its end: the next one starts from its newest order.
            done = at + 1 == states.len();
            if done {
                break;
            }
            at += 1;
        }
        if found.len() >= PAGE {
            break;
        }
    }
    let next = (!done).then(|| format!("{}{CURSOR_SEPARATOR}{}", states[at], cursor.unwrap_or_default()));
    results::<P>(&portal, &me, &filter, found, next, None)
}

/// The `state` option that searches every state.
pub const ANY: &str = "any";
/// Between the state a next link resumes in and that state's index cursor.
const CURSOR_SEPARATOR: char = '~';

/// Where a page starts: the index of its state in `states` and the index cursor within it
/// (`None`: from the state's newest order); `None` for a cursor naming a state not searched.
fn resume(states: &[State], cursor: &str) -> Option<(usize, Option<String>)> {
    if cursor.is_empty() {
        return Some((0, None));
    }
    let (state, inner) = cursor.split_once(CURSOR_SEPARATOR)?;
    let at = states.iter().position(|s| Some(*s) == State::parse(state))?;
    Some((at, Some(inner.to_owned()).filter(|c| !c.is_empty())))
}

fn results<P: Ports>(
    portal: &App<P>,
    me: &Visitor,
    filter: &Filter,
    rows: Vec<Row>,
    next: Option<String>,
    problem: Option<&str>,
) -> Response {
    let next = next.map(|cursor| {
        let next = Filter { cursor, key: String::new(), ..filter.clone() };
        query_string(&next)
    });
    let page = crate::page! {
        "title": "Search",
        "filter": filter,
        "states": State::ALL,
        "any": ANY,
        "rows": rows,
        "next": next,
        "problem": problem,
    };
    render(&portal.config, me, "search.html", "search", page)
}

/// The query string of a filter, percent-encoded.
fn query_string(filter: &Filter) -> String {
    let fields = [
        ("number", &filter.number),
        ("buyer", &filter.buyer),
        ("state", &filter.state),
        ("from", &filter.from),
        ("to", &filter.to),
        ("cursor", &filter.cursor),
    ];
    fields
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}
