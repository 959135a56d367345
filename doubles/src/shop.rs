//! What the two shop doubles ([`crate::FakeShopify`], [`crate::FakeWoo`]) share: an order to
//! seed in shop-neutral terms, the faults a test can script, the request log, and the running
//! server with its clock.

use std::collections::VecDeque;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use orderflow_shared::adapters::embedded::ManualClock;
use rust_decimal::Decimal;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::task::JoinHandle;

use crate::server::{App, json_response, serve};

/// An order as a test seeds it into a shop double; each double turns it into its own shape
/// (a Shopify `Order` with one open fulfillment order, a WooCommerce order with a status).
#[derive(Debug, Clone)]
pub struct SeedOrder {
    pub(crate) id: u64,
    pub(crate) number: u64,
    pub(crate) created_ms: u64,
    pub(crate) updated_ms: u64,
    pub(crate) currency: String,
    pub(crate) customer: SeedCustomer,
    pub(crate) lines: Vec<SeedLine>,
}

#[derive(Debug, Clone)]
pub(crate) struct SeedCustomer {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) email: String,
    /// The buyer's company, for the B2B partner (shops keep it in the billing address).
    pub(crate) company: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct SeedLine {
    pub(crate) sku: String,
    pub(crate) name: String,
    pub(crate) quantity: u32,
    pub(crate) unit_price: Decimal,
}

impl SeedLine {
    pub(crate) fn total(&self) -> Decimal {
        self.unit_price * Decimal::from(self.quantity)
    }
}

impl SeedOrder {
    /// Order `id` (also its number until [`Self::number`]), created and last updated at
    /// `updated_at` (RFC 3339), in CLP, for a customer with no name.
    ///
    /// # Panics
    /// When `updated_at` is not RFC 3339: a seed is test data.
    pub fn new(id: u64, updated_at: &str) -> Self {
        let at = rfc3339_ms(updated_at).expect("updated_at in RFC 3339");
        Self {
            id,
            number: id,
            created_ms: at,
            updated_ms: at,
            currency: "CLP".into(),
            customer: SeedCustomer {
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                company: None,
            },
            lines: Vec::new(),
        }
    }

    /// The number the shop and the customer see (Shopify's `name` is `#<number>`).
    pub fn number(mut self, number: u64) -> Self {
        self.number = number;
        self
    }

    /// # Panics
    /// When `created_at` is not RFC 3339.
    pub fn created_at(mut self, created_at: &str) -> Self {
        self.created_ms = rfc3339_ms(created_at).expect("created_at in RFC 3339");
        self
    }

    pub fn currency(mut self, currency: &str) -> Self {
        currency.clone_into(&mut self.currency);
        self
    }

    pub fn customer(mut self, first_name: &str, last_name: &str, email: &str) -> Self {
        let company = self.customer.company.take();
        self.customer =
            SeedCustomer { first_name: first_name.into(), last_name: last_name.into(), email: email.into(), company };
        self
    }

    /// The buyer's company name (a purchasing organisation, as B2B order APIs carry it).
    pub fn company(mut self, company: &str) -> Self {
        self.customer.company = Some(company.into());
        self
    }

    /// A line of `quantity` × `unit_price` (a decimal string; its scale is kept).
    ///
    /// # Panics
    /// When `unit_price` is not a decimal.
    pub fn line(mut self, sku: &str, name: &str, quantity: u32, unit_price: &str) -> Self {
        let unit_price = unit_price.parse().expect("unit_price is a decimal");
        self.lines.push(SeedLine { sku: sku.into(), name: name.into(), quantity, unit_price });
        self
    }

    pub(crate) fn total(&self) -> Decimal {
        // The sum keeps the largest scale of its terms; an order without lines is "0".
        self.lines.iter().map(SeedLine::total).sum()
    }
}

/// What a shop double answers the next request that passed authentication, instead of
/// carrying it out; queued with `script` and taken one per request, first in first out.
#[derive(Debug, Clone)]
pub enum ShopFault {
    /// Carried out as usual: lets a script reach the second request of a sequence.
    Pass,
    /// This status and JSON body; nothing is done.
    Reply(u16, Value),
    /// 429 with `Retry-After: <seconds>` and the platform's body; nothing is done.
    TooManyRequests { retry_after_secs: u64 },
    /// Nothing done and no answer: the client's timeout fires.
    Hang,
    /// The request is carried out and its answer never sent: the client's timeout fires
    /// after the change landed, and a retry meets the changed state.
    HangAfterWork,
}

/// One request as a shop double handled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopLogged {
    pub method: String,
    /// Without the query string.
    pub path: String,
    /// For Shopify, the root fields of the GraphQL operation (`orders`, `fulfillmentCreate`),
    /// comma-separated; `None` for WooCommerce and for a request refused before parsing.
    pub operation: Option<String>,
    /// `None` when no answer was sent ([`ShopFault::Hang`], [`ShopFault::HangAfterWork`]).
    pub status: Option<u16>,
}

/// The script and the log of one double.
#[derive(Default)]
pub(crate) struct Desk {
    script: VecDeque<ShopFault>,
    log: Vec<ShopLogged>,
}

impl Desk {
    pub(crate) fn log(&mut self, method: &str, path: &str, operation: Option<String>, status: Option<u16>) {
        self.log.push(ShopLogged { method: method.into(), path: path.into(), operation, status });
    }
}

/// A shop double's state: its records, and the desk every double keeps.
pub(crate) trait ShopState: Default + Send + 'static {
    fn desk(&mut self) -> &mut Desk;
}

/// The request as the log records it.
pub(crate) struct Call<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) operation: Option<String>,
}

/// Answers an authenticated request: the next scripted fault if there is one, else `work`'s
/// answer; logs what was done. `too_many` is the platform's 429 body.
pub(crate) async fn answer<S: ShopState>(
    app: &App<S>,
    call: Call<'_>,
    too_many: fn() -> Value,
    work: impl FnOnce(&mut S) -> Response,
) -> Response {
    // `None`: no answer at all. Decided under the lock, which no await may hold.
    let (response, withheld) = {
        let mut state = app.lock();
        let fault = state.desk().script.pop_front();
        let (response, withheld) = match fault {
            None | Some(ShopFault::Pass) => (Some(work(&mut state)), false),
            Some(ShopFault::HangAfterWork) => (Some(work(&mut state)), true),
            Some(ShopFault::Hang) => (None, true),
            Some(ShopFault::Reply(status, body)) => {
                (Some(json_response(StatusCode::from_u16(status).expect("a valid status"), body)), false)
            }
            Some(ShopFault::TooManyRequests { retry_after_secs }) => {
                let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, too_many());
                let value = HeaderValue::from_str(&retry_after_secs.to_string()).expect("a header value");
                response.headers_mut().insert(header::RETRY_AFTER, value);
                (Some(response), false)
            }
        };
        let status = response.as_ref().filter(|_| !withheld).map(|r| r.status().as_u16());
        state.desk().log(call.method, call.path, call.operation, status);
        (response, withheld)
    };
    match response {
        Some(response) if !withheld => response,
        _ => std::future::pending().await,
    }
}

/// A shop double's server and state; the server stops when this is dropped.
#[allow(private_bounds)] // `ShopState` is how the doubles reach their desk, not an API.
pub struct RunningShop<S: ShopState> {
    pub(crate) url: String,
    pub(crate) app: App<S>,
    server: JoinHandle<()>,
}

#[allow(private_bounds)]
impl<S: ShopState> RunningShop<S> {
    pub(crate) async fn start(router: Router<App<S>>, port: u16, clock: ManualClock) -> std::io::Result<Self> {
        let app = App::new(clock);
        let (url, server) = serve(router.with_state(app.clone()), port).await?;
        Ok(Self { url, app, server })
    }

    /// The double's root URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the next authenticated request gets instead of being carried out.
    pub fn script(&self, fault: ShopFault) {
        self.app.lock().desk().script.push_back(fault);
    }

    /// Every request handled so far, in arrival order.
    pub fn log(&self) -> Vec<ShopLogged> {
        self.app.lock().desk().log.clone()
    }
}

impl<S: ShopState> Drop for RunningShop<S> {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Milliseconds since the epoch of an RFC 3339 date-time.
pub(crate) fn rfc3339_ms(text: &str) -> Option<u64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The UTC date-time of `ms`, to the second, as `2026-03-01T10:00:00` (`zone`: with `Z`).
pub(crate) fn utc_text(ms: u64, zone: bool) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("a date-time in range");
    let text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    if zone { text + "Z" } else { text }
}
