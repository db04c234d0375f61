//! The device inventory: one entry per device address, merged from mDNS announcements, OTA
//! sessions (ArduinoOTA and ESPHome) and the MAC vendor. Shared by the OTA classifiers of one
//! engine; bounded (the least recently seen device goes first, counted).

use super::oui;
use crate::capture::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

pub type SharedInventory = Arc<Mutex<Inventory>>;

pub fn shared(capacity: usize) -> SharedInventory {
    Arc::new(Mutex::new(Inventory::new(capacity)))
}

/// The last OTA update seen for a device.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LastUpdate {
    /// When the session ended (the time of its `transfer` or `session` event).
    pub timestamp: Timestamp,
    /// `arduino_ota` or `esphome_ota`.
    pub protocol: &'static str,
    /// The session's `outcome` (`complete`, `failed`, `aborted`, `auth_failed`, `no_connect`).
    pub outcome: &'static str,
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
    pub auth_seen: BTreeSet<&'static str>,
    /// OTA sessions of the device that ended (ArduinoOTA transfers, ESPHome sessions).
    pub ota_sessions: u32,
    /// Sessions by outcome.
    pub outcomes: BTreeMap<&'static str, u32>,
    pub last_update: Option<LastUpdate>,
    /// Time of the first packet that put the device in the inventory.
    pub first_seen: Timestamp,
    /// Time of the latest packet about the device (mDNS, OTA or its MAC).
    pub last_seen: Timestamp,
}

#[derive(Debug, Default)]
pub struct Inventory {
    devices: HashMap<IpAddr, DeviceEntry>,
    capacity: usize,
    pub evicted: u64,
}

impl Inventory {
    pub fn new(capacity: usize) -> Self {
        Inventory {
            devices: HashMap::new(),
            capacity: capacity.max(1),
            evicted: 0,
        }
    }

    /// The entry of `address`, created if new (evicting the stalest when full).
    pub fn entry(&mut self, address: IpAddr, now: Timestamp) -> &mut DeviceEntry {
        if !self.devices.contains_key(&address) && self.devices.len() >= self.capacity {
            if let Some(old) = self
                .devices
                .values()
                .min_by_key(|d| d.last_seen)
                .map(|d| d.address)
            {
                self.devices.remove(&old);
                self.evicted += 1;
            }
        }
        let d = self.devices.entry(address).or_insert_with(|| DeviceEntry {
            address,
            mac: None,
            vendor: None,
            hostname: None,
            board: None,
            services: BTreeSet::new(),
            ota_port: None,
            auth_upload: None,
            auth_seen: BTreeSet::new(),
            ota_sessions: 0,
            outcomes: BTreeMap::new(),
            last_update: None,
            first_seen: now,
            last_seen: now,
        });
        if now > d.last_seen {
            d.last_seen = now;
        }
        d
    }

    /// A packet sent by the device itself: its link-layer source is the device's MAC.
    pub fn saw_mac(&mut self, address: IpAddr, mac: Option<[u8; 6]>, now: Timestamp) {
        let d = self.entry(address, now);
        if let Some(mac) = mac {
            d.mac = Some(oui::format_mac(mac));
            d.vendor = oui::vendor(mac);
        }
    }

    /// An OTA session ended.
    pub fn session(
        &mut self,
        device: IpAddr,
        port: u16,
        auth: Option<&'static str>,
        update: LastUpdate,
    ) {
        let d = self.entry(device, update.timestamp);
        d.ota_sessions += 1;
        d.ota_port.get_or_insert(port);
        if let Some(a) = auth {
            d.auth_seen.insert(a);
        }
        *d.outcomes.entry(update.outcome).or_default() += 1;
        if d.last_update
            .as_ref()
            .map_or(true, |u| u.timestamp <= update.timestamp)
        {
            d.last_update = Some(update);
        }
    }

    /// Every device, by address, kept in the inventory.
    pub fn snapshot(&self) -> Vec<DeviceEntry> {
        let mut all: Vec<DeviceEntry> = self.devices.values().cloned().collect();
        all.sort_by_key(|d| d.address);
        all
    }

    /// Every device, by address.
    pub fn drain(&mut self) -> Vec<DeviceEntry> {
        let mut all: Vec<DeviceEntry> = self.devices.drain().map(|(_, d)| d).collect();
        all.sort_by_key(|d| d.address);
        all
    }
}
