//! What every page shares: the context the base template needs, the time formats, and the
//! answers to a failed read or a refused form.

use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};

use crate::config::PortalConfig;
use crate::portal::Visitor;
use crate::session;
use crate::views;

/// A page's values, from JSON-like `"name": value` pairs of anything serializable.
#[macro_export]
macro_rules! page {
    ($($body:tt)*) => {
        minijinja::Value::from(minijinja::value::Serde(serde_json::json!({ $($body)* })))
    };
}

/// Renders `template` for `visitor`, with the navigation marked at `active`.
pub fn render(config: &PortalConfig, visitor: &Visitor, template: &str, active: &str, page: Value) -> Response {
    render_status(StatusCode::OK, config, visitor, template, active, page)
}

pub fn render_status(
    status: StatusCode,
    config: &PortalConfig,
    visitor: &Visitor,
    template: &str,
    active: &str,
    page: Value,
) -> Response {
    let context = context! {
        base => config.base.clone(),
        me => Value::from(minijinja::value::Serde(&visitor.identity)),
        can_act => visitor.identity.can_act(),
        csrf => visitor.csrf.clone(),
        active => active,
        action_id => session::random_id(),
        ..page
    };
    views::page(status, template, context)
}

/// A read that failed: the page says what could not be read, nothing more.
pub fn unavailable(config: &PortalConfig, visitor: &Visitor, what: &str, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(what, error = %error, "portal read failed");
    let message = format!("{what} could not be read right now; try again shortly.");
    let page = crate::page! { "title": "Not available", "outcome": "failed", "message": message };
    render_status(StatusCode::SERVICE_UNAVAILABLE, config, visitor, "outcome.html", "", page)
}

/// The 403 for a form whose CSRF token is not the session's (compared in constant time).
pub fn csrf_refusal(visitor: &Visitor, presented: &str) -> Option<Response> {
    use axum::response::IntoResponse;
    use subtle::ConstantTimeEq;
    if bool::from(visitor.csrf.as_bytes().ct_eq(presented.as_bytes())) {
        None
    } else {
        let message = "The form has expired or did not come from this portal; reload the page.";
        Some((StatusCode::FORBIDDEN, message).into_response())
    }
}

/// `now` as RFC 3339 UTC with milliseconds, as the records hold it.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC).format(&format).expect("UTC time formats")
}

/// `YYYY-MM-DD` of `at`.
pub fn day(at: time::OffsetDateTime) -> String {
    rfc3339(at)[..10].to_owned()
}

pub fn parse_time(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// A duration as people read it: `3 d 4 h`, `2 h 5 min`, `12 min`.
pub fn waited(seconds: i64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn waits_read_in_the_largest_units() {
        assert_eq!(super::waited(12 * 60), "12 min");
        assert_eq!(super::waited(2 * 3600 + 300), "2 h 5 min");
        assert_eq!(super::waited(3 * 86_400 + 4 * 3600), "3 d 4 h");
    }
}
