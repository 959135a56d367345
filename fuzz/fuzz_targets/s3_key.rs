//! S3 notification parsing and key decoding on arbitrary input: decode never panics, and
//! encoding then decoding gives back any key.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orderflow_shared::s3_event::{S3Notification, decode_key, encode_key};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = decode_key(text) {
        assert_eq!(decode_key(&encode_key(&key)).as_deref(), Ok(key.as_str()));
    }
    assert_eq!(decode_key(&encode_key(text)).as_deref(), Ok(text));
    if let Ok(event) = serde_json::from_str(text) {
        let _ = S3Notification::parse(event);
    }
});
