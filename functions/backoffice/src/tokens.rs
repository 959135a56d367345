//! Cognito ID tokens: RS256 JWTs checked against the user pool's keys (JWKS), which are fetched
//! once and cached; a token signed with a key not in the cache fetches them again, at most once
//! a minute, so a key rotation is picked up and a flood of forged `kid`s is not.
//!
//! Checks, in order: three parts; header `alg` RS256 and a `kid`; the signature with that key;
//! then the claims: `iss` the pool, `aud` the portal's app client, `token_use` `id`, `exp` in the
//! future. Only then are `cognito:username` and `cognito:groups` read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

use crate::identity::{Identity, Role};

/// Keys are fetched again after this long even when every `kid` is known.
const KEYS_TTL: Duration = Duration::from_secs(3600);
/// An unknown `kid` refetches the keys at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("not a JWT")]
    Malformed,
    #[error("unsupported algorithm or no key id")]
    Header,
    #[error("no key of the pool has this token's key id")]
    UnknownKey,
    #[error("the signature does not verify")]
    Signature,
    #[error("claim {0} is not what this portal accepts")]
    Claim(&'static str),
    #[error("expired")]
    Expired,
    #[error("the pool's keys could not be read: {0}")]
    Keys(String),
}

/// Where the pool is, and which tokens are for this portal.
#[derive(Debug, Clone)]
pub struct Pool {
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`
    pub issuer: String,
    /// `{issuer}/.well-known/jwks.json` in AWS; moto serves it elsewhere, hence configurable.
    pub jwks_url: String,
    pub client_id: String,
}

#[derive(serde::Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(serde::Deserialize)]
struct Jwk {
    kid: String,
    n: String,
    e: String,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, (Vec<u8>, Vec<u8>)>,
    fetched: Option<Instant>,
}

pub struct Validator {
    pool: Pool,
    http: reqwest::Client,
    cache: Mutex<Cache>,
}

#[derive(serde::Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: String,
}

#[derive(serde::Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    aud: String,
    token_use: String,
    exp: u64,
    #[serde(rename = "cognito:username")]
    username: String,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

impl Validator {
    pub fn new(pool: Pool, http: reqwest::Client) -> Self {
        Self { pool, http, cache: Mutex::new(Cache::default()) }
    }

    /// The identity in `token`, once every check passed; `Ok(None)` for a valid token whose
    /// groups give no role.
    pub async fn identity(&self, token: &str) -> Result<Option<Identity>, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Malformed);
        let head: Header = serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Malformed)?;
        if head.alg != "RS256" || head.kid.is_empty() {
            return Err(TokenError::Header);
        }
        let (n, e) = self.key(&head.kid).await?;
        let signed = &token[..header.len() + 1 + payload.len()];
        RsaPublicKeyComponents { n: &n, e: &e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &decode(signature)?)
            .map_err(|_| TokenError::Signature)?;
        let claims: Claims = serde_json::from_slice(&decode(payload)?).map_err(|_| TokenError::Malformed)?;
        if claims.iss != self.pool.issuer {
            return Err(TokenError::Claim("iss"));
        }
        if claims.aud != self.pool.client_id {
            return Err(TokenError::Claim("aud"));
        }
        if claims.token_use != "id" {
            return Err(TokenError::Claim("token_use"));
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        let role = Role::from_groups(claims.groups.iter().map(String::as_str));
        Ok(role.map(|role| Identity { name: claims.username, role }))
    }

    async fn key(&self, kid: &str) -> Result<(Vec<u8>, Vec<u8>), TokenError> {
        let refetch = {
            let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let age = cache.fetched.map(|at| at.elapsed());
            match (cache.keys.get(kid), age) {
                (Some(key), Some(age)) if age < KEYS_TTL => return Ok(key.clone()),
                (None, Some(age)) if age < REFETCH_AFTER => return Err(TokenError::UnknownKey),
                _ => true,
            }
        };
        if refetch {
            let jwks: Jwks =
                async { self.http.get(&self.pool.jwks_url).send().await?.error_for_status()?.json().await }
                    .await
                    .map_err(|e: reqwest::Error| TokenError::Keys(e.to_string()))?;
            let mut keys = HashMap::new();
            for key in jwks.keys {
                let (Ok(n), Ok(e)) = (URL_SAFE_NO_PAD.decode(&key.n), URL_SAFE_NO_PAD.decode(&key.e)) else { continue };
                keys.insert(key.kid, (n, e));
            }
            let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *cache = Cache { keys, fetched: Some(Instant::now()) };
        }
        let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.keys.get(kid).cloned().ok_or(TokenError::UnknownKey)
    }
}
