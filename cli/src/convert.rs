//! `orderflow convert FILE`.

use std::io::Write;
use std::path::Path;

use orderflow_shared::ubl::{self, Limits};

pub fn run(file: &Path, max_bytes: usize) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let limits = Limits { max_bytes, ..Limits::default() };
    let order = ubl::parse_order(&bytes, &limits).map_err(|e| format!("{}: {} ({})", file.display(), e, e.code()))?;
    let json = serde_json::to_string_pretty(&order).expect("canonical order serialises");
    writeln!(std::io::stdout().lock(), "{json}").map_err(|e| format!("stdout: {e}"))
}
