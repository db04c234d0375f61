//! Mirror and overlay tunnels around real OTA sessions (testdata/tunnels/): each reference
//! capture's Ethernet frames, unchanged, inside ERSPAN I/II/III, GRE bridging, VXLAN, GENEVE
//! (with an option) and VXLAN inside GRE, as a mirror session delivers them to a sensor. The
//! events of each must equal those of the capture it wraps, with the `tunnel` object filled.
//! Also PPTP's enhanced GRE (RFC 2637), which is counted, not decoded.

use crate::capture::Record;
use crate::frame::{self, Link};
use std::io;
use std::net::IpAddr;
use std::path::Path;

/// The mirroring switch (delivery source) and the sensor (delivery destination).
pub const SWITCH: &str = "192.0.2.250";
pub const SENSOR: &str = "192.0.2.251";
/// The outer GRE of the nested capture: two routers between the VTEP and the sensor.
pub const ROUTER_A: &str = "198.51.100.1";
pub const ROUTER_B: &str = "198.51.100.2";
pub const GRE_KEY: u32 = 100;
pub const ERSPAN_SESSION: u16 = 42;
pub const VXLAN_VNI: u32 = 5001;
pub const GENEVE_VNI: u32 = 7001;
pub const NESTED_GRE_KEY: u32 = 7;
/// The source port VXLAN and GENEVE use (RFC 7348 §5: a hash of the inner flow; one will do).
pub const OVERLAY_SRC_PORT: u16 = 54321;

const SWITCH_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x10];
const SENSOR_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x11];

/// Each tunnel capture: its file name, the capture it wraps (relative to testdata/), and the
/// encapsulation.
pub const CAPTURES: [(&str, &str, Encapsulation); 7] = [
    (
        "erspan1",
        "real/ota/esp32_pbkdf2_aborted.pcap",
        Encapsulation::Erspan1,
    ),
    (
        "erspan2",
        "real/ota/esp32_md5_ok.pcap",
        Encapsulation::Erspan2,
    ),
    (
        "erspan3",
        "real/ota/esp8266_ok.pcap",
        Encapsulation::Erspan3,
    ),
    (
        "gre_teb",
        "real/ota/esp32_noauth_filesystem.pcap",
        Encapsulation::GreTeb,
    ),
    (
        "vxlan",
        "real/ota/esphome_2026_sha256_ok.pcap",
        Encapsulation::Vxlan,
    ),
    (
        "geneve",
        "real/ota/esp32_pbkdf2_ok.pcap",
        Encapsulation::Geneve,
    ),
    (
        "vxlan_in_gre",
        "real/ota/esp32_md5_aborted.pcap",
        Encapsulation::VxlanInGre,
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encapsulation {
    Erspan1,
    Erspan2,
    Erspan3,
    GreTeb,
    Vxlan,
    Geneve,
    VxlanInGre,
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn outer_link() -> Link {
    Link::Ethernet {
        src: SWITCH_MAC,
        dst: SENSOR_MAC,
    }
}

fn gre_delivery(src: &str, dst: &str, gre: &[u8]) -> Vec<u8> {
    frame::ip_raw(ip(src), ip(dst), 47, 64, gre)
}

/// VXLAN (RFC 7348 §5) around an Ethernet frame, in UDP to 4789 from `src` to `dst`.
fn vxlan_packet(src: &str, dst: &str, inner: &[u8]) -> Vec<u8> {
    let mut v = vec![0x08, 0, 0, 0];
    v.extend_from_slice(&(VXLAN_VNI << 8).to_be_bytes());
    v.extend_from_slice(inner);
    frame::udp(ip(src), ip(dst), OVERLAY_SRC_PORT, 4789, &v)
}

/// `inner`, the `n`th mirrored frame, inside `how`: the IPv4 delivery packet.
pub fn encapsulate(how: Encapsulation, n: u32, inner: &[u8]) -> Vec<u8> {
    let mut gre = Vec::new();
    match how {
        Encapsulation::Erspan1 => gre.extend_from_slice(&[0x00, 0x00, 0x88, 0xbe]),
        Encapsulation::Erspan2 => {
            // GRE with a sequence number; ERSPAN II: version 1, VLAN 0, session, index 1.
            gre.extend_from_slice(&[0x10, 0x00, 0x88, 0xbe]);
            gre.extend_from_slice(&n.to_be_bytes());
            gre.extend_from_slice(&(0x1000_0000u32 | u32::from(ERSPAN_SESSION)).to_be_bytes());
            gre.extend_from_slice(&1u32.to_be_bytes());
        }
        Encapsulation::Erspan3 => {
            // ERSPAN III: version 2, session, a timestamp, SGT 0, FT 0 (Ethernet), hardware
            // id 1, O set: then the 8-byte platform-specific subheader (platform 3).
            gre.extend_from_slice(&[0x10, 0x00, 0x22, 0xeb]);
            gre.extend_from_slice(&n.to_be_bytes());
            gre.extend_from_slice(&(0x2000_0000u32 | u32::from(ERSPAN_SESSION)).to_be_bytes());
            gre.extend_from_slice(&(n * 1000).to_be_bytes());
            gre.extend_from_slice(&[0x00, 0x00, 0x00, 0x11]);
            gre.extend_from_slice(&[0x0c, 0x00, 0x00, 0x01, 0, 0, 0, 0]);
        }
        Encapsulation::GreTeb => {
            gre.extend_from_slice(&[0x20, 0x00, 0x65, 0x58]);
            gre.extend_from_slice(&GRE_KEY.to_be_bytes());
        }
        Encapsulation::Vxlan => return vxlan_packet(SWITCH, SENSOR, inner),
        Encapsulation::Geneve => {
            // Opt Len 2: one option, class 0x0102 type 0x80, 4 bytes of data.
            let mut g = vec![0x02, 0x00, 0x65, 0x58];
            g.extend_from_slice(&(GENEVE_VNI << 8).to_be_bytes());
            g.extend_from_slice(&[0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef]);
            g.extend_from_slice(inner);
            return frame::udp(ip(SWITCH), ip(SENSOR), OVERLAY_SRC_PORT, 6081, &g);
        }
        Encapsulation::VxlanInGre => {
            gre.extend_from_slice(&[0x20, 0x00, 0x08, 0x00]);
            gre.extend_from_slice(&NESTED_GRE_KEY.to_be_bytes());
            gre.extend_from_slice(&vxlan_packet(SWITCH, SENSOR, inner));
            return gre_delivery(ROUTER_A, ROUTER_B, &gre);
        }
    }
    gre.extend_from_slice(inner);
    gre_delivery(SWITCH, SENSOR, &gre)
}

/// The records of a classic little-endian microsecond pcap of Ethernet frames (what the
/// reference captures are).
pub fn read_pcap(path: &Path) -> io::Result<Vec<Record>> {
    let bytes = std::fs::read(path)?;
    let bad = |what: &str| io::Error::other(format!("{}: {what}", path.display()));
    if bytes.len() < 24 || bytes[..4] != [0xd4, 0xc3, 0xb2, 0xa1] {
        return Err(bad("not a little-endian microsecond pcap"));
    }
    if bytes[20..24] != 1u32.to_le_bytes() {
        return Err(bad("not Ethernet"));
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let mut records = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let (secs, micros, caplen) = (word(at), word(at + 4), word(at + 8) as usize);
        let data = bytes
            .get(at + 16..at + 16 + caplen)
            .ok_or_else(|| bad("record past the end"))?;
        records.push(Record::new(
            i64::from(secs) * 1_000_000 + i64::from(micros),
            data.to_vec(),
        ));
        at += 16 + caplen;
    }
    Ok(records)
}

/// The checked-in testdata/ directory the reference captures are read from (the generator may
/// be writing elsewhere).
pub fn reference_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The records of `source` (under testdata/) inside `how`.
pub fn wrap(source: &str, how: Encapsulation) -> io::Result<Vec<Record>> {
    let records = read_pcap(&reference_dir().join(source))?;
    Ok(records
        .into_iter()
        .enumerate()
        .map(|(n, r)| {
            let outer = outer_link().wrap(&encapsulate(how, n as u32 + 1, &r.data));
            Record::new(r.ts_us, outer)
        })
        .collect())
}

/// The capture PPTP's packets follow, bare, so the file has findings of its own.
pub const PPTP_AFTER: &str = "real/ota/esp32_md5_wrong_password.pcap";

/// PPTP data (RFC 2637 §4.1) a day after a bare OTA exchange ([`PPTP_AFTER`]): a PPTP call's
/// enhanced GRE both ways, PPP frames with and without acknowledgments, and an acknowledgment
/// alone. Recognised and counted, no decode error.
pub fn pptp() -> io::Result<Vec<Record>> {
    let mut records = read_pcap(&reference_dir().join(PPTP_AFTER))?;
    let (client, server) = ("203.0.113.5", "203.0.113.9");
    let ppp = [0xff, 0x03, 0x00, 0x21, 0x45, 0x00, 0x00, 0x14];
    let enhanced = |seq: Option<u32>, ack: Option<u32>, call: u16, payload: &[u8]| {
        let mut flags: u16 = 0x2001; // K, version 1
        if seq.is_some() {
            flags |= 0x1000;
        }
        if ack.is_some() {
            flags |= 0x0080;
        }
        let mut g = flags.to_be_bytes().to_vec();
        g.extend_from_slice(&[0x88, 0x0b]);
        g.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        g.extend_from_slice(&call.to_be_bytes());
        for word in [seq, ack].into_iter().flatten() {
            g.extend_from_slice(&word.to_be_bytes());
        }
        g.extend_from_slice(payload);
        g
    };
    let packets = [
        (client, server, enhanced(Some(0), None, 0x4001, &ppp)),
        (server, client, enhanced(Some(0), Some(0), 0x8001, &ppp)),
        (client, server, enhanced(Some(1), Some(0), 0x4001, &ppp)),
        (server, client, enhanced(None, Some(1), 0x8001, &[])),
    ];
    records.extend(packets.into_iter().enumerate().map(|(i, (src, dst, gre))| {
        let data = outer_link().wrap(&gre_delivery(src, dst, &gre));
        Record::new(1_796_140_800_000_000 + i as i64 * 10_000, data)
    }));
    Ok(records)
}
