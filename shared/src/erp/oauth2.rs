//! OAuth2 client credentials (RFC 6749 §4.4): a bearer token, cached until shortly before
//! it expires, and fetched again early when the ERP refuses it.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Client, Url};
use tokio::sync::Mutex;

use super::error::ErpError;
use super::http::form;
use crate::error::Retry;
use crate::ports::Clock;
use crate::secrets::Secret;

/// A token is dropped this long before it expires, so one never lapses in flight; tokens
/// that live less than twice this are kept for half their life.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// What a token endpoint is assumed to grant when its answer leaves out `expires_in`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub(crate) struct TokenCache {
    token_url: Url,
    client_id: String,
    client_secret: Secret,
    scope: Option<String>,
    clock: Arc<dyn Clock>,
    // Async lock held across the fetch, so concurrent requests wait for one token.
    cached: Mutex<Option<(Secret, u64)>>,
}

impl TokenCache {
    pub(crate) fn new(
        token_url: Url,
        client_id: String,
        client_secret: Secret,
        scope: Option<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { token_url, client_id, client_secret, scope, clock, cached: Mutex::new(None) }
    }

    pub(crate) async fn token(&self, client: &Client) -> Result<Secret, ErpError> {
        let mut cached = self.cached.lock().await;
        let now = self.clock.now_ms();
        if let Some((token, valid_until)) = cached.as_ref()
            && now < *valid_until
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.fetch(client).await?;
        let keep = lifetime - EXPIRY_MARGIN.min(lifetime / 2);
        *cached = Some((token.clone(), now.saturating_add(u64::try_from(keep.as_millis()).unwrap_or(u64::MAX))));
        tracing::debug!(token_url = %self.token_url, lifetime_s = lifetime.as_secs(), "fetched an OAuth2 token");
        Ok(token)
    }

    pub(crate) async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch(&self, client: &Client) -> Result<(Secret, Duration), ErpError> {
        const OPERATION: &str = "token request";
        let mut pairs = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
        ];
        if let Some(scope) = &self.scope {
            pairs.push(("scope", scope));
        }
        let response = client
            .post(self.token_url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(form(&pairs))
            .send()
            .await
            .map_err(|e| ErpError::transport(OPERATION, e))?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| ErpError::transport(OPERATION, e))?;
        if !(200..300).contains(&status) {
            return Err(ErpError::from_answer(OPERATION, status, &body));
        }
        parse_token(&body).ok_or_else(|| {
            ErpError::local(Retry::Transient, "bad_answer", "the token answer has no bearer access_token")
        })
    }
}

/// `expires_in` is a number in the RFC, but some issuers (Entra ID v1) send a string.
fn parse_token(body: &str) -> Option<(Secret, Duration)> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    if json.get("token_type").and_then(|t| t.as_str()).is_some_and(|t| !t.eq_ignore_ascii_case("bearer")) {
        return None;
    }
    let token = json.get("access_token")?.as_str()?;
    let lifetime = match json.get("expires_in") {
        Some(serde_json::Value::Number(n)) => n.as_u64().map(Duration::from_secs),
        Some(serde_json::Value::String(s)) => s.parse().ok().map(Duration::from_secs),
        _ => Some(DEFAULT_LIFETIME),
    }?;
    Some((Secret::new(token), lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_with_numeric_or_string_lifetimes_are_read() {
        let (token, life) = parse_token(r#"{"access_token":"t","token_type":"Bearer","expires_in":3599}"#).unwrap();
        assert_eq!((token.expose(), life), ("t", Duration::from_secs(3599)));
        let (_, life) = parse_token(r#"{"access_token":"t","expires_in":"60"}"#).unwrap();
        assert_eq!(life, Duration::from_secs(60));
        assert!(parse_token(r#"{"access_token":"t","token_type":"mac"}"#).is_none());
        assert!(parse_token(r#"{"error":"invalid_client"}"#).is_none());
    }
}
