//! Where a run's customer emails go, and what the test reads back of them: the email as
//! (recipient, subject), which names its order.

use orderflow_e2e::ses_mail;
use orderflow_shared::adapters::aws::SesMailer;
use orderflow_shared::email::Email;
use orderflow_shared::ports::{MailError, Mailer};

use crate::crash::Outbox;

/// The sender of the embedded runs' emails.
pub const SENDER: &str = "orders@orderflow.local";

/// An email as the check compares them.
pub type Sent = (String, String);

#[derive(Clone)]
pub enum Mail {
    /// Kept in memory: what the notifier was told went out.
    Outbox(Outbox),
    /// SES (moto), from a sender of this run's own; read back from moto, so a message SES took
    /// twice counts twice even when the notifier heard of one. One recipient per email.
    Ses { mailer: SesMailer, sender: String },
}

impl Mail {
    pub fn sender(&self) -> &str {
        match self {
            Self::Outbox(_) => SENDER,
            Self::Ses { sender, .. } => sender,
        }
    }

    /// Every email that went out.
    pub async fn sent(&self) -> Vec<Sent> {
        match self {
            Self::Outbox(outbox) => {
                outbox.sent().iter().map(|e| (e.to.as_str().to_owned(), e.subject.clone())).collect()
            }
            Self::Ses { sender, .. } => {
                let of =
                    |mime: &str, name: &str| ses_mail::header(mime, name).map(|v| ses_mail::address(&v).to_owned());
                let sent = ses_mail::sent().await.into_iter();
                sent.filter(|m| of(&m.raw, "From").as_ref() == Some(sender))
                    .map(|m| (of(&m.raw, "To").expect("a To header"), ses_mail::subject(&m.raw)))
                    .collect()
            }
        }
    }
}

impl Mailer for Mail {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        match self {
            Self::Outbox(outbox) => outbox.send(email).await,
            Self::Ses { mailer, .. } => mailer.send(email).await,
        }
    }
}

/// The email an SES v2 `SendEmail` request with raw content carried.
pub fn of_send_email(body: &[u8]) -> Sent {
    use base64::Engine;
    let request: serde_json::Value = serde_json::from_slice(body).expect("a SendEmail request");
    let to = request["Destination"]["ToAddresses"][0].as_str().expect("a recipient").to_owned();
    let data = request["Content"]["Raw"]["Data"].as_str().expect("raw content");
    let mime = base64::engine::general_purpose::STANDARD.decode(data).expect("base64 MIME");
    (to, ses_mail::subject(&String::from_utf8_lossy(&mime)))
}
