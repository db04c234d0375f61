//! What every classifier that sees a device's own packets tells the device inventory (kept by
//! the aggregator): its address and, when the link layer shows it, its MAC and vendor.

pub mod oui;

use crate::aggregate::Observation;
use crate::time::Timestamp;
use std::net::IpAddr;

/// The device-inventory fact of a packet a device sent itself: its address and, when the link
/// layer shows it, its MAC written out with the vendor.
pub fn device_seen(address: IpAddr, mac: Option<[u8; 6]>, ts: Timestamp) -> Observation {
    Observation::DeviceSeen {
        address,
        mac: mac.map(|m| (oui::format_mac(m), oui::vendor(m))),
        ts,
    }
}
