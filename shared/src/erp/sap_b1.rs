//! SAP Business One Service Layer `Orders` (sales orders).
//!
//! Authentication is a session: `POST {base}/Login` with `CompanyDB`, `UserName` and
//! `Password` answers with a `B1SESSION` cookie (and `ROUTEID` behind the load balancer),
//! which is sent back until the session times out and the Service Layer answers 401; the
//! connector then logs in again once and retries (configured as `session_login`).
//!
//! Idempotency: the order key goes into `NumAtCard` (the customer reference). The connector
//! looks it up first (`$filter=NumAtCard eq '<key>'`); when the company blocks duplicate
//! customer references, a create that races past the lookup is refused with a 400 whose
//! message says the reference already exists, which also counts as already there.
//!
//! Refunds become `CreditNotes` with the refund reference in `NumAtCard`, the order key in
//! `Reference2` and the reason in `Comments`, found and created the same way.

use super::profile::{ProfileSpec, RefundSpec};

pub fn profile() -> ProfileSpec {
    ProfileSpec {
        orders_path: "Orders".into(),
        reference_field: "NumAtCard".into(),
        id_field: "DocEntry".into(),
        duplicate_statuses: Vec::new(),
        duplicate_markers: vec!["already exists".into()],
        refunds: Some(RefundSpec {
            path: "CreditNotes".into(),
            reference_field: "NumAtCard".into(),
            order_reference_field: "Reference2".into(),
            amount_field: "DocTotal".into(),
            currency_field: "DocCurrency".into(),
            reason_field: Some("Comments".into()),
        }),
    }
}
