//! Settings of the OTA classifiers (ArduinoOTA sessions, ESPHome, alerts), filled from the CLI.

use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct OtaConfig {
    /// Most espota sessions (and connect-back expectations) tracked at once; past it the least
    /// recently active one is ended early and counted.
    pub max_sessions: usize,
    /// A session with no TCP transfer ends after this long without a datagram (packet time).
    pub session_timeout_secs: u64,
    /// Most bytes of one image kept in memory for `--extract-firmware` (hashing needs none).
    pub max_firmware_bytes: u64,
    /// Write each complete image to `DIR/<md5>.bin`.
    pub extract_dir: Option<PathBuf>,
    /// Most bytes waiting behind a hole in one direction of one TCP stream.
    pub max_out_of_order_bytes: usize,
    /// `ota_auth_bruteforce`: this many failed answers from one source…
    pub bruteforce_threshold: u32,
    /// …within this many seconds.
    pub bruteforce_window_secs: u64,
    /// `ota_unexpected_uploader`: uploaders allowed to push firmware (no alert when `None`).
    pub uploader_allowlist: Option<Vec<IpAddr>>,
    /// TCP ports of ESPHome's native OTA (§3.3: 3232 ESP32, 8266 ESP8266, 2040 RP2040,
    /// 8892 BK72xx/RTL87xx, 8820 LN882x).
    pub esphome_ports: Vec<u16>,
    /// The espota session ids this engine hands out: `first`, `first + step`, … (1, 2, … for
    /// one engine; interleaved between workers, so no two sessions of a run share one).
    pub session_ids: IdSequence,
}

/// `first`, `first + step`, `first + 2·step`, …
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdSequence {
    pub first: u64,
    pub step: u64,
}

impl Default for IdSequence {
    fn default() -> Self {
        IdSequence { first: 1, step: 1 }
    }
}

impl Default for OtaConfig {
    fn default() -> Self {
        OtaConfig {
            max_sessions: 4096,
            session_timeout_secs: 30,
            max_firmware_bytes: 16 * 1024 * 1024,
            extract_dir: None,
            max_out_of_order_bytes: 1024 * 1024,
            bruteforce_threshold: 5,
            bruteforce_window_secs: 60,
            uploader_allowlist: None,
            esphome_ports: vec![3232, 8266, 2040, 8892, 8820],
            session_ids: IdSequence::default(),
        }
    }
}
