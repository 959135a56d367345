//! Sign-in through the Cognito user pool's hosted UI: the authorization code flow with PKCE.
//!
//! 1. `/sign-in` makes a verifier and a state, keeps both in a short-lived cookie scoped to
//!    the callback, and sends the browser to the pool's `/oauth2/authorize` with the
//!    verifier's SHA-256 (`S256`).
//! 2. `/callback` checks the state against the cookie, trades the code and the verifier for
//!    tokens at `/oauth2/token`, and keeps the ID token in the session cookie.
//! 3. Every other `/console` request passes the REQUEST authorizer first, which validates that
//!    token against the pool's keys and hands on the user name and groups
//!    ([`authorizer_identity`] reads them here).

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::request::RequestContext;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Digest;

use crate::identity::{Identity, Role};
use crate::session::{self, random_id};

/// The cookie that carries the PKCE verifier and state from sign-in to the callback.
pub const PKCE_COOKIE: &str = "orderflow_pkce";

/// The authorizer context keys the portal reads (see the authorizer binary).
pub const CONTEXT_USER: &str = "username";
pub const CONTEXT_GROUPS: &str = "groups";

/// How long a call to the pool (token endpoint, signing keys) may take before the sign-in or
/// the authorizer fails rather than hanging until the function's own timeout.
const POOL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The HTTP client for the user pool's endpoints: the one TLS configuration, a timeout, no
/// redirects.
pub fn pool_client() -> reqwest::Result<reqwest::Client> {
    orderflow_shared::http_client::http_client(POOL_TIMEOUT, reqwest::header::HeaderMap::new())
}

/// The pool's hosted UI and this portal's app client (public: no client secret, PKCE instead).
#[derive(Debug, Clone)]
pub struct HostedUi {
    /// `https://<domain>.auth.<region>.amazoncognito.com`
    pub domain: String,
    pub client_id: String,
    /// The portal's `/console/callback` as the browser reaches it.
    pub redirect_uri: String,
    /// Where the browser lands after signing out.
    pub signed_out_uri: String,
    pub http: reqwest::Client,
}

#[derive(Debug, serde::Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
}

#[derive(serde::Deserialize)]
struct Tokens {
    id_token: String,
    expires_in: u64,
}

/// The S256 code challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn enc(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

impl HostedUi {
    /// Step 1: to the hosted sign-in.
    pub fn start(&self, base: &str) -> Response {
        let (state, verifier) = (random_id(), random_id());
        let url = format!(
            "{}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state={state}&code_challenge={}&code_challenge_method=S256",
            self.domain,
            enc(&self.client_id),
            enc(&self.redirect_uri),
            challenge(&verifier),
        );
        let cookie = session::set_cookie(
            PKCE_COOKIE,
            &format!("{state}.{verifier}"),
            &format!("{base}/callback"),
            std::time::Duration::from_secs(600),
        );
        ([(header::SET_COOKIE, cookie)], Redirect::to(&url)).into_response()
    }

    /// Step 2: the code for tokens, checked against the state this browser was given.
    pub async fn finish(&self, base: &str, headers: &HeaderMap, callback: Callback) -> Response {
        let kept = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|h| session::cookie_value(h, PKCE_COOKIE))
            .and_then(|v| v.split_once('.'));
        let Some((_, verifier)) = kept.filter(|(state, _)| !callback.state.is_empty() && *state == callback.state)
        else {
            return (StatusCode::BAD_REQUEST, "This sign-in was not started here, or took too long; sign in again.")
                .into_response();
        };
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", self.client_id.as_str()),
            ("code", callback.code.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let body = form.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&");
        let answer = self
            .http
            .post(format!("{}/oauth2/token", self.domain))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await;
        let tokens = match answer {
            Ok(r) if r.status().is_success() => match r.json::<Tokens>().await {
                Ok(tokens) => Some(tokens),
                Err(e) => {
                    tracing::warn!(error = %e, "token endpoint's answer unreadable");
                    None
                }
            },
            Ok(r) => {
                tracing::warn!(status = r.status().as_u16(), "token endpoint refused the code");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "token endpoint unreachable");
                None
            }
        };
        let Some(tokens) = tokens else {
            return (StatusCode::BAD_GATEWAY, "The sign-in could not be completed; sign in again.").into_response();
        };
        let cookie = session::set_cookie(
            session::COOKIE,
            &tokens.id_token,
            base,
            std::time::Duration::from_secs(tokens.expires_in),
        );
        let clear = session::clear_cookie(PKCE_COOKIE, &format!("{base}/callback"));
        let mut response = Redirect::to(&format!("{base}/")).into_response();
        for value in [cookie, clear] {
            if let Ok(value) = value.parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }

    /// The pool's logout, which ends its own session too and comes back to `signed_out_uri`.
    pub fn logout_url(&self) -> String {
        format!("{}/logout?client_id={}&logout_uri={}", self.domain, enc(&self.client_id), enc(&self.signed_out_uri))
    }
}

/// The identity the REQUEST authorizer passed on in the request context.
pub fn authorizer_identity(req: &Request) -> Option<Identity> {
    let Some(RequestContext::ApiGatewayV1(context)) = req.extensions().get::<RequestContext>() else {
        return None;
    };
    let fields = &context.authorizer.fields;
    let name = fields.get(CONTEXT_USER)?.as_str()?.to_owned();
    let groups = fields.get(CONTEXT_GROUPS)?.as_str()?;
    let role = Role::from_groups(groups.split(','))?;
    Some(Identity { name, role })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_rfc_7636_s256_of_the_verifier() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn sign_in_goes_to_the_hosted_ui_with_pkce_and_keeps_the_verifier_in_a_callback_cookie() {
        let ui = HostedUi {
            domain: "https://pool.auth.us-west-2.amazoncognito.com".into(),
            client_id: "client".into(),
            redirect_uri: "https://x.example/prod/console/callback".into(),
            signed_out_uri: "https://x.example/prod/console/sign-in".into(),
            http: pool_client().unwrap(),
        };
        let response = ui.start("/console");
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with("https://pool.auth.us-west-2.amazoncognito.com/oauth2/authorize?"), "{location}");
        assert!(location.contains("code_challenge_method=S256") && location.contains("client_id=client"), "{location}");
        let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(
            cookie.starts_with("orderflow_pkce=")
                && cookie.contains("HttpOnly")
                && cookie.contains("Path=/console/callback")
        );
        let verifier = cookie.split(['=', ';']).nth(1).unwrap().split_once('.').unwrap().1;
        assert!(location.contains(&format!("code_challenge={}", challenge(verifier))), "{location}");
    }
}
