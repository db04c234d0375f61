//! Firmware image metadata from the first bytes of an upload (shared/docs/arduino-ota.md §4).
//!
//! - ESP32 family (§4.1): 24-byte `esp_image_header_t` (magic 0xE9, segment count, SPI mode,
//!   chip id at offset 12), one 8-byte segment header, then `esp_app_desc_t` at file offset 0x20
//!   (magic 0xABCD5432: version, project name, compile time/date, IDF version, ELF SHA-256).
//! - ESP8266 (§4.2): 8-byte header only (magic 0xE9, segment count, flash mode, size/freq, entry).

use crate::event::arduino_ota::Firmware;

/// Bytes of the image needed to read every field: 0x20 + 256 (`esp_app_desc_t`).
pub const HEAD_LEN: usize = 0x20 + 256;

pub const IMAGE_MAGIC: u8 = 0xE9;
pub const APP_DESC_MAGIC: u32 = 0xABCD_5432;

/// `esp_chip_id_t` (esp_app_format.h) plus esptool's `IMAGE_CHIP_ID` values (§4.1).
pub fn chip_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0x0000 => "esp32",
        0x0002 => "esp32s2",
        0x0005 => "esp32c3",
        0x0009 => "esp32s3",
        0x000C => "esp32c2",
        0x000D => "esp32c6",
        0x0010 => "esp32h2",
        18 => "esp32p4",
        20 => "esp32c61",
        23 => "esp32c5",
        25 => "esp32h21",
        28 => "esp32h4",
        31 => "esp32e22",
        32 => "esp32s31",
        _ => return None,
    })
}

fn flash_mode(b: u8) -> Option<&'static str> {
    Some(match b {
        0 => "qio",
        1 => "qout",
        2 => "dio",
        3 => "dout",
        4 => "fast_read",
        5 => "slow_read",
        _ => return None,
    })
}

fn u16le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A NUL-padded C string field; non-printable bytes become `?`.
fn c_string(field: &[u8]) -> Option<String> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let s: String = field[..end]
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();
    (!s.is_empty()).then_some(s)
}

/// Reads what it can from the first bytes of an image (pass up to [`HEAD_LEN`] bytes).
pub fn parse(head: &[u8]) -> Firmware {
    let unknown = Firmware {
        image_format: "unknown",
        ..Firmware::default()
    };
    match head {
        [IMAGE_MAGIC, ..] => {}
        [0x1f, 0x8b, ..] => {
            return Firmware {
                image_format: "gzip",
                ..Firmware::default()
            }
        }
        _ => return unknown,
    }
    if head.len() < 8 {
        return unknown;
    }
    let segments = head[1];
    let mode = flash_mode(head[2]);
    let entry = u32le(head, 4).map(|e| format!("0x{e:08x}"));
    let desc = head.get(0x20..0x20 + 176);
    let has_desc = desc.and_then(|d| u32le(d, 0)) == Some(APP_DESC_MAGIC);
    let chip_id = u16le(head, 12);
    // No descriptor: an ESP32 header still has wp_pin 0xEE (disabled) and a known chip id;
    // an ESP8266 header is followed directly by a segment header.
    let esp32 = has_desc || (head.get(8) == Some(&0xEE) && chip_id.and_then(chip_name).is_some());
    if !esp32 {
        return Firmware {
            image_format: "esp8266",
            chip: Some("esp8266"),
            segment_count: Some(segments),
            flash_mode: mode,
            entry_addr: entry,
            ..Firmware::default()
        };
    }
    let mut fw = Firmware {
        image_format: "esp32",
        chip: chip_id.and_then(chip_name),
        chip_id,
        segment_count: Some(segments),
        flash_mode: mode,
        entry_addr: entry,
        ..Firmware::default()
    };
    if let (true, Some(d)) = (has_desc, desc) {
        fw.secure_version = u32le(d, 4);
        fw.version = c_string(&d[16..48]);
        fw.project_name = c_string(&d[48..80]);
        fw.compile_time = c_string(&d[80..96]);
        fw.compile_date = c_string(&d[96..112]);
        fw.idf_version = c_string(&d[112..144]);
        fw.elf_sha256 = Some(crate::hex::lower(&d[144..176]));
    }
    fw
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 32 bytes of the reference ESP32-S3 image (captures README), then a descriptor.
    fn esp32_head() -> Vec<u8> {
        let mut h = vec![
            0xe9, 0x03, 0x02, 0x2f, 0x1c, 0x5a, 0x37, 0x40, 0xee, 0x00, 0x00, 0x00, 0x09, 0x00,
            0x00, 0x00, 0x00, 0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x02, 0x3c,
            0x00, 0x80, 0x00, 0x00,
        ];
        let mut d = vec![0u8; 256];
        d[0..4].copy_from_slice(&[0x32, 0x54, 0xcd, 0xab]);
        d[16..21].copy_from_slice(b"1.2.3");
        d[48..58].copy_from_slice(b"blink-demo");
        d[80..88].copy_from_slice(b"12:34:56");
        d[96..107].copy_from_slice(b"Nov 25 2026");
        d[112..118].copy_from_slice(b"v5.5.1");
        for (i, b) in d[144..176].iter_mut().enumerate() {
            *b = i as u8;
        }
        h.extend_from_slice(&d);
        h
    }

    #[test]
    fn esp32_header_and_app_descriptor() {
        let fw = parse(&esp32_head());
        assert_eq!(fw.image_format, "esp32");
        assert_eq!(
            (fw.chip, fw.chip_id, fw.segment_count),
            (Some("esp32s3"), Some(9), Some(3))
        );
        assert_eq!(
            (fw.flash_mode, fw.entry_addr.as_deref()),
            (Some("dio"), Some("0x40375a1c"))
        );
        assert_eq!(fw.project_name.as_deref(), Some("blink-demo"));
        assert_eq!(fw.version.as_deref(), Some("1.2.3"));
        assert_eq!(fw.idf_version.as_deref(), Some("v5.5.1"));
        assert_eq!(fw.compile_date.as_deref(), Some("Nov 25 2026"));
        assert_eq!(fw.compile_time.as_deref(), Some("12:34:56"));
        assert_eq!(fw.elf_sha256.as_deref().map(str::len), Some(64));
        assert!(fw.elf_sha256.unwrap().starts_with("000102"));
    }

    #[test]
    fn esp8266_and_others() {
        // captures README: E9 01 02 40 + entry 0x40100000.
        let h = [
            0xe9, 0x01, 0x02, 0x40, 0x00, 0x00, 0x10, 0x40, 0x00, 0x00, 0x10, 0x40,
        ];
        let fw = parse(&h);
        assert_eq!(
            (fw.image_format, fw.chip, fw.segment_count),
            ("esp8266", Some("esp8266"), Some(1))
        );
        assert_eq!(fw.entry_addr.as_deref(), Some("0x40100000"));
        assert_eq!(parse(&[0x1f, 0x8b, 8]).image_format, "gzip");
        assert_eq!(parse(&[0xa7, 0xd6]).image_format, "unknown");
        assert_eq!(parse(&[0xe9, 1]).image_format, "unknown");
        // A truncated ESP32 image: header only, no descriptor.
        let head = esp32_head();
        let fw = parse(&head[..24]);
        assert_eq!(
            (fw.image_format, fw.chip, fw.project_name),
            ("esp32", Some("esp32s3"), None)
        );
    }
}
