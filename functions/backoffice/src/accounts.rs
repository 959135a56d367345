//! The local accounts file of `orderflow serve`: user name, group, and an Argon2id hash of the
//! password in PHC form. `orderflow account add` writes it; nothing stores a password itself.

use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::identity::{Identity, Role};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub name: String,
    pub role: Role,
    /// `$argon2id$v=19$…`
    pub password_hash: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    pub accounts: Vec<Account>,
}

impl Accounts {
    /// The file at `path`; a missing file is no accounts (nobody can sign in yet).
    pub fn load(path: &Path) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Adds or replaces the account `name` with a new hash of `password`.
    pub fn set(&mut self, name: &str, role: Role, password: &str) -> Result<(), String> {
        if name.is_empty() || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!("account name {name:?}: one word, no spaces"));
        }
        if password.chars().count() < 12 {
            return Err("a password needs at least 12 characters".into());
        }
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| e.to_string())?;
        let account = Account { name: name.to_owned(), role, password_hash: hash.to_string() };
        self.accounts.retain(|a| a.name != name);
        self.accounts.push(account);
        Ok(())
    }

    /// The identity of `name` when `password` is theirs. An unknown name costs a hash as well,
    /// so the answer's time does not tell which names exist.
    pub fn verify(&self, name: &str, password: &str) -> Option<Identity> {
        let account = self.accounts.iter().find(|a| a.name == name);
        let hash = account.map_or(DUMMY_HASH, |a| a.password_hash.as_str());
        let parsed = PasswordHash::new(hash).ok()?;
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        account.filter(|_| ok).map(|a| Identity { name: a.name.clone(), role: a.role })
    }
}

/// The Argon2id hash of a random password nobody knows, verified against for unknown names.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2S3BaTcK+EMmHfvjdSBJ1a6PkEm8fSMv1LqaMgLH0Ts";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_for_its_account_and_the_file_holds_no_password() {
        let mut accounts = Accounts::default();
        accounts.set("ana", Role::Operator, "correct horse battery").unwrap();
        accounts.set("vic", Role::Viewer, "another long secret").unwrap();
        assert_eq!(accounts.verify("ana", "correct horse battery").map(|i| i.role), Some(Role::Operator));
        assert_eq!(accounts.verify("ana", "another long secret"), None);
        assert_eq!(accounts.verify("nobody", "correct horse battery"), None);
        let text = serde_json::to_string(&accounts).unwrap();
        assert!(text.contains("$argon2id$") && !text.contains("correct horse"), "{text}");
        assert!(accounts.set("short", Role::Viewer, "tiny").is_err());
    }
}
