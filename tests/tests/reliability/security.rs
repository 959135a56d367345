//! The security review, as tests: no log line of a run holds a secret, a signature header or a
//! whole body. (The other points have their tests elsewhere; docs/RELIABILITY.md lists them.)

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use orderflow_e2e::chaos::{ChaosProxy, Faults};
use orderflow_e2e::fake_dte::FakeDte;
use orderflow_e2e::fake_erp;
use orderflow_e2e::repo_path;
use orderflow_shared::adapters::embedded::ManualClock;
use orderflow_shared::dte::{DteAuth, HttpDteProvider};
use orderflow_shared::lifecycle::OrderRecord;
use orderflow_shared::ports::DteProvider;
use orderflow_shared::secrets::Secret;
use orderflow_shared::ubl::{self, Limits};

use crate::crash::CrashPlan;
use crate::faults::{embedded_queues, embedded_stack};
use crate::logs;
use crate::workload::{self, Document, Webhook};

const DTE_BEARER: &str = "dte-bearer-s3cret-0451";

/// Every secret a run uses, by name: the webhook secrets (and the base64 key inside the
/// Standard Webhooks one), the ERP client secret and token prefix, the DTE bearer token.
pub fn secrets() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_path("config/local-secrets.json")).unwrap();
    let local: HashMap<String, String> = serde_json::from_str(&text).unwrap();
    let mut out: Vec<(String, String)> = local.iter().map(|(k, v)| (format!("secret {k}"), v.clone())).collect();
    out.extend(local.values().filter_map(|v| v.strip_prefix("whsec_")).map(|k| ("whsec key".to_owned(), k.to_owned())));
    out.push(("ERP client secret".into(), fake_erp::BC_CLIENT_SECRET.into()));
    out.push(("ERP access token".into(), "bc-token-".into()));
    out.push(("DTE bearer token".into(), DTE_BEARER.into()));
    out
}

/// 60 characters from the middle of a body, as written and as `Debug` would escape them: no
/// log line may quote that much of a body.
pub fn body_needles(what: &str, body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let window = |t: &str| {
        let chars: Vec<char> = t.chars().collect();
        let start = chars.len().saturating_sub(60) / 2;
        chars[start..chars.len().min(start + 60)].iter().collect::<String>()
    };
    let escaped = format!("{text:?}");
    vec![(format!("{what} body"), window(&text)), (format!("{what} body, escaped"), window(&escaped))]
}

/// Needles for a run's inputs: their bodies, and the canonical JSON of the valid documents.
pub fn input_needles(documents: &[Document], webhooks: &[Webhook]) -> Vec<(String, String)> {
    let mut needles = Vec::new();
    for d in documents {
        needles.extend(body_needles(&d.name, &d.bytes));
        if let Ok(order) = ubl::parse_order(&d.bytes, &Limits::default()) {
            needles.extend(body_needles(&format!("{} canonical", d.name), &order.to_json()));
        }
    }
    for w in webhooks {
        needles.extend(body_needles(&w.id, &w.body));
    }
    needles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_holds_a_secret_a_signature_header_or_a_body() {
    logs::capture();
    // A pipeline run with faults, so retries, refusals and parking log their warnings too.
    let clock = ManualClock::new(1_772_409_600_000);
    let faults = Faults { share: 0.3, seed: 41 };
    let stack = embedded_stack(embedded_queues(&clock), clock, faults, CrashPlan::default()).await;
    let documents = workload::documents("logs", 40);
    let webhooks: Vec<Webhook> = (0..12).map(|n| workload::order_webhook("logs", n)).collect();
    for d in &documents {
        stack.upload(&d.name, d.bytes.clone()).await;
        stack.expect_notification_of(d.order_key.clone());
    }
    for w in &webhooks {
        stack.deliver(w.clone());
        // A tampered copy of each: refused, and its refusal is logged too.
        stack.deliver(Webhook { id: format!("{}-tampered", w.id), body: [&w.body[..], b" "].concat(), ..w.clone() });
        stack.expect_notification_of(Some(w.order_key()));
    }
    let stack = Arc::new(stack);
    stack.settle(4).await;

    // The DTE provider's client with a bearer token, through every kind of failure.
    let dte = FakeDte::start().await;
    let chaos = ChaosProxy::start(dte.url(), Faults { share: 1.0, seed: 5 }, Duration::from_millis(300)).await;
    let provider =
        HttpDteProvider::new(chaos.url(), DteAuth::Bearer(Secret::new(DTE_BEARER)), Duration::from_millis(150))
            .unwrap();
    let order = ubl::parse_order(&documents[0].bytes, &Limits::default()).unwrap();
    let record = OrderRecord::register(order, "test", "test", "2026-11-25T10:00:00.000Z");
    for _ in 0..12 {
        assert!(provider.issue(&record).await.is_err(), "every call fails");
    }
    assert!(
        chaos.requests() >= 12
            && dte.requests().iter().all(|r| r.header("authorization") == Some(&format!("Bearer {DTE_BEARER}")[..]))
    );

    let mut needles = secrets();
    needles.extend(stack.signatures.lock().unwrap().iter().map(|s| ("signature header".to_owned(), s.clone())));
    needles.extend(input_needles(&documents, &webhooks));
    let scanned = logs::assert_none_contains(&needles);
    assert!(scanned > 500, "the run was logged ({scanned} lines)");
}
