//! The REQUEST authorizer in front of every `/console` route but sign-in and its callback: it
//! reads the session cookie, validates the Cognito ID token in it ([`crate::tokens`]) and allows
//! the request with the user name and groups in the context, which the portal reads
//! ([`crate::cognito::authorizer_identity`]). Anything else is `Unauthorized` (API Gateway
//! answers 401, which the template turns into a redirect to sign-in).
//!
//! The policy allows every `/console` route of the stage, because API Gateway caches it per
//! cookie for the authorizer's TTL and applies it to the next pages too.

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use serde_json::{Value, json};

use crate::cognito::{CONTEXT_GROUPS, CONTEXT_USER};
use crate::session;
use crate::tokens::Validator;

/// What API Gateway needs to hear to answer 401.
pub const UNAUTHORIZED: &str = "Unauthorized";

pub async fn authorize(
    validator: &Validator,
    request: &ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<Value, String> {
    let token = request
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::cookie_value(h, session::COOKIE))
        .filter(|t| !t.is_empty());
    let Some(token) = token else { return Err(UNAUTHORIZED.into()) };
    let identity = match validator.identity(token).await {
        Ok(Some(identity)) => identity,
        Ok(None) => {
            tracing::info!("token valid but in no portal group");
            return Err(UNAUTHORIZED.into());
        }
        Err(e) => {
            tracing::info!(reason = %e, "token refused");
            return Err(UNAUTHORIZED.into());
        }
    };
    let resource = console_resources(request.method_arn.as_deref().unwrap_or_default());
    Ok(json!({
        "principalId": identity.name,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}]
        },
        "context": {CONTEXT_USER: identity.name, CONTEXT_GROUPS: identity.role.group()}
    }))
}

/// `arn:…:api-id/stage/GET/console/x` → `arn:…:api-id/stage/*/console*`: every console route of
/// the stage, so the cached policy serves the next page as well.
pub fn console_resources(method_arn: &str) -> String {
    let mut parts = method_arn.splitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some(api), Some(stage)) => format!("{api}/{stage}/*/console*"),
        _ => method_arn.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_policy_covers_every_console_route_of_the_stage_only() {
        let arn = "arn:aws:execute-api:us-west-2:123456789012:abc123/prod/GET/console/orders/K";
        assert_eq!(super::console_resources(arn), "arn:aws:execute-api:us-west-2:123456789012:abc123/prod/*/console*");
    }
}
