//! The ESPHome native OTA session parser, driven by both sides in the order and chunks the
//! input chooses: each record is a header byte (top bit: 1 = device, 0 = client; low 7 bits:
//! length, 127 = "the rest") and that many bytes for that side.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watch3232::classify::esphome::probe::is_esphome_ota;
use watch3232::classify::ota::firmware::HEAD_LEN;
use watch3232::classify::esphome::parser::{error_name, magic_prefix, Session};

fuzz_target!(|data: &[u8]| {
    let mut s = Session::default();
    let mut client = Vec::new();
    let mut rest = data;
    while let Some((&h, tail)) = rest.split_first() {
        let n = match h & 0x7f {
            127 => tail.len(),
            n => usize::from(n).min(tail.len()),
        };
        let (chunk, tail) = tail.split_at(n);
        if h & 0x80 != 0 {
            s.device_bytes(chunk);
        } else {
            client.extend_from_slice(chunk);
            s.client_bytes(chunk);
        }
        rest = tail;
        // What must hold after every step.
        assert!(s.bytes <= client.len() as u64);
        assert!(s.head.len() <= HEAD_LEN && s.head.len() as u64 <= s.bytes);
        if let Some(size) = s.image_size {
            assert!(s.bytes <= u64::from(size));
        } else {
            assert_eq!(s.bytes, 0);
        }
    }
    // Image bytes come after the magic, features, size and MD5 (42 bytes at least).
    if s.bytes > 0 {
        assert_eq!(magic_prefix(&client), Some(true));
        assert!(client.len() as u64 >= s.bytes + 42);
        assert!(s.image_md5.is_some());
    }
    assert_eq!(s.received_md5().len(), 32);
    let outcome = s.outcome();
    assert!(["complete", "auth_failed", "failed", "aborted"].contains(&outcome.as_str()));
    if let Some(code) = s.error {
        let _ = error_name(code);
    }
    if let Some(n) = &s.nonce {
        assert!(n.len() == 32 || n.len() == 64);
    }
    let _ = format!("{s:?}");
    // The magic test agrees with the anomaly guesser's.
    assert_eq!(magic_prefix(&client) == Some(true), is_esphome_ota(&client));
    assert_eq!(magic_prefix(data) == Some(true), is_esphome_ota(data));
});
