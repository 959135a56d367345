//! API Gateway REST (v1) proxy events, as API Gateway would deliver them for stage `dev`.

use serde_json::{Map, Value, json};

/// A request to send through a lambda_http handler.
pub struct Call<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a str>,
}

impl<'a> Call<'a> {
    pub fn get(path: &'a str) -> Self {
        Self { method: "GET", path, query: &[], headers: &[], body: None }
    }

    pub fn post_json(path: &'a str, body: &'a str) -> Self {
        Self { method: "POST", path, query: &[], headers: &[("content-type", "application/json")], body: Some(body) }
    }

    pub fn event(&self) -> Value {
        let query: Map<String, Value> = self.query.iter().map(|(k, v)| ((*k).into(), json!(v))).collect();
        let multi_query: Map<String, Value> = self.query.iter().map(|(k, v)| ((*k).into(), json!([v]))).collect();
        let headers: Map<String, Value> = self.headers.iter().map(|(k, v)| ((*k).into(), json!(v))).collect();
        let multi_headers: Map<String, Value> = self.headers.iter().map(|(k, v)| ((*k).into(), json!([v]))).collect();
        json!({
            "resource": "/{proxy+}",
            "path": self.path,
            "httpMethod": self.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(query) },
            "multiValueQueryStringParameters": if multi_query.is_empty() { Value::Null } else { Value::Object(multi_query) },
            "pathParameters": {"proxy": self.path.trim_start_matches('/')},
            "stageVariables": null,
            "requestContext": {
                "accountId": "123456789012",
                "resourceId": "abc123",
                "stage": "dev",
                "requestId": "test-request",
                "identity": {"sourceIp": "127.0.0.1", "apiKey": "test-key"},
                "resourcePath": "/{proxy+}",
                "httpMethod": self.method,
                "apiId": "testapi",
                "path": format!("/dev{}", self.path),
            },
            "body": self.body,
            "isBase64Encoded": false,
        })
    }

    /// The lambda_http request that the runtime would build from [`event`](Self::event).
    pub fn request(&self) -> lambda_http::Request {
        lambda_http::request::from_str(&self.event().to_string()).expect("valid proxy event")
    }
}

/// Status and JSON body of a handler response.
pub fn parts(resp: lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body: &[u8] = resp.body().as_ref();
    let value = if body.is_empty() { Value::Null } else { serde_json::from_slice(body).expect("JSON response") };
    (status, value)
}
