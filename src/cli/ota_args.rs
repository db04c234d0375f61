//! Flags of the OTA classifiers (ArduinoOTA sessions, firmware, ESPHome, alerts).

use clap::Args;
use std::net::IpAddr;
use std::path::PathBuf;
use watch3232::classify::ota::OtaConfig;

#[derive(Debug, Args)]
#[command(next_help_heading = "OTA updates")]
pub struct OtaArgs {
    /// Write every complete firmware image seen to DIR/<md5>.bin.
    #[arg(long, value_name = "DIR")]
    pub extract_firmware: Option<PathBuf>,

    /// Largest image kept in memory for --extract-firmware (hashing needs none); 1 to
    /// 4294967296.
    #[arg(long, default_value_t = 16 * 1024 * 1024, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(1..=1 << 32))]
    pub max_firmware_bytes: u64,

    /// Most OTA sessions tracked at once (each may wait for a connect-back); 1 to 1000000.
    #[arg(long, default_value_t = 4096, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_ota_sessions: u64,

    /// Seconds (packet time) a session may wait for its next datagram or connect-back; 1 to
    /// 86400.
    #[arg(long, default_value_t = 30, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub ota_session_timeout: u64,

    /// `ota_auth_bruteforce` after this many failed password answers from one source (1 to
    /// 1000000)…
    #[arg(long, default_value_t = 5, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub bruteforce_threshold: u32,

    /// …within this many seconds (1 to 86400).
    #[arg(long, default_value_t = 60, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub bruteforce_window: u64,

    /// Uploaders allowed to push firmware; any other raises `ota_unexpected_uploader`.
    #[arg(long, value_delimiter = ',', value_name = "IPS")]
    pub ota_uploaders: Option<Vec<IpAddr>>,

    /// TCP ports of ESPHome native OTA; each 1 to 65535.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "3232,8266,2040,8892,8820",
        value_name = "PORTS",
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub esphome_ports: Vec<u16>,
}

impl OtaArgs {
    pub fn config(&self) -> OtaConfig {
        OtaConfig {
            max_sessions: usize::try_from(self.max_ota_sessions).unwrap_or(usize::MAX),
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
