//! A directory of one test's own under the temporary directory, removed with whatever is in it
//! when its guard is dropped, however the test ends. For the tests of every crate (the
//! reliability suite builds a pipeline, each with a bucket directory, per effect it crashes
//! after); no tempfile dependency needed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A name no other test uses, in this process or another (or in an earlier run against the same
/// moto): `<prefix>-<process>-<time>-<count>`.
pub fn unique(prefix: &str) -> String {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{nanos:x}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed))
}

pub struct TestDir(PathBuf);

impl TestDir {
    /// A new, empty directory, `orderflow-<name>-…` named by [`unique`].
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(unique(&format!("orderflow-{name}")));
        std::fs::create_dir_all(&path).expect("create test dir");
        Self(path)
    }
}

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

/// So a guard goes where a path is asked for (`std::fs::read_dir(&dir)`).
impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::TestDir;

    #[test]
    fn the_directory_goes_with_its_guard_contents_and_all() {
        let dir = TestDir::new("test-dir");
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/c.txt"), "x").unwrap();
        let path = dir.to_path_buf();
        assert!(path.join("a/b/c.txt").is_file());
        drop(dir);
        assert!(!path.exists(), "{} is still there", path.display());
    }

    #[test]
    fn two_guards_never_share_a_directory() {
        let (a, b) = (TestDir::new("test-dir"), TestDir::new("test-dir"));
        assert_ne!(&*a, &*b);
        assert!(a.is_dir() && b.is_dir());
    }
}
