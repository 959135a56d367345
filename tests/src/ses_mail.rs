//! The mail moto's SES recorded, read back from `/moto-api/data.json`, and the little MIME
//! decoding the tests need to tell one message from another.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::moto_endpoint;

/// One message as moto's SES keeps it (`SendEmail` with raw content). moto's dump has no sender;
/// the MIME's `From` header names it.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub destinations: Vec<String>,
    /// The MIME message.
    pub raw: String,
}

/// Every message moto's SES recorded so far, from any test.
pub async fn sent() -> Vec<SentMail> {
    let url = format!("{}/moto-api/data.json", moto_endpoint());
    // moto's dump of every backend fails (500) while another test holds DynamoDB items it
    // cannot serialise; that passes, so ask again a bounded number of times.
    let mut answer = crate::http().get(&url).send().await.unwrap();
    for _ in 0..50 {
        if answer.status().is_success() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        answer = crate::http().get(&url).send().await.unwrap();
    }
    let data: Value = answer.error_for_status().unwrap().json().await.unwrap();
    // The dump always lists SES's models, RawMessage among them; without it the read failed,
    // and an empty list would let "nothing was sent" pass for the wrong reason.
    let raw =
        data["ses"]["RawMessage"].as_array().cloned().unwrap_or_else(|| panic!("moto's dump has no ses.RawMessage"));
    raw.iter()
        .map(|m| SentMail {
            destinations: m["destinations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect(),
            raw: m["raw_data"].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// The Subject header, with RFC 2047 encoded words decoded.
pub fn subject(mime: &str) -> String {
    header(mime, "Subject").expect("a Subject header")
}

/// A header's value, unfolded, with RFC 2047 encoded words decoded; the first of its name.
pub fn header(mime: &str, name: &str) -> Option<String> {
    let head = mime.split("\r\n\r\n").next()?;
    let mut lines = head.split("\r\n").peekable();
    while let Some(line) = lines.next() {
        let Some((field, first)) = line.split_once(':') else { continue };
        if !field.eq_ignore_ascii_case(name) {
            continue;
        }
        let mut value = first.trim().to_owned();
        while let Some(folded) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
            value.push(' ');
            value.push_str(folded.trim());
        }
        return Some(decode_words(&value));
    }
    None
}

/// RFC 2047: encoded words decoded, and the space between two of them dropped.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut after_word = false;
    for (i, token) in value.split_whitespace().enumerate() {
        let decoded = decode_word(token);
        if i > 0 && !(after_word && decoded.is_some()) {
            out.push(' ');
        }
        after_word = decoded.is_some();
        out.push_str(decoded.as_deref().unwrap_or(token));
    }
    out
}

/// The address of a `From` or `To` header's value, without its display name.
pub fn address(value: &str) -> &str {
    match (value.find('<'), value.rfind('>')) {
        (Some(start), Some(end)) if start < end => &value[start + 1..end],
        _ => value.trim(),
    }
}

/// `=?charset?B|Q?text?=`, decoded; `None` for plain text.
fn decode_word(token: &str) -> Option<String> {
    let inner = token.strip_prefix("=?")?.strip_suffix("?=")?;
    match inner.splitn(3, '?').collect::<Vec<_>>()[..] {
        [_, "B" | "b", text] => Some(String::from_utf8(STANDARD.decode(text).ok()?).ok()?),
        [_, "Q" | "q", text] => Some(quoted_printable(&text.replace('_', " "))),
        _ => None,
    }
}

pub fn quoted_printable(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
