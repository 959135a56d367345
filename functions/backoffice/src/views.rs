//! The page templates, compiled into the binary (`include_str!`) and parsed once; values are
//! HTML-escaped by minijinja (auto-escape on `.html`).

use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;

const TEMPLATES: [(&str, &str); 9] = [
    ("base.html", include_str!("templates/base.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("exceptions.html", include_str!("templates/exceptions.html")),
    ("order.html", include_str!("templates/order.html")),
    ("search.html", include_str!("templates/search.html")),
    ("stats.html", include_str!("templates/stats.html")),
    ("apps.html", include_str!("templates/apps.html")),
    ("outcome.html", include_str!("templates/outcome.html")),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// Renders `name` with `context`; a template error is a 500 that names the template only.
pub fn page(status: StatusCode, name: &str, context: minijinja::Value) -> Response {
    let rendered = environment().get_template(name).and_then(|t| t.render(context));
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, Html(format!("<p>The page {name} did not render.</p>"))).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let env = super::environment();
        for (name, _) in super::TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
