//! ArduinoOTA (espota) messages exactly as upstream builds them (shared/docs/arduino-ota.md).
//!
//! Uploader side follows `tools/espota.py`; device side follows `ArduinoOTA.cpp`.

use md5::{Digest, Md5};

pub const FLASH: u16 = 0;
pub const SPIFFS: u16 = 100;
pub const AUTH: u16 = 200;

pub fn md5_hex(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `message = "%d %d %d %s\n" % (command, local_port, content_size, file_md5)` (§1.2).
pub fn invitation(command: u16, host_port: u16, image_size: usize, image_md5: &str) -> Vec<u8> {
    format!("{command} {host_port} {image_size} {image_md5}\n").into_bytes()
}

/// The device's MD5-era nonce: `MD5(String(micros()))` (§1.4).
pub fn device_nonce_md5(micros: u64) -> String {
    md5_hex(micros.to_string().as_bytes())
}

/// `AUTH <nonce>` (§1.3).
pub fn auth_challenge(nonce: &str) -> Vec<u8> {
    format!("AUTH {nonce}").into_bytes()
}

/// espota's MD5-era answer (§1.4):
/// `cnonce = md5(filename + size + file_md5 + remote_addr)`,
/// `response = md5(md5(password) + ":" + nonce + ":" + cnonce)`; returns the datagram
/// `"200 <cnonce> <response>\n"` with its two parts.
pub fn auth_answer_md5(
    filename: &str,
    size: usize,
    file_md5: &str,
    remote_addr: &str,
    password: &str,
    nonce: &str,
) -> (Vec<u8>, String, String) {
    let cnonce = md5_hex(format!("{filename}{size}{file_md5}{remote_addr}").as_bytes());
    let passmd5 = md5_hex(password.as_bytes());
    let response = md5_hex(format!("{passmd5}:{nonce}:{cnonce}").as_bytes());
    (
        format!("{AUTH} {cnonce} {response}\n").into_bytes(),
        cnonce,
        response,
    )
}

/// What the device checks: `MD5(_password + ":" + _nonce + ":" + cnonce) == response`, with
/// `_password` the MD5 hex of the password.
pub fn device_accepts_md5(password: &str, nonce: &str, cnonce: &str, response: &str) -> bool {
    md5_hex(format!("{}:{nonce}:{cnonce}", md5_hex(password.as_bytes())).as_bytes()) == response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_known_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"admin"), "21232f297a57a5a743894a0e4a801fc3");
    }

    #[test]
    fn answer_round_trips_through_the_device_check() {
        let nonce = device_nonce_md5(123_456_789);
        let (msg, cnonce, response) = auth_answer_md5(
            "blink.bin",
            1000,
            &md5_hex(b"x"),
            "192.0.2.50",
            "secret",
            &nonce,
        );
        assert_eq!(msg.len(), 70);
        assert!(device_accepts_md5("secret", &nonce, &cnonce, &response));
        assert!(!device_accepts_md5("wrong", &nonce, &cnonce, &response));
    }
}
