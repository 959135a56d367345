//! Reason classes as operators sort exceptions: the parked messages carry theirs
//! ([`orderflow_shared::parking::class`]); an order in `error` gets one from its stage error.

use orderflow_shared::lifecycle::StageError;

/// The class of an order's stage error, in the parked messages' vocabulary.
pub fn of_error(error: Option<&StageError>) -> &'static str {
    match error {
        Some(error) => of_code(&error.code, error.retryable),
        None => "unknown",
    }
}

/// The class of an error code, or of a history line that names one (`broadcast_failed` keeps no
/// stage error, only the line recovery wrote when it gave up).
pub fn of_code(code: &str, retryable: bool) -> &'static str {
    let code = code.to_ascii_lowercase();
    if code.contains("conflict") || code.contains("duplicate") {
        "conflict"
    } else if code.contains("invalid") || code.contains("validation") {
        "validation"
    } else if retryable || code.contains("timeout") || code.contains("unavailable") {
        "unavailable"
    } else {
        "refused"
    }
}

/// What a class means, for the page.
pub fn label(class: &str) -> &'static str {
    match class {
        "validation" => "validation",
        "refused" => "refused by the provider",
        "unavailable" => "provider down or timed out",
        "conflict" => "duplicate or conflict",
        "auth" => "our credentials refused",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use orderflow_shared::lifecycle::State;

    use super::*;

    fn error(code: &str, retryable: bool) -> StageError {
        StageError { stage: State::BroadcastDte, code: code.into(), message: "m".into(), retryable, attempt: 1 }
    }

    #[test]
    fn stage_errors_fall_into_the_operators_classes() {
        assert_eq!(of_error(Some(&error("provider_unavailable", true))), "unavailable");
        assert_eq!(of_error(Some(&error("invalid_rut", false))), "validation");
        assert_eq!(of_error(Some(&error("duplicate_folio", false))), "conflict");
        assert_eq!(of_error(Some(&error("rejected", false))), "refused");
        assert_eq!(of_error(None), "unknown");
        assert_eq!(of_code("recovery gave up: provider down (provider_unavailable)", false), "unavailable");
        assert_eq!(label("unavailable"), "provider down or timed out");
    }
}
