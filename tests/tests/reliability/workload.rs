//! Inputs for the pipeline runs: UBL documents (valid ones under fresh order numbers, plus
//! hostile ones) and signed webhooks from all four configured sources, whose items the fake
//! Business Central knows.

use std::collections::HashMap;

use orderflow_e2e::fake_erp::KNOWN_ITEMS;
use orderflow_e2e::hostile::{self, Expect};
use orderflow_e2e::repo_path;
use orderflow_shared::order::OrderKey;
use orderflow_shared::ubl::{self, Limits};
use orderflow_shared::webhook::{EventType, WebhookEvent, map_event};
use webhook_bridge::sign;

use crate::stack::local_apps;

/// One webhook delivery as the platform sends it.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub source: String,
    /// The platform's delivery id (the dedup id).
    pub id: String,
    pub body: Vec<u8>,
}

fn secret(source: &str) -> String {
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    let secrets: HashMap<String, String> = serde_json::from_str(&text).unwrap();
    secrets[source].clone()
}

impl Webhook {
    /// The headers a platform sends with this body at `timestamp` (unix seconds).
    pub fn signed_headers(&self, timestamp: i64) -> Vec<(String, String)> {
        self.signed_headers_with(&secret(&self.source), timestamp)
    }

    /// The headers of this source's scheme, signed with `secret`.
    pub fn signed_headers_with(&self, secret: &str, timestamp: i64) -> Vec<(String, String)> {
        let body = &self.body[..];
        let pairs: Vec<(&str, String)> = match self.source.as_str() {
            "standard" => vec![
                ("webhook-id", self.id.clone()),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", sign::standard_webhooks(secret, &self.id, timestamp, body)),
            ],
            "shopify" => vec![
                ("X-Shopify-Topic", "orders/create".into()),
                ("X-Shopify-Hmac-Sha256", sign::body_base64(secret, body)),
                ("X-Shopify-Event-Id", self.id.clone()),
            ],
            "woocommerce" => vec![
                ("X-WC-Webhook-Topic", "order.created".into()),
                ("X-WC-Webhook-Signature", sign::body_base64(secret, body)),
                ("X-WC-Webhook-Delivery-ID", self.id.clone()),
            ],
            "zephyrcart" => vec![
                ("x-zephyrcart-signature", sign::generic_hex(secret, "sha256=", Some(timestamp), body)),
                ("x-zephyrcart-timestamp", timestamp.to_string()),
                ("x-zephyrcart-delivery-id", self.id.clone()),
            ],
            other => panic!("no signing rule for source {other}"),
        };
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        headers.extend(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)));
        headers
    }

    /// The order key the receiver derives from this body.
    pub fn order_key(&self) -> OrderKey {
        let apps = local_apps();
        let source = apps.webhook_sources.get(&self.source).unwrap();
        match map_event(source, &EventType::OrderCreated, &self.body).expect("workload webhooks map") {
            WebhookEvent::Order(order) => order.order.order_key,
            other => panic!("not an order: {other:?}"),
        }
    }
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(repo_path(&format!("events/webhooks/{name}"))).unwrap()
}

/// Replaces each `(from, to)` once, checking that `from` is there.
fn edit(mut text: String, edits: &[(&str, String)]) -> Vec<u8> {
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} not in the sample");
        text = text.replacen(from, to, 1);
    }
    text.into_bytes()
}

/// The `n`-th order webhook of a run, cycling through the four sources.
pub fn order_webhook(run: &str, n: usize) -> Webhook {
    let [a, b, c] = [0, 1, 2].map(|i| KNOWN_ITEMS[i].to_owned());
    let (source, body) = match n % 4 {
        0 => (
            "standard",
            edit(
                sample("standard-order-created.json"),
                &[
                    ("ord_01HQ7Z4K2M9V8T6R5P3N1B0C", format!("ord_{run}_{n}")),
                    ("SO-2026-0042", format!("SO-{run}-{n}")),
                    ("CAF-GRANO-1KG", a),
                    ("FILT-102", b),
                ],
            ),
        ),
        1 => (
            "shopify",
            edit(
                sample("shopify-order-created.json"),
                &[
                    ("\"id\": 5792384213048", format!("\"id\": {}", 5_000_000_000_000u64 + n as u64)),
                    ("\"name\": \"#1001\"", format!("\"name\": \"#{run}-{n}\"")),
                    ("\"sku\": \"OCT-BLK-M\"", format!("\"sku\": \"{a}\"")),
                    ("\"sku\": \"\"", format!("\"sku\": \"{c}\"")),
                ],
            ),
        ),
        2 => (
            "woocommerce",
            edit(
                sample("woocommerce-order-created.json"),
                &[
                    ("\"id\": 727", format!("\"id\": {}", 100_000 + n)),
                    ("\"number\": \"727\"", format!("\"number\": \"W-{run}-{n}\"")),
                    ("ESP-1KG", b),
                    ("MF-200", c),
                ],
            ),
        ),
        _ => (
            "zephyrcart",
            edit(
                sample("zephyrcart-order-created.json"),
                &[("zc_5f3a9e21", format!("zc_{run}_{n}")), ("ZC-100482", format!("ZC-{run}-{n}")), ("ZC-MUG-350", c)],
            ),
        ),
    };
    Webhook { source: source.to_owned(), id: format!("{run}-delivery-{n}"), body }
}

/// A UBL document of a run: what it is called, its bytes, and the order key when it is valid.
pub struct Document {
    pub name: String,
    pub bytes: Vec<u8>,
    pub order_key: Option<OrderKey>,
}

/// `n` documents: every 20th a hostile case from the corpus (cycling), the rest valid orders
/// under fresh numbers.
pub fn documents(run: &str, n: usize) -> Vec<Document> {
    let corpus: Vec<_> =
        hostile::xml_corpus().into_iter().filter(|c| c.expect != Expect::Queued && c.bytes.len() < 64 * 1024).collect();
    (0..n)
        .map(|i| {
            if i % 20 == 19 {
                let case = &corpus[(i / 20) % corpus.len()];
                return Document {
                    name: format!("{run}/{i}-{}", case.name.replace('/', "-")),
                    bytes: case.bytes.clone(),
                    order_key: None,
                };
            }
            let bytes = hostile::numbered_sample(&format!("OC-{run}-{i:05}")).into_bytes();
            let order = ubl::parse_order(&bytes, &Limits::default()).expect("valid sample");
            Document { name: format!("{run}/{i}.xml"), bytes, order_key: Some(order.order_key) }
        })
        .collect()
}
