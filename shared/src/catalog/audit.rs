//! The request and answer log: every call of a sync run to the ERP or the shop, with method,
//! URL, status, duration and both bodies, kept for a configured number of days (`expires_at`,
//! DynamoDB's TTL attribute on AWS). Bodies and URLs are redacted before they are kept:
//! credentials (passwords, secrets, tokens, keys) and personal data (names, emails, phones,
//! addresses) become `[redacted]`; a body that is not JSON is kept only as its length.

use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::PortError;

/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    pub run_id: String,
    /// Order within the run.
    pub seq: u64,
    pub at_ms: u64,
    /// `erp` or `shop`.
    pub system: String,
    pub operation: String,
    pub method: String,
    pub url: String,
    /// `None` when no answer came (a timeout, no connection).
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub request: Option<String>,
    pub answer: Option<String>,
    /// Epoch seconds after which the log may drop it.
    pub expires_at: u64,
}

/// Where exchanges are kept.
pub trait AuditLog: Send + Sync {
    fn record(&self, exchanges: &[Exchange]) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Collects a run's exchanges until they are flushed to the [`AuditLog`].
#[derive(Debug)]
pub struct Recorder {
    run_id: String,
    retention_days: u64,
    pending: Mutex<Vec<Exchange>>,
    seq: Mutex<u64>,
}

/// What the caller knows of a call once it is over.
pub struct Call<'a> {
    pub system: &'static str,
    pub operation: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    pub request: Option<&'a [u8]>,
    pub status: Option<u16>,
    pub answer: Option<&'a str>,
}

impl Recorder {
    pub fn new(run_id: &str, retention_days: u64) -> Self {
        Self { run_id: run_id.to_owned(), retention_days, pending: Mutex::default(), seq: Mutex::default() }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Records a call that started at `started` (wall clock `now_ms`).
    pub fn note(&self, call: &Call<'_>, started: Instant, now_ms: u64) {
        let seq = {
            let mut seq = self.seq.lock().expect("the audit sequence");
            *seq += 1;
            *seq
        };
        let exchange = Exchange {
            run_id: self.run_id.clone(),
            seq,
            at_ms: now_ms,
            system: call.system.to_owned(),
            operation: call.operation.to_owned(),
            method: call.method.to_owned(),
            url: redact_url(call.url),
            status: call.status,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            request: call.request.map(|b| redact_body(&String::from_utf8_lossy(b))),
            answer: call.answer.map(redact_body),
            expires_at: now_ms / 1_000 + self.retention_days * 86_400,
        };
        self.pending.lock().expect("the audit buffer").push(exchange);
    }

    /// Hands what was collected to `log`; kept for the next flush if the log fails.
    pub async fn flush(&self, log: &impl AuditLog) -> Result<(), PortError> {
        let batch = std::mem::take(&mut *self.pending.lock().expect("the audit buffer"));
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = log.record(&batch).await {
            let mut pending = self.pending.lock().expect("the audit buffer");
            let later = std::mem::replace(&mut *pending, batch);
            pending.extend(later);
            return Err(e);
        }
        Ok(())
    }
}

/// Keys whose values are credentials or personal data, matched case-insensitively on the
/// key with `_`/`-` removed.
const SENSITIVE: [&str; 16] = [
    "password",
    "secret",
    "token",
    "accesstoken",
    "authorization",
    "apikey",
    "key",
    "clientsecret",
    "email",
    "phone",
    "firstname",
    "lastname",
    "address1",
    "address2",
    "billing",
    "shipping",
];

fn sensitive(key: &str) -> bool {
    let folded: String = key.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect();
    SENSITIVE.contains(&folded.as_str()) || folded.ends_with("password") || folded.ends_with("secret")
}

fn redact_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if sensitive(key) {
                    *v = Value::String("[redacted]".into());
                } else {
                    redact_value(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

/// A JSON body with its sensitive values replaced; anything else only as its length, since
/// it cannot be searched for secrets.
pub fn redact_body(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(mut value) => {
            redact_value(&mut value);
            value.to_string()
        }
        Err(_) if body.is_empty() => String::new(),
        Err(_) => format!("[{} bytes, not JSON]", body.len()),
    }
}

/// A URL with the values of sensitive query parameters (an API key in `subscription-key`)
/// replaced.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if sensitive(k) || k.to_lowercase().contains("key") => format!("{k}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_personal_data_are_redacted_and_the_rest_kept() {
        let body =
            r#"{"Password":"p4ss","UserName":"manager","customer":{"email":"a@b.c","first_name":"Ana"},"sku":"A-1"}"#;
        let kept = redact_body(body);
        assert!(!kept.contains("p4ss") && !kept.contains("a@b.c") && !kept.contains("Ana"), "{kept}");
        assert!(kept.contains("\"sku\":\"A-1\""), "{kept}");
        assert_eq!(
            redact_url("https://x/items?$skiptoken=5&subscription-key=s3cret"),
            "https://x/items?$skiptoken=5&subscription-key=[redacted]"
        );
        assert_eq!(redact_body("<xml secret/>"), "[13 bytes, not JSON]");
    }
}
