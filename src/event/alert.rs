//! The `alert` object of an `alert` event: security findings about OTA updates.

use super::EventKind;
use super::{AuthScheme, OtaProtocol};
use serde::Serialize;
use std::net::IpAddr;

/// The `alert` object of an `alert` event; `kind` names the finding.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AlertDetails {
    /// `arduino_ota` or `esphome_ota`.
    pub protocol: OtaProtocol,
    /// A sentence explaining the finding (addresses, ports, counts).
    pub detail: String,
    /// The `arduino_ota` session it concerns; absent for `esphome_ota`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<u64>,
    /// The flow of the message that raised it (espota UDP exchange or ESPHome TCP connection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<u64>,
    /// The uploader's address (the side sending the firmware).
    pub uploader: IpAddr,
    /// The device's address (the side receiving the firmware).
    pub device: IpAddr,
    /// The auth at issue: `none`, `md5`, `pbkdf2_sha256`, `sha256` or `unknown`;
    /// absent for `ota_unexpected_uploader`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_scheme: Option<AuthScheme>,
    /// `ota_auth_bruteforce`: failed password answers from the uploader within the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
    /// `ota_auth_bruteforce` from `arduino_ota`: the length of that window, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_s: Option<u64>,
}

/// The `kind` of an `alert` event: the finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertKind {
    OtaUnauthenticated,
    OtaWeakAuth,
    OtaAuthBruteforce,
    OtaUnexpectedUploader,
}

impl AlertKind {
    pub const ALL: [AlertKind; 4] = [
        AlertKind::OtaUnauthenticated,
        AlertKind::OtaWeakAuth,
        AlertKind::OtaAuthBruteforce,
        AlertKind::OtaUnexpectedUploader,
    ];
}

impl EventKind for AlertKind {
    fn as_str(self) -> &'static str {
        match self {
            AlertKind::OtaUnauthenticated => "ota_unauthenticated",
            AlertKind::OtaWeakAuth => "ota_weak_auth",
            AlertKind::OtaAuthBruteforce => "ota_auth_bruteforce",
            AlertKind::OtaUnexpectedUploader => "ota_unexpected_uploader",
        }
    }
}
