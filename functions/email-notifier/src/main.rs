use aws_lambda_events::event::dynamodb::Event;
use email_notifier::{Notifier, handle};
use lambda_runtime::{LambdaEvent, service_fn};
use orderflow_shared::adapters::aws::{self, DynamoOrderStore, SesMailer};
use orderflow_shared::config::EmailConfig;
use orderflow_shared::startup;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    startup::init()?;
    let config = EmailConfig::from_env()?;
    let sdk = aws::function_sdk_config()?;
    let deps = Notifier {
        store: DynamoOrderStore::new(aws::dynamodb_client(&sdk), &config.table),
        mailer: SesMailer::new(aws::sesv2_client(&sdk), &config.configuration_set),
        sender: config.sender,
        claim_timeout: config.claim_timeout,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| async {
        Ok::<_, lambda_runtime::Error>(handle(&deps, event.payload).await)
    }))
    .await
}
