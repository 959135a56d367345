//! RFC 7617 Basic: `Authorization: Basic base64(user:password)`; a refusal challenges with
//! `WWW-Authenticate: Basic realm=…`.

pub const BASIC_USER: &str = "orderflow";
pub const BASIC_PASSWORD: &str = "basic-s3cret";

/// `Basic base64("orderflow:basic-s3cret")`; this crate has no base64 of its own.
const BASIC_HEADER: &str = "Basic b3JkZXJmbG93OmJhc2ljLXMzY3JldA==";

pub(crate) fn passes(authorization: &str) -> bool {
    authorization == BASIC_HEADER
}

pub(crate) fn challenge() -> String {
    r#"Basic realm="orderflow-fake-erp", charset="UTF-8""#.to_owned()
}
