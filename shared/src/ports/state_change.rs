//! A write to the orders table as a stream consumer sees it, whichever store made it.
//!
//! The DynamoDB adapter decodes stream records into it and the embedded store's changes
//! convert into it (both `From`/`TryFrom` impls live with their adapters), so a handler that
//! reacts to state changes names no adapter and reads no table attribute names.

/// The state before and after one write, and the order it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateChange {
    /// The order key as stored; `None` when the record carries none (a malformed record).
    pub key: Option<String>,
    /// `None` on create.
    pub old_state: Option<String>,
    /// `None` on delete.
    pub new_state: Option<String>,
}

impl StateChange {
    /// Whether this write moved the order into `state` (the stream filters' rule: the new
    /// image is in it, the old one is not).
    pub fn enters(&self, state: &str) -> bool {
        self.new_state.as_deref() == Some(state) && self.old_state.as_deref() != Some(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_enters_a_state_only_when_it_was_not_in_it_before() {
        let change = |old: Option<&str>, new: Option<&str>| StateChange {
            key: Some("k".into()),
            old_state: old.map(Into::into),
            new_state: new.map(Into::into),
        };
        assert!(change(None, Some("issuance_dte")).enters("issuance_dte"));
        assert!(change(Some("registered"), Some("issuance_dte")).enters("issuance_dte"));
        assert!(!change(Some("issuance_dte"), Some("issuance_dte")).enters("issuance_dte"));
        assert!(!change(Some("issuance_dte"), None).enters("issuance_dte"));
    }
}
