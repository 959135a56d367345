//! Shopify's rate limit on the GraphQL Admin API: each request is priced in points, and a
//! leaky bucket per app and store holds the points it may spend. A request whose requested
//! cost exceeds what the bucket holds is answered 200 with a `THROTTLED` error and not run;
//! otherwise the requested cost is taken, and the difference to the actual cost (what the
//! answer really held) is given back. Every answer reports `extensions.cost` with the
//! `throttleStatus`; the bucket refills at the restore rate on the double's clock.
//!
//! Prices follow Shopify's documented rules, simplified: an object costs 1, a scalar or enum
//! 0, a connection 2 plus its page size times what each node costs, a mutation 10; a query
//! priced over 1,000 points is refused with `MAX_COST_EXCEEDED`, as Shopify's single-query
//! limit is. Shopify's own prices per field can differ; the double's are consistent, so
//! tests can count on them.

use orderflow_shared::ports::Clock;
use serde_json::{Value, json};

use super::graphql::{Field, GraphqlError, Kind, Operation};

/// The Standard plan's documented restore rate, in points per second.
pub const SHOPIFY_RESTORE_RATE: f64 = 100.0;
/// The bucket: 20 seconds of restore, the ratio of Shopify's long-documented Standard figures
/// (1,000 points at 50 per second); the current documentation gives only the rate.
pub const SHOPIFY_BUCKET_SIZE: f64 = 2_000.0;
/// Shopify's ceiling on the requested cost of a single query.
const MAX_QUERY_COST: u64 = 1_000;
const MUTATION_COST: u64 = 10;

/// The points an app may spend on one store, refilled on the clock.
#[derive(Debug)]
pub(crate) struct Bucket {
    maximum: f64,
    available: f64,
    restore_rate: f64,
    /// When `available` was last brought up to date; `None` before the first request.
    at_ms: Option<u64>,
}

impl Default for Bucket {
    fn default() -> Self {
        Self {
            maximum: SHOPIFY_BUCKET_SIZE,
            available: SHOPIFY_BUCKET_SIZE,
            restore_rate: SHOPIFY_RESTORE_RATE,
            at_ms: None,
        }
    }
}

impl Bucket {
    /// A store on another plan: the bucket holds `maximum`, restored at `restore_rate`; full.
    pub(crate) fn new(maximum: f64, restore_rate: f64) -> Self {
        Self { maximum, available: maximum, restore_rate, at_ms: None }
    }

    pub(crate) fn empty(&mut self, clock: &dyn Clock) {
        self.refill(clock);
        self.available = 0.0;
    }

    fn refill(&mut self, clock: &dyn Clock) {
        let now = clock.now_ms();
        if let Some(at) = self.at_ms {
            #[allow(clippy::cast_precision_loss)] // milliseconds between requests: far below 2^52
            let elapsed = now.saturating_sub(at) as f64 / 1_000.0;
            self.available = (self.available + elapsed * self.restore_rate).min(self.maximum);
        }
        self.at_ms = Some(now);
    }

    /// Takes `requested` points if the bucket holds them.
    pub(crate) fn take(&mut self, requested: u64, clock: &dyn Clock) -> bool {
        self.refill(clock);
        let requested = points(requested);
        if requested > self.available {
            return false;
        }
        self.available -= requested;
        true
    }

    /// Gives back what was taken beyond the actual cost.
    pub(crate) fn refund(&mut self, requested: u64, actual: u64) {
        self.available = (self.available + points(requested.saturating_sub(actual))).min(self.maximum);
    }

    pub(crate) fn status(&self) -> Value {
        json!({"maximumAvailable": self.maximum, "currentlyAvailable": self.available, "restoreRate": self.restore_rate})
    }
}

#[allow(clippy::cast_precision_loss)] // query costs are at most a few thousand points
fn points(cost: u64) -> f64 {
    cost as f64
}

/// `extensions.cost` of an answer.
pub(crate) fn extension(requested: u64, actual: Option<u64>, bucket: &Bucket) -> Value {
    json!({"cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": bucket.status()}})
}

/// The answer to a request the bucket cannot pay for: 200, as Shopify answers it.
pub(crate) fn throttled(requested: u64, bucket: &Bucket) -> Value {
    json!({
        "errors": [{
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }],
        "extensions": extension(requested, None, bucket),
    })
}

/// What the operation asks for at most.
pub(crate) fn requested(operation: &Operation) -> u64 {
    match operation.kind {
        Kind::Mutation => MUTATION_COST * u64::try_from(operation.fields.len()).expect("a few fields"),
        Kind::Query => fields_cost(&operation.fields),
    }
}

/// Shopify's refusal of a query priced over the single-query ceiling.
pub(crate) fn over_limit(requested: u64) -> Option<GraphqlError> {
    (requested > MAX_QUERY_COST).then(|| {
        GraphqlError::coded(
            format!("Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST})."),
            "MAX_COST_EXCEEDED",
        )
    })
}

/// What the answer `data` really held, priced like [`requested`] with each connection's page
/// size replaced by the number of nodes it returned.
pub(crate) fn actual(operation: &Operation, data: &Value) -> u64 {
    match operation.kind {
        Kind::Mutation => MUTATION_COST * u64::try_from(operation.fields.len()).expect("a few fields"),
        Kind::Query => operation.fields.iter().map(|f| actual_field(f, data.get(f.key()))).sum(),
    }
}

fn page_size(field: &Field) -> Option<u64> {
    field.arguments.get("first").and_then(Value::as_u64)
}

fn fields_cost(fields: &[Field]) -> u64 {
    fields.iter().map(field_cost).sum()
}

fn field_cost(field: &Field) -> u64 {
    if field.selection.is_empty() {
        return 0;
    }
    match page_size(field) {
        Some(size) => 2 + size * node_cost(&field.selection),
        None => 1 + fields_cost(&field.selection),
    }
}

/// What one node of a connection costs, through `edges { node }` or `nodes`.
fn node_cost(selection: &[Field]) -> u64 {
    selection
        .iter()
        .map(|f| match f.name.as_str() {
            "nodes" => 1 + fields_cost(&f.selection),
            "edges" => f.selection.iter().filter(|g| g.name == "node").map(|g| 1 + fields_cost(&g.selection)).sum(),
            _ => 0,
        })
        .sum()
}

fn actual_field(field: &Field, value: Option<&Value>) -> u64 {
    if field.selection.is_empty() {
        return 0;
    }
    match value {
        Some(Value::Array(items)) => items.iter().map(|item| actual_object(field, item)).sum(),
        Some(object @ Value::Object(_)) if page_size(field).is_some() => 2 + actual_nodes(&field.selection, object),
        Some(object @ Value::Object(_)) => actual_object(field, object),
        _ => 0,
    }
}

fn actual_object(field: &Field, object: &Value) -> u64 {
    1 + field.selection.iter().map(|f| actual_field(f, object.get(f.key()))).sum::<u64>()
}

/// The nodes a connection returned, each priced by what was selected on it.
fn actual_nodes(selection: &[Field], connection: &Value) -> u64 {
    let list = |field: &Field| connection.get(field.key()).and_then(Value::as_array).cloned().unwrap_or_default();
    selection
        .iter()
        .map(|f| match f.name.as_str() {
            "nodes" => list(f).iter().map(|node| actual_object(f, node)).sum(),
            "edges" => list(f)
                .iter()
                .flat_map(|edge| f.selection.iter().filter(|g| g.name == "node").map(move |g| (g, edge)))
                .map(|(g, edge)| edge.get(g.key()).map_or(0, |node| actual_object(g, node)))
                .sum(),
            _ => 0,
        })
        .sum()
}
