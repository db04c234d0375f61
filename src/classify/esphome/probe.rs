//! Recognising ESPHome's native OTA from a flow's first client bytes, for the anomaly guesser
//! (what an unclaimed flow looks like) as well as this classifier.

use super::parser::MAGIC;

/// The client's first bytes start with ESPHome's OTA magic (esphome/espota2.py `MAGIC_BYTES`).
pub fn is_esphome_ota(client_bytes: &[u8]) -> bool {
    client_bytes.starts_with(&MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_magic_and_nothing_shorter() {
        assert!(is_esphome_ota(&[0x6C, 0x26, 0xF7, 0x5C, 0x45, 1]));
        assert!(!is_esphome_ota(&MAGIC[..4]) && !is_esphome_ota(b""));
    }
}
