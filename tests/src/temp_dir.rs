//! A directory of one test's own under the temporary directory, removed with whatever is in it
//! when its guard is dropped, however the test ends: the crash tests alone build hundreds of
//! pipelines, each with a bucket directory, and left them all behind.

use std::path::{Path, PathBuf};

pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory named after `prefix` and [`crate::unique`].
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(crate::unique(&format!("orderflow-{prefix}")));
        std::fs::create_dir_all(&path).expect("create the test's directory");
        Self(path)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
