//! S3 `ObjectCreated` notifications, as delivered to Lambda.
//!
//! Parsed by hand rather than with `aws_lambda_events::s3::S3Event` because the same entry point
//! must also accept the `s3:TestEvent` that S3 (and moto) send when a notification is set up.

use percent_encoding::percent_decode_str;
use serde::Deserialize;

/// One object named by a notification, with its key already URL-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    pub event_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Notification {
    /// Sent once when the notification is configured; carries no object.
    Test,
    Objects(Vec<ObjectRef>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum S3EventError {
    #[error("not an S3 notification: {0}")]
    Shape(String),
    #[error("object key is not valid URL-encoded UTF-8: {0:?}")]
    Key(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Records {
        #[serde(rename = "Records")]
        records: Vec<RawRecord>,
    },
    Test {
        #[serde(rename = "Event")]
        event: String,
    },
}

#[derive(Deserialize)]
struct RawRecord {
    #[serde(rename = "eventName")]
    event_name: String,
    s3: RawS3,
}

#[derive(Deserialize)]
struct RawS3 {
    bucket: RawBucket,
    object: RawObject,
}

#[derive(Deserialize)]
struct RawBucket {
    name: String,
}

#[derive(Deserialize)]
struct RawObject {
    key: String,
}

impl S3Notification {
    pub fn parse(event: serde_json::Value) -> Result<Self, S3EventError> {
        match serde_json::from_value::<Raw>(event).map_err(|e| S3EventError::Shape(e.to_string()))? {
            Raw::Test { event } if event == "s3:TestEvent" => Ok(Self::Test),
            Raw::Test { event } => Err(S3EventError::Shape(format!("unexpected event {event:?}"))),
            Raw::Records { records } => records
                .into_iter()
                .map(|r| {
                    Ok(ObjectRef {
                        bucket: r.s3.bucket.name,
                        key: decode_key(&r.s3.object.key)?,
                        event_name: r.event_name,
                    })
                })
                .collect::<Result<_, _>>()
                .map(Self::Objects),
        }
    }
}

/// S3 encodes keys in notifications as form data: `+` is a space, `%2B` a plus.
pub fn decode_key(raw: &str) -> Result<String, S3EventError> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8().map(|k| k.into_owned()).map_err(|_| S3EventError::Key(raw.to_owned()))
}

/// The inverse of [`decode_key`]: how S3 writes a key into a notification.
pub fn encode_key(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `ObjectCreated:Put` notification S3 sends for these keys: what local runs and tests feed
/// the converter.
pub fn put_event(bucket: &str, keys: &[&str]) -> serde_json::Value {
    let records: Vec<_> = keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                       "object": {"key": encode_key(k)}}
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_url_decoded_with_plus_as_space() {
        assert_eq!(decode_key("incoming%2Fa+b%2Bc.xml").unwrap(), "incoming/a b+c.xml");
        assert_eq!(decode_key("incoming/%C3%B1and%C3%BA.xml").unwrap(), "incoming/ñandú.xml");
        assert!(decode_key("incoming/%FF.xml").is_err());
    }

    #[test]
    fn encoding_round_trips_through_decoding() {
        for key in ["incoming/a b+c.xml", "incoming/ñandú/%41.xml", "plain"] {
            assert_eq!(decode_key(&encode_key(key)).unwrap(), key);
        }
        assert_eq!(encode_key("in/a b+.xml"), "in/a+b%2B.xml");
    }

    #[test]
    fn put_event_parses_back_to_its_keys() {
        let S3Notification::Objects(objs) = S3Notification::parse(put_event("b", &["incoming/x y.xml"])).unwrap()
        else {
            panic!("objects")
        };
        assert_eq!(objs[0].key, "incoming/x y.xml");
        assert_eq!(objs[0].bucket, "b");
    }

    #[test]
    fn test_event_is_recognised() {
        let ev = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"});
        assert_eq!(S3Notification::parse(ev).unwrap(), S3Notification::Test);
    }

    #[test]
    fn every_record_is_returned_in_order() {
        let rec =
            |k: &str| json!({"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": k}}});
        let ev = json!({"Records": [rec("incoming/1.xml"), rec("incoming/2+x.xml")]});
        let S3Notification::Objects(objs) = S3Notification::parse(ev).unwrap() else { panic!("objects") };
        let keys: Vec<_> = objs.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["incoming/1.xml", "incoming/2 x.xml"]);
    }

    #[test]
    fn other_shapes_are_rejected() {
        assert!(matches!(S3Notification::parse(json!({"foo": 1})), Err(S3EventError::Shape(_))));
        assert!(S3Notification::parse(json!({"Event": "s3:Other"})).is_err());
    }
}
