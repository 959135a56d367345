//! RFC 7616 Digest (MD5, `qop=auth`): a refusal issues a fresh nonce in the challenge; a request
//! passes when its response hash, recomputed with the known password, matches for a nonce this
//! fake issued and the URI it signed. Simplified: nonces never go stale and `nc` is not checked.

use axum::http::{Method, Uri};
use digest_auth::{AuthContext, AuthorizationHeader, HttpMethod};

use crate::business_central::BcState;

pub const DIGEST_USER: &str = "orderflow";
pub const DIGEST_PASSWORD: &str = "digest-s3cret";
const DIGEST_REALM: &str = "orderflow-fake-erp";

/// A `WWW-Authenticate` value with a nonce the fake now accepts.
pub(crate) fn challenge(state: &mut BcState) -> String {
    let nonce = format!("nonce-{}", state.nonces.len() + 1);
    state.nonces.insert(nonce.clone());
    format!(r#"Digest realm="{DIGEST_REALM}", qop="auth", algorithm=MD5, nonce="{nonce}", opaque="fake-opaque""#)
}

/// Recomputes the client's Digest response with the known password, for a nonce we issued.
pub(crate) fn passes(state: &BcState, method: &Method, uri: &Uri, authorization: &str) -> bool {
    let Some(sent) = authorization.strip_prefix("Digest ").and_then(|h| AuthorizationHeader::parse(h).ok()) else {
        return false;
    };
    let signed_uri = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if !state.nonces.contains(&sent.nonce) || sent.uri != signed_uri || sent.username != DIGEST_USER {
        return false;
    }
    let context = AuthContext::new_with_method(
        DIGEST_USER,
        DIGEST_PASSWORD,
        signed_uri,
        None::<&[u8]>,
        HttpMethod(method.as_str().into()),
    );
    let mut expected = sent.clone();
    expected.digest(&context);
    expected.response == sent.response
}
