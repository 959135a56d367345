//! `orderflow`: convert UBL orders, run the pipeline locally, and operate queues.

mod convert;
mod dead_letters;
mod demo;
mod pipeline;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "orderflow", version, about = "Purchase orders in, processed traceable orders out")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the canonical JSON of a UBL 2.1 order.
    Convert {
        file: PathBuf,
        /// Refuse documents larger than this many bytes.
        #[arg(long, default_value_t = orderflow_shared::ubl::Limits::default().max_bytes)]
        max_bytes: usize,
    },
    /// Run the bundled sample orders through the pipeline on embedded adapters.
    Demo {
        /// Folder of UBL samples (`*.xml`, plus `malformed/`).
        #[arg(long, default_value = demo::DEFAULT_ORDERS)]
        orders: PathBuf,
        /// Where the embedded bucket and outputs are written (emptied first).
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
    },
    /// The orders pending queue: what the queue reader could not deliver.
    Pending {
        #[command(subcommand)]
        action: dead_letters::Action,
        #[arg(long, env = "PENDING_QUEUE_URL")]
        queue_url: String,
        /// Where redriven messages go.
        #[arg(long, env = "ORDERS_QUEUE_URL")]
        to: String,
    },
    /// The ERP dead-letter queue: orders the ERP refused; replay them once fixed.
    Replay {
        #[command(subcommand)]
        action: dead_letters::Action,
        #[arg(long, env = "ERP_DLQ_URL")]
        queue_url: String,
        #[arg(long, env = "ERP_SYNC_QUEUE_URL")]
        to: String,
    },
    /// Serve the Orders API on localhost, with the pipeline running behind it.
    Serve {
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// A key clients must send as `x-api-key` (repeatable).
        #[arg(long = "api-key", env = "ORDERFLOW_API_KEYS", value_delimiter = ',')]
        api_keys: Vec<String>,
        /// Where the embedded bucket is kept.
        #[arg(long, default_value = "out/serve")]
        state: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    orderflow_shared::telemetry::silence_metrics();
    let result = match Cli::parse().command {
        Command::Convert { file, max_bytes } => convert::run(&file, max_bytes),
        Command::Demo { orders, out } => demo::run(&orders, &out).await,
        Command::Pending { action, queue_url, to } => {
            dead_letters::run(action, dead_letters::Queues { dead_letters: queue_url, target: to }).await
        }
        Command::Replay { action, queue_url, to } => {
            dead_letters::run(action, dead_letters::Queues { dead_letters: queue_url, target: to }).await
        }
        Command::Serve { port, api_keys, state } => serve::run(port, api_keys, &state).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("orderflow: {message}");
            ExitCode::FAILURE
        }
    }
}
