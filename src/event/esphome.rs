//! The `esphome_ota` object of a `session` event.

use super::arduino_ota::Firmware;
use super::EventKind;
use super::{AuthScheme, OtaOutcome};
use serde::Serialize;

/// The `esphome_ota` object of a `session` event.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct EsphomeDetails {
    /// OTA protocol version from the device's `00 <version>` answer to the magic (1 or 2).
    pub ota_version: Option<u8>,
    /// The client's feature byte (0x01 compression, 0x02 SHA-256 auth, 0x04 extended).
    pub features: Option<u8>,
    /// The device's flags (extended protocol) or header byte (0x40, 0x46 compression).
    pub server_flags: Option<u8>,
    /// `none` (device sent `41`), `md5` (`01` + 32-hex nonce) or `sha256` (`02` + 64-hex nonce);
    /// null when the handshake did not get that far.
    pub auth: Option<AuthScheme>,
    /// The device's auth nonce, hex as sent; null without a challenge.
    pub nonce: Option<String>,
    /// The uploader's client nonce, hex; null when no auth answer was seen.
    pub cnonce: Option<String>,
    /// The uploader's hex hash of password, nonce and cnonce; null when no auth answer was seen.
    pub response: Option<String>,
    /// True when the device answered the auth with `41`, false on error `82`; null without
    /// a challenge or its answer.
    pub accepted: Option<bool>,
    /// `complete`, `failed`, `auth_failed`, `aborted`.
    pub outcome: OtaOutcome,
    /// Extended protocol only: `0` app, `1` partition table, `2` bootloader; null otherwise.
    pub ota_type: Option<u8>,
    /// Upload size the uploader announced, bytes (gzip size if compressed); null when not seen.
    pub image_size: Option<u32>,
    /// MD5 of the upload announced by the uploader, lower-case hex; null when not seen.
    pub image_md5: Option<String>,
    /// Upload bytes the uploader delivered in order (at most `image_size`).
    pub bytes: u64,
    /// MD5 of the bytes received, lower-case hex; null when none.
    pub received_md5: Option<String>,
    /// Whether `received_md5` equals `image_md5`; null unless the whole upload was seen.
    pub md5_match: Option<bool>,
    /// The upload is gzip-compressed: the uploader offered it (feature 0x01) and the device
    /// supports it (header `46` or server flag 0x01).
    pub compressed: bool,
    /// `47` acks from the device (OTA v2: one per 8192 bytes received).
    pub chunk_acks: u32,
    /// The device's error byte (0x80 and up, e.g. 0x82 auth invalid); null when none.
    pub error_code: Option<u8>,
    /// Name of `error_code` (`auth_invalid`, `md5_mismatch`, `esp32_not_enough_space`, …,
    /// `unknown`); null when none.
    pub error: Option<&'static str>,
    /// Seconds from the flow's first packet to its last, microsecond precision.
    pub duration_s: f64,
    pub firmware: Option<Firmware>,
    /// The first step the bytes did not fit, e.g. `no ESPHome magic`; absent when all parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub malformed: Option<&'static str>,
    /// With `--extract-firmware`, when an upload began: the file written (`DIR/<received_md5>.bin`,
    /// the bytes as sent, gzip when `compressed`), or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extracted: Option<String>,
    /// With `--extract-firmware`: the upload was larger than `--max-firmware-bytes`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub firmware_over_cap: bool,
}

/// The `kind` of an `esphome_ota` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EsphomeKind {
    Session,
}

impl EventKind for EsphomeKind {
    fn as_str(self) -> &'static str {
        match self {
            EsphomeKind::Session => "session",
        }
    }
}
