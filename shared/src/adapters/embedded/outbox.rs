//! `Mailer` as a folder: one `.eml` file per message, which any mail client opens.
//!
//! Files are written under a temporary name, synced and renamed, as objects are, so a reader
//! never sees half a message and a crash loses none that was sent.
//! Names start with the send time, so a listing is in sending order.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::object_store::write_then_rename;
use crate::email::Email;
use crate::error::PortError;
use crate::ports::{MailError, Mailer};

#[derive(Debug)]
pub struct OutboxMailer {
    dir: PathBuf,
    sent: AtomicU64,
}

impl OutboxMailer {
    /// The folder is created on the first send.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), sent: AtomicU64::new(0) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let fail = |e: std::io::Error| PortError::transient("write outbox email", e.to_string());
        let mime = email.to_mime();
        let stamp = crate::lifecycle::now_rfc3339().replace([':', '.'], "");
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        let digest = hex::encode(&Sha256::digest(&mime)[..6]);
        let id = format!("{stamp}-{n:04}-{digest}");
        let (tmp, path) = (self.dir.join(format!(".{id}.eml.tmp")), self.dir.join(format!("{id}.eml")));
        let dir = self.dir.clone();
        // One blocking task for the whole write instead of a thread hop per step; synced like
        // an object, so a message SES would have accepted survives a crash of `serve`.
        tokio::task::spawn_blocking(move || write_then_rename(&dir, &tmp, &path, &mime))
            .await
            .map_err(|e| PortError::transient("write outbox email", format!("write task failed: {e}")))?
            .map_err(fail)?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::EmailAddress;
    use crate::test_dir::TestDir;

    #[tokio::test]
    async fn each_send_is_one_complete_eml_file() {
        let dir = TestDir::new("outbox");
        let outbox = OutboxMailer::new(&*dir);
        let email = Email {
            from: "orders@example.com".into(),
            to: EmailAddress::parse("buyer@example.cl").unwrap(),
            subject: "Tu pedido PO-1 está en proceso".into(),
            html: "<p>Hola</p>".into(),
            text: "Hola".into(),
        };
        let first = outbox.send(&email).await.unwrap();
        let second = outbox.send(&email).await.unwrap();
        assert_ne!(first, second);
        let mut names: Vec<_> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, [format!("{first}.eml"), format!("{second}.eml")]);
        let eml = std::fs::read_to_string(dir.join(&names[0])).unwrap();
        assert!(eml.contains("To: <buyer@example.cl>") && eml.contains("multipart/alternative"), "{eml}");
    }
}
