//! `orderflow pending …` and `orderflow replay …`: the operator tools over the orders pending
//! queue and the ERP dead-letter queue, against AWS (or moto through `AWS_ENDPOINT_URL`).

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Subcommand;
use orderflow_shared::adapters::aws::{self, SqsFifoQueue};
use orderflow_shared::operator::{self, Selection};

#[derive(Subcommand)]
pub enum Action {
    /// Each waiting message: id, order, deliveries, age, class, reason.
    List,
    /// One message in full.
    Show { id: String },
    /// Send messages back to their queue, then delete them here.
    Redrive {
        #[arg(long, conflicts_with_all = ["ids", "class"])]
        all: bool,
        /// Every message of this class (auth, validation, conflict, refused, unavailable),
        /// e.g. `auth` once the refused secret is fixed.
        #[arg(long, conflicts_with = "ids")]
        class: Option<String>,
        ids: Vec<String>,
    },
}

/// The dead-letter queue to read and the queue it drains into.
pub struct Queues {
    pub dead_letters: String,
    pub target: String,
}

pub async fn run(action: Action, queues: Queues) -> Result<(), String> {
    let sdk = aws::sdk_config().await;
    let client = aws::sqs_client(&sdk);
    let dead_letters = SqsFifoQueue::new(client.clone(), &queues.dead_letters);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_millis() as u64;
    match action {
        Action::List => {
            let waiting = operator::list(&dead_letters, now).await.map_err(|e| e.to_string())?;
            println!("{} waiting in {}", waiting.len(), queues.dead_letters);
            for w in waiting {
                println!(
                    "{}  {:<34} deliveries {:>2}  age {:>6} s  {:<11}  {}",
                    w.message_id,
                    w.group_id,
                    w.receive_count,
                    w.age_ms / 1000,
                    w.class,
                    w.reason
                );
            }
        }
        Action::Show { id } => {
            let waiting = operator::list(&dead_letters, now).await.map_err(|e| e.to_string())?;
            let w = waiting.into_iter().find(|w| w.message_id == id).ok_or(format!("no message {id}"))?;
            println!("message {}\norder   {}\nclass   {}\nreason  {}", w.message_id, w.group_id, w.class, w.reason);
            for (k, v) in &w.attributes {
                println!("{k}: {v}");
            }
            println!("\n{}", w.body);
        }
        Action::Redrive { all, class, ids } => {
            let selection = match (all, class) {
                (true, _) => Selection::All,
                (false, Some(class)) => Selection::Class(class),
                (false, None) if !ids.is_empty() => Selection::Ids(ids),
                (false, None) => return Err("name message ids, or --class CLASS, or --all".into()),
            };
            let target = SqsFifoQueue::new(client, &queues.target);
            let report = operator::redrive(&dead_letters, &target, &selection, now).await.map_err(|e| e.to_string())?;
            for id in &report.moved {
                println!("moved      {id}");
            }
            for (id, why) in &report.failed {
                println!("not moved  {id}: {why}");
            }
            for id in &report.not_found {
                println!("not found  {id}");
            }
            println!("{} moved to {}", report.moved.len(), queues.target);
            if !report.failed.is_empty() || !report.not_found.is_empty() {
                return Err(format!("{} not moved", report.failed.len() + report.not_found.len()));
            }
        }
    }
    Ok(())
}
