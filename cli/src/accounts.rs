//! `orderflow account add`: an account of the back-office portal that `orderflow serve` signs
//! in from. The password is read from standard input (one line), never from the command line,
//! where it would be left in the shell history and the process list.

use std::io::BufRead;
use std::path::Path;

use backoffice::accounts::Accounts;
use backoffice::identity::Role;

/// Where `serve` looks for the accounts, inside its `--state` folder.
pub const DEFAULT_FILE: &str = "console-accounts.json";

/// The role names the command takes: the user pool's group names.
pub fn parse_role(text: &str) -> Result<Role, String> {
    Role::from_groups([text]).ok_or_else(|| format!("role {text:?}: viewers or operators"))
}

pub fn add(file: &Path, name: &str, role: Role, input: impl BufRead) -> Result<(), String> {
    let password = input.lines().next().transpose().map_err(|e| e.to_string())?.unwrap_or_default();
    let mut accounts = Accounts::load(file)?;
    accounts.set(name, role, password.trim_end_matches(['\r', '\n']))?;
    accounts.save(file)?;
    println!("orderflow: account {name} ({}) saved in {}", role.group(), file.display());
    Ok(())
}
