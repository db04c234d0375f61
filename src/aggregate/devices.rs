//! The device inventory: one entry per device address, merged from mDNS announcements, OTA
//! sessions (ArduinoOTA and ESPHome) and the MAC vendor, fed by three classifiers' observations
//! (a device's announcements and its uploads are different IP pairs, so different workers);
//! bounded (the least recently seen device goes first, counted).

use crate::event::device::{AnnouncementDetails, DeviceEntry, LastUpdate};
use crate::event::AuthScheme;
use crate::flow::BoundedMap;
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

pub struct Inventory {
    /// Least recently seen first; devices are never forgotten for being quiet, only evicted.
    devices: BoundedMap<IpAddr, DeviceEntry>,
    pub evicted: u64,
}

impl Inventory {
    pub fn new(capacity: usize) -> Self {
        Inventory {
            devices: BoundedMap::new(capacity, Duration::MAX),
            evicted: 0,
        }
    }

    /// The entry of `address`, created if new (evicting the stalest when full).
    pub fn entry(&mut self, address: IpAddr, now: Timestamp) -> &mut DeviceEntry {
        let (d, evicted) = self
            .devices
            .touch_or_insert_with(address, now, || DeviceEntry {
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
        if evicted.is_some() {
            self.evicted += 1;
        }
        if now > d.last_seen {
            d.last_seen = now;
        }
        d
    }

    /// A packet sent by the device itself: its link-layer source is the device's MAC (written
    /// out, with its vendor, by the classifier that saw it).
    pub fn saw_mac(
        &mut self,
        address: IpAddr,
        mac: Option<(String, Option<&'static str>)>,
        now: Timestamp,
    ) {
        let d = self.entry(address, now);
        if let Some((mac, vendor)) = mac {
            d.mac = Some(mac);
            d.vendor = vendor;
        }
    }

    /// What an mDNS announcement says about its device.
    pub fn announced(&mut self, a: &AnnouncementDetails, now: Timestamp) {
        let d = self.entry(a.address, now);
        d.services.insert(a.service.to_string());
        d.hostname = a.hostname.clone().or(d.hostname.take());
        d.board = a.board.clone().or(d.board.take());
        if a.service == "_arduino._tcp" {
            d.ota_port = a.ota_port.or(d.ota_port);
            d.auth_upload = a.auth_upload.or(d.auth_upload);
        }
        if a.mac.is_some() {
            d.mac = a.mac.clone();
            d.vendor = a.vendor;
        }
    }

    /// An OTA session ended.
    pub fn session(
        &mut self,
        device: IpAddr,
        port: u16,
        auth: Option<AuthScheme>,
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
        let mut all: Vec<DeviceEntry> = self.devices.iter().map(|(_, d, _)| d.clone()).collect();
        all.sort_by_key(|d| d.address);
        all
    }

    /// Every device, by address.
    pub fn drain(&mut self) -> Vec<DeviceEntry> {
        let mut gone = Vec::new();
        self.devices.drain(&mut gone);
        let mut all: Vec<DeviceEntry> = gone.into_iter().map(|d| d.value).collect();
        all.sort_by_key(|d| d.address);
        all
    }
}
