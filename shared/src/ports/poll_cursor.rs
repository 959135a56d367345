//! Where each poll source stands ([`Cursor`]), stored per source name.
//!
//! Writes are conditional on the version read, so of two overlapping runs (a slow run and the
//! next scheduled one) only the first to save wins; the other learns it was superseded and
//! stops. A save also never lowers the high water, whichever run makes it.

use std::future::Future;

use crate::error::PortError;
use crate::poll::Cursor;

/// A cursor as stored, with the version a save must match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredCursor {
    pub cursor: Cursor,
    /// 0 when the source was never polled (nothing stored).
    pub version: u64,
}

/// What became of a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorSave {
    /// Stored as version `expected + 1`.
    Saved,
    /// Another run saved first (or the high water would have gone down): nothing written.
    Superseded,
}

pub trait PollCursors: Send + Sync {
    /// The stored cursor of `source`, or version 0 with an empty cursor.
    fn load(&self, source: &str) -> impl Future<Output = Result<StoredCursor, PortError>> + Send;

    /// Stores `cursor` as version `expected + 1` if the stored version is `expected` and its
    /// high water is not above `cursor`'s.
    fn save(
        &self,
        source: &str,
        cursor: &Cursor,
        expected: u64,
    ) -> impl Future<Output = Result<CursorSave, PortError>> + Send;
}

impl<T: PollCursors> PollCursors for std::sync::Arc<T> {
    fn load(&self, source: &str) -> impl Future<Output = Result<StoredCursor, PortError>> + Send {
        (**self).load(source)
    }

    fn save(
        &self,
        source: &str,
        cursor: &Cursor,
        expected: u64,
    ) -> impl Future<Output = Result<CursorSave, PortError>> + Send {
        (**self).save(source, cursor, expected)
    }
}
