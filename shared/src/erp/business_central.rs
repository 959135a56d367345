//! Dynamics 365 Business Central (API v2.0) `salesOrders`.
//!
//! Authentication is OAuth2 client credentials against Microsoft Entra ID (configured as
//! `oauth2_client_credentials`, scope `https://api.businesscentral.dynamics.com/.default`).
//!
//! Idempotency: Business Central does not enforce a unique `externalDocumentNumber`, so a
//! second POST would create a second order. The connector therefore looks the order key up
//! first (`$filter=externalDocumentNumber eq '<key>'`) and treats a hit as already there.
//! The lookup cannot race with another push of the same order because the ERP queue is FIFO
//! with the order key as message group, so one order is pushed by one worker at a time. A 409
//! (what a gateway or an extension that enforces uniqueness answers) also counts as a duplicate.
//!
//! Refunds become `salesCreditMemos` with the refund reference in `externalDocumentNumber`
//! and the order key in `yourReference`, found and created the same way.
//!
//! `externalDocumentNumber` is a Code[35] in Business Central; order keys are at most 57
//! characters, so order numbers longer than 18 characters need a shorter reference there.

use super::profile::{ProfileSpec, RefundSpec};

pub fn profile() -> ProfileSpec {
    ProfileSpec {
        orders_path: "salesOrders".into(),
        reference_field: "externalDocumentNumber".into(),
        id_field: "id".into(),
        duplicate_statuses: vec![409],
        duplicate_markers: Vec::new(),
        refunds: Some(RefundSpec {
            path: "salesCreditMemos".into(),
            reference_field: "externalDocumentNumber".into(),
            order_reference_field: "yourReference".into(),
            amount_field: "totalAmountIncludingTax".into(),
            currency_field: "currencyCode".into(),
            reason_field: None,
        }),
    }
}
