//! Text from remote services made fit for logs, SQS attributes and error bodies, and a trim
//! for the values of documents.

/// Control characters become spaces (SQS attributes refuse most of them) and long text is cut.
pub fn tidy(text: &str, max_chars: usize) -> String {
    let mut out: String = text.trim().chars().take(max_chars).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.trim().chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// `str::trim`, answering at once for the usual value, which starts and ends with an ASCII
/// character that is not a space: the general one decodes characters from both ends, and a
/// large order has half a dozen values per line.
pub fn trim(text: &str) -> &str {
    let solid = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii() && !char::from(b).is_whitespace());
    if solid(text.as_bytes().first()) && solid(text.as_bytes().last()) { text } else { text.trim() }
}

/// An error with its causes: reqwest's own message is often just "error sending request".
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_trims_as_str_trim_does() {
        for text in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\n",
            "a b",
            "\u{a0}a",
            "a\u{a0}",
            "\u{2003}a\u{3000}",
            "\u{b}a\u{c}",
            "é",
            " é ",
            "\u{85}x",
            "x\u{85}",
            "\u{1f980}",
            "\u{200b}a",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn tidy_cuts_long_text_and_blanks_control_characters() {
        assert_eq!(tidy("  a\nb  ", 10), "a b");
        assert_eq!(tidy("abcdef", 3), "abc…");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn error_chain_includes_every_cause() {
        let err = Outer(std::io::Error::other("connection refused"));
        assert_eq!(error_chain(&err), "error sending request: connection refused");
    }
}
