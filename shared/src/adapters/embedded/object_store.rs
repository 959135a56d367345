//! `ObjectStore` on a local directory: key `incoming/a.xml` is the file `<root>/incoming/a.xml`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::io::Write;

use crate::error::PortError;
use crate::ports::ObjectStore;

/// Directory under the root that holds in-progress writes. It is on the same filesystem as
/// every object, so the final rename is atomic, and it is hidden from `list` and reserved.
const TMP_DIR: &str = ".tmp";

/// Distinguishes temp files of concurrent writes within this process (the pid covers others).
static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Objects as files under `root`. The content type is not stored: files have none.
#[derive(Debug, Clone)]
pub struct DirObjectStore {
    root: PathBuf,
}

impl DirObjectStore {
    /// Does not touch the disk; directories are created by the first write.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, operation: &'static str, key: &str) -> Result<PathBuf, PortError> {
        validate_key(operation, key)?;
        Ok(self.root.join(key))
    }

    async fn read(&self, operation: &'static str, key: &str) -> Result<Vec<u8>, PortError> {
        let path = self.path_of(operation, key)?;
        tokio::fs::read(&path).await.map_err(|e| match e.kind() {
            // A "directory" in S3 terms is only a prefix: no object by that name.
            io::ErrorKind::NotFound | io::ErrorKind::IsADirectory | io::ErrorKind::NotADirectory => {
                PortError::not_found(operation, format!("no object {key}"))
            }
            _ => io_error(operation, key, &e),
        })
    }

    /// Writes a temp file, syncs it, then renames it over the key: readers and crashes see
    /// the old object or the whole new one, never a part.
    async fn write(&self, operation: &'static str, key: &str, body: Vec<u8>) -> Result<(), PortError> {
        let path = self.path_of(operation, key)?;
        let tmp_dir = self.root.join(TMP_DIR);
        let tmp = tmp_dir.join(format!("{}-{}", std::process::id(), TMP_SEQ.fetch_add(1, Ordering::Relaxed)));
        // One blocking task for the whole sequence instead of a thread hop per step.
        let result = tokio::task::spawn_blocking(move || {
            let result = write_then_rename(&tmp_dir, &tmp, &path, &body);
            if result.is_err() {
                // Best effort: a leftover temp file is invisible to readers anyway.
                let _ = std::fs::remove_file(&tmp);
            }
            result
        })
        .await
        .map_err(|e| PortError::transient(operation, format!("{key}: write task failed: {e}")))?;
        result.map_err(|e| match e.kind() {
            // S3 allows both `a` and `a/b`; a directory tree cannot hold both.
            io::ErrorKind::IsADirectory | io::ErrorKind::NotADirectory | io::ErrorKind::AlreadyExists => {
                PortError::permanent(operation, format!("{key} collides with an object or prefix: {e}"))
            }
            _ => io_error(operation, key, &e),
        })
    }
}

/// Writes `body` to `tmp` in `tmp_dir`, syncs it and renames it to `path`: a reader or a
/// crash sees the old file or the whole new one. Missing directories are created.
pub(super) fn write_then_rename(tmp_dir: &Path, tmp: &Path, path: &Path, body: &[u8]) -> io::Result<()> {
    let mut file = in_dir(tmp_dir, || std::fs::File::create(tmp))?;
    file.write_all(body)?;
    file.sync_all()?;
    drop(file);
    match path.parent() {
        Some(parent) => in_dir(parent, || std::fs::rename(tmp, path)),
        None => std::fs::rename(tmp, path),
    }
}

/// Runs `op`, creating `dir` and trying once more only when `op` finds something missing.
/// After the first write the directories exist, so a write costs no `mkdir` and `stat` each.
fn in_dir<T>(dir: &Path, op: impl Fn() -> io::Result<T>) -> io::Result<T> {
    match op() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)?;
            op()
        }
        result => result,
    }
}

impl ObjectStore for DirObjectStore {
    async fn get(&self, key: &str) -> Result<Vec<u8>, PortError> {
        self.read("get", key).await
    }

    async fn put(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<(), PortError> {
        self.write("put", key, body).await
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), PortError> {
        validate_key("copy", to)?;
        let body = self.read("copy", from).await?;
        self.write("copy", to, body).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, PortError> {
        // Walk only the directory the prefix names; the rest of the prefix filters by string,
        // as S3 prefixes are not directories ("incoming/a" matches "incoming/ab.xml").
        let dir_part = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        if dir_part.split('/').next() == Some(TMP_DIR) {
            return Ok(Vec::new());
        }
        if !dir_part.is_empty() {
            validate_key("list", dir_part)?;
        }
        let mut keys = Vec::new();
        let mut pending = vec![(self.root.join(dir_part), dir_part.to_owned())];
        while let Some((dir, dir_key)) = pending.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(entries) => entries,
                Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
                    continue;
                }
                Err(e) => return Err(io_error("list", prefix, &e)),
            };
            while let Some(entry) = entries.next_entry().await.map_err(|e| io_error("list", prefix, &e))? {
                // Names that are not UTF-8 cannot have been written through this store.
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                if dir_key.is_empty() && name == TMP_DIR {
                    continue;
                }
                let key = if dir_key.is_empty() { name } else { format!("{dir_key}/{name}") };
                let file_type = entry.file_type().await.map_err(|e| io_error("list", prefix, &e))?;
                if file_type.is_dir() {
                    pending.push((entry.path(), key));
                } else if file_type.is_file() && key.starts_with(prefix) {
                    keys.push(key);
                }
            }
        }
        keys.sort_unstable();
        Ok(keys)
    }
}

/// Accepts only keys that map to a path strictly inside the root, one way: no `..`, no
/// absolute paths, no backslashes (a separator on Windows), no empty or `.` segments (which
/// would make two keys one file), and not the reserved temp directory.
fn validate_key(operation: &'static str, key: &str) -> Result<(), PortError> {
    let reason = if key.is_empty() {
        Some("is empty")
    } else if key.contains('\\') {
        Some("contains a backslash")
    } else if key.contains('\0') {
        Some("contains a NUL byte")
    } else if key.starts_with('/') {
        Some("is absolute")
    } else if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        Some("has an empty, `.` or `..` segment")
    } else if key.split('/').next() == Some(TMP_DIR) {
        Some("is in the reserved temp directory")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(PortError::permanent(operation, format!("invalid key {key:?}: {reason}"))),
        None => Ok(()),
    }
}

fn io_error(operation: &'static str, key: &str, e: &io::Error) -> PortError {
    let message = format!("{key}: {e}");
    match e.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidFilename => {
            PortError::permanent(operation, message)
        }
        _ => PortError::transient(operation, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Retry;
    use crate::test_dir::TestDir;

    fn store(dir: &TestDir) -> DirObjectStore {
        DirObjectStore::new(&**dir)
    }

    #[tokio::test]
    async fn put_then_get_returns_the_body_at_the_mapped_path() {
        let dir = TestDir::new("dirstore-roundtrip");
        let store = store(&dir);
        store.put("incoming/a.xml", b"<Order/>".to_vec(), "application/xml").await.unwrap();
        assert_eq!(store.get("incoming/a.xml").await.unwrap(), b"<Order/>");
        assert_eq!(std::fs::read(dir.join("incoming/a.xml")).unwrap(), b"<Order/>");
    }

    #[tokio::test]
    async fn put_replaces_an_existing_object_and_leaves_no_temp_file_behind() {
        let dir = TestDir::new("dirstore-atomic");
        let store = store(&dir);
        store.put("k.json", b"old, and longer than the new body".to_vec(), "application/json").await.unwrap();
        store.put("k.json", b"new".to_vec(), "application/json").await.unwrap();
        assert_eq!(store.get("k.json").await.unwrap(), b"new");
        let leftovers = std::fs::read_dir(dir.join(TMP_DIR)).unwrap().count();
        assert_eq!(leftovers, 0);
    }

    #[tokio::test]
    async fn failed_put_keeps_the_previous_object_whole() {
        let dir = TestDir::new("dirstore-failed-put");
        let store = store(&dir);
        store.put("a", b"first".to_vec(), "text/plain").await.unwrap();
        // `a` is a file, so `a/b` cannot be created: the write fails after the temp file exists.
        let err = store.put("a/b", b"second".to_vec(), "text/plain").await.unwrap_err();
        assert_eq!(err.retry, Retry::Permanent);
        assert_eq!(store.get("a").await.unwrap(), b"first");
        assert_eq!(std::fs::read_dir(dir.join(TMP_DIR)).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn get_of_a_missing_key_is_not_found() {
        let dir = TestDir::new("dirstore-missing");
        let err = store(&dir).get("incoming/none.xml").await.unwrap_err();
        assert!(err.not_found);
        assert_eq!(err.retry, Retry::Permanent);
    }

    #[tokio::test]
    async fn get_of_a_prefix_is_not_found() {
        let dir = TestDir::new("dirstore-prefix-get");
        let store = store(&dir);
        store.put("incoming/a.xml", b"x".to_vec(), "application/xml").await.unwrap();
        assert!(store.get("incoming").await.unwrap_err().not_found);
    }

    #[tokio::test]
    async fn keys_that_escape_the_root_are_rejected_as_permanent() {
        let dir = TestDir::new("dirstore-escape");
        let store = store(&dir);
        for key in ["../outside", "a/../../outside", "/etc/passwd", "a\\..\\b", "", "a//b", "./a", "a/", ".tmp/x"] {
            let err = store.put(key, b"x".to_vec(), "text/plain").await.unwrap_err();
            assert_eq!(err.retry, Retry::Permanent, "key {key:?}");
            assert!(!err.not_found, "key {key:?}");
            assert!(store.get(key).await.is_err(), "key {key:?}");
        }
        assert!(!dir.parent().unwrap().join("outside").exists());
        assert!(store.list("../").await.is_err());
    }

    #[tokio::test]
    async fn list_returns_matching_keys_sorted_with_slashes() {
        let dir = TestDir::new("dirstore-list");
        let store = store(&dir);
        for key in ["incoming/b.xml", "incoming/a.xml", "incoming/sub/c.xml", "incomings/x", "rejected/a.xml"] {
            store.put(key, b"x".to_vec(), "application/xml").await.unwrap();
        }
        assert_eq!(store.list("incoming/").await.unwrap(), ["incoming/a.xml", "incoming/b.xml", "incoming/sub/c.xml"]);
        assert_eq!(store.list("incoming").await.unwrap().len(), 4);
        assert_eq!(store.list("incoming/a").await.unwrap(), ["incoming/a.xml"]);
        assert_eq!(store.list("").await.unwrap().len(), 5);
    }

    #[tokio::test]
    async fn list_of_an_absent_prefix_or_root_is_empty() {
        let dir = TestDir::new("dirstore-list-empty");
        assert!(store(&dir).list("nothing/").await.unwrap().is_empty());
        assert!(DirObjectStore::new(dir.join("never-created")).list("").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn list_hides_in_progress_writes() {
        let dir = TestDir::new("dirstore-list-tmp");
        let store = store(&dir);
        std::fs::create_dir_all(dir.join(TMP_DIR)).unwrap();
        std::fs::write(dir.join(TMP_DIR).join("1-0"), b"half").unwrap();
        store.put("a", b"x".to_vec(), "text/plain").await.unwrap();
        assert_eq!(store.list("").await.unwrap(), ["a"]);
        assert!(store.list(".tmp/").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn copy_duplicates_the_bytes_and_keeps_the_source() {
        let dir = TestDir::new("dirstore-copy");
        let store = store(&dir);
        let body = b"\xEF\xBB\xBF<Order>\r\n</Order>".to_vec();
        store.put("incoming/a.xml", body.clone(), "application/xml").await.unwrap();
        store.copy("incoming/a.xml", "rejected/a.xml").await.unwrap();
        assert_eq!(store.get("rejected/a.xml").await.unwrap(), body);
        assert_eq!(store.get("incoming/a.xml").await.unwrap(), body);
    }

    #[tokio::test]
    async fn copy_of_a_missing_source_is_not_found_and_writes_nothing() {
        let dir = TestDir::new("dirstore-copy-missing");
        let store = store(&dir);
        let err = store.copy("incoming/none.xml", "rejected/none.xml").await.unwrap_err();
        assert!(err.not_found);
        assert!(store.list("").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn copy_to_an_escaping_key_is_rejected_even_when_the_source_is_missing() {
        let dir = TestDir::new("dirstore-copy-escape");
        let err = store(&dir).copy("none", "../outside").await.unwrap_err();
        assert!(!err.not_found);
        assert_eq!(err.retry, Retry::Permanent);
    }
}
