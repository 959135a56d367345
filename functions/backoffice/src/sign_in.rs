//! Signing in and out. Locally (`orderflow serve`) a form checks the accounts file and starts
//! a session; in AWS the Cognito hosted sign-in does it (see [`crate::cognito`]).
//!
//! The local form carries a CSRF token too, against login CSRF (a page elsewhere signing the
//! browser in to the attacker's account, so that what the victim does lands there): showing the
//! form sets the session cookie to a fresh random value that opens no session, and the post
//! must come with that cookie and its token.

use axum::Extension;
use axum::extract::{Form, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::layout::csrf_refusal;
use crate::portal::{App, Gate, Ports, Visitor, session_cookie};
use crate::session::{self, LOCAL_SESSION_TTL};
use crate::views;

#[derive(serde::Deserialize)]
pub struct Credentials {
    name: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

/// How long a shown sign-in form may wait for its post.
const FORM_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(serde::Deserialize)]
pub struct SignOut {
    csrf: String,
}

/// The sign-in form, with a fresh pre-session cookie and its CSRF token.
fn form_page<P: Ports>(portal: &App<P>, status: StatusCode, problem: Option<&str>) -> Response {
    let presession = session::random_id();
    let context = crate::page! {
        "base": portal.config.base,
        "title": "Sign in",
        "problem": problem,
        "csrf": session::csrf_token(&presession),
    };
    let cookie = session::set_cookie(session::COOKIE, &presession, &portal.config.base, FORM_TTL);
    ([(header::SET_COOKIE, cookie)], views::page(status, "sign_in.html", context)).into_response()
}

/// The form; a browser already signed in goes to the overview instead of losing its session
/// to the form's fresh cookie.
pub async fn form<P: Ports>(AxumState(portal): AxumState<App<P>>, headers: HeaderMap) -> Response {
    match &portal.gate {
        Gate::Local { sessions, .. } if session_cookie(&headers).is_some_and(|c| sessions.get(&c).is_some()) => {
            Redirect::to(&format!("{}/", portal.config.base)).into_response()
        }
        Gate::Local { .. } => form_page::<P>(&portal, StatusCode::OK, None),
        Gate::Cognito(ui) => ui.start(&portal.config.base),
    }
}

/// The local form's post. A wrong name and a wrong password get the same answer; a post that
/// does not come from the form shown to this browser gets 403 and a fresh form.
pub async fn submit<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    headers: HeaderMap,
    Form(credentials): Form<Credentials>,
) -> Response {
    let Gate::Local { accounts, sessions } = &portal.gate else {
        return (StatusCode::NOT_FOUND, "Sign in through the user pool.").into_response();
    };
    let from_the_form = session_cookie(&headers).is_some_and(|c| session::csrf_matches(&c, &credentials.csrf));
    if !from_the_form {
        tracing::info!("sign-in refused: not posted from the form shown");
        return form_page::<P>(
            &portal,
            StatusCode::FORBIDDEN,
            Some("The sign-in form had expired; please sign in again."),
        );
    }
    let Some(identity) = accounts.verify(credentials.name.trim(), &credentials.password) else {
        tracing::info!("sign-in refused");
        return form_page::<P>(
            &portal,
            StatusCode::UNAUTHORIZED,
            Some("That name and password do not match an account."),
        );
    };
    tracing::info!(operator = %identity.name, "signed in");
    let id = sessions.start(identity);
    let cookie = session::set_cookie(session::COOKIE, &id, &portal.config.base, LOCAL_SESSION_TTL);
    ([(header::SET_COOKIE, cookie)], Redirect::to(&format!("{}/", portal.config.base))).into_response()
}

/// Cognito's redirect back after sign-in.
pub async fn callback<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    headers: HeaderMap,
    Query(query): Query<crate::cognito::Callback>,
) -> Response {
    match &portal.gate {
        Gate::Cognito(ui) => ui.finish(&portal.config.base, &headers, query).await,
        Gate::Local { .. } => (StatusCode::NOT_FOUND, "No sign-in callback here.").into_response(),
    }
}

/// Ends the session (locally: forgets it at once) and clears the cookie.
pub async fn sign_out<P: Ports>(
    AxumState(portal): AxumState<App<P>>,
    Extension(me): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<SignOut>,
) -> Response {
    if let Some(refused) = csrf_refusal(&me, &form.csrf) {
        return refused;
    }
    tracing::info!(operator = %me.identity.name, "signed out");
    let clear = session::clear_cookie(session::COOKIE, &portal.config.base);
    match &portal.gate {
        Gate::Local { sessions, .. } => {
            if let Some(id) = session_cookie(&headers) {
                sessions.end(&id);
            }
            ([(header::SET_COOKIE, clear)], Redirect::to(&format!("{}/sign-in", portal.config.base))).into_response()
        }
        Gate::Cognito(ui) => ([(header::SET_COOKIE, clear)], Redirect::to(&ui.logout_url())).into_response(),
    }
}
