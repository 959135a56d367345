//! Reading a request the same way in every API function: the route path and the JSON body.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::answer::error;
use super::shape::{Sent, array_for_object};

/// A request refused before it reaches the service; becomes an error response.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    pub fn response(self) -> Response<Body> {
        error(self.status, self.code, self.message)
    }
}

/// The route path: the proxy event's resource path, without the stage prefix that the URI
/// carries in API Gateway, so the same routing serves API Gateway, `cargo lambda` and
/// `orderflow serve`; the URI's path when the event has none (a request built in process).
pub fn route_path(req: &Request) -> String {
    match req.raw_http_path() {
        "" => req.uri().path().to_owned(),
        raw => raw.to_owned(),
    }
}

/// The route path's segments, without empty ones: `/orders/k/` is `["orders", "k"]`.
pub fn route_segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// A JSON body of type `T`, checked in this order: size first (nothing larger is read), then
/// the content type, then a parse that names the field that failed, then nothing after the
/// value. The error handler's copy once parsed without the field path and took trailing data;
/// the state router's order and strictness are the ones kept.
///
/// A struct is taken only as a JSON object: serde also reads a struct from an array that lists
/// its fields in order, which no client means to send, so every place where the value read
/// is an object must be an object in the body too (`shape`).
pub fn json_body<T: DeserializeOwned + Serialize>(req: &Request, max_bytes: usize) -> Result<T, Refusal> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > max_bytes {
        let message = format!("body is {} bytes; the limit is {max_bytes}", bytes.len());
        return Err(Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", message));
    }
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        let message = format!("content-type must be application/json, not {content_type:?}");
        return Err(Refusal::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message));
    }
    let invalid = |message: String| Refusal::new(StatusCode::BAD_REQUEST, "invalid_body", message);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(&mut de).map_err(|e| invalid(naming_the_field::<T>(bytes, e)))?;
    de.end().map_err(|e| invalid(e.to_string()))?;
    let sent: Sent = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    if let Some(path) = array_for_object(&sent, &value).map_err(invalid)? {
        let at = if path.is_empty() { "the body".to_owned() } else { path };
        return Err(invalid(format!("{at}: expected a JSON object, found an array")));
    }
    Ok(value)
}

/// Why `bytes` is not a `T`, after the path of the field that failed (`detail.retry: …`). Only a
/// refused body is parsed again with the path tracked: tracking it wraps every value read, which
/// every accepted request paid for when it was the only parse. The same bytes fail at the same
/// place both times; `plain`, the first parse's error, stands in should they not.
fn naming_the_field<T: DeserializeOwned>(bytes: &[u8], plain: serde_json::Error) -> String {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => match e.path().to_string().as_str() {
            "." => e.inner().to_string(),
            path => format!("{path}: {}", e.inner()),
        },
        Ok(_) => plain.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Serialize)]
    struct Report {
        order_key: String,
        detail: Detail,
    }

    #[derive(Debug, Deserialize, Serialize)]
    struct Detail {
        retry: bool,
    }

    #[test]
    fn a_struct_is_taken_only_as_an_object_at_every_depth() {
        for (body, names) in [
            (r#"["k", {"retry": true}]"#, "the body: expected a JSON object"),
            (r#"{"order_key": "k", "detail": [true]}"#, "detail: expected a JSON object"),
        ] {
            let refused = json_body::<Report>(&post("application/json", body), 64).unwrap_err();
            assert_eq!((refused.status, refused.code), (StatusCode::BAD_REQUEST, "invalid_body"), "{body}");
            assert!(refused.message.starts_with(names), "{body}: {}", refused.message);
        }
        let report = json_body::<Report>(&post("application/json", r#"{"order_key":"k","detail":{"retry":true}}"#), 64);
        assert!(report.is_ok_and(|r| r.order_key == "k" && r.detail.retry));
    }

    fn post(content_type: &str, body: &str) -> Request {
        lambda_http::http::Request::builder()
            .method("POST")
            .uri("/errors")
            .header("content-type", content_type)
            .body(Body::Text(body.to_owned()))
            .unwrap()
    }

    #[test]
    fn a_body_is_checked_for_size_then_type_then_fields() {
        let big = "x".repeat(65);
        let refused = json_body::<Report>(&post("text/plain", &big), 64).unwrap_err();
        assert_eq!((refused.status, refused.code), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));
        let refused = json_body::<Report>(&post("text/plain", "{}"), 64).unwrap_err();
        assert_eq!((refused.status, refused.code), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
        let refused =
            json_body::<Report>(&post("application/json", r#"{"order_key":"k","detail":{"retry":"yes"}}"#), 64)
                .unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.message.starts_with("detail.retry:"), "{}", refused.message);
    }

    #[test]
    fn a_refusal_names_the_field_as_a_parse_tracking_every_path_does() {
        let bodies = [
            r#"{"order_key":"k","detail":{"retry":"yes"}}"#,
            r#"{"order_key":7,"detail":{"retry":true}}"#,
            r#"{"order_key":"k"}"#,
            r#"{"order_key":"k","detail":{"retry":tru"#,
            r#""just a string""#,
        ];
        for body in bodies {
            let refused = json_body::<Report>(&post("application/json", body), 1024).unwrap_err();
            let mut de = serde_json::Deserializer::from_str(body);
            let tracked = serde_path_to_error::deserialize::<_, Report>(&mut de).unwrap_err();
            let expected = match tracked.path().to_string().as_str() {
                "." => tracked.inner().to_string(),
                path => format!("{path}: {}", tracked.inner()),
            };
            assert_eq!(refused.message, expected, "{body}");
        }
        let nested = json_body::<Report>(&post("application/json", bodies[0]), 1024).unwrap_err();
        assert!(nested.message.starts_with("detail.retry: invalid type: string"), "{}", nested.message);
    }

    #[test]
    fn trailing_data_after_the_value_is_refused() {
        let body = r#"{"order_key":"k","detail":{"retry":true}} {}"#;
        let refused = json_body::<Report>(&post("application/json; charset=utf-8", body), 1024).unwrap_err();
        assert_eq!((refused.status, refused.code), (StatusCode::BAD_REQUEST, "invalid_body"));
        let body = r#"{"order_key":"k","detail":{"retry":true}}"#;
        assert!(json_body::<Report>(&post("application/json; charset=utf-8", body), 1024).is_ok());
    }

    #[test]
    fn the_route_path_ignores_empty_segments() {
        assert_eq!(route_segments("/orders/k/"), ["orders", "k"]);
        assert!(route_segments("/").is_empty());
        let req = lambda_http::http::Request::builder().uri("/dev/orders").body(Body::Empty).unwrap();
        assert_eq!(route_path(&req), "/dev/orders");
        assert_eq!(route_path(&req.with_raw_http_path("/orders")), "/orders");
    }
}
