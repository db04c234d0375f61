//! The packet view every layer after capture sees: timestamp, link type, lengths and bytes.

use crate::time::Timestamp;

/// Link-layer header types we decode (values are pcap LINKTYPE_* numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    Null,
    Ethernet,
    /// Raw IP (LINKTYPE_RAW 101, and DLT_RAW's 12/14 on some platforms).
    Raw,
    /// OpenBSD loopback: 4-byte address family in network byte order.
    Loop,
    LinuxSll,
    LinuxSll2,
    Ipv4,
    Ipv6,
    /// IEEE 802.11 frames, no capture header (LINKTYPE_IEEE802_11 105).
    Ieee80211,
    /// 802.11 behind a radiotap header (LINKTYPE_IEEE802_11_RADIOTAP 127).
    Radiotap,
    /// Per-Packet Information header, then its own link type (LINKTYPE_PPI 192).
    Ppi,
}

impl LinkType {
    /// Maps a pcap link-type number; `None` for types we cannot decode.
    pub fn from_linktype(value: i32) -> Option<LinkType> {
        Some(match value {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            105 => LinkType::Ieee80211,
            127 => LinkType::Radiotap,
            192 => LinkType::Ppi,
            _ => return None,
        })
    }

    pub fn linktype(self) -> i32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Ieee80211 => 105,
            LinkType::Radiotap => 127,
            LinkType::Ppi => 192,
        }
    }
}

/// One captured packet, borrowed from the source's buffer until the next read.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub ts: Timestamp,
    /// Length on the wire; `data.len()` (the captured length) may be shorter.
    pub wire_len: u32,
    pub data: &'a [u8],
    pub link: LinkType,
    /// 1-based position of the packet in its source.
    pub index: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linktypes_round_trip() {
        for lt in [0, 1, 101, 108, 113, 276, 228, 229, 105, 127, 192] {
            assert_eq!(LinkType::from_linktype(lt).unwrap().linktype(), lt);
        }
        assert_eq!(LinkType::from_linktype(12), Some(LinkType::Raw));
        assert_eq!(LinkType::from_linktype(187), None);
    }
}
