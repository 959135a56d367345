//! The orders table's DynamoDB stream records, decoded into the [`StateChange`] port type, so
//! stream handlers never read the table's attribute names themselves.

use aws_lambda_events::event::dynamodb::EventRecord;

use super::{ATTR_PK, ATTR_STATE};
use crate::ports::StateChange;

impl From<&EventRecord> for StateChange {
    fn from(record: &EventRecord) -> Self {
        StateChange {
            key: image_string(&record.change.new_image, ATTR_PK),
            old_state: image_string(&record.change.old_image, ATTR_STATE),
            new_state: image_string(&record.change.new_image, ATTR_STATE),
        }
    }
}

/// A string attribute of a stream image, which arrives in DynamoDB JSON (`{"S": "…"}`).
fn image_string(image: &impl serde::Serialize, name: &str) -> Option<String> {
    let json = serde_json::to_value(image).ok()?;
    json.get(name)?.get("S")?.as_str().map(str::to_owned)
}
