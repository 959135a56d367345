//! The `orderflow` binary as a user runs it: `demo`, and `serve` with webhooks pushed to the
//! local ERP test servers of `orderflow erp-doubles`; both from folders other than the
//! repository, on the configuration built in or the one of `--config-dir`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use orderflow_shared::test_dir::TestDir;
use serde_json::Value;
use webhook_bridge::sign;

const BIN: &str = env!("CARGO_BIN_EXE_orderflow");
/// A hard limit on waiting for the background pipeline, so a hang fails instead of blocking.
const PIPELINE_DEADLINE: Duration = Duration::from_secs(30);

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// A path of one test's own that the command under test makes (a file, a state folder), inside
/// a [`TestDir`] that takes it, whatever it became, when the test ends, however it ends.
struct Scratch {
    path: PathBuf,
    _dir: TestDir,
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.path.as_os_str()
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = TestDir::new(name);
    Scratch { path: dir.join(name), _dir: dir }
}

/// A child process killed when the test ends, however it ends, with every line it printed
/// after the ones [`start`] returned.
struct Running(Child, Arc<Mutex<Vec<String>>>);

impl Running {
    fn printed_since_start(&self) -> Vec<String> {
        self.1.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `orderflow <args>` and returns it with the lines it printed up to and including
/// `lines` lines that contain `http://`.
fn start(args: &[&str], lines: usize) -> (Running, Vec<String>) {
    let mut child = Command::new(BIN).args(args).stdout(Stdio::piped()).spawn().expect("start orderflow");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while seen.iter().filter(|l: &&String| l.contains("http://")).count() < lines {
        seen.push(out.next().expect("orderflow printed its address").unwrap());
    }
    // Keep reading in the background so a full pipe never blocks the server.
    let printed = Arc::new(Mutex::new(Vec::new()));
    let later = printed.clone();
    std::thread::spawn(move || out.map_while(Result::ok).for_each(|line| later.lock().unwrap().push(line)));
    (Running(child, printed), seen)
}

fn address(line: &str) -> String {
    let start = line.find("http://").unwrap();
    line[start..].split_whitespace().next().unwrap().to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn local_secret(name: &str) -> String {
    let secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("config/local-secrets.json")).unwrap()).unwrap();
    secrets[name].as_str().unwrap().to_owned()
}

#[test]
fn the_demo_shows_each_webhook_outcome_the_erp_records_and_a_polled_order_coming_in_once() {
    let out = scratch("demo");
    let run = Command::new(BIN).args(["demo", "--out"]).arg(&out).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    for expected in [
        "valid order.created    202 queued",
        "tampered body          401 bad_signature",
        "replayed delivery      200 duplicate",
        "order.refunded         202 queued",
        "2 messages pushed, 0 retried, 0 parked",
        "sales order  S-ORD101001 externalDocumentNumber=SO-2026-0042-",
        "credit memo  S-CR104001",
        "4b. EventBridge Scheduler -> order-poller -> WooCommerce",
        "first run   2 listed, 1 queued, 1 left out by the filter, 0 already taken (caught_up)",
        "second run  2 listed, 0 queued, 1 left out by the filter, 1 already taken (caught_up)",
        "origin poll:woocommerce/order/1201",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    let polled = stdout.lines().find(|l| l.trim_start().starts_with("1201-")).unwrap_or_default();
    assert!(polled.contains(" broadcast_dte "), "the polled order goes through the lifecycle: {polled:?}");
    let refunded = stdout.lines().find(|l| l.trim_start().starts_with("SO-2026-0042-")).unwrap_or_default();
    assert!(refunded.contains(" refunded "), "the webhook order ends refunded: {refunded:?}");
    // The Shopify order shipped with tracking, was delivered, and the shop holds one fulfilment.
    let fulfilments: Vec<&str> = stdout.lines().filter(|l| l.contains("Shopify fulfilment ")).collect();
    assert_eq!(fulfilments.len(), 1, "{stdout}");
    assert!(fulfilments[0].ends_with("tracking 1Z999AA10123456784"), "{stdout}");
    assert!(stdout.contains("0 parked in shop-sync-dlq.fifo"), "{stdout}");
    // For people: no Rust Debug values, and the table's columns aligned for every state.
    for debug in ["Ok(", "Err(", "Some(", "None", "RecipientRejected: ", ": Succeeded", ": Failed"] {
        assert!(!stdout.contains(debug), "{debug:?} in the demo's output:\n{stdout}");
    }
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("7. Orders table"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(table.len() > 2, "the orders table has rows:\n{stdout}");
    assert!(table.iter().any(|row| row.contains(" broadcast_failed ")), "the longest state is in the table:\n{stdout}");
    let version_end = |row: &str| row.find("version").map(|at| at + "version".len());
    let header_end = version_end(table[0]).expect("a version column");
    for row in &table[1..] {
        // The version: the first number after the key and state columns, right-aligned.
        let start = row.char_indices().find(|&(at, c)| at > 40 && c.is_ascii_digit()).map(|(at, _)| at);
        let end = start.map(|at| at + row[at..].find(|c: char| !c.is_ascii_digit()).unwrap_or(row.len() - at));
        assert_eq!(end, Some(header_end), "the version column is aligned in {row:?}");
    }
}

/// A Standard Webhooks delivery to `base`, signed over `signed` with `secret`, carrying `sent`.
async fn webhook(
    client: &reqwest::Client,
    base: &str,
    secret: &str,
    id: &str,
    signed: &[u8],
    sent: &[u8],
) -> (u16, Value) {
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let signature = sign::standard_webhooks(secret, id, timestamp, signed);
    let response = client
        .post(format!("{base}/webhooks/standard"))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(sent.to_vec())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

struct Served {
    _erp: Running,
    _serve: Running,
    base: String,
    erp_base: String,
    client: reqwest::Client,
    /// After the processes, so they are stopped before their files go.
    _files: [Scratch; 2],
}

/// The ERP doubles on free ports, and `serve` pushing to their Business Central, with `extra`
/// arguments.
fn serve_with_erp(extra: &[&str]) -> Served {
    let ports = [free_port(), free_port(), free_port(), free_port(), free_port()].map(|p| p.to_string());
    let bc_port = &ports[0];
    let (erp, erp_lines) = start(
        &[
            "erp-doubles",
            "--bc-port",
            bc_port,
            "--sap-port",
            &ports[1],
            "--shopify-port",
            &ports[2],
            "--woo-port",
            &ports[3],
            "--partner-port",
            &ports[4],
        ],
        4,
    );
    let connections = scratch("connections.json");
    let text = std::fs::read_to_string(repo("config/connections.local.json")).unwrap();
    std::fs::write(&connections, text.replace("127.0.0.1:18080", &format!("127.0.0.1:{bc_port}"))).unwrap();
    let state = scratch("serve");
    let (serve, lines) = start(
        &[
            "serve",
            "--port",
            &free_port().to_string(),
            "--api-key",
            "test-key",
            "--state",
            state.to_str().unwrap(),
            "--erp",
            "business-central",
            "--connections",
            connections.to_str().unwrap(),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .collect::<Vec<_>>(),
        2,
    );
    let erp_base = address(&erp_lines[0]);
    Served {
        _erp: erp,
        _serve: serve,
        base: address(&lines[0]),
        erp_base,
        client: orderflow_shared::http_client::builder().build().unwrap(),
        _files: [state, connections],
    }
}

impl Served {
    async fn webhook(&self, id: &str, signed: &[u8], sent: &[u8]) -> (u16, Value) {
        webhook(&self.client, &self.base, &local_secret("standard"), id, signed, sent).await
    }

    /// The Business Central double's sales orders with this `externalDocumentNumber`.
    async fn erp_orders(&self, reference: &str) -> Vec<Value> {
        let origin = self.erp_base.split("/api/").next().unwrap();
        // Neither value needs form encoding.
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope=local",
            orderflow_doubles::BC_CLIENT_ID,
            orderflow_doubles::BC_CLIENT_SECRET
        );
        let token: Value = self
            .client
            .post(format!("{origin}/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // Order keys are letters, digits and dashes: only the spaces need encoding.
        let found: Value = self
            .client
            .get(format!("{}/salesOrders?$filter=externalDocumentNumber%20eq%20'{reference}'", self.erp_base))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        found["value"].as_array().cloned().unwrap_or_else(|| panic!("the ERP answered {found} to {token}"))
    }

    /// Any request, with or without a key; the answer's status and JSON body (`Null` if none).
    async fn send(&self, method: &str, path: &str, key: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base)).body(body);
        request = request.header("content-type", "application/json");
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn serve_takes_signed_webhooks_without_a_key_and_everything_else_only_with_one() {
    let served = serve_with_erp(&[]);
    let body = std::fs::read(repo("events/webhooks/standard-order-created.json")).unwrap();
    let mut tampered = body.clone();
    tampered[body.len() / 2] ^= 1;

    assert_eq!(served.webhook("msg_serve_1", &body, &tampered).await.0, 401);
    assert_eq!(served.webhook("msg_serve_1", &body, &body).await.0, 202);
    let (status, reply) = served.webhook("msg_serve_1", &body, &body).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("duplicate")));

    assert_eq!(served.get("/orders", None).await.0, 403, "the Orders API needs a key");
    assert_eq!(served.get("/orders", Some("wrong")).await.0, 403);

    // The order reaches the lifecycle through the orders queue, in the background.
    let started = Instant::now();
    let order = loop {
        let (status, list) = served.get("/orders?state=broadcast_dte", Some("test-key")).await;
        assert_eq!(status, 200, "{list}");
        let found = list["orders"].as_array().and_then(|o| o.first()).cloned();
        if let Some(order) = found {
            break order;
        }
        assert!(started.elapsed() < PIPELINE_DEADLINE, "the webhook order never reached broadcast_dte: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let key = order["key"].as_str().unwrap();
    assert!(key.starts_with("SO-2026-0042-"), "{order}");

    // And the ERP worker pushed it once, as a client of the ERP would see it.
    let started = Instant::now();
    loop {
        let records = served.erp_orders(key).await;
        if !records.is_empty() {
            assert_eq!(records.len(), 1, "{records:?}");
            break;
        }
        assert!(started.elapsed() < PIPELINE_DEADLINE, "the webhook order never reached the ERP");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Security review: every route but the webhooks refuses a missing, wrong or partial key
/// before anything reads the body; webhooks answer without a key (and refuse what is not
/// signed); and the request size limits hold.
#[tokio::test]
async fn serve_refuses_every_route_without_its_key_and_bounds_request_sizes() {
    let served = serve_with_erp(&[]);
    let routes = [
        ("GET", "/orders?state=registered"),
        ("POST", "/orders"),
        ("GET", "/orders/OC-1-0123456789abcdef"),
        ("POST", "/orders/OC-1-0123456789abcdef/dispatch"),
        ("GET", "/stats"),
        ("POST", "/errors"),
        ("DELETE", "/orders"),
        ("GET", "/"),
        ("GET", "/webhooks"),
        ("POST", "/orders/queue"),
        ("GET", "/legacy/gift-card/cards/1"),
        ("DELETE", "/legacy/unknown/x"),
    ];
    for (method, path) in routes {
        for key in [None, Some(""), Some("wrong"), Some("test-ke"), Some("test-keyy"), Some("TEST-KEY")] {
            let (status, body) = served.send(method, path, key, b"{}".to_vec()).await;
            assert_eq!((status, &body), (403, &serde_json::json!({"message": "Forbidden"})), "{method} {path} {key:?}");
        }
    }
    // Webhooks need no key, only a signature.
    let (status, body) = served.send("POST", "/webhooks/standard", None, b"{}".to_vec()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("missing_header")), "{body}");

    let over_router = vec![b' '; 6 * 1024 * 1024 + 1];
    let (status, body) = served.send("POST", "/orders", Some("test-key"), over_router).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("body_too_large")), "the Lambda payload limit");
    let over_gateway = vec![b' '; 10 * 1024 * 1024 + 1];
    assert_eq!(served.send("POST", "/orders", Some("test-key"), over_gateway).await.0, 413, "the API Gateway limit");
    let over_source = vec![b' '; 256 * 1024 + 1];
    let (status, body) = served.send("POST", "/webhooks/standard", None, over_source).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("body_too_large")), "the source's limit");
}

/// The sample order as the Orders API takes it, under another order number (a new key).
fn sample_order(number: &str) -> Value {
    let event: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("events/state-router-post-order.json")).unwrap()).unwrap();
    let mut order: orderflow_shared::order::CanonicalOrder =
        serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    order.renumber(number);
    serde_json::to_value(order).unwrap()
}

impl Served {
    async fn queue(&self, idempotency_key: Option<&str>, content_type: &str, body: &[u8]) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/orders/queue", self.base))
            .header("x-api-key", "test-key")
            .header("content-type", content_type)
            .body(body.to_vec());
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }
}

/// `POST /orders/queue` answers as API Gateway does in the stack (validator, then SQS), and
/// what it queued is registered by the queue reader in the background.
#[tokio::test]
async fn serve_queues_orders_like_the_service_proxy() {
    let served = serve_with_erp(&[]);
    let order = sample_order("QUEUED-0001");
    let body = serde_json::to_vec_pretty(&order).unwrap();

    let (status, answer) = served.queue(None, "application/json", &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("missing_parameter")), "{answer}");
    let (status, answer) = served.queue(Some("k-1"), "text/plain", &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (415, Some("unsupported_media_type")), "{answer}");
    let mut malformed = order.clone();
    malformed["totals"]["payable"] = serde_json::json!(12.5);
    let (status, answer) =
        served.queue(Some("k-1"), "application/json", &serde_json::to_vec(&malformed).unwrap()).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("invalid_body")), "{answer}");
    let (status, answer) = served.queue(Some("a key with spaces"), "application/json", &body).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (502, Some("queue_unavailable")), "SQS refuses the id");

    let (status, first) = served.queue(Some("client-key-1"), "application/json; charset=utf-8", &body).await;
    assert_eq!((status, first["status"].as_str()), (202, Some("queued")), "{first}");
    let (status, again) = served.queue(Some("client-key-1"), "application/json", &body).await;
    assert_eq!((status, &again["message_id"]), (202, &first["message_id"]), "one message for one key");

    let key = order["order_key"].as_str().unwrap();
    let started = Instant::now();
    let record = loop {
        let (status, record) = served.get(&format!("/orders/{key}"), Some("test-key")).await;
        if status == 200 {
            break record;
        }
        assert_eq!(status, 404, "{record}");
        assert!(started.elapsed() < PIPELINE_DEADLINE, "the queued order was never registered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(record["order"], order, "registered as sent");
    assert!(record["source"].as_str().unwrap().starts_with("api-gateway:POST /orders/queue local-"), "{record}");
}

/// A legacy back-end on a free port: echoes what it got, answers `/slow` late.
async fn legacy_backend() -> String {
    use axum::extract::Request;
    use axum::response::IntoResponse;
    let app = axum::Router::new().fallback(|req: Request| async move {
        if req.uri().path() == "/slow" {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let echo = serde_json::json!({
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": parts.uri.query(),
            "header": parts.headers.get("x-client").map(|v| v.to_str().unwrap()),
            "body": String::from_utf8_lossy(&body),
        });
        (axum::http::StatusCode::CREATED, [("x-backend", "gift-card")], axum::Json(echo)).into_response()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn serve_proxies_legacy_systems_with_the_key_and_the_timeout() {
    let backend = legacy_backend().await;
    let closed = format!("http://127.0.0.1:{}", free_port());
    let legacy = format!("gift-card={backend},paperless={closed}");
    let served = serve_with_erp(&["--legacy", &legacy, "--legacy-timeout-ms", "500"]);

    let response = served
        .client
        .put(format!("{}/legacy/gift-card/cards/42?amount=10.50&currency=CLP", served.base))
        .header("x-api-key", "test-key")
        .header("x-client", "pos-7")
        .body("saldo: 10.50 ñ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201, "the back-end's status");
    assert_eq!(response.headers()["x-backend"], "gift-card", "and its headers");
    let echo: Value = response.json().await.unwrap();
    assert_eq!(
        echo,
        serde_json::json!({"method": "PUT", "path": "/cards/42", "query": "amount=10.50&currency=CLP",
                           "header": "pos-7", "body": "saldo: 10.50 ñ"})
    );

    let (status, _) = served.get("/legacy/gift-card/cards/42", None).await;
    assert_eq!(status, 403, "keyed like every route");
    let (status, answer) = served.get("/legacy/gift-card/slow", Some("test-key")).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (504, Some("upstream_timeout")), "{answer}");
    let (status, answer) = served.get("/legacy/paperless/docs", Some("test-key")).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (502, Some("upstream_unavailable")), "{answer}");
    let (status, answer) = served.get("/legacy/sales-support/x", Some("test-key")).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("not_found")), "{answer}");
}

/// `orderflow <args>` run to its end in `dir`: whether it succeeded, its stdout, its stderr.
fn run_in(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let run = Command::new(BIN).current_dir(dir).args(args).output().unwrap();
    (run.status.success(), String::from_utf8_lossy(&run.stdout).into(), String::from_utf8_lossy(&run.stderr).into())
}

/// A copy of the repository's local configuration at `dir`, with `edit` applied to `file`.
fn config_copy(dir: &Path, file: &str, edit: impl Fn(&str) -> String) {
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    std::fs::create_dir_all(dir.join("apps")).unwrap();
    let apps = std::fs::read_dir(repo("config/apps"))
        .unwrap()
        .map(|e| format!("apps/{}", e.unwrap().file_name().to_string_lossy()));
    let names =
        ["connections.local.json", "local-secrets.json", "mappings/business-central.json", "mappings/sap-b1.json"];
    for name in names.into_iter().map(str::to_owned).chain(apps) {
        let name = name.as_str();
        let text = std::fs::read_to_string(repo(&format!("config/{name}"))).unwrap();
        let text = if name == file { edit(&text) } else { text };
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// The key of the demo's webhook order, from the sales order line the demo prints.
fn webhook_order_key(stdout: &str) -> String {
    let line =
        stdout.lines().find(|l| l.contains("sales order ")).unwrap_or_else(|| panic!("no sales order in:\n{stdout}"));
    let key = line.split("externalDocumentNumber=").nth(1).unwrap().split_whitespace().next().unwrap();
    assert!(key.starts_with("SO-2026-0042-"), "{line}");
    key.to_owned()
}

#[test]
fn the_demo_runs_from_an_empty_folder_on_the_files_built_into_it() {
    let dir = TestDir::new("demo-anywhere");
    let (ok, stdout, stderr) = run_in(&dir, &["demo"]);
    assert!(ok, "{stdout}\n{stderr}");
    for expected in [
        "orderflow demo: 17 sample documents",
        "samples built in; configuration built in",
        "valid order.created    202 queued",
        "2 messages pushed, 0 retried, 0 parked",
        "6. A Shopify order ships",
        "tracking 1Z999AA10123456784",
        "7. Orders table",
        // The UBL samples', the webhook orders', the Shopify order's and the polled order's.
        "33 transitions in all",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    assert!(dir.join("out/demo/outbox").is_dir(), "the demo writes under the folder it runs in");
}

/// The webhook order's key is derived from the seller its source names: a source with another
/// seller id gives another key, so the key shows which connections file was read.
#[test]
fn the_demo_reads_the_config_dir_given_or_else_config_in_the_working_directory() {
    let dir = TestDir::new("demo-config-dir");
    let (ok, stdout, stderr) = run_in(&dir, &["demo"]);
    assert!(ok, "{stdout}\n{stderr}");
    let built_in = webhook_order_key(&stdout);

    config_copy(&dir.join("changed"), "connections.local.json", |text| {
        assert!(text.contains("\"76123456-7\""), "the shipped seller id");
        text.replace("\"76123456-7\"", "\"76999999-9\"")
    });
    let (ok, stdout, stderr) = run_in(&dir, &["demo", "--config-dir", "changed"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("configuration from changed"), "{stdout}");
    let changed = webhook_order_key(&stdout);
    assert_ne!(changed, built_in, "the changed seller id was read");

    std::fs::rename(dir.join("changed"), dir.join("config")).unwrap();
    let (ok, stdout, stderr) = run_in(&dir, &["demo"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("configuration from config"), "{stdout}");
    assert_eq!(webhook_order_key(&stdout), changed, "config/ of the working directory comes before the built-in files");
}

#[test]
fn a_config_dir_that_does_not_exist_is_an_error_naming_it() {
    let dir = TestDir::new("no-config-dir");
    for command in [&["demo"][..], &["serve", "--api-key", "k", "--port", "0"]] {
        let args: Vec<&str> = command.iter().copied().chain(["--config-dir", "no-such-dir"]).collect();
        let (ok, stdout, stderr) = run_in(&dir, &args);
        assert!(!ok, "{args:?} succeeded:\n{stdout}");
        assert_eq!(stderr.trim(), "orderflow: --config-dir no-such-dir: no such directory", "{args:?}");
        assert_eq!(stdout, "", "{args:?} ran nothing");
    }
}

#[test]
fn a_file_of_extra_authorities_that_cannot_be_used_stops_the_command_before_it_runs() {
    let dir = TestDir::new("extra-authorities");
    let order = repo("events/orders/small-clp.xml");
    let convert = |extra: &Path| {
        let run =
            Command::new(BIN).args(["convert"]).arg(&order).env("ORDERFLOW_EXTRA_CA_FILE", extra).output().unwrap();
        (run.status.success(), String::from_utf8(run.stdout).unwrap(), String::from_utf8(run.stderr).unwrap())
    };
    std::fs::write(dir.join("empty.pem"), "").unwrap();
    let (ok, stdout, stderr) = convert(&dir.join("empty.pem"));
    assert!(!ok, "{stdout}");
    let expected =
        format!("orderflow: ORDERFLOW_EXTRA_CA_FILE={}: holds no PEM certificate", dir.join("empty.pem").display());
    assert_eq!((stderr.trim(), stdout.as_str()), (expected.as_str(), ""));
    // A path that is not UTF-8 still names the file.
    let odd = dir.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"odd-\xff.pem"));
    std::fs::write(&odd, "").unwrap();
    let (ok, _, stderr) = convert(&odd);
    assert!(!ok && stderr.contains("holds no PEM certificate"), "{stderr}");
    // A file of usable authorities (here the compiled-in ones, as PEM), or none named: it runs.
    std::fs::write(dir.join("roots.pem"), orderflow_shared::http_client::root_certificates_pem()).unwrap();
    for extra in [dir.join("roots.pem"), PathBuf::new()] {
        let (ok, stdout, stderr) = convert(&extra);
        assert!(ok && stdout.contains("\"order_key\""), "{}: {stderr}", extra.display());
    }
}

#[test]
fn a_config_dir_without_a_file_names_the_file_before_anything_runs() {
    let dir = TestDir::new("config-dir-lacks");
    config_copy(&dir.join("partial"), "", str::to_owned);
    std::fs::remove_file(dir.join("partial/mappings/business-central.json")).unwrap();
    let (ok, stdout, stderr) = run_in(&dir, &["demo", "--config-dir", "partial"]);
    assert!(!ok, "{stdout}");
    assert_eq!(stderr.trim(), "orderflow: the configuration directory partial has no mappings/business-central.json");
    assert!(!stdout.contains("1. S3 upload"), "{stdout}");
}

#[tokio::test]
async fn serve_takes_its_webhook_secrets_from_the_config_dir() {
    let dir = TestDir::new("serve-config-dir");
    let secret = "whsec_Y2hhbmdlZC1sb2NhbC1zZWNyZXQtZm9yLWEtdGVzdA==";
    config_copy(&dir, "local-secrets.json", |text| text.replace(&local_secret("standard"), secret));
    let state = dir.join("state");
    let port = free_port().to_string();
    let args = ["serve", "--port", &port, "--api-key", "k", "--state", state.to_str().unwrap()];
    let (_serve, lines) = start(&[&args[..], &["--config-dir", dir.to_str().unwrap()]].concat(), 2);
    let base = address(&lines[0]);
    let expected = format!("from {}", dir.join("connections.local.json").display());
    assert!(lines[1].contains(&expected), "{lines:?}");

    let client = orderflow_shared::http_client::builder().build().unwrap();
    let body = std::fs::read(repo("events/webhooks/standard-order-created.json")).unwrap();
    let shipped = local_secret("standard");
    assert_eq!(webhook(&client, &base, &shipped, "msg_dir_1", &body, &body).await.0, 401, "the shipped secret");
    assert_eq!(webhook(&client, &base, secret, "msg_dir_1", &body, &body).await.0, 202, "the config dir's");
}

/// `GET /stats` with the key, padded by one header to exactly `bytes` of request line and
/// headers (up to and including the blank line); the status `serve` answers.
fn stats_with_head_of(base: &str, bytes: usize) -> u16 {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let head = |pad: usize| {
        format!("GET /stats HTTP/1.1\r\nhost: {host}\r\nx-api-key: test-key\r\nx-pad: {}\r\n\r\n", "p".repeat(pad))
    };
    let pad = bytes - head(0).len();
    let request = head(pad);
    assert_eq!(request.len(), bytes);
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).unwrap();
    let status_line = String::from_utf8_lossy(&status_line);
    status_line.strip_prefix("HTTP/1.1 ").unwrap_or_else(|| panic!("{status_line:?}")).parse().unwrap()
}

/// API Gateway's quota: request line and headers together at most 10,240 bytes.
#[test]
fn serve_refuses_a_request_head_over_10240_bytes_with_431() {
    let state = scratch("serve-head");
    let port = free_port().to_string();
    let (_serve, lines) =
        start(&["serve", "--port", &port, "--api-key", "test-key", "--state", state.to_str().unwrap()], 2);
    let base = address(&lines[0]);
    for (bytes, status) in [(10_000, 200), (10_240, 200), (10_241, 431), (10_300, 431), (64 * 1024, 431)] {
        assert_eq!(stats_with_head_of(&base, bytes), status, "a head of {bytes} bytes");
    }
}

/// `serve` on `state`, with the simulated DTE refusing the first `broadcast_failures`
/// broadcasts of each order and the recovery waiting `backoff` seconds before its first retry.
fn serve_on(state: &std::path::Path, broadcast_failures: u32, backoff: u64) -> (Running, String) {
    let (port, failures, backoff) = (free_port().to_string(), broadcast_failures.to_string(), backoff.to_string());
    let state = state.to_str().unwrap();
    let args = ["serve", "--port", &port, "--api-key", "test-key", "--state", state];
    let extra = ["--dte-broadcast-failures", &failures, "--recovery-backoff-seconds", &backoff];
    let (serve, lines) = start(&[&args[..], &extra[..]].concat(), 2);
    (serve, address(&lines[0]))
}

/// The order's record once `done` holds for it; fails after the pipeline's deadline.
async fn wait_for(base: &str, key: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let client = orderflow_shared::http_client::builder().build().unwrap();
    let started = Instant::now();
    loop {
        let response = client.get(format!("{base}/orders/{key}")).header("x-api-key", "test-key").send().await;
        if let Ok(response) = response
            && response.status() == 200
        {
            let record: Value = response.json().await.unwrap();
            if done(&record) {
                return record;
            }
            assert!(started.elapsed() < PIPELINE_DEADLINE, "{what}: the order is {record}");
        }
        assert!(started.elapsed() < PIPELINE_DEADLINE, "{what}: the order never showed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A recovery workflow waiting between retries when `serve` stops resumes when it starts again
/// on the same state folder, and the order, kept in that folder, completes its broadcast.
#[tokio::test]
async fn a_recovery_waiting_when_serve_stops_resumes_when_it_starts_again() {
    let state = scratch("serve-restart");
    let order = sample_order("RESTART-0001");
    let key = order["order_key"].as_str().unwrap().to_owned();
    {
        // The first broadcast is refused, and the workflow's first wait is an hour long.
        let (_serve, base) = serve_on(&state, 1, 3600);
        let response = orderflow_shared::http_client::builder()
            .build()
            .unwrap()
            .post(format!("{base}/orders/queue"))
            .header("x-api-key", "test-key")
            .header("content-type", "application/json")
            .header("idempotency-key", "restart-1")
            .body(serde_json::to_vec(&order).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let failed = wait_for(&base, &key, "the broadcast failure", |r| r["state"] == "error").await;
        assert_eq!(failed["last_error"]["stage"], "broadcast_dte", "{failed}");
        let journal = std::fs::read_to_string(state.join("recovery.jsonl")).unwrap();
        assert!(journal.contains(&format!("{key}-a1")) && !journal.contains("ended"), "{journal}");
        // `_serve` is killed here, the workflow in the middle of its wait.
    }
    let (_serve, base) = serve_on(&state, 0, 1);
    let record = wait_for(&base, &key, "the resumed recovery", |r| r["state"] == "broadcast_dte").await;
    assert!(record["dte"]["track_id"].as_str().is_some_and(|t| t.starts_with("T-")), "{record}");
    let by: Vec<&str> = record["history"].as_array().unwrap().iter().filter_map(|h| h["by"].as_str()).collect();
    assert!(by.iter().any(|b| b.contains("recovery") || b.contains("error-handler")), "{by:?}");
    // The execution journals its end after its last state stored the broadcast, so the record
    // can show the state a moment before the journal holds the end.
    let started = Instant::now();
    let journal = loop {
        let journal = std::fs::read_to_string(state.join("recovery.jsonl")).unwrap();
        if journal.contains("ended") || started.elapsed() >= PIPELINE_DEADLINE {
            break journal;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(journal.contains("ended"), "the end is journaled: {journal}");
}

/// Orders in `serve`'s store, all states together (`GET /stats`).
async fn orders_held(base: &str) -> u64 {
    let stats: Value = orderflow_shared::http_client::builder()
        .build()
        .unwrap()
        .get(format!("{base}/stats"))
        .header("x-api-key", "test-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["states"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).sum()
}

/// Each source's cursor version in serve's cursor file (empty before the first save).
fn cursor_versions(state: &Path) -> Vec<(String, u64)> {
    let Ok(text) = std::fs::read_to_string(state.join("poll-cursors.json")) else { return Vec::new() };
    let file: Value = serde_json::from_str(&text).unwrap();
    file.as_object().unwrap().iter().map(|(name, c)| (name.clone(), c["version"].as_u64().unwrap())).collect()
}

/// Waits until `done` holds; fails after the pipeline's deadline.
async fn until(what: &str, done: impl AsyncFn() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < PIPELINE_DEADLINE, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `serve --poll-every 1` against the shops and the partner of `orderflow erp-doubles`: of the
/// five orders they hold, the three the local sources' filters take come in, once each however
/// many times the sources are polled, and a restart on the same --state goes on from the
/// cursors kept there instead of taking them again.
#[tokio::test]
async fn serve_polls_the_shops_and_the_partner_and_a_restart_takes_nothing_twice() {
    let ports = [free_port(), free_port(), free_port(), free_port(), free_port()].map(|p| p.to_string());
    let doubles = ["--bc-port", &ports[0], "--sap-port", &ports[1], "--shopify-port", &ports[2]];
    let (_doubles, _) =
        start(&[&["erp-doubles"][..], &doubles, &["--woo-port", &ports[3], "--partner-port", &ports[4]]].concat(), 5);
    let dir = TestDir::new("serve-poll");
    config_copy(&dir, "connections.local.json", |text| {
        text.replace("127.0.0.1:18090", &format!("127.0.0.1:{}", ports[2]))
            .replace("127.0.0.1:18091", &format!("127.0.0.1:{}", ports[3]))
            .replace("127.0.0.1:18092", &format!("127.0.0.1:{}", ports[4]))
    });
    let state = dir.join("state");
    let serve = || {
        let port = free_port().to_string();
        let args = ["serve", "--port", &port, "--api-key", "test-key", "--state", state.to_str().unwrap()];
        let (running, lines) =
            start(&[&args[..], &["--config-dir", dir.to_str().unwrap(), "--poll-every", "1"]].concat(), 2);
        (running, address(&lines[0]))
    };
    let polled = |running: &Running| -> Vec<String> {
        running.printed_since_start().into_iter().filter(|l| l.contains("orderflow serve: polled ")).collect()
    };

    let (first, base) = serve();
    until("three orders registered", async || orders_held(&base).await == 3).await;
    // Every source polled at least twice more: nothing new comes in.
    let settled = cursor_versions(&state);
    assert_eq!(settled.len(), 3, "{settled:?}");
    until("two more polls of every source", async || {
        cursor_versions(&state).iter().zip(&settled).all(|((_, now), (_, then))| *now >= then + 2)
    })
    .await;
    assert_eq!(orders_held(&base).await, 3);
    let lines = polled(&first);
    for expected in [
        "polled shopify: 1 listed, 1 queued",
        "polled woocommerce: 2 listed, 1 queued, 1 left out by the filter",
        "polled acme-partner: 2 listed, 1 queued, 1 left out by the filter",
    ] {
        assert_eq!(lines.iter().filter(|l| l.contains(expected)).count(), 1, "{expected:?} once in {lines:?}");
    }
    assert_eq!(lines.len(), 3, "{lines:?}");
    drop(first);

    let (again, base) = serve();
    let restarted = cursor_versions(&state);
    until("a poll of every source after the restart", async || {
        cursor_versions(&state).iter().zip(&restarted).all(|((_, now), (_, then))| *now > *then)
    })
    .await;
    assert_eq!(orders_held(&base).await, 3);
    assert_eq!(polled(&again), Vec::<String>::new(), "nothing is taken again");
}
