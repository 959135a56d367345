//! `orderflow stats backfill`: the portal's day counters for the days before they existed,
//! counted from every order's history in the DynamoDB orders table (or moto through
//! `AWS_ENDPOINT_URL`) and written whole, for the days before `--before` only.

use orderflow_shared::adapters::aws::{self, DynamoOrderStore};
use orderflow_shared::day_backfill::count_days;
use orderflow_shared::day_counts::days_between;
use orderflow_shared::lifecycle::now_rfc3339;

pub async fn run(table: &str, before: Option<String>) -> Result<(), String> {
    let before = before.unwrap_or_else(|| now_rfc3339()[..10].to_owned());
    if days_between(&before, &before, 1).is_empty() {
        return Err(format!("--before {before}: a day is written YYYY-MM-DD"));
    }
    let sdk = aws::sdk_config().await;
    let store = DynamoOrderStore::new(aws::dynamodb_client(&sdk), table);
    let counted =
        count_days(&store, &before, &|read| eprint!("\r{read} orders read")).await.map_err(|e| e.to_string())?;
    eprintln!();
    store.replace_days(&counted.days).await.map_err(|e| e.to_string())?;
    match (counted.days.first(), counted.days.last()) {
        (Some(first), Some(last)) => println!(
            "{} orders read; {} day items written, {} to {} (days from {before} on are left to the live counts)",
            counted.orders,
            counted.days.len(),
            first.day,
            last.day
        ),
        _ => println!("{} orders read; no transitions before {before}, nothing written", counted.orders),
    }
    Ok(())
}
