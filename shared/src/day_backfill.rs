//! Counting the days before the day counters existed (`orderflow stats backfill`): every order
//! is read through the state index, its history counted for the days before a cutoff
//! ([`day_counts::from_history`]), and the caller writes those days' items whole. Days from the
//! cutoff on are left to the live writes, which add to the day they happen on, so a cutoff of
//! today races with no write; run again, it counts the same.

use std::collections::BTreeMap;

use crate::day_counts::{self, DayCounts};
use crate::error::PortError;
use crate::lifecycle::State;
use crate::ports::{ListError, OrderStore};

/// Orders read per index page.
const PAGE: usize = 100;

/// What the orders' histories add up to, per day before the cutoff.
#[derive(Debug, Default)]
pub struct Counted {
    pub orders: u64,
    /// Oldest day first.
    pub days: Vec<DayCounts>,
}

/// Reads every order of `store` and counts its history for the days before `before`
/// (`YYYY-MM-DD`); `progress` hears the orders read after each page.
pub async fn count_days<S: OrderStore>(
    store: &S,
    before: &str,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Counted, PortError> {
    let mut days: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut orders = 0;
    for state in State::ALL {
        let mut cursor = None;
        loop {
            let page = store.list_by_state(state, PAGE, cursor.as_deref()).await.map_err(|e| match e {
                ListError::Port(e) => e,
                ListError::InvalidCursor(c) => PortError::permanent("backfill", format!("the store's own cursor {c}")),
            })?;
            for record in &page.orders {
                for (day, counts) in day_counts::from_history(record, before) {
                    let total = days.entry(day).or_default();
                    for (name, n) in counts {
                        *total.entry(name).or_insert(0) += n;
                    }
                }
            }
            orders += page.orders.len() as u64;
            progress(orders);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(Counted { orders, days: days.into_iter().map(|(day, counts)| DayCounts { day, counts }).collect() })
}
