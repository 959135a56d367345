//! In-process apps store (the [`AppStore`] port), for `orderflow serve`, the demo and tests.
//! Kept in a file ([`MemoryAppStore::kept_in`]), an operator's `orderflow apps` changes reach a
//! running `serve` the way a table write reaches the functions.

use std::path::PathBuf;
use std::sync::Mutex;

use super::object_store::write_then_rename;
use crate::apps::registry::RegistryFile;
use crate::apps::{Record, Registry};
use crate::error::PortError;
use crate::ports::{AppStore, CHANGED_SINCE_READ};

#[derive(Debug, Default)]
pub struct MemoryAppStore {
    registry: Mutex<Registry>,
    /// Read at every load and written whole at every save, when kept.
    file: Option<PathBuf>,
}

impl MemoryAppStore {
    pub fn new(registry: Registry) -> Self {
        Self { registry: Mutex::new(registry), file: None }
    }

    /// The registry in `file`; `seed` written there first when the file does not exist yet.
    pub fn kept_in(file: PathBuf, seed: impl FnOnce() -> Result<Registry, String>) -> Result<Self, PortError> {
        let store = Self { registry: Mutex::new(Registry::default()), file: Some(file.clone()) };
        if !file.exists() {
            let registry = seed().map_err(|e| PortError::permanent("seed_apps", e))?;
            store.write(&registry)?;
        }
        let registry = store.read()?;
        *store.registry.lock().expect("apps lock") = registry;
        Ok(store)
    }

    fn read(&self) -> Result<Registry, PortError> {
        let Some(file) = &self.file else {
            return Ok(self.registry.lock().expect("apps lock").clone());
        };
        let bytes =
            std::fs::read(file).map_err(|e| PortError::transient("load_apps", format!("{}: {e}", file.display())))?;
        let parsed: RegistryFile = serde_json::from_slice(&bytes)
            .map_err(|e| PortError::permanent("load_apps", format!("{}: {e}", file.display())))?;
        Ok(parsed.into())
    }

    fn write(&self, registry: &Registry) -> Result<(), PortError> {
        let Some(file) = &self.file else { return Ok(()) };
        let body = serde_json::to_vec_pretty(&RegistryFile::from(registry)).expect("registry serialises");
        let dir = file.parent().map(PathBuf::from).unwrap_or_default();
        let tmp = dir.join(format!(".apps.{}.tmp", std::process::id()));
        write_then_rename(&dir, &tmp, file, &body)
            .map_err(|e| PortError::transient("save_apps", format!("{}: {e}", file.display())))
    }
}

impl AppStore for MemoryAppStore {
    async fn load(&self) -> Result<Registry, PortError> {
        let registry = self.read()?;
        *self.registry.lock().expect("apps lock") = registry.clone();
        Ok(registry)
    }

    async fn save(&self, records: &[Record]) -> Result<(), PortError> {
        let mut registry = self.read()?;
        for record in records {
            if registry.stored_revision(record) != record.revision() {
                return Err(PortError::permanent("save_apps", format!("{}: {CHANGED_SINCE_READ}", record.key())));
            }
        }
        registry.apply(records);
        // Written before the memory moves on: a save that did not reach the file did not happen.
        self.write(&registry)?;
        *self.registry.lock().expect("apps lock") = registry;
        Ok(())
    }
}
