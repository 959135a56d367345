//! HTTP Digest (RFC 7616) through the `digest_auth` crate: the first request goes without,
//! the server's 401 brings a challenge, and later requests answer it up front, counting the
//! nonce's uses until the server sends a fresh one.

use std::sync::Mutex;

use digest_auth::{AuthContext, HttpMethod, WwwAuthenticateHeader};
use reqwest::header::HeaderValue;

use super::error::ErpError;
use super::http::Request;
use crate::error::Retry;
use crate::secrets::Secret;

#[derive(Debug)]
pub(crate) struct DigestAuth {
    username: String,
    password: Secret,
    // A sync lock: held only to compute a header, never across an await.
    challenge: Mutex<Option<WwwAuthenticateHeader>>,
}

impl DigestAuth {
    pub(crate) fn new(username: String, password: Secret) -> Self {
        Self { username, password, challenge: Mutex::new(None) }
    }

    /// The `Authorization` header for `request`, once a challenge has been received.
    pub(crate) fn authorization(&self, request: &Request) -> Result<Option<HeaderValue>, ErpError> {
        let mut challenge = self.challenge.lock().unwrap_or_else(|e| e.into_inner());
        let Some(challenge) = challenge.as_mut() else {
            return Ok(None);
        };
        let context = AuthContext::new_with_method(
            self.username.as_str(),
            self.password.expose(),
            request.uri(),
            request.body.as_deref(),
            HttpMethod(request.method.as_str().into()),
        );
        let refused = |what: &str| {
            ErpError::local(Retry::Permanent, "auth", format!("cannot answer the Digest challenge: {what}"))
        };
        let answer = challenge.respond(&context).map_err(|e| refused(&e.to_string()))?;
        let mut value = HeaderValue::from_str(&answer.to_header_string()).map_err(|_| refused("not a header value"))?;
        value.set_sensitive(true);
        Ok(Some(value))
    }

    /// Takes the Digest challenge of a 401; false when it has none.
    pub(crate) fn take_challenge(&self, challenges: &[String]) -> bool {
        let parsed = challenges
            .iter()
            .filter(|c| c.trim_start().get(..6).is_some_and(|s| s.eq_ignore_ascii_case("digest")))
            .find_map(|c| digest_auth::parse(c).ok());
        let found = parsed.is_some();
        *self.challenge.lock().unwrap_or_else(|e| e.into_inner()) = parsed;
        found
    }
}
