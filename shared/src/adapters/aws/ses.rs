//! `Mailer` on SES v2. Sends Raw MIME (built by [`Email::to_mime`]) so both the HTML and the
//! text part travel exactly as rendered; moto also records Raw messages whole, while it keeps
//! only one body of a Simple one.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

use super::classify;
use crate::email::Email;
use crate::error::PortError;
use crate::ports::{MailError, Mailer};

pub fn sesv2_client(config: &aws_config::SdkConfig) -> Client {
    Client::new(config)
}

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    configuration_set: String,
}

impl SesMailer {
    pub fn new(client: Client, configuration_set: impl Into<String>) -> Self {
        Self { client, configuration_set: configuration_set.into() }
    }
}

const SEND: &str = "sesv2:SendEmail";

impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let raw = RawMessage::builder()
            .data(Blob::new(email.to_mime()))
            .build()
            .map_err(|e| PortError::permanent(SEND, e.to_string()))?;
        let result = self
            .client
            .send_email()
            .from_email_address(&email.from)
            .destination(Destination::builder().to_addresses(email.to.as_str()).build())
            .content(EmailContent::builder().raw(raw).build())
            .configuration_set_name(&self.configuration_set)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.message_id().unwrap_or_default().to_owned()),
            // SES answers a malformed recipient with 400 BadRequest naming the address.
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.code() == Some("BadRequestException")
                        && s.message().is_some_and(|m| m.to_ascii_lowercase().contains("address"))
                }) =>
            {
                Err(MailError::InvalidRecipient(format!("{} refused by SES", email.to)))
            }
            // Throttling (429 TooManyRequests) and 5xx are transient; the rest permanent.
            Err(e) => Err(classify(SEND, e).into()),
        }
    }
}
