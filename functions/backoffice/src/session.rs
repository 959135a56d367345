//! The session cookie and what hangs off it: the local session table of `orderflow serve`, the
//! CSRF token every form carries, and the cookie's attributes.
//!
//! The cookie is `HttpOnly` (scripts cannot read it), `Secure` (browsers treat `localhost` as
//! a secure origin, so this holds for `serve` too), `SameSite=Lax` (sent on the top-level
//! redirect back from the Cognito sign-in, not on cross-site posts) and scoped to the portal.
//!
//! The CSRF token is an HMAC of the cookie's value: a page on another site can make the
//! browser send the cookie but can neither read it nor the token, so it cannot forge a form.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;

use crate::identity::Identity;

pub const COOKIE: &str = "orderflow_session";

/// How long a local session lasts without a new sign-in (a working day).
pub const LOCAL_SESSION_TTL: Duration = Duration::from_secs(10 * 3600);

/// 32 random bytes in hex: session ids and form action ids.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The CSRF token of the session whose cookie value is `session`.
pub fn csrf_token(session: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"orderflow-portal-csrf").expect("HMAC takes any key");
    mac.update(session.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `presented` is the session's token, compared in constant time.
pub fn csrf_matches(session: &str, presented: &str) -> bool {
    bool::from(csrf_token(session).as_bytes().ct_eq(presented.as_bytes()))
}

/// The `Set-Cookie` value that stores cookie `name` = `value` at `path` (the portal's base, as
/// the browser sees it, stage included), with the attributes above.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: Duration) -> String {
    format!("{name}={value}; Path={path}; Max-Age={}; HttpOnly; Secure; SameSite=Lax", max_age.as_secs())
}

/// The `Set-Cookie` value that removes cookie `name` at `path`.
pub fn clear_cookie(name: &str, path: &str) -> String {
    set_cookie(name, "", path, Duration::ZERO)
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|pair| pair.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// The sessions of `orderflow serve`, in memory: signing out removes one at once, and a
/// restart signs everybody out.
#[derive(Debug, Default)]
pub struct LocalSessions {
    sessions: Mutex<HashMap<String, (Identity, Instant)>>,
}

impl LocalSessions {
    pub fn start(&self, identity: Identity) -> String {
        let id = random_id();
        let mut sessions = self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sessions.retain(|_, (_, expires)| *expires > Instant::now());
        sessions.insert(id.clone(), (identity, Instant::now() + LOCAL_SESSION_TTL));
        id
    }

    pub fn get(&self, id: &str) -> Option<Identity> {
        let sessions = self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sessions.get(id).filter(|(_, expires)| *expires > Instant::now()).map(|(identity, _)| identity.clone())
    }

    pub fn end(&self, id: &str) {
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Role;

    #[test]
    fn a_csrf_token_belongs_to_its_session_only() {
        let token = csrf_token("session-a");
        assert!(csrf_matches("session-a", &token));
        assert!(!csrf_matches("session-b", &token));
        assert!(!csrf_matches("session-a", ""));
    }

    #[test]
    fn an_ended_session_is_gone() {
        let sessions = LocalSessions::default();
        let id = sessions.start(Identity { name: "ana".into(), role: Role::Operator });
        assert_eq!(sessions.get(&id).map(|i| i.name), Some("ana".into()));
        sessions.end(&id);
        assert_eq!(sessions.get(&id), None);
        assert_eq!(cookie_value("a=1; orderflow_session=xyz; b=2", COOKIE), Some("xyz"));
    }

    #[test]
    fn the_cookie_is_http_only_secure_and_same_site() {
        let cookie = set_cookie(COOKIE, "v", "/console", LOCAL_SESSION_TTL);
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/console"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
    }
}
