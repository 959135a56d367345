//! Why a UBL document was refused: one variant per rejection, each with a stable code.

use std::fmt;

/// Why a document was refused. Every variant is permanent: the same bytes fail the same way.
///
/// `Display` is one human line (printed by the CLI, stored in `.error.json` sidecars);
/// [`ConvertError::code`] is the machine-readable counterpart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("document is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("DOCTYPE and ENTITY declarations are not accepted (found at byte {position})")]
    DtdForbidden { position: u64 },
    #[error("elements nest deeper than {limit} levels (at byte {position})")]
    TooDeep { limit: usize, position: u64 },
    #[error("not well-formed XML at byte {position}: {message}")]
    NotXml { message: String, position: u64 },
    #[error("invalid UTF-8 at byte {position}")]
    InvalidUtf8 { position: u64 },
    #[error("document is encoded as {encoding:?}; only UTF-8 is accepted")]
    UnsupportedEncoding { encoding: String },
    #[error("root element is {found}, expected a UBL 2.1 Order ({{{}}}Order)", super::names::ORDER_NS)]
    WrongRoot { found: String },
    #[error("missing required field {path}{}", InLine(*line))]
    MissingField { path: &'static str, line: Option<usize> },
    #[error("{field}{}: {value:?} {reason}", InLine(*line))]
    BadAmount { field: &'static str, value: String, reason: &'static str, line: Option<usize> },
    #[error("quantity of order line {line} is {value:?}; it must be greater than zero")]
    NonPositiveQuantity { line: usize, value: String },
    #[error("order has no lines (cac:OrderLine/cac:LineItem)")]
    NoLines,
    #[error("line id {line_id:?} appears on more than one order line")]
    DuplicateLineId { line_id: String },
    #[error(
        "cac:AnticipatedMonetaryTotal/cbc:LineExtensionAmount is {declared} but the order lines add up to {line_sum}"
    )]
    TotalsMismatch { declared: String, line_sum: String },
    #[error("cbc:IssueDate {value:?} is not a date in YYYY-MM-DD form")]
    BadDate { value: String },
    #[error("currency {value:?} is not a 3-letter uppercase ISO 4217 code")]
    BadCurrency { value: String },
}

impl ConvertError {
    /// A stable machine-readable code for sidecars, metrics and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::DtdForbidden { .. } => "dtd_forbidden",
            Self::TooDeep { .. } => "too_deep",
            Self::NotXml { .. } => "not_xml",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::UnsupportedEncoding { .. } => "unsupported_encoding",
            Self::WrongRoot { .. } => "wrong_root",
            Self::MissingField { .. } => "missing_field",
            Self::BadAmount { .. } => "bad_amount",
            Self::NonPositiveQuantity { .. } => "non_positive_quantity",
            Self::NoLines => "no_lines",
            Self::DuplicateLineId { .. } => "duplicate_line_id",
            Self::TotalsMismatch { .. } => "totals_mismatch",
            Self::BadDate { .. } => "bad_date",
            Self::BadCurrency { .. } => "bad_currency",
        }
    }
}

/// Cuts a value taken from the document short for an error message, so a hostile
/// megabyte-long value doesn't end up in a sidecar. Messages print it with `{:?}`, which
/// escapes line breaks and keeps the message on one line.
pub(super) fn excerpt(value: &str) -> String {
    cut(value, 64)
}

/// Keeps a message or a value quoted from the document on one line and short: quick-xml's
/// messages quote the document (a mismatched end tag, a bad attribute), line breaks and all,
/// and so does a wrong root's namespace.
pub(super) fn one_line(message: &str) -> String {
    let mut line = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    cut(&line, 240)
}

fn cut(value: &str, max_chars: usize) -> String {
    match value.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_owned(),
    }
}

/// Renders ` in order line N` after a field path when the field belongs to a line.
struct InLine(Option<usize>);

impl fmt::Display for InLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, " in order line {n}"),
            None => Ok(()),
        }
    }
}
