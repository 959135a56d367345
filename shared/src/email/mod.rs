//! The customer email: addresses, locales, and composing a message from a canonical order.
//!
//! Templates live in `templates/email/<locale>/` at the repository root and are compiled into
//! the binary, so a Lambda needs no files beside it.

mod money;
mod render;

pub use money::{format_money, format_quantity};
pub use render::{RenderError, Rendered, render_order_processing};

use std::fmt;

use crate::order::CanonicalOrder;

/// The languages the templates exist in. Spanish (Chile) unless the order asks for English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    EsCl,
    En,
}

impl Locale {
    /// From a BCP 47 tag such as `en`, `en-US` or `es-CL`; anything else gets the default.
    pub fn for_language(tag: Option<&str>) -> Self {
        match tag.and_then(|t| t.split(['-', '_']).next()) {
            Some(primary) if primary.eq_ignore_ascii_case("en") => Locale::En,
            _ => Locale::EsCl,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Locale::EsCl => "es-CL",
            Locale::En => "en",
        }
    }
}

/// A mailbox address that passed a syntax check: one `@`, a dotted domain, no spaces or
/// characters that would need quoting in a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an email address")]
pub struct NotAnEmailAddress(pub String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<Self, NotAnEmailAddress> {
        let t = text.trim();
        let valid = t.len() <= 254
            && t.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.split('.').count() >= 2
                    && domain.split('.').all(|label| {
                        !label.is_empty()
                            && !label.starts_with('-')
                            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
            })
            && t.chars().all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c));
        if valid { Ok(Self(t.to_owned())) } else { Err(NotAnEmailAddress(mask(t))) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs and history: enough to recognise, not enough to harvest (`j***@example.com`).
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Display for EmailAddress {
    /// Masked, so an address never reaches a log line by accident.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

fn mask(text: &str) -> String {
    match text.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => format!("{}*** (no @)", text.chars().next().map(String::from).unwrap_or_default()),
    }
}

/// A message ready for a [`crate::ports::Mailer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub from: String,
    pub to: EmailAddress,
    pub subject: String,
    pub html: String,
    pub text: String,
}

impl Email {
    /// RFC 5322 bytes: multipart/alternative with the text part first, as clients expect.
    pub fn to_mime(&self) -> Vec<u8> {
        mail_builder::MessageBuilder::new()
            .from(self.from.as_str())
            .to(self.to.as_str())
            .subject(self.subject.as_str())
            .text_body(self.text.as_str())
            .html_body(self.html.as_str())
            .write_to_vec()
            .expect("writing to a Vec cannot fail")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("the buyer has no contact email")]
    NoRecipient,
    #[error(transparent)]
    InvalidRecipient(#[from] NotAnEmailAddress),
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// The "your order is being processed" email to the buyer's contact address.
pub fn order_processing(order: &CanonicalOrder, from: &str) -> Result<Email, ComposeError> {
    let raw = order.buyer.email.as_deref().filter(|e| !e.trim().is_empty());
    let to = EmailAddress::parse(raw.ok_or(ComposeError::NoRecipient)?)?;
    let Rendered { subject, html, text } = render_order_processing(order)?;
    Ok(Email { from: from.to_owned(), to, subject, html, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_only_when_the_order_says_so() {
        assert_eq!(Locale::for_language(Some("en")), Locale::En);
        assert_eq!(Locale::for_language(Some("EN-us")), Locale::En);
        assert_eq!(Locale::for_language(Some("es")), Locale::EsCl);
        assert_eq!(Locale::for_language(Some("de")), Locale::EsCl);
        assert_eq!(Locale::for_language(None), Locale::EsCl);
    }

    #[test]
    fn addresses_are_checked_and_masked() {
        let ok = EmailAddress::parse(" juana.perez+po@example.cl ").unwrap();
        assert_eq!(ok.as_str(), "juana.perez+po@example.cl");
        assert_eq!(ok.to_string(), "j***@example.cl");
        for bad in [
            "",
            "juana",
            "juana@",
            "@example.cl",
            "juana@localhost",
            "a b@example.cl",
            "a@b@example.cl",
            "x<y>@example.cl",
            "j@exa_mple.cl",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} passed");
        }
    }
}
