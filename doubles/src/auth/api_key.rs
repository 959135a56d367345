//! An API Management subscription key, as Azure API Management fronts an ERP API: the
//! `Ocp-Apim-Subscription-Key` header, or the `subscription-key` query parameter.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{HeaderMap, Uri};

pub const API_KEY: &str = "key-s3cret";

pub(crate) fn passes(uri: &Uri, headers: &HeaderMap) -> bool {
    let query: HashMap<String, String> = Query::try_from_uri(uri).map(|q| q.0).unwrap_or_default();
    headers.get("ocp-apim-subscription-key").is_some_and(|k| k == API_KEY)
        || query.get("subscription-key").is_some_and(|k| k == API_KEY)
}
