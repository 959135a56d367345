//! `orderflow sync`: catalogue and stock sync from the command line, on the local
//! configuration (`catalog.local.json`, the ERP connectors and shops files, local secrets:
//! by default the doubles `orderflow erp-doubles` runs) and an embedded staging table kept in a
//! folder between runs (`--state`, default `out/catalog`), with its request log beside it.
//!
//! - `sync run [--pull|--push] [--dry-run]`: one run; progress on stderr, the summary on
//!   stdout. `--dry-run` pulls into a scratch copy of staging and lists what would be sent,
//!   touching neither the shop nor the saved staging.
//! - `sync status`: the latest runs and the SKUs waiting.
//! - `sync exceptions`: the SKUs the shop refused, with the reason, one per line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use orderflow_shared::adapters::embedded::{MemoryAuditLog, MemoryStaging};
use orderflow_shared::catalog::assemble::build;
use orderflow_shared::catalog::{CatalogConfig, CatalogSync, Phase, RunSummary, StagingStore, push};
use orderflow_shared::ports::SystemClock;

use crate::bridge::LocalConfig;
use crate::config_dir::{CATALOG, ConfigDir};

#[derive(clap::Subcommand)]
pub enum Action {
    /// Pull from the ERP into staging and push what changed to the shop.
    Run {
        /// Only the pull (ERP → staging).
        #[arg(long, conflicts_with = "push")]
        pull: bool,
        /// Only the push (staging → shop).
        #[arg(long)]
        push: bool,
        /// List what would be sent; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The latest runs and how many SKUs wait to be pushed.
    Status,
    /// The SKUs the shop refused, with its reasons.
    Exceptions,
}

pub struct Local {
    pub dir: ConfigDir,
    pub state: PathBuf,
}

const STAGING_FILE: &str = "staging.json";
const LOG_FILE: &str = "requests.jsonl";

fn load(state: &Path) -> Result<MemoryStaging, String> {
    match std::fs::read_to_string(state.join(STAGING_FILE)) {
        Ok(text) => MemoryStaging::from_json(&text).map_err(|e| format!("{}: {e}", state.join(STAGING_FILE).display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(MemoryStaging::default()),
        Err(e) => Err(format!("{}: {e}", state.join(STAGING_FILE).display())),
    }
}

/// Written to a temporary file first, so a run stopped mid-write leaves the previous table.
fn save(state: &Path, staging: &MemoryStaging, log: &MemoryAuditLog) -> Result<(), String> {
    std::fs::create_dir_all(state).map_err(|e| format!("{}: {e}", state.display()))?;
    let temporary = state.join(format!("{STAGING_FILE}.tmp"));
    std::fs::write(&temporary, staging.to_json()).map_err(|e| format!("{}: {e}", temporary.display()))?;
    std::fs::rename(&temporary, state.join(STAGING_FILE)).map_err(|e| format!("{}: {e}", state.display()))?;
    let mut lines = String::new();
    for exchange in log.exchanges() {
        lines.push_str(&serde_json::to_string(&exchange).expect("JSON serialises"));
        lines.push('\n');
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(state.join(LOG_FILE))
        .map_err(|e| format!("{}: {e}", state.join(LOG_FILE).display()))?;
    file.write_all(lines.as_bytes()).map_err(|e| format!("{}: {e}", state.join(LOG_FILE).display()))
}

fn summary_line(s: &RunSummary) -> String {
    let mut line = format!(
        "{} {}: read {}, changed {}, pushed {}, refused {}, failed {}, invalid {}; {} shop calls, {} staging writes, {} ms",
        s.run_id,
        s.phase,
        s.read,
        s.changed,
        s.pushed,
        s.refused,
        s.failed,
        s.invalid,
        s.shop_calls,
        s.items_written,
        s.duration_ms
    );
    if let Some(error) = &s.error {
        line.push_str(&format!("; stopped: {error}"));
    }
    line
}

pub async fn run(action: Action, local: &Local) -> Result<(), String> {
    let staging = load(&local.state)?;
    match action {
        Action::Status => {
            let dirty = count_dirty(&staging).await?;
            let checkpoint = staging.checkpoint().await.map_err(|e| e.message)?;
            println!(
                "{dirty} SKUs wait to be pushed; {} refused",
                staging.refused().await.map_err(|e| e.message)?.len()
            );
            if let Some(c) = checkpoint {
                println!("an unfinished push ({}) will resume: {} SKUs pushed so far", c.run_id, c.pushed);
            }
            for summary in staging.runs(10).await.map_err(|e| e.message)? {
                println!("{}", summary_line(&summary));
            }
            Ok(())
        }
        Action::Exceptions => {
            let refused = staging.refused().await.map_err(|e| e.message)?;
            if refused.is_empty() {
                println!("no exceptions");
            }
            for item in refused {
                println!("{}\t{}", item.sku(), item.refusal.as_deref().unwrap_or("refused"));
            }
            Ok(())
        }
        Action::Run { pull, push: push_only, dry_run } => {
            let phase = match (pull, push_only) {
                (true, _) => Phase::Pull,
                (_, true) => Phase::Push,
                _ => Phase::Both,
            };
            sync_run(local, staging, phase, dry_run).await
        }
    }
}

async fn count_dirty(staging: &MemoryStaging) -> Result<usize, String> {
    Ok(staging.dirty(None, usize::MAX).await.map_err(|e| e.message)?.len())
}

async fn sync_run(local: &Local, staging: MemoryStaging, phase: Phase, dry_run: bool) -> Result<(), String> {
    let config = CatalogConfig::from_json(&local.dir.read(CATALOG, None)?)?;
    let local_config = LocalConfig { dir: local.dir.clone(), connections: None, secrets: None };
    let runtime = local_config.runtime(&[])?;
    let secrets = local_config.secrets_by_reference()?;
    let built = build(&config, &runtime, &secrets, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
    let log = MemoryAuditLog::default();
    let progress = |phase: &str, n: u64| eprint!("\r{phase}: {n} items");
    if dry_run {
        // A scratch copy: the saved table stays as it was.
        let scratch = MemoryStaging::from_json(&staging.to_json())?;
        if phase != Phase::Push {
            let sync = CatalogSync {
                store: scratch.clone(),
                log: log.clone(),
                erp: built.erp,
                shop: built.shop,
                clock: Arc::new(SystemClock),
            };
            let summary = sync.run(Phase::Pull, &built.settings, &progress).await.map_err(|e| e.to_string())?;
            eprintln!();
            if let Some(error) = summary.error {
                return Err(error);
            }
        }
        let lines = push::plan(&scratch, &built.settings.options).await.map_err(|e| e.to_string())?;
        println!("dry run: {} SKUs would be sent to {}", lines.len(), config.shop);
        for line in lines {
            println!("{line}");
        }
        return Ok(());
    }
    let sync = CatalogSync {
        store: staging.clone(),
        log: log.clone(),
        erp: built.erp,
        shop: built.shop,
        clock: Arc::new(SystemClock),
    };
    let result = sync.run(phase, &built.settings, &progress).await;
    eprintln!();
    save(&local.state, &staging, &log)?;
    let summary = result.map_err(|e| e.to_string())?;
    println!("{}", summary_line(&summary));
    match summary.error {
        Some(error) => Err(format!("the run stopped: {error}; the SKUs left dirty go with the next run")),
        None => Ok(()),
    }
}
