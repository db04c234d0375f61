//! Flags of the OTA classifiers (ArduinoOTA sessions, firmware, ESPHome, alerts).

use clap::Args;
use std::net::IpAddr;
use std::path::PathBuf;
use watch3232::classify::ota::OtaConfig;

#[derive(Debug, Args)]
#[command(next_help_heading = "OTA updates")]
pub struct OtaArgs {
    /// Write every complete firmware image seen to DIR/<md5>.bin.
    #[arg(long, global = true, value_name = "DIR")]
    pub extract_firmware: Option<PathBuf>,

    /// Largest image kept in memory for --extract-firmware (hashing needs none).
    #[arg(long, global = true, default_value_t = 16 * 1024 * 1024, value_name = "BYTES")]
    pub max_firmware_bytes: u64,

    /// Most OTA sessions tracked at once (each may wait for a connect-back).
    #[arg(long, global = true, default_value_t = 4096, value_name = "N")]
    pub max_ota_sessions: usize,

    /// Seconds (packet time) a session may wait for its next datagram or connect-back.
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS")]
    pub ota_session_timeout: u64,

    /// `ota_auth_bruteforce` after this many failed password answers from one source…
    #[arg(long, global = true, default_value_t = 5, value_name = "N")]
    pub bruteforce_threshold: u32,

    /// …within this many seconds.
    #[arg(long, global = true, default_value_t = 60, value_name = "SECS")]
    pub bruteforce_window: u64,

    /// Uploaders allowed to push firmware; any other raises `ota_unexpected_uploader`.
    #[arg(long, global = true, value_delimiter = ',', value_name = "IPS")]
    pub ota_uploaders: Option<Vec<IpAddr>>,

    /// TCP ports of ESPHome native OTA.
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        default_value = "3232,8266,2040,8892,8820",
        value_name = "PORTS"
    )]
    pub esphome_ports: Vec<u16>,
}

impl OtaArgs {
    pub fn config(&self) -> OtaConfig {
        OtaConfig {
            max_sessions: self.max_ota_sessions,
            session_timeout_secs: self.ota_session_timeout,
            max_firmware_bytes: self.max_firmware_bytes,
            extract_dir: self.extract_firmware.clone(),
            bruteforce_threshold: self.bruteforce_threshold,
            bruteforce_window_secs: self.bruteforce_window,
            uploader_allowlist: self.ota_uploaders.clone(),
            esphome_ports: self.esphome_ports.clone(),
            ..OtaConfig::default()
        }
    }
}
