use lambda_http::{Error, service_fn};
use orderflow_shared::adapters::aws::{self, SfnRecoveryStarter, sfn_client};
use orderflow_shared::config::{EnvReader, RouterConfig};
use orderflow_shared::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init()?;
    let config = RouterConfig::from_env()?;
    let recovery_arn = EnvReader::process().required("RECOVERY_STATE_MACHINE_ARN")?;
    let sdk = aws::function_sdk_config()?;
    let recovery = SfnRecoveryStarter::new(sfn_client(&sdk), recovery_arn);
    let service = aws::order_service(&sdk, &config, recovery)?;
    lambda_http::run(service_fn(|req| state_router::handle(&service, req))).await
}
