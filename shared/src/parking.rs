//! Parking a message that will never pass as it is (the orders pending queue, the ERP DLQ):
//! the original body in its own group, with why it was refused attached as message attributes
//! that `orderflow pending` / `orderflow replay` (see [`crate::operator`]) read back.

use aws_lambda_events::event::sqs::SqsMessage;

use crate::batch::MESSAGE_GROUP_ID;
use crate::error::Retry;
use crate::lifecycle::now_rfc3339;
use crate::ports::OutgoingMessage;

/// The attribute names on a parked message.
pub mod attributes {
    /// The far side's HTTP status, or `none` when it did not answer.
    pub const STATUS: &str = "orderflow.status";
    /// `<code>: <message>` of the refusal.
    pub const ERROR: &str = "orderflow.error";
    /// The ERP's answer body (ERP DLQ only).
    pub const ERP_ANSWER: &str = "orderflow.erp_answer";
    /// The shop's answer to a refused action (shop-sync).
    pub const SHOP_ANSWER: &str = "orderflow.shop_answer";
    pub const SOURCE_MESSAGE_ID: &str = "orderflow.source_message_id";
    /// How often SQS had delivered the message when it was parked.
    pub const RECEIVE_COUNT: &str = "orderflow.receive_count";
    pub const PARKED_AT: &str = "orderflow.parked_at";
    /// What kind of refusal it was ([`super::class`]), for listing and redriving by kind.
    pub const CLASS: &str = "orderflow.class";
}

/// The kind of a refusal, as operators sort them: `auth` (our credentials were refused even
/// when read afresh: fix the secret, then redrive), `validation`, `conflict`, `refused` (any
/// other refusal), `unavailable` (no answer, or a fault on the far side).
pub fn class(status: Option<u16>, retry: Retry) -> &'static str {
    match (retry, status) {
        (Retry::Auth, _) => "auth",
        (_, Some(409)) => "conflict",
        (_, Some(400 | 422)) => "validation",
        (_, Some(400..=499)) => "refused",
        // GraphQL refuses inside a 200 (`userErrors`, an order that is not there).
        (Retry::Permanent, Some(200..=299)) => "refused",
        _ => "unavailable",
    }
}

/// What the far side said when it refused the message.
#[derive(Debug, Clone, Copy)]
pub struct Refusal<'a> {
    pub status: Option<u16>,
    pub retry: Retry,
    pub code: &'a str,
    pub message: &'a str,
}

/// The original message as received (a claim-check pointer stays a pointer) in its own group
/// (`fallback_group` when SQS gave none), deduplicated by the SQS message id so a park retried
/// after a lost answer stays one message. Both parking queues once built this separately: the
/// ERP worker left out the receive count and only it capped the ids at SQS's 128 characters;
/// both now carry the same attributes, and [`OutgoingMessage::new`] makes every id a valid one.
pub fn parking_message(record: &SqsMessage, raw_body: &str, fallback_group: &str, refusal: Refusal) -> OutgoingMessage {
    let message_id = record.message_id.as_deref().unwrap_or_default();
    let attribute = |name: &str| record.attributes.get(name).map(String::as_str);
    let group = attribute(MESSAGE_GROUP_ID).unwrap_or(fallback_group);
    OutgoingMessage::new(raw_body.to_owned(), group, format!("parked-{message_id}"))
        .with_attribute(attributes::STATUS, refusal.status.map_or_else(|| "none".to_owned(), |s| s.to_string()))
        .with_attribute(attributes::ERROR, format!("{}: {}", refusal.code, refusal.message))
        .with_attribute(attributes::SOURCE_MESSAGE_ID, message_id)
        .with_attribute(attributes::RECEIVE_COUNT, attribute("ApproximateReceiveCount").unwrap_or("unknown"))
        .with_attribute(attributes::PARKED_AT, now_rfc3339())
        .with_attribute(attributes::CLASS, class(refusal.status, refusal.retry))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(group: Option<&str>) -> SqsMessage {
        let mut r = SqsMessage::default();
        r.message_id = Some("m1".into());
        r.attributes.insert("ApproximateReceiveCount".into(), "2".into());
        if let Some(group) = group {
            r.attributes.insert(MESSAGE_GROUP_ID.into(), group.into());
        }
        r
    }

    #[test]
    fn a_parked_message_keeps_its_body_group_and_says_why() {
        let refusal = Refusal { status: Some(409), retry: Retry::Permanent, code: "conflict", message: "same key" };
        let parked = parking_message(&record(Some("g1")), "{\"raw\":1}", "fallback", refusal);
        assert_eq!((parked.body.as_str(), parked.group_id.as_str()), ("{\"raw\":1}", "g1"));
        assert_eq!(parked.dedup_id, "parked-m1");
        let attr = |name: &str| parked.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(attr(attributes::STATUS), Some("409"));
        assert_eq!(attr(attributes::ERROR), Some("conflict: same key"));
        assert_eq!(attr(attributes::SOURCE_MESSAGE_ID), Some("m1"));
        assert_eq!(attr(attributes::RECEIVE_COUNT), Some("2"));
        assert!(attr(attributes::PARKED_AT).is_some_and(|t| t.ends_with('Z')));
        assert_eq!(attr(attributes::CLASS), Some("conflict"));
    }

    #[test]
    fn refusals_are_sorted_into_the_classes_operators_act_on() {
        let cases = [
            (Some(401), Retry::Auth, "auth"),
            (None, Retry::Auth, "auth"),
            (Some(409), Retry::Permanent, "conflict"),
            (Some(422), Retry::Permanent, "validation"),
            (Some(400), Retry::Permanent, "validation"),
            (Some(404), Retry::Permanent, "refused"),
            (Some(401), Retry::Permanent, "refused"),
            (Some(503), Retry::Transient, "unavailable"),
            (None, Retry::Permanent, "unavailable"),
            (Some(200), Retry::Permanent, "refused"),
            (Some(200), Retry::Transient, "unavailable"),
        ];
        for (status, retry, expected) in cases {
            assert_eq!(class(status, retry), expected, "{status:?} {retry:?}");
        }
    }

    #[test]
    fn without_a_group_the_fallback_is_used_capped_to_sqs_limits() {
        let refusal = Refusal { status: None, retry: Retry::Permanent, code: "timeout", message: "no answer" };
        let long = "g".repeat(300);
        let parked = parking_message(&record(None), "b", &long, refusal);
        assert_eq!(parked.group_id, crate::ports::fifo_id(&long));
        assert!(parked.group_id.len() <= 128, "{}", parked.group_id);
        let status = parked.attributes.iter().find(|(k, _)| k == attributes::STATUS).map(|(_, v)| v.as_str());
        assert_eq!(status, Some("none"));
    }
}
