//! An append-only file of JSON lines, so that an embedded store outlives its process: `serve`
//! keeps its orders and its recovery executions in one each, and replays them on the next start.
//!
//! Each entry is written and flushed before the caller changes its memory, so what the file
//! holds is never behind what was answered. A line cut short by a crash mid-write is the last
//! one, and is dropped on replay: its write was never answered as done.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens (or creates) the file at `path` and returns every whole entry in it, oldest first.
    pub fn open<T: DeserializeOwned>(path: &Path) -> io::Result<(Self, Vec<T>)> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut entries = Vec::new();
        if path.exists() {
            let lines: Vec<String> = BufReader::new(File::open(path)?).lines().collect::<Result<_, _>>()?;
            let last = lines.len().saturating_sub(1);
            for (i, line) in lines.iter().enumerate() {
                match serde_json::from_str(line) {
                    Ok(entry) => entries.push(entry),
                    Err(_) if i == last => {} // cut short by a crash
                    Err(e) => {
                        let why = format!("{} line {}: {e}", path.display(), i + 1);
                        return Err(io::Error::new(io::ErrorKind::InvalidData, why));
                    }
                }
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok((Self { path: path.to_owned(), file: Mutex::new(file) }, entries))
    }

    /// Writes one entry as a line and flushes it to the operating system, which keeps it
    /// whatever becomes of this process.
    pub fn append<T: Serialize>(&self, entry: &T) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&line)?;
        file.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn entries_come_back_in_order_and_a_line_cut_short_is_dropped() {
        let dir = TestDir::new("journal-cut");
        // In a directory not made yet, as a first start finds it.
        let path = dir.join("state/j.jsonl");
        let (journal, none) = Journal::open::<u32>(&path).unwrap();
        assert!(none.is_empty());
        for n in [1u32, 2, 3] {
            journal.append(&n).unwrap();
        }
        drop(journal);
        // A crash in the middle of the fourth write.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"[4").unwrap();
        let (_, entries) = Journal::open::<u32>(&path).unwrap();
        assert_eq!(entries, [1, 2, 3]);
    }

    #[test]
    fn a_damaged_line_before_the_last_is_an_error_naming_it() {
        let dir = TestDir::new("journal-damaged");
        let path = dir.join("j.jsonl");
        std::fs::write(&path, "1\nnot json\n3\n").unwrap();
        let err = Journal::open::<u32>(&path).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
