//! The auth mechanisms any connector can use. Basic and API keys are stateless; OAuth2
//! tokens, sessions and Digest challenges are held here and renewed on a 401.

use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Client, RequestBuilder};

use super::config::{AuthConfig, ConfigError, KeyLocation, SecretValues, http_url, secret};
use super::digest::DigestAuth;
use super::error::ErpError;
use super::http::{Answer, Request};
use super::oauth2::TokenCache;
use super::session::SessionLogin;
use crate::ports::Clock;
use crate::secrets::Secret;

/// Debug prints no secret: [`Secret`] and sensitive header values redact themselves.
#[derive(Debug)]
pub(crate) enum Authenticator {
    Basic { username: String, password: Secret },
    ApiKeyHeader { name: HeaderName, value: HeaderValue },
    ApiKeyQuery { name: String, key: Secret },
    OAuth2(TokenCache),
    Session(SessionLogin),
    Digest(DigestAuth),
}

impl Authenticator {
    pub(crate) fn new(
        config: &AuthConfig,
        secrets: &impl SecretValues,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        Ok(match config {
            AuthConfig::Basic { username, password_ref } => {
                Self::Basic { username: username.clone(), password: secret(secrets, password_ref)? }
            }
            AuthConfig::ApiKey { location: KeyLocation::Header, name, key_ref } => {
                let name = HeaderName::try_from(name.as_str()).map_err(|_| ConfigError::BadHeaderName(name.clone()))?;
                let mut value = HeaderValue::from_str(secret(secrets, key_ref)?.expose())
                    .map_err(|_| ConfigError::BadHeaderValue(key_ref.clone()))?;
                value.set_sensitive(true);
                Self::ApiKeyHeader { name, value }
            }
            AuthConfig::ApiKey { location: KeyLocation::Query, name, key_ref } => {
                Self::ApiKeyQuery { name: name.clone(), key: secret(secrets, key_ref)? }
            }
            AuthConfig::OAuth2ClientCredentials { token_url, client_id, client_secret_ref, scope } => {
                Self::OAuth2(TokenCache::new(
                    http_url("auth.token_url", token_url)?,
                    client_id.clone(),
                    secret(secrets, client_secret_ref)?,
                    scope.clone(),
                    clock,
                ))
            }
            AuthConfig::SessionLogin {
                login_url,
                username,
                password_ref,
                fields,
                username_field,
                password_field,
                cookies,
            } => {
                // The first name is the session cookie, read on every login.
                if cookies.first().is_none_or(String::is_empty) || cookies.iter().any(String::is_empty) {
                    let why = "name the session cookie first, and no empty name";
                    return Err(ConfigError::Invalid { field: "auth.cookies", why });
                }
                let mut body = fields.clone();
                body.insert(username_field.clone(), username.clone().into());
                Self::Session(SessionLogin::new(
                    http_url("auth.login_url", login_url)?,
                    body,
                    password_field.clone(),
                    secret(secrets, password_ref)?,
                    cookies.clone(),
                ))
            }
            AuthConfig::Digest { username, password_ref } => {
                Self::Digest(DigestAuth::new(username.clone(), secret(secrets, password_ref)?))
            }
        })
    }

    /// The request with credentials, first obtaining a token or a session when none is held.
    pub(crate) async fn authorize(&self, client: &Client, request: &Request) -> Result<RequestBuilder, ErpError> {
        let mut url = request.url.clone();
        if let Self::ApiKeyQuery { name, key } = self {
            url.query_pairs_mut().append_pair(name, key.expose());
        }
        let builder = request.builder(client, url);
        Ok(match self {
            Self::Basic { username, password } => builder.basic_auth(username, Some(password.expose())),
            Self::ApiKeyHeader { name, value } => builder.header(name.clone(), value.clone()),
            Self::ApiKeyQuery { .. } => builder,
            Self::OAuth2(tokens) => builder.bearer_auth(tokens.token(client).await?.expose()),
            Self::Session(session) => builder.header(reqwest::header::COOKIE, session.cookie(client).await?),
            Self::Digest(digest) => match digest.authorization(request)? {
                Some(value) => builder.header(reqwest::header::AUTHORIZATION, value),
                // The first request goes without: the server's 401 carries the challenge.
                None => builder,
            },
        })
    }

    /// After a 401: drops what the ERP no longer accepts, or takes up its Digest challenge.
    /// True when sending again may succeed; fixed credentials (Basic, API key) cannot.
    pub(crate) async fn renew(&self, answer: &Answer) -> bool {
        match self {
            Self::Basic { .. } | Self::ApiKeyHeader { .. } | Self::ApiKeyQuery { .. } => false,
            Self::OAuth2(tokens) => {
                tokens.invalidate().await;
                true
            }
            Self::Session(session) => {
                session.invalidate().await;
                true
            }
            Self::Digest(digest) => digest.take_challenge(&answer.challenges),
        }
    }
}
