//! The `device` object of a `device` event: mDNS announcements and the device inventory.

use super::EventKind;
use super::{AuthScheme, OtaOutcome, OtaProtocol};
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The `device` object of a `device` event; `kind` names the variant.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum DeviceDetails {
    Announcement(AnnouncementDetails),
    Inventory(Box<DeviceEntry>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AnnouncementDetails {
    /// The service announced: `_arduino._tcp` or `_esphomelib._tcp`.
    pub service: &'static str,
    /// The instance name: the first label of the service instance (often the host name).
    pub instance: String,
    /// The SRV target host without `.local`; null without an SRV record.
    pub hostname: Option<String>,
    /// The device: the A/AAAA address of the SRV target (sender's family), else the sender.
    pub address: IpAddr,
    /// The SRV port of `_arduino._tcp`: the OTA port (JAndrassy's HTTP OTA: 65280).
    pub ota_port: Option<u16>,
    /// The SRV port as announced (ESPHome: its native API port, not the OTA port).
    pub port: Option<u16>,
    /// TXT `board` (the Arduino variant, e.g. `esp32dev`); null when absent.
    pub board: Option<String>,
    /// TXT `auth_upload`: true for `yes` (OTA password set), false for `no`; null when absent.
    pub auth_upload: Option<bool>,
    /// Every TXT item of the instance, keys lower-cased (a key without `=` maps to "").
    pub txt: BTreeMap<String, String>,
    /// The sender's MAC, `aa:bb:cc:dd:ee:ff`, when the sender is the device; null otherwise.
    pub mac: Option<String>,
    /// `Espressif Inc.` when the MAC is in an Espressif OUI block; null otherwise.
    pub vendor: Option<&'static str>,
}

/// The last OTA update seen for a device.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LastUpdate {
    /// When the session ended (the time of its `transfer` or `session` event).
    pub timestamp: Timestamp,
    /// `arduino_ota` or `esphome_ota`.
    pub protocol: OtaProtocol,
    /// The session's `outcome` (`complete`, `failed`, `aborted`, `auth_failed`, `no_connect`).
    pub outcome: OtaOutcome,
    /// The uploader's address.
    pub uploader: IpAddr,
    /// MD5 of the image the uploader announced, lower-case hex; null when not seen.
    pub image_md5: Option<String>,
    /// Project name from the image's app descriptor; null without one.
    pub project_name: Option<String>,
    /// App version from the image's app descriptor; null without one.
    pub version: Option<String>,
}

/// The `device` object of an `inventory` event.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DeviceEntry {
    /// The device's IP address (one entry per address).
    pub address: IpAddr,
    /// The device's MAC (link-layer source of a packet it sent), `aa:bb:…`; null when unseen.
    pub mac: Option<String>,
    /// `Espressif Inc.` when the MAC is in an Espressif OUI block; null otherwise.
    pub vendor: Option<&'static str>,
    /// Host name from its latest mDNS SRV record that had one; null when none.
    pub hostname: Option<String>,
    /// TXT `board` from its latest mDNS announcement that had one; null when none.
    pub board: Option<String>,
    /// mDNS services announced (`_arduino._tcp`, `_esphomelib._tcp`).
    pub services: BTreeSet<String>,
    /// OTA port: the `_arduino._tcp` SRV port, else the device port of its first OTA session.
    pub ota_port: Option<u16>,
    /// From mDNS `auth_upload`.
    pub auth_upload: Option<bool>,
    /// Auth schemes seen in sessions (`none`, `md5`, `pbkdf2_sha256`, `sha256`).
    pub auth_seen: BTreeSet<AuthScheme>,
    /// OTA sessions of the device that ended (ArduinoOTA transfers, ESPHome sessions).
    pub ota_sessions: u32,
    /// Sessions by outcome.
    pub outcomes: BTreeMap<OtaOutcome, u32>,
    pub last_update: Option<LastUpdate>,
    /// Time of the first packet that put the device in the inventory.
    pub first_seen: Timestamp,
    /// Time of the latest packet about the device (mDNS, OTA or its MAC).
    pub last_seen: Timestamp,
}

/// The `kind` of a `device` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    Announcement,
    Inventory,
}

impl EventKind for DeviceKind {
    fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Announcement => "announcement",
            DeviceKind::Inventory => "inventory",
        }
    }
}
