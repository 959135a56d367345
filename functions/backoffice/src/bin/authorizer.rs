//! Wires the portal's REQUEST authorizer: the user pool's issuer, its keys' URL and the app
//! client, read once; the keys are cached for the execution environment's life.

use backoffice::authorizer::authorize;
use backoffice::tokens::{Pool, Validator};
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};
use orderflow_shared::config::EnvReader;
use orderflow_shared::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init()?;
    let env = EnvReader::process();
    let issuer = env.required("COGNITO_ISSUER")?;
    let jwks_url = env.or("COGNITO_JWKS_URL", &format!("{issuer}/.well-known/jwks.json"));
    let pool = Pool { issuer, jwks_url, client_id: env.required("COGNITO_CLIENT_ID")? };
    let validator = Validator::new(pool, backoffice::cognito::pool_client()?);
    let validator = &validator;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        authorize(validator, &event.payload).await.map_err(Error::from)
    }))
    .await
}
