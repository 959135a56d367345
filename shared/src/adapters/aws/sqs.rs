use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};

use super::classify;
use crate::error::PortError;
use crate::ports::{FifoQueue, OutgoingMessage, ReceivedMessage};

/// One SQS FIFO queue, addressed by URL.
#[derive(Debug, Clone)]
pub struct SqsFifoQueue {
    client: Client,
    queue_url: String,
}

impl SqsFifoQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    pub fn url(&self) -> &str {
        &self.queue_url
    }
}

impl FifoQueue for SqsFifoQueue {
    async fn send(&self, msg: OutgoingMessage) -> Result<String, PortError> {
        let mut req = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(msg.body)
            .message_group_id(msg.group_id)
            .message_deduplication_id(msg.dedup_id);
        for (name, value) in msg.attributes {
            let attr = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| PortError::permanent("sqs:SendMessage", e.to_string()))?;
            req = req.message_attributes(name, attr);
        }
        let out = req.send().await.map_err(|e| classify("sqs:SendMessage", e))?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }

    async fn receive(&self, max: usize) -> Result<Vec<ReceivedMessage>, PortError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| classify("sqs:ReceiveMessage", e))?;
        Ok(out.messages().iter().map(to_received).collect())
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), PortError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| classify("sqs:DeleteMessage", e))?;
        Ok(())
    }

    async fn release(&self, receipt_handle: &str) -> Result<(), PortError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(|e| classify("sqs:ChangeMessageVisibility", e))?;
        Ok(())
    }
}

fn to_received(m: &aws_sdk_sqs::types::Message) -> ReceivedMessage {
    let system = |name: MessageSystemAttributeName| m.attributes().and_then(|a| a.get(&name)).cloned();
    let mut attributes: Vec<(String, String)> = m
        .message_attributes()
        .map(|attrs| attrs.iter().filter_map(|(k, v)| v.string_value().map(|s| (k.clone(), s.to_owned()))).collect())
        .unwrap_or_default();
    attributes.sort();
    ReceivedMessage {
        message_id: m.message_id().unwrap_or_default().to_owned(),
        receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
        body: m.body().unwrap_or_default().to_owned(),
        group_id: system(MessageSystemAttributeName::MessageGroupId).unwrap_or_default(),
        receive_count: system(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
        sent_at_ms: system(MessageSystemAttributeName::SentTimestamp).and_then(|v| v.parse().ok()).unwrap_or(0),
        attributes,
    }
}
