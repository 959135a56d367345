//! In-process poll cursors (the [`PollCursors`] port), for `orderflow serve`, the demo and tests.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::PortError;
use crate::poll::Cursor;
use crate::ports::{CursorSave, PollCursors, StoredCursor};

#[derive(Debug, Default)]
pub struct MemoryPollCursors {
    cursors: Mutex<HashMap<String, StoredCursor>>,
}

impl MemoryPollCursors {
    pub fn new() -> Self {
        Self::default()
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
        cursors.insert(source.to_owned(), StoredCursor { cursor: cursor.clone(), version: expected + 1 });
        Ok(CursorSave::Saved)
    }
}
