//! The same OTA sessions on other link layers (`testdata/links/cooked-*.pcap`, `wifi-*.pcap`):
//! the packets of reference captures (real espota.py and ESPHome sessions from
//! `testdata/real/ota/`, a generated one from `testdata/ota/`), each an hour after the
//! previous, taken off their Ethernet header and put on Linux cooked v1/v2 of loopback, PPP,
//! tun or GRE devices, or 802.11 QoS data frames (open network) behind radiotap, PPI or nothing.
//! Decoded right, each gives exactly the findings of [`reference`] (the same packets on Ethernet).

use crate::capture::Record;

/// The sessions carried: (name, classic pcap bytes, Ethernet).
const SOURCES: [(&str, &[u8]); 3] = [
    (
        "real/ota/esp32_pbkdf2_aborted.pcap",
        include_bytes!("../../real/ota/esp32_pbkdf2_aborted.pcap"),
    ),
    (
        "real/ota/esphome_2026_wrong_password.pcap",
        include_bytes!("../../real/ota/esphome_2026_wrong_password.pcap"),
    ),
    (
        "ota/esp8266_md5_failed.pcap",
        include_bytes!("../../ota/esp8266_md5_failed.pcap"),
    ),
];

/// LINKTYPE_* of the carriers below.
pub mod linktype {
    pub const IEEE802_11: u32 = 105;
    pub const IEEE802_11_RADIOTAP: u32 = 127;
    pub const PPI: u32 = 192;
}

/// Linux ARPHRD_* device types.
pub mod arphrd {
    pub const PPP: u16 = 512;
    pub const LOOPBACK: u16 = 772;
    pub const IPGRE: u16 = 778;
    pub const NONE: u16 = 65534;
}

/// How an Ethernet frame's payload is carried instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// Unchanged: the reference.
    Ethernet,
    /// LINKTYPE_LINUX_SLL from a device of this ARPHRD type (no link address, as loopback,
    /// PPP and tun devices give).
    Sll { hatype: u16 },
    /// LINKTYPE_LINUX_SLL2 from a device of this ARPHRD type.
    Sll2 { hatype: u16 },
    /// 802.11 QoS data through an access point (to-DS from the first sender, from-DS back),
    /// radiotap header (TSFT, flags, rate) and a real FCS; a beacon, a QoS Null and a
    /// WPA-protected data frame last.
    Radiotap,
    /// 802.11 QoS data behind a PPI header with an 802.11-Common field.
    Ppi,
    /// Bare 802.11 4-address (WDS) data frames.
    Wds,
}

impl Carrier {
    pub fn linktype(self) -> u32 {
        use crate::capture::linktype::*;
        match self {
            Carrier::Ethernet => ETHERNET,
            Carrier::Sll { .. } => LINUX_SLL,
            Carrier::Sll2 { .. } => LINUX_SLL2,
            Carrier::Radiotap => linktype::IEEE802_11_RADIOTAP,
            Carrier::Ppi => linktype::PPI,
            Carrier::Wds => linktype::IEEE802_11,
        }
    }
}

/// The captures in `testdata/links/` built here: file stem and carrier.
pub fn variants() -> Vec<(&'static str, Carrier)> {
    vec![
        (
            "cooked-loopback",
            Carrier::Sll {
                hatype: arphrd::LOOPBACK,
            },
        ),
        (
            "cooked-ppp",
            Carrier::Sll {
                hatype: arphrd::PPP,
            },
        ),
        (
            "cooked-tun",
            Carrier::Sll {
                hatype: arphrd::NONE,
            },
        ),
        (
            "cooked2-gre",
            Carrier::Sll2 {
                hatype: arphrd::IPGRE,
            },
        ),
        ("wifi-radiotap", Carrier::Radiotap),
        ("wifi-ppi", Carrier::Ppi),
        ("wifi-wds", Carrier::Wds),
    ]
}

/// The sources on Ethernet, one after the other.
pub fn reference() -> Vec<Record> {
    carried(Carrier::Ethernet)
}

/// Frames in the radiotap capture that carry no IP: a beacon, a QoS Null, a protected frame.
pub const RADIOTAP_EXTRA_FRAMES: usize = 3;

/// The sources' packets on `carrier`.
pub fn carried(carrier: Carrier) -> Vec<Record> {
    let mut out = Vec::new();
    let mut first_sender: Option<[u8; 6]> = None;
    let mut seq: u16 = 0;
    let mut start = None;
    for (hour, (_, bytes)) in SOURCES.iter().enumerate() {
        let records = read_pcap(bytes);
        // Each source an hour after the start of the first, its own spacing kept.
        let first = records.first().map_or(0, |r| r.ts_us);
        let start = *start.get_or_insert(first);
        for r in records {
            let ts_us = start + hour as i64 * 3_600_000_000 + (r.ts_us - first);
            if carrier == Carrier::Ethernet {
                out.push(Record { ts_us, ..r });
                continue;
            }
            let eth = &r.data;
            let (dst, src) = (mac(&eth[0..6]), mac(&eth[6..12]));
            let ethertype = u16::from_be_bytes([eth[12], eth[13]]);
            let payload = &eth[14..];
            let sender = *first_sender.get_or_insert(src);
            let outgoing = src == sender;
            seq = seq.wrapping_add(1);
            let data = match carrier {
                Carrier::Ethernet => unreachable!("handled above"),
                Carrier::Sll { hatype } => sll(hatype, outgoing, ethertype, payload),
                Carrier::Sll2 { hatype } => sll2(hatype, outgoing, ethertype, payload),
                Carrier::Radiotap => {
                    let frame = wifi_data(Ds::Ap { outgoing }, src, dst, seq, ethertype, payload);
                    radiotap(&frame, true)
                }
                Carrier::Ppi => ppi(&wifi_data(
                    Ds::Ap { outgoing },
                    src,
                    dst,
                    seq,
                    ethertype,
                    payload,
                )),
                Carrier::Wds => wifi_data(Ds::Wds, src, dst, seq, ethertype, payload),
            };
            let header_change = data.len() as i64 - eth.len() as i64;
            out.push(Record {
                ts_us,
                orig_len: (i64::from(r.orig_len) + header_change) as u32,
                data,
                interface: 0,
            });
        }
    }
    // Last, at the last packet's time, so the others keep their numbers and times.
    if carrier == Carrier::Radiotap {
        let ts_us = out.last().map_or(0, |r| r.ts_us);
        let station = first_sender.unwrap_or(BSSID);
        for extra in radiotap_extras(station, BSSID) {
            out.push(Record::new(ts_us, extra));
        }
    }
    out
}

/// Records of a little-endian, microsecond classic pcap.
pub fn read_pcap(bytes: &[u8]) -> Vec<Record> {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 0xA1B2_C3D4, "little-endian microsecond pcap");
    let mut at = 24;
    let mut out = Vec::new();
    while at + 16 <= bytes.len() {
        let (sec, usec, caplen, len) =
            (u32_at(at), u32_at(at + 4), u32_at(at + 8), u32_at(at + 12));
        let data = bytes[at + 16..at + 16 + caplen as usize].to_vec();
        out.push(Record {
            ts_us: i64::from(sec) * 1_000_000 + i64::from(usec),
            data,
            orig_len: len,
            interface: 0,
        });
        at += 16 + caplen as usize;
    }
    out
}

fn mac(b: &[u8]) -> [u8; 6] {
    b.try_into().unwrap()
}

/// Linux cooked v1: packet type (0 to us, 4 sent by us), device type, no address, protocol.
fn sll(hatype: u16, outgoing: bool, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0, if outgoing { 4 } else { 0 }];
    f.extend_from_slice(&hatype.to_be_bytes());
    f.extend_from_slice(&[0; 10]);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Linux cooked v2: protocol, reserved, interface index 5, device type, packet type, no address.
fn sll2(hatype: u16, outgoing: bool, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = ethertype.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0, 0, 0, 0, 5]);
    f.extend_from_slice(&hatype.to_be_bytes());
    f.extend_from_slice(&[if outgoing { 4 } else { 0 }, 0]);
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(payload);
    f
}

pub const BSSID: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0xa0];
/// The far end of the wireless bridge in the WDS capture.
pub const WDS_PEER: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0xb0];

#[derive(Clone, Copy)]
enum Ds {
    /// Through an access point: to it from the first sender, from it otherwise.
    Ap { outgoing: bool },
    /// Between two access points (to-DS and from-DS both set).
    Wds,
}

/// An 802.11 QoS data frame (open network) carrying `payload` under an RFC 1042 SNAP header.
fn wifi_data(
    ds: Ds,
    src: [u8; 6],
    dst: [u8; 6],
    seq: u16,
    ethertype: u16,
    payload: &[u8],
) -> Vec<u8> {
    let (flags, addresses): (u8, Vec<[u8; 6]>) = match ds {
        Ds::Ap { outgoing: true } => (0x01, vec![BSSID, src, dst]),
        Ds::Ap { outgoing: false } => (0x02, vec![dst, BSSID, src]),
        Ds::Wds => (0x03, vec![WDS_PEER, BSSID, dst, src]),
    };
    let mut f = vec![0x88, flags, 0x2c, 0x00];
    for (i, a) in addresses.iter().enumerate() {
        f.extend_from_slice(a);
        if i == 2 {
            f.extend_from_slice(&((seq & 0x0FFF) << 4).to_le_bytes());
        }
    }
    f.extend_from_slice(&[0, 0]); // QoS control: TID 0, no A-MSDU
    f.extend_from_slice(&[0xAA, 0xAA, 0x03, 0, 0, 0]);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Radiotap (TSFT, flags, rate) around an 802.11 frame, with its FCS when `fcs`.
fn radiotap(frame: &[u8], fcs: bool) -> Vec<u8> {
    let mut f = vec![0, 0, 18, 0];
    f.extend_from_slice(&0b111u32.to_le_bytes());
    f.extend_from_slice(&0u64.to_le_bytes()); // TSFT
    f.push(if fcs { 0x10 } else { 0 });
    f.push(0x0c); // 6 Mb/s
    f.extend_from_slice(frame);
    if fcs {
        f.extend_from_slice(&crc32(frame).to_le_bytes());
    }
    f
}

/// PPI with one 802.11-Common field (no FCS), DLT 105.
fn ppi(frame: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 32, 0];
    f.extend_from_slice(&105u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&20u16.to_le_bytes());
    let mut common = [0u8; 20];
    common[12..14].copy_from_slice(&2437u16.to_le_bytes()); // channel 6
    f.extend_from_slice(&common);
    f.extend_from_slice(frame);
    f
}

/// A beacon, a QoS Null and a WPA-protected QoS data frame (CCMP header, ciphertext, MIC).
fn radiotap_extras(station: [u8; 6], peer: [u8; 6]) -> Vec<Vec<u8>> {
    let mut beacon = vec![0x80, 0, 0, 0];
    beacon.extend_from_slice(&[0xFF; 6]);
    beacon.extend_from_slice(&BSSID);
    beacon.extend_from_slice(&BSSID);
    beacon.extend_from_slice(&[0, 0]);
    beacon.extend_from_slice(&[0; 8]); // timestamp
    beacon.extend_from_slice(&[0x64, 0, 0x01, 0x04]); // interval, capabilities
    beacon.extend_from_slice(&[0, 4]);
    beacon.extend_from_slice(b"w323");
    let mut null = vec![0xC8, 0x01, 0x2c, 0];
    for a in [BSSID, station, BSSID] {
        null.extend_from_slice(&a);
    }
    null.extend_from_slice(&[0, 0, 0, 0]);
    let mut protected = vec![0x88, 0x41, 0x2c, 0];
    for a in [BSSID, station, peer] {
        protected.extend_from_slice(&a);
    }
    protected.extend_from_slice(&[0x10, 0, 0, 0]);
    protected.extend_from_slice(&[1, 0, 0, 0x20, 0, 0, 0, 0]); // CCMP PN, key id 0, ExtIV
    protected.extend_from_slice(&[0x5a; 48]); // ciphertext and MIC
    [beacon, null, protected]
        .iter()
        .map(|f| radiotap(f, true))
        .collect()
}

/// The IEEE 802.3 CRC-32 an 802.11 FCS carries.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_check_value() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    }
}
