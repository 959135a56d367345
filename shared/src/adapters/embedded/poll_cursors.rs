//! In-process poll cursors (the [`PollCursors`] port), for `orderflow serve`, the demo and tests.
//! Kept in a file ([`MemoryPollCursors::kept_in`]), they outlive a restart the way the
//! DynamoDB cursor table outlives a redeploy: `serve` keeps them in its `--state` folder.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::object_store::write_then_rename;
use crate::error::PortError;
use crate::poll::Cursor;
use crate::ports::{CursorSave, PollCursors, StoredCursor};

#[derive(Debug, Default)]
pub struct MemoryPollCursors {
    cursors: Mutex<BTreeMap<String, StoredCursor>>,
    /// Where every save is written, whole (a temporary file renamed over it), when kept.
    file: Option<PathBuf>,
}

impl MemoryPollCursors {
    pub fn new() -> Self {
        Self::default()
    }

    /// The cursors in `file` (none while it does not exist), written back at every save.
    pub fn kept_in(file: PathBuf) -> Result<Self, PortError> {
        let cursors = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| PortError::permanent("load_cursors", format!("{}: {e}", file.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(PortError::transient("load_cursors", format!("{}: {e}", file.display()))),
        };
        Ok(Self { cursors: Mutex::new(cursors), file: Some(file) })
    }
}

impl PollCursors for MemoryPollCursors {
    async fn load(&self, source: &str) -> Result<StoredCursor, PortError> {
        let cursors = self.cursors.lock().expect("poll cursors lock");
        Ok(cursors.get(source).cloned().unwrap_or(StoredCursor { cursor: Cursor::default(), version: 0 }))
    }

    async fn save(&self, source: &str, cursor: &Cursor, expected: u64) -> Result<CursorSave, PortError> {
        let mut cursors = self.cursors.lock().expect("poll cursors lock");
        let stored = cursors.get(source);
        let version = stored.map_or(0, |s| s.version);
        let high_water = stored.map_or(0, |s| s.cursor.high_water_ms);
        if version != expected || high_water > cursor.high_water_ms {
            return Ok(CursorSave::Superseded);
        }
        let mut next = cursors.clone();
        next.insert(source.to_owned(), StoredCursor { cursor: cursor.clone(), version: expected + 1 });
        if let Some(file) = &self.file {
            // Written before the memory moves on: a save that did not reach the file did not happen.
            let body = serde_json::to_vec_pretty(&next).expect("cursors serialise");
            let dir = file.parent().map(PathBuf::from).unwrap_or_default();
            let tmp = dir.join(format!(".{}.tmp", std::process::id()));
            write_then_rename(&dir, &tmp, file, &body)
                .map_err(|e| PortError::transient("save_cursor", format!("{}: {e}", file.display())))?;
        }
        *cursors = next;
        Ok(CursorSave::Saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[tokio::test]
    async fn cursors_kept_in_a_file_are_there_after_a_restart_and_stay_conditional() {
        let dir = TestDir::new("cursors");
        let file = dir.join("poll-cursors.json");
        let cursor = Cursor { high_water_ms: 1_700_000_000_000, seen: [("1201".to_owned(), 1_700_000_000_000)].into() };
        let first = MemoryPollCursors::kept_in(file.clone()).unwrap();
        assert_eq!(first.load("woocommerce").await.unwrap().version, 0);
        assert_eq!(first.save("woocommerce", &cursor, 0).await.unwrap(), CursorSave::Saved);
        drop(first);

        let restarted = MemoryPollCursors::kept_in(file.clone()).unwrap();
        let loaded = restarted.load("woocommerce").await.unwrap();
        assert_eq!(loaded, StoredCursor { cursor: cursor.clone(), version: 1 });
        // The version read before the restart is stale now.
        assert_eq!(restarted.save("woocommerce", &cursor, 0).await.unwrap(), CursorSave::Superseded);
    }

    #[test]
    fn a_cursor_file_that_is_not_json_is_an_error_naming_it() {
        let dir = TestDir::new("bad-cursors");
        let file = dir.join("poll-cursors.json");
        std::fs::write(&file, "not json").unwrap();
        let error = MemoryPollCursors::kept_in(file.clone()).unwrap_err();
        assert!(error.to_string().contains(&file.display().to_string()), "{error}");
    }
}
