//! `orderflow serve`: the Orders API and `POST /webhooks/{source}` on localhost over the
//! embedded pipeline.
//!
//! Like API Gateway, it refuses requests without a known `x-api-key` (403) before they reach
//! the router; `/webhooks/*` go to the webhook bridge, which authenticates by signature
//! instead (sources and secrets from the local config files). The routes that API Gateway
//! serves without a function are served here the same way: `POST /orders/queue` straight onto
//! the orders queue ([`OrdersQueueRoute`]) and `/legacy/{system}/{proxy+}` to the back-ends
//! given with `--legacy` ([`LegacyProxy`]). The queue reader and the ERP worker run in the
//! background, so a posted order moves through its stages by itself; with `--poll-every`, so
//! does the order poller.
//!
//! Like API Gateway, it refuses a request whose request line and headers together exceed
//! 10,240 bytes (`MAX_HEAD_BYTES`), in hyper's parser, before any route sees it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lambda_http::RequestExt;
use lambda_http::aws_lambda_events::query_map::QueryMap;
use subtle::ConstantTimeEq;

use crate::apps::APPS_FILE;
use crate::bridge::{Bridge, LocalConfig};
use crate::demo::RECOVERY_BACKOFF;
use crate::legacy_proxy::LegacyProxy;
use crate::orders_queue::OrdersQueueRoute;
use crate::pipeline::{Pipeline, Storage, Time};
use crate::polling;
use crate::recovery_runner;
use crate::shops::Shops;
use error_handler::backoff::Backoff;
use orderflow_shared::adapters::embedded::MemoryPollCursors;
use orderflow_shared::dte::{Failure, Operation, SimulatedDteProvider};
use orderflow_shared::ports::SystemClock;

/// API Gateway's own payload limit; the router applies the smaller Lambda limit itself.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// API Gateway's quota on the "total combined size of request line and header values" of a
/// REST API. hyper counts the request line and every header line with its CRLFs, up to the
/// blank line, and answers a larger head with 431 Request Header Fields Too Large, then closes
/// the connection. AWS's quota table gives the size but not the status; 431 is hyper's answer
/// and the one users report from API Gateway, not verified against a live API.
const MAX_HEAD_BYTES: usize = 10 * 1024;
const QUEUE_POLL: Duration = Duration::from_millis(20);
/// The poll sources' cursors, in the --state folder.
const POLL_CURSORS_FILE: &str = "poll-cursors.json";

/// `orderflow serve`'s options, as the command line gives them.
#[derive(clap::Args)]
pub struct Options {
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// A key clients must send as `x-api-key` (repeatable).
    #[arg(long = "api-key", env = "ORDERFLOW_API_KEYS", value_delimiter = ',')]
    pub api_keys: Vec<String>,
    /// Where the embedded bucket, the orders and the recovery executions are kept; a restart
    /// with the same folder picks up where the last run stopped.
    #[arg(long, default_value = "out/serve")]
    pub state: PathBuf,
    /// Push webhook orders and refunds to this connector of the connectors file
    /// (e.g. `business-central`, with `orderflow erp-doubles` running); without it they
    /// wait in the erp-sync queue.
    #[arg(long)]
    pub erp: Option<String>,
    /// Tell the connections' shops when their orders ship, are delivered, cancelled or
    /// refunded (shop-sync; with `orderflow erp-doubles` running the Shopify and WooCommerce
    /// doubles, or real shops in the connections). Without it, nothing is sent to any shop.
    #[arg(long)]
    pub shops: bool,
    /// Poll every connection with a poll trigger every SECONDS (the order poller, as
    /// EventBridge Scheduler runs it; with `orderflow erp-doubles` running the shops and the
    /// partner it polls). Cursors are kept in --state, so a restart goes on where it stood.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_every: Option<u64>,
    /// A legacy back-end served at /legacy/{system}/..., `system=base URL` (repeatable),
    /// as LegacyBackendUrls gives them to API Gateway in the stack.
    #[arg(long = "legacy", env = "ORDERFLOW_LEGACY", value_delimiter = ',')]
    pub legacy: Vec<String>,
    /// How long a legacy back-end may take to answer (LegacyTimeoutMs in the stack).
    #[arg(long, default_value_t = crate::legacy_proxy::DEFAULT_TIMEOUT_MS)]
    pub legacy_timeout_ms: u64,
    /// The simulated DTE provider refuses the first N broadcasts of every order
    /// (provider_unavailable), to try the recovery workflow.
    #[arg(long, default_value_t = 0)]
    pub dte_broadcast_failures: u32,
    /// The recovery workflow's first wait between broadcast retries, in seconds.
    #[arg(long, default_value_t = RECOVERY_BACKOFF.base_seconds)]
    pub recovery_backoff_seconds: u64,
    /// The back-office portal's accounts (`orderflow account add` writes them)
    /// [default: console-accounts.json in the --state folder].
    #[arg(long)]
    pub accounts: Option<PathBuf>,
}

struct App {
    pipeline: Pipeline,
    bridge: Bridge,
    shops: Option<Shops>,
    api_keys: Vec<String>,
    orders_queue: OrdersQueueRoute,
    legacy: LegacyProxy,
    /// Numbers the requests, as API Gateway's request ids name them in what they leave behind.
    requests: AtomicU64,
}

/// Serves with `config` (the located configuration files) until the process ends.
pub async fn run(options: Options, config: LocalConfig) -> Result<(), String> {
    let Options { port, api_keys, state, erp, legacy, shops, accounts, poll_every, .. } = options;
    if api_keys.is_empty() {
        return Err("give at least one API key: --api-key KEY or ORDERFLOW_API_KEYS=k1,k2".into());
    }
    let dte = SimulatedDteProvider::default().with_first_failures(
        Operation::Broadcast,
        Failure::Transient,
        options.dte_broadcast_failures,
    );
    let pipeline = Pipeline::open(&state, Time::Real, Storage::Journaled, dte)?;
    let backoff = Backoff { base_seconds: options.recovery_backoff_seconds, ..RECOVERY_BACKOFF };
    let tasks = Arc::new(pipeline.error_handler(state.join("ops-outbox"), backoff)?);
    // Kept in the state folder: `orderflow apps … --state` changes what this process runs.
    let apps = config.apps(Some(state.join(APPS_FILE)), &[])?;
    let connector = match erp.as_deref() {
        Some(name) => {
            let runtime = apps.runtime().await.map_err(|e| e.to_string())?;
            let erp_config =
                runtime.connectors.connectors.get(name).ok_or_else(|| runtime.missing("ERP connector", name))?;
            Some(config.build_connector(name, erp_config)?)
        }
        None => None,
    };
    let bridge = Bridge::new(&config, apps.clone(), pipeline.orders.clone(), connector, pipeline.time())?;
    let shops = match shops {
        true => Some(Shops::new(&config, &config.shops(&[])?, pipeline.store.clone(), pipeline.time())?),
        false => None,
    };
    let poller = match poll_every {
        Some(_) => {
            let cursors = MemoryPollCursors::kept_in(state.join(POLL_CURSORS_FILE)).map_err(|e| e.to_string())?;
            let queues = (bridge.erp_sync.clone(), pipeline.orders.clone());
            Some(polling::poller(&config, apps.clone(), cursors, queues, Arc::new(SystemClock))?)
        }
        None => None,
    };
    let legacy = LegacyProxy::new(&legacy, Duration::from_millis(options.legacy_timeout_ms))?;
    let mut systems: Vec<String> = legacy.systems().cloned().collect();
    systems.sort();
    let shops_line = match &shops {
        Some(_) => "the connections' shops (failures wait in shop-sync-dlq)",
        None => "none (--shops to tell them)",
    };
    let poll_line = match (&poller, poll_every) {
        (Some(_), Some(seconds)) => {
            let names = polling::poll_sources(&apps).await;
            format!("{} every {seconds} s (cursors in {})", names.join(", "), state.join(POLL_CURSORS_FILE).display())
        }
        _ => "none (--poll-every SECONDS to poll the connections with a poll trigger)".to_owned(),
    };
    let app = Arc::new(App {
        pipeline,
        bridge,
        shops,
        api_keys,
        orders_queue: OrdersQueueRoute::default(),
        legacy,
        requests: AtomicU64::new(0),
    });
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| format!("binding 127.0.0.1:{port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "orderflow serve: Orders API on http://{addr} (embedded adapters; orders, recovery and bucket in {})",
        state.display()
    );
    println!(
        "orderflow serve: webhooks on http://{addr}/webhooks/{{connection}} (apps in {}, from {}); ERP: {}",
        state.join(APPS_FILE).display(),
        config.connections_origin(),
        erp.as_deref().unwrap_or("none, orders wait in erp-sync")
    );
    println!("orderflow serve: POST http://{addr}/orders/queue; legacy systems at /legacy/{{system}}/...: {systems:?}");
    println!("orderflow serve: shop actions: {shops_line}");
    println!("orderflow serve: polling: {poll_line}");

    tokio::spawn(recovery_runner::run(app.pipeline.service.clone(), tasks));
    if let (Some(poller), Some(seconds)) = (poller, poll_every) {
        tokio::spawn(polling::every(poller, Duration::from_secs(seconds)));
    }
    let worker = app.clone();
    tokio::spawn(async move {
        // The last change of the orders table shop-sync's stream step has seen (a restart
        // reads the journal again: the FIFO dedup and the claims keep that a no-op).
        let mut seen = 0;
        loop {
            if let Err(e) = worker.pipeline.drain().await {
                eprintln!("orderflow serve: queue reader: {e}");
            }
            if let Err(e) = worker.bridge.drain_erp().await {
                eprintln!("orderflow serve: erp-sync worker: {e}");
            }
            if let Some(shops) = &worker.shops {
                let changes = worker.pipeline.store.changes_since(seen);
                match shops.forward(&changes).await {
                    Ok(_) => seen = changes.last().map_or(seen, |c| c.sequence),
                    Err(e) => eprintln!("orderflow serve: shop-sync stream: {e}"),
                }
                if let Err(e) = shops.drain().await {
                    eprintln!("orderflow serve: shop-sync worker: {e}");
                }
            }
            tokio::time::sleep(QUEUE_POLL).await;
        }
    });

    let accounts_path = accounts.unwrap_or_else(|| state.join(crate::accounts::DEFAULT_FILE));
    let portal = console(&app, &accounts_path, config.apps_store(Some(state.join(APPS_FILE)), &[])?)?;
    println!(
        "orderflow serve: back office on http://localhost:{}/console/ ({} accounts in {}; add one with `orderflow account add`)",
        addr.port(),
        portal_accounts(&portal),
        accounts_path.display()
    );
    // The portal signs people in itself; everything else keeps the API-key check.
    let router = backoffice::router(portal).merge(axum::Router::new().fallback(forward).with_state(app));
    match serve_http1(listener, router).await {}
}

type Console = backoffice::Portal<
    Arc<orderflow_shared::adapters::embedded::EmbeddedOrderStore>,
    crate::pipeline::Queue,
    Arc<SimulatedDteProvider>,
    orderflow_shared::adapters::embedded::EmbeddedRecovery,
    orderflow_shared::adapters::embedded::DirObjectStore,
>;

/// The back-office portal over the pipeline's store and queues, signing in from the accounts
/// file at `accounts`.
fn console(
    app: &App,
    accounts: &std::path::Path,
    apps: orderflow_shared::adapters::embedded::MemoryAppStore,
) -> Result<Arc<Console>, String> {
    Ok(Arc::new(backoffice::Portal {
        service: app.pipeline.service.clone(),
        queues: backoffice::Queues {
            pending: app.pipeline.pending.clone(),
            erp_dlq: app.bridge.erp_dlq.clone(),
            erp_sync: app.bridge.erp_sync.clone(),
        },
        originals: app.pipeline.bucket.clone(),
        config: backoffice::config::PortalConfig::from_lookup(|name| std::env::var(name).ok())?,
        gate: backoffice::Gate::Local {
            accounts: backoffice::accounts::Accounts::load(accounts)?,
            sessions: backoffice::session::LocalSessions::default(),
        },
        apps: backoffice::apps_page::reader(Arc::new(apps)),
    }))
}

fn portal_accounts(portal: &Console) -> usize {
    match &portal.gate {
        backoffice::Gate::Local { accounts, .. } => accounts.accounts.len(),
        backoffice::Gate::Cognito(_) => 0,
    }
}

/// Serves `router` over HTTP/1 as `axum::serve` would, with the head limit set on hyper's
/// server (`axum::serve` does not expose its settings), for as long as the process runs.
async fn serve_http1(listener: tokio::net::TcpListener, router: axum::Router) -> std::convert::Infallible {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.max_header_size(MAX_HEAD_BYTES);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // A connection that failed before it was accepted, or no file descriptors left:
            // say so and go on serving, after a pause so a lasting cause does not spin.
            Err(e) => {
                eprintln!("orderflow serve: accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        // A connection's error (the client went away, a head over the limit that was already
        // answered with 431) ends that connection only; there is nobody else to tell.
        tokio::spawn(async move { drop(connection.await) });
    }
}

/// Whether `presented` is one of the keys, compared in constant time (`subtle`) so the time
/// of an answer says nothing about how much of a key was right. Only the length may show.
fn key_matches(keys: &[String], presented: &str) -> bool {
    keys.iter().fold(false, |found, known| found | bool::from(known.as_bytes().ct_eq(presented.as_bytes())))
}

async fn forward(State(app): State<Arc<App>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let key = req.headers().get("x-api-key").and_then(|v| v.to_str().ok());
    let keyed = key.is_some_and(|k| key_matches(&app.api_keys, k));
    let is_webhook = path.starts_with("/webhooks/");
    if !keyed && !is_webhook {
        return (StatusCode::FORBIDDEN, axum::Json(serde_json::json!({"message": "Forbidden"}))).into_response();
    }
    let query = Query::<Vec<(String, String)>>::try_from_uri(req.uri()).map(|q| q.0).unwrap_or_default();
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in query {
        params.entry(k).or_default().push(v);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_REQUEST_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(serde_json::json!({"message": "Request Too Long"})))
            .into_response();
    };
    let raw_query = parts.uri.query().map(str::to_owned);
    let is_queue_route = parts.method == lambda_http::http::Method::POST && path == "/orders/queue";
    let mut lambda_req = lambda_http::Request::from_parts(parts, lambda_http::Body::from(bytes.to_vec()));
    lambda_req = lambda_req.with_raw_http_path(path.clone()).with_query_string_parameters(QueryMap::from(params));
    let resp = if is_webhook {
        app.bridge.handle(lambda_req).await
    } else if is_queue_route {
        let request_id = format!("local-{}", app.requests.fetch_add(1, Ordering::Relaxed) + 1);
        app.orders_queue.handle(&*app.pipeline.orders, &lambda_req, &request_id).await
    } else if path.starts_with("/legacy/") {
        app.legacy.handle(&path, raw_query.as_deref(), lambda_req).await
    } else {
        app.pipeline.api(lambda_req).await
    };
    let (parts, body) = resp.into_parts();
    Response::from_parts(parts, AxumBody::from(body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::key_matches;

    #[test]
    fn only_a_whole_known_key_matches() {
        let keys = vec!["k-one".to_owned(), "k-two".to_owned()];
        assert!(key_matches(&keys, "k-one") && key_matches(&keys, "k-two"));
        for wrong in ["", "k-on", "k-one ", "K-ONE", "k-three"] {
            assert!(!key_matches(&keys, wrong), "{wrong:?}");
        }
    }
}
