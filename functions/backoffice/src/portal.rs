//! The portal's router: every page and action under `/console`, behind one gate that finds the
//! signed-in person before any page runs.
//!
//! Order of checks on every request but sign-in and its callback: an identity (the local
//! session, or what the REQUEST authorizer passed on), else sign-in for a page and 401 for a
//! post; then, for a post, the operator role (403 for viewers) and the form's CSRF token (403).

use std::sync::Arc;

use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use orderflow_shared::order_service::OrderService;
use orderflow_shared::ports::{DteProvider, FifoQueue, OrderStore, RecoveryStarter};

use crate::accounts::Accounts;
use crate::config::PortalConfig;
use crate::identity::{Identity, Role};
use crate::originals::Originals;
use crate::session::{self, LocalSessions};
use crate::{actions, apps_page, exceptions, order_page, overview, search, sign_in, stats};

/// Where the router answers; `PortalConfig::base` is what links use, which differs behind an
/// API Gateway stage (`/prod/console`) while the function still sees `/console`.
pub const PREFIX: &str = "/console";

/// The dead-letter queues an operator works on, each with the queue its messages go back to.
pub struct Queues<Q> {
    /// The orders pending queue; redriven to the service's orders queue.
    pub pending: Q,
    pub erp_dlq: Q,
    pub erp_sync: Q,
}

/// How people sign in.
pub enum Gate {
    /// `orderflow serve`: the accounts file and sessions kept in memory.
    Local { accounts: Accounts, sessions: LocalSessions },
    /// AWS: the Cognito hosted sign-in; the REQUEST authorizer has validated the cookie's token
    /// before a request gets here and passes the user name and groups in its context.
    Cognito(crate::cognito::HostedUi),
}

pub struct Portal<S, Q, D, R, O> {
    pub service: Arc<OrderService<S, Q, D, R>>,
    pub queues: Queues<Q>,
    /// Where the original documents are (the bucket the converter reads).
    pub originals: O,
    pub config: PortalConfig,
    pub gate: Gate,
    /// The integration apps, for the read-only apps page.
    pub apps: crate::apps_page::AppsReader,
}

/// The signed-in person of a request, with what their forms must carry.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub identity: Identity,
    pub csrf: String,
}

/// The bounds every page handler needs; one name so the handlers' signatures stay short.
pub trait Ports: Send + Sync + 'static {
    type Store: OrderStore + 'static;
    type Queue: FifoQueue + 'static;
    type Dte: DteProvider + 'static;
    type Recovery: RecoveryStarter + 'static;
    type Originals: Originals + 'static;
}

/// The portal as the handlers see it.
pub type App<P> = Arc<
    Portal<
        <P as Ports>::Store,
        <P as Ports>::Queue,
        <P as Ports>::Dte,
        <P as Ports>::Recovery,
        <P as Ports>::Originals,
    >,
>;

/// The concrete adapters of one deployment, as a type.
pub struct With<S, Q, D, R, O>(std::marker::PhantomData<Adapters<S, Q, D, R, O>>);

/// Names the adapter types without owning any (and stays `Send + Sync` whatever they are).
type Adapters<S, Q, D, R, O> = fn() -> (S, Q, D, R, O);

impl<S, Q, D, R, O> Ports for With<S, Q, D, R, O>
where
    S: OrderStore + 'static,
    Q: FifoQueue + 'static,
    D: DteProvider + 'static,
    R: RecoveryStarter + 'static,
    O: Originals + 'static,
{
    type Store = S;
    type Queue = Q;
    type Dte = D;
    type Recovery = R;
    type Originals = O;
}

/// The portal's routes, all under [`PREFIX`].
pub fn router<S, Q, D, R, O>(portal: Arc<Portal<S, Q, D, R, O>>) -> axum::Router
where
    S: OrderStore + 'static,
    Q: FifoQueue + 'static,
    D: DteProvider + 'static,
    R: RecoveryStarter + 'static,
    O: Originals + 'static,
{
    type P<S, Q, D, R, O> = With<S, Q, D, R, O>;
    let at = |path: &str| format!("{PREFIX}{path}");
    let guarded = axum::Router::new()
        .route(PREFIX, get(overview::page::<P<S, Q, D, R, O>>))
        .route(&at("/"), get(overview::page::<P<S, Q, D, R, O>>))
        .route(&at("/exceptions"), get(exceptions::page::<P<S, Q, D, R, O>>))
        .route(&at("/orders/{key}"), get(order_page::page::<P<S, Q, D, R, O>>))
        .route(&at("/orders/{key}/original"), get(order_page::original::<P<S, Q, D, R, O>>))
        .route(&at("/orders/{key}/retry"), post(actions::retry::<P<S, Q, D, R, O>>))
        .route(&at("/orders/{key}/cancel"), post(actions::cancel::<P<S, Q, D, R, O>>))
        .route(&at("/queues/{queue}/redrive"), post(actions::redrive::<P<S, Q, D, R, O>>))
        .route(&at("/bulk/retry"), post(actions::bulk_retry::<P<S, Q, D, R, O>>))
        .route(&at("/search"), get(search::page::<P<S, Q, D, R, O>>))
        .route(&at("/stats"), get(stats::page::<P<S, Q, D, R, O>>))
        .route(&at("/stats.csv"), get(stats::csv::<P<S, Q, D, R, O>>))
        .route(&at("/apps"), get(apps_page::page::<P<S, Q, D, R, O>>))
        .route(&at("/sign-out"), post(sign_in::sign_out::<P<S, Q, D, R, O>>))
        .route_layer(middleware::from_fn_with_state(portal.clone(), gate::<P<S, Q, D, R, O>>));
    axum::Router::new()
        .route(&at("/sign-in"), get(sign_in::form::<P<S, Q, D, R, O>>).post(sign_in::submit::<P<S, Q, D, R, O>>))
        .route(&at("/callback"), get(sign_in::callback::<P<S, Q, D, R, O>>))
        .merge(guarded)
        .with_state(portal)
}

/// Finds the visitor, or turns the request away; see the module comment for the order.
async fn gate<P: Ports>(AxumState(portal): AxumState<App<P>>, mut req: Request, next: Next) -> Response {
    let cookie = session_cookie(req.headers());
    let identity = match &portal.gate {
        Gate::Local { sessions, .. } => cookie.as_deref().and_then(|id| sessions.get(id)),
        Gate::Cognito(_) => crate::cognito::authorizer_identity(&req),
    };
    let (Some(identity), Some(cookie)) = (identity, cookie) else {
        return if req.method() == Method::GET {
            Redirect::to(&format!("{}/sign-in", portal.config.base)).into_response()
        } else {
            (StatusCode::UNAUTHORIZED, "Sign in first.").into_response()
        };
    };
    // Anybody may sign out; every other post changes something.
    let signing_out = req.uri().path().ends_with("/sign-out");
    if req.method() == Method::POST && !signing_out && identity.role != Role::Operator {
        return (StatusCode::FORBIDDEN, "Viewers cannot change anything.").into_response();
    }
    req.extensions_mut().insert(Visitor { identity, csrf: session::csrf_token(&cookie) });
    next.run(req).await
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::cookie_value(h, session::COOKIE))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}
