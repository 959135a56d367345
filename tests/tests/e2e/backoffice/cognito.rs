//! The REQUEST authorizer against moto's Cognito: a user pool with the portal's groups, tokens
//! from `AdminInitiateAuth`, the pool's keys from moto's JWKS URL. Called over moto's JSON API
//! directly (no Cognito SDK crate is built for one test).

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use backoffice::authorizer::authorize;
use backoffice::identity::{Identity, Role};
use backoffice::tokens::{Pool, TokenError, Validator};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use orderflow_e2e::{moto_endpoint, unique};
use serde_json::{Value, json};

const ARN: &str = "arn:aws:execute-api:us-west-2:123456789012:api1/prod/GET/console/exceptions";

async fn cognito(target: &str, body: Value) -> Value {
    let response = orderflow_e2e::http()
        .post(format!("{}/", moto_endpoint()))
        .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{target}"))
        .header("content-type", "application/x-amz-json-1.1")
        // moto routes on the credential scope's service name; it checks no signature.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20261203/us-west-2/cognito-idp/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{target}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

struct PoolUsers {
    pool: Pool,
    tokens: Vec<(&'static str, String)>,
}

/// A pool with the portal's two groups and three users: an operator, a viewer, and one in no group.
async fn pool() -> PoolUsers {
    let pool_id = cognito("CreateUserPool", json!({"PoolName": unique("portal")})).await["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = cognito(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientName": "portal", "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH"]}),
    )
    .await;
    let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    for group in [Role::OPERATORS, Role::VIEWERS] {
        cognito("CreateGroup", json!({"UserPoolId": pool_id, "GroupName": group})).await;
    }
    let mut tokens = Vec::new();
    for (user, group) in [("olga", Some(Role::OPERATORS)), ("vera", Some(Role::VIEWERS)), ("nadia", None)] {
        let password = "Portal-password-1!";
        cognito("AdminCreateUser", json!({"UserPoolId": pool_id, "Username": user})).await;
        cognito(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool_id, "Username": user, "Password": password, "Permanent": true}),
        )
        .await;
        if let Some(group) = group {
            cognito("AdminAddUserToGroup", json!({"UserPoolId": pool_id, "Username": user, "GroupName": group})).await;
        }
        let auth = cognito(
            "AdminInitiateAuth",
            json!({"UserPoolId": pool_id, "ClientId": client_id, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": user, "PASSWORD": password}}),
        )
        .await;
        tokens.push((user, auth["AuthenticationResult"]["IdToken"].as_str().unwrap().to_owned()));
    }
    let pool = Pool {
        issuer: format!("https://cognito-idp.us-west-2.amazonaws.com/{pool_id}"),
        jwks_url: format!("{}/{pool_id}/.well-known/jwks.json", moto_endpoint()),
        client_id,
    };
    PoolUsers { pool, tokens }
}

fn request(cookie: Option<&str>) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    let mut request = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
    request.method_arn = Some(ARN.into());
    if let Some(cookie) = cookie {
        request.headers.insert("cookie", format!("theme=dark; orderflow_session={cookie}").parse().unwrap());
    }
    request
}

/// The identity the portal reads from a request that passed the authorizer with `context`.
fn portal_identity(context: &Value) -> Option<Identity> {
    let mut proxy = aws_lambda_events::apigw::ApiGatewayProxyRequestContext::default();
    for (k, v) in context.as_object().unwrap() {
        proxy.authorizer.fields.insert(k.clone(), v.clone());
    }
    let req = lambda_http::http::Request::builder()
        .uri("/console/")
        .body(axum::body::Body::empty())
        .unwrap()
        .with_request_context(RequestContext::ApiGatewayV1(proxy));
    backoffice::cognito::authorizer_identity(&req)
}

#[tokio::test]
async fn the_authorizer_passes_pool_users_on_with_their_role_and_refuses_everything_else() {
    let PoolUsers { pool, tokens } = pool().await;
    let validator = Validator::new(pool.clone(), orderflow_e2e::http());
    assert_eq!(tokens.len(), 3);
    for ((user, token), role) in tokens.iter().zip([Some(Role::Operator), Some(Role::Viewer), None]) {
        let answer = authorize(&validator, &request(Some(token))).await;
        let Some(role) = role else {
            assert_eq!(answer, Err("Unauthorized".into()), "{user} is in no portal group");
            continue;
        };
        let answer = answer.unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_eq!(answer["principalId"], *user);
        assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            answer["policyDocument"]["Statement"][0]["Resource"],
            "arn:aws:execute-api:us-west-2:123456789012:api1/prod/*/console*"
        );
        // What the portal makes of it is what a local account of that name and group gives.
        let identity = portal_identity(&answer["context"]).unwrap();
        assert_eq!(identity, Identity { name: (*user).to_owned(), role });
    }

    let operator = &tokens[0].1;
    assert_eq!(authorize(&validator, &request(None)).await, Err("Unauthorized".into()));
    // A payload changed after signing (the groups, say) fails the signature.
    let mut parts: Vec<String> = operator.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    let forged = parts.join(".");
    assert!(matches!(validator.identity(&forged).await, Err(TokenError::Signature | TokenError::Malformed)));
    assert_eq!(validator.identity("not.a-token").await, Err(TokenError::Malformed));
    // A token of the pool for another app client is not for the portal.
    let other_client =
        Validator::new(Pool { client_id: "another-client".into(), ..pool.clone() }, orderflow_e2e::http());
    assert_eq!(other_client.identity(operator).await, Err(TokenError::Claim("aud")));
    let other_pool = Validator::new(Pool { issuer: format!("{}x", pool.issuer), ..pool }, orderflow_e2e::http());
    assert_eq!(other_pool.identity(operator).await, Err(TokenError::Claim("iss")));
}

#[tokio::test]
async fn the_pools_keys_are_fetched_once_and_an_unknown_key_id_does_not_fetch_them_again_at_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let PoolUsers { pool, tokens } = pool().await;
    // The pool's JWKS behind a counter.
    let fetches = Arc::new(AtomicUsize::new(0));
    let (counter, upstream) = (fetches.clone(), pool.jwks_url.clone());
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let (counter, upstream) = (counter.clone(), upstream.clone());
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                orderflow_e2e::http().get(upstream).send().await.unwrap().text().await.unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let validator = Validator::new(Pool { jwks_url, ..pool }, orderflow_e2e::http());

    let operator = &tokens[0].1;
    for _ in 0..3 {
        assert!(validator.identity(operator).await.unwrap().is_some());
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "the keys are cached");
    // A token naming a key the pool does not have: refused without another fetch right away.
    let mut parts: Vec<&str> = operator.split('.').collect();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"not-a-pool-key"}"#);
    parts[0] = &header;
    assert_eq!(validator.identity(&parts.join(".")).await, Err(TokenError::UnknownKey));
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "an unknown kid refetches at most once a minute");
}
