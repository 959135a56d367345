//! `orderflow`: convert UBL orders, run the pipeline locally, and operate queues.

mod convert;
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
