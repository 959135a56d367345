//! One request to the ERP, with credentials, and one retry when a 401 can be cured.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Client, Method, RequestBuilder, Url};

use super::auth::Authenticator;
use super::error::ErpError;

/// application/x-www-form-urlencoded and query values: everything but the unreserved
/// characters is escaped (reqwest's `form` and `query` features are not enabled).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub(crate) fn encode(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// A request that can be sent twice (once more after a 401).
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) url: Url,
    /// JSON.
    pub(crate) body: Option<Vec<u8>>,
    /// Sent as is besides the credentials, e.g. an `Idempotency-Key`.
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Request {
    /// The request without credentials; [`Authenticator::authorize`] adds them.
    pub(crate) fn builder(&self, client: &Client, url: Url) -> RequestBuilder {
        let mut builder = client.request(self.method.clone(), url).header(ACCEPT, "application/json");
        for (name, value) in &self.headers {
            builder = builder.header(*name, value);
        }
        match &self.body {
            Some(body) => builder.header(CONTENT_TYPE, "application/json").body(body.clone()),
            None => builder,
        }
    }

    /// Path and query, as Digest signs them.
    pub(crate) fn uri(&self) -> String {
        match self.url.query() {
            Some(q) => format!("{}?{q}", self.url.path()),
            None => self.url.path().to_owned(),
        }
    }
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) challenges: Vec<String>,
    /// Paging and rate-limit headers (`X-WP-TotalPages`, `Retry-After`) for the order poller
    /// and shop sync.
    pub(crate) headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Retry-After` in seconds (the form shops send with a 429 or 503), when given; the
    /// HTTP-date form is not used by the platforms called here.
    pub(crate) fn retry_after(&self) -> Option<std::time::Duration> {
        let value = self.headers.get(RETRY_AFTER)?.to_str().ok()?;
        value.trim().parse::<u64>().ok().map(std::time::Duration::from_secs)
    }
}

/// Sends `request`; on a 401 that the authenticator can cure (a fresh token or session, a
/// Digest challenge) sends it once more. A second 401 is returned as is.
pub(crate) async fn send(
    client: &Client,
    auth: &Authenticator,
    operation: &str,
    request: &Request,
) -> Result<Answer, ErpError> {
    let answer = once(client, auth, operation, request).await?;
    if answer.status == 401 && auth.renew(&answer).await {
        return once(client, auth, operation, request).await;
    }
    Ok(answer)
}

async fn once(client: &Client, auth: &Authenticator, operation: &str, request: &Request) -> Result<Answer, ErpError> {
    let response =
        auth.authorize(client, request).await?.send().await.map_err(|e| ErpError::transport(operation, e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let challenges = response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let body = response.text().await.map_err(|e| ErpError::transport(operation, e))?;
    Ok(Answer { status, body, challenges, headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_form_values_are_escaped() {
        assert_eq!(encode("NumAtCard eq 'O''Neil-1'"), "NumAtCard%20eq%20%27O%27%27Neil-1%27");
        assert_eq!(
            form(&[("scope", "https://x/.default"), ("secret", "a+b c&d")]),
            "scope=https%3A%2F%2Fx%2F.default&secret=a%2Bb%20c%26d"
        );
    }
}
