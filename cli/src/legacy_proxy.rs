//! `ANY /legacy/{system}/{proxy+}` as API Gateway serves it in the stack: an HTTP proxy to the
//! system's back-end (template.yaml, LegacyBackendUrls), here to local URLs given to `serve`.
//! The request goes on as it came (method, the path under the system, query, headers, body)
//! and the back-end's answer comes back as it went. A back-end that does not answer within the
//! timeout is 504 `upstream_timeout`, one that cannot be reached is 502 `upstream_unavailable`,
//! the gateway responses of the template. An unknown system is 404.

use std::collections::HashMap;
use std::time::Duration;

use lambda_http::http::{HeaderMap, HeaderName, StatusCode};
use lambda_http::{Body, Request, Response};
use orderflow_shared::api;
use orderflow_shared::http_client::http_client;

/// The template's default LegacyTimeoutMs; `serve --legacy-timeout-ms` defaults to it.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// Hop-by-hop headers (RFC 9110 7.6.1) and the ones the client library sets itself.
const NOT_FORWARDED: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

pub struct LegacyProxy {
    backends: HashMap<String, String>,
    client: reqwest::Client,
}

impl LegacyProxy {
    /// `systems` are `name=base URL` entries, as in LegacyBackendUrls.
    pub fn new(systems: &[String], timeout: Duration) -> Result<Self, String> {
        let mut backends = HashMap::new();
        for entry in systems {
            let (name, url) =
                entry.split_once('=').ok_or_else(|| format!("--legacy {entry}: expected system=base URL"))?;
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                return Err(format!("--legacy {entry}: a system name is lower-case letters, digits and '-'"));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("--legacy {entry}: the base URL must be http:// or https://"));
            }
            backends.insert(name.to_owned(), url.trim_end_matches('/').to_owned());
        }
        let client = http_client(timeout, HeaderMap::new()).map_err(|e| e.to_string())?;
        Ok(Self { backends, client })
    }

    pub fn systems(&self) -> impl Iterator<Item = &String> {
        self.backends.keys()
    }

    /// `path` is the request path from `/legacy/` on; `query` the raw query string.
    pub async fn handle(&self, path: &str, query: Option<&str>, req: Request) -> Response<Body> {
        let rest = path.strip_prefix("/legacy/").unwrap_or_default();
        let (system, proxy) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(base) = self.backends.get(system) else {
            return api::error(StatusCode::NOT_FOUND, "not_found", format!("no legacy system {system:?} here"));
        };
        if proxy.is_empty() {
            return api::error(StatusCode::NOT_FOUND, "not_found", "a path under the system is required");
        }
        let url = match query {
            Some(q) if !q.is_empty() => format!("{base}/{proxy}?{q}"),
            _ => format!("{base}/{proxy}"),
        };
        let (parts, body) = req.into_parts();
        let sent = self.client.request(parts.method, url).headers(forwarded(parts.headers)).body(body.to_vec());
        let answer = match sent.send().await {
            Ok(answer) => answer,
            Err(e) => return upstream_failure(&e),
        };
        let (status, headers) = (answer.status(), forwarded(answer.headers().clone()));
        let body = match answer.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return upstream_failure(&e),
        };
        let mut response = Response::new(Body::Binary(body.to_vec()));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }
}

/// The headers as they go on, either way: without the hop-by-hop ones.
fn forwarded(mut headers: HeaderMap) -> HeaderMap {
    for name in NOT_FORWARDED {
        headers.remove(HeaderName::from_static(name));
    }
    headers
}

/// A back-end that answered too late (504) or not at all (502), as the template's gateway
/// responses say it.
fn upstream_failure(e: &reqwest::Error) -> Response<Body> {
    if e.is_timeout() {
        api::error(StatusCode::GATEWAY_TIMEOUT, "upstream_timeout", "Endpoint request timed out")
    } else {
        api::error(StatusCode::BAD_GATEWAY, "upstream_unavailable", "Endpoint request failed")
    }
}
