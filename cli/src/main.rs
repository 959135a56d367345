//! `orderflow`: convert UBL orders, run the pipeline locally, and operate queues.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use orderflow_cli::{
    accounts, apps, bridge, config_dir, convert, dead_letters, demo, erp_doubles, serve, stats_backfill,
};

#[global_allocator]
static ALLOCATOR: orderflow_cli::Allocator = orderflow_cli::Allocator;

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
        /// Folder of UBL samples (`*.xml`, plus `malformed/`) [default: the samples built in].
        #[arg(long)]
        orders: Option<PathBuf>,
        /// Where the embedded bucket and outputs are written (emptied first).
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
        #[command(flatten)]
        config: LocalFiles,
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
    /// The shop-sync dead-letter queue: actions a shop refused, with its answer; replay them
    /// once fixed.
    ShopReplay {
        #[command(subcommand)]
        action: dead_letters::Action,
        #[arg(long, env = "SHOP_SYNC_DLQ_URL")]
        queue_url: String,
        #[arg(long, env = "SHOP_SYNC_QUEUE_URL")]
        to: String,
    },
    /// The portal's statistics for the days before its day counters existed: every order's
    /// history counted into the day items of the days before --before (default: today).
    StatsBackfill {
        #[arg(long, env = "ORDERS_TABLE")]
        table: String,
        /// The first day left to the live counts (YYYY-MM-DD).
        #[arg(long)]
        before: Option<String>,
    },
    /// Integration apps: versions, connections, promote, migrate, deprecate, env values
    /// (the local store in --state, or the apps table with --aws).
    Apps {
        #[command(flatten)]
        options: apps::Options,
    },
    /// Serve the Orders API on localhost, with the pipeline running behind it.
    Serve {
        #[command(flatten)]
        options: serve::Options,
        #[command(flatten)]
        config: LocalFiles,
    },
    /// Accounts of the back-office portal that `orderflow serve` signs in from.
    Account {
        #[command(subcommand)]
        action: AccountAction,
    },
    /// Run the local ERP and shop test servers (Business Central, SAP Business One, Shopify,
    /// WooCommerce, the B2B partner) on the ports `config/connections.local.json` expects.
    /// Catalogue and stock sync: ERP → staging → shop, on the local configuration
    /// (catalog.local.json; the doubles of `orderflow erp-doubles` by default).
    Sync {
        #[command(subcommand)]
        action: orderflow_cli::sync::Action,
        /// Folder of the configuration files [default: config/ here, else the built-in files].
        #[arg(long, global = true)]
        config_dir: Option<PathBuf>,
        /// Where the staging table and the request log are kept between runs.
        #[arg(long, global = true, default_value = "out/catalog")]
        state: PathBuf,
    },
    /// The local test servers: Business Central, SAP B1, Shopify, WooCommerce and a B2B partner.
    ErpDoubles {
        #[arg(long, default_value_t = 18080)]
        bc_port: u16,
        #[arg(long, default_value_t = 18081)]
        sap_port: u16,
        #[arg(long, default_value_t = 18090)]
        shopify_port: u16,
        #[arg(long, default_value_t = 18091)]
        woo_port: u16,
        #[arg(long, default_value_t = 18092)]
        partner_port: u16,
    },
}

#[derive(Subcommand)]
enum AccountAction {
    /// Add an account, or set its role and password anew; the password is read from standard
    /// input (one line, at least 12 characters) and stored as an Argon2id hash.
    Add {
        name: String,
        /// `viewers` (read) or `operators` (read and act).
        #[arg(long, value_parser = accounts::parse_role)]
        role: backoffice::identity::Role,
        /// The accounts file [default: console-accounts.json in serve's default --state folder].
        #[arg(long, default_value = "out/serve/console-accounts.json")]
        file: PathBuf,
    },
}

/// The local configuration files (app definitions, connections, their secrets and the
/// connectors' mappings), looked up as `config_dir` says.
#[derive(clap::Args)]
struct LocalFiles {
    /// Folder of the configuration files [default: config/ in the working directory if there is
    /// one, else the files built into orderflow].
    #[arg(long)]
    config_dir: Option<PathBuf>,
    /// Connections file, instead of the configuration folder's connections.local.json (read
    /// once into the state folder's apps.json by `serve`).
    #[arg(long)]
    connections: Option<PathBuf>,
    /// A flat JSON object of `local:<name>` secret values, instead of local-secrets.json.
    #[arg(long)]
    secrets: Option<PathBuf>,
}

impl LocalFiles {
    fn locate(self) -> Result<bridge::LocalConfig, String> {
        Ok(bridge::LocalConfig {
            dir: config_dir::ConfigDir::locate(self.config_dir.as_deref())?,
            connections: self.connections,
            secrets: self.secrets,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    orderflow_shared::telemetry::silence_metrics();
    let cli = Cli::parse();
    // Before any command: a bad file of extra authorities stops here, not at the first call out.
    if let Err(untrusted) = orderflow_shared::http_client::check_extra_authorities() {
        eprintln!("orderflow: {untrusted}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Convert { file, max_bytes } => convert::run(&file, max_bytes),
        Command::Demo { orders, out, config } => {
            async { demo::run(orders.as_deref(), &out, &config.locate()?).await }.await
        }
        Command::Pending { action, queue_url, to } => {
            dead_letters::run(action, dead_letters::Queues { dead_letters: queue_url, target: to }).await
        }
        Command::Replay { action, queue_url, to } | Command::ShopReplay { action, queue_url, to } => {
            dead_letters::run(action, dead_letters::Queues { dead_letters: queue_url, target: to }).await
        }
        Command::StatsBackfill { table, before } => stats_backfill::run(&table, before).await,
        Command::Apps { options } => apps::run(options).await,
        Command::Serve { options, config } => async { serve::run(options, config.locate()?).await }.await,
        Command::Account { action: AccountAction::Add { name, role, file } } => {
            accounts::add(&file, &name, role, std::io::stdin().lock())
        }
        Command::Sync { action, config_dir, state } => {
            async {
                let dir = config_dir::ConfigDir::locate(config_dir.as_deref())?;
                orderflow_cli::sync::run(action, &orderflow_cli::sync::Local { dir, state }).await
            }
            .await
        }
        Command::ErpDoubles { bc_port, sap_port, shopify_port, woo_port, partner_port } => {
            let ports = erp_doubles::Ports {
                bc: bc_port,
                sap: sap_port,
                shopify: shopify_port,
                woo: woo_port,
                partner: partner_port,
            };
            erp_doubles::run(ports).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("orderflow: {message}");
            ExitCode::FAILURE
        }
    }
}
