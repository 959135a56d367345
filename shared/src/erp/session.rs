//! Session login: a JSON login answered with session cookies (SAP Business One's Service
//! Layer: `B1SESSION`, and `ROUTEID` behind its load balancer). Only the named cookies are
//! kept, parsed from `Set-Cookie` by hand rather than with a full cookie store.

use reqwest::header::{HeaderValue, SET_COOKIE};
use reqwest::{Client, Url};
use tokio::sync::Mutex;

use super::error::ErpError;
use crate::error::Retry;
use crate::secrets::Secret;

#[derive(Debug)]
pub(crate) struct SessionLogin {
    login_url: Url,
    /// The login body without the password, which is added only when sending.
    body: serde_json::Map<String, serde_json::Value>,
    password_field: String,
    password: Secret,
    cookies: Vec<String>,
    // The `Cookie` header, marked sensitive; async lock held across the login.
    session: Mutex<Option<HeaderValue>>,
}

impl SessionLogin {
    pub(crate) fn new(
        login_url: Url,
        body: serde_json::Map<String, serde_json::Value>,
        password_field: String,
        password: Secret,
        cookies: Vec<String>,
    ) -> Self {
        Self { login_url, body, password_field, password, cookies, session: Mutex::new(None) }
    }

    /// The `Cookie` header of the current session, logging in when there is none.
    pub(crate) async fn cookie(&self, client: &Client) -> Result<HeaderValue, ErpError> {
        let mut session = self.session.lock().await;
        if let Some(cookie) = session.as_ref() {
            return Ok(cookie.clone());
        }
        let cookie = self.login(client).await?;
        *session = Some(cookie.clone());
        Ok(cookie)
    }

    pub(crate) async fn invalidate(&self) {
        *self.session.lock().await = None;
    }

    async fn login(&self, client: &Client) -> Result<HeaderValue, ErpError> {
        const OPERATION: &str = "login";
        let mut body = self.body.clone();
        body.insert(self.password_field.clone(), self.password.expose().into());
        let response = client
            .post(self.login_url.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| ErpError::transport(OPERATION, e))?;
        let status = response.status().as_u16();
        let set_cookies: Vec<String> =
            response.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        let answer = response.text().await.map_err(|e| ErpError::transport(OPERATION, e))?;
        if !(200..300).contains(&status) {
            return Err(ErpError::from_answer(OPERATION, status, &answer));
        }
        let kept = keep_cookies(&set_cookies, &self.cookies);
        let session_cookie = &self.cookies[0];
        if !kept.iter().any(|(name, _)| name == session_cookie) {
            return Err(ErpError::local(
                Retry::Permanent,
                "auth",
                format!("login answered {status} without a {session_cookie} cookie"),
            ));
        }
        let header = kept.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
        let mut value = HeaderValue::from_str(&header).map_err(|_| {
            ErpError::local(Retry::Permanent, "auth", "the session cookie cannot be sent back in a header")
        })?;
        value.set_sensitive(true);
        tracing::debug!(login_url = %self.login_url, "logged in");
        Ok(value)
    }
}

/// `(name, value)` of each wanted cookie, in `wanted` order; attributes after `;` are dropped.
fn keep_cookies(set_cookies: &[String], wanted: &[String]) -> Vec<(String, String)> {
    let pairs: Vec<(&str, &str)> = set_cookies
        .iter()
        .filter_map(|header| header.split(';').next()?.split_once('='))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();
    wanted
        .iter()
        .filter_map(|w| pairs.iter().rev().find(|(n, _)| n == w).map(|(n, v)| ((*n).to_owned(), (*v).to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_wanted_cookies_are_kept_without_attributes() {
        let headers =
            ["B1SESSION=8f1c-77; HttpOnly".to_owned(), "ROUTEID=.node2; path=/b1s".to_owned(), "other=x".to_owned()];
        let wanted = ["B1SESSION".to_owned(), "ROUTEID".to_owned()];
        assert_eq!(
            keep_cookies(&headers, &wanted),
            [("B1SESSION".to_owned(), "8f1c-77".to_owned()), ("ROUTEID".to_owned(), ".node2".to_owned())]
        );
        assert!(keep_cookies(&headers[2..], &wanted).is_empty());
    }
}
