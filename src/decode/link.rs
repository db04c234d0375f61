//! Link-layer headers: Ethernet with any number of 802.1Q/802.1ad tags, Linux cooked capture
//! v1 and v2 (`cooked.rs`), 802.11 bare, with radiotap or PPI (`wifi.rs`), BSD/OpenBSD
//! loopback, and raw IP. Each parser returns where the network layer starts and which protocol
//! it carries, or why a well-formed frame carries none we read ([`Skip`]).

mod cooked;
mod wifi;

use super::{DecodeError, Layer};
use crate::packet::LinkType;
use etherparse::{Ethernet2HeaderSlice, SingleVlanHeaderSlice};

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// How many VLAN tags we unwrap before calling the frame malformed.
pub const MAX_VLAN_TAGS: usize = 4;

/// What the link layer told us: where the network header starts and what it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfo {
    /// EtherType of the network layer (IPv4/IPv6 after the BSD/raw mappings).
    pub ethertype: u16,
    /// Offset of the network header in the frame.
    pub offset: usize,
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    /// The outermost VLAN ID, when tagged.
    pub vlan: Option<u16>,
    /// Bytes at the end of the frame that are not the network layer's (an 802.11 FCS).
    pub trailer: usize,
    /// Set when the frame is well formed but carries no network layer we read; `ethertype`
    /// is then 0.
    pub skipped: Option<Skip>,
}

impl LinkInfo {
    fn skipped(why: Skip) -> Self {
        LinkInfo {
            skipped: Some(why),
            ..LinkInfo::default()
        }
    }
}

/// Why a well-formed frame was not decoded further: counted by kind, never an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Skip {
    /// A cooked capture's protocol that is no EtherType (Linux's 802.3/802.2/CAN… values), a
    /// netlink or Frame Relay device, or a PPI header around a link type we do not read.
    UnsupportedProtocol,
    /// 802.11 data with the Protected bit: encrypted payload.
    WifiEncrypted,
    WifiManagement,
    WifiControl,
    /// 802.11 data frames without a body (Null, QoS Null, CF-Ack…).
    WifiNoData,
    /// A non-first 802.11 fragment (no LLC header to read).
    WifiFragment,
    /// An 802.11 A-MSDU, an extension frame, or a frame radiotap marks as failing its FCS.
    WifiOther,
}

impl Skip {
    pub const ALL: [Skip; 7] = [
        Skip::UnsupportedProtocol,
        Skip::WifiEncrypted,
        Skip::WifiManagement,
        Skip::WifiControl,
        Skip::WifiNoData,
        Skip::WifiFragment,
        Skip::WifiOther,
    ];

    /// The key of its counter in the `stats` event.
    pub fn name(self) -> &'static str {
        match self {
            Skip::UnsupportedProtocol => "link.unsupported",
            Skip::WifiEncrypted => "wifi.encrypted",
            Skip::WifiManagement => "wifi.management",
            Skip::WifiControl => "wifi.control",
            Skip::WifiNoData => "wifi.no_data",
            Skip::WifiFragment => "wifi.fragments",
            Skip::WifiOther => "wifi.other",
        }
    }
}

pub fn parse(link: LinkType, frame: &[u8]) -> Result<LinkInfo, DecodeError> {
    match link {
        LinkType::Ethernet => ethernet(frame),
        LinkType::LinuxSll => cooked::sll(frame),
        LinkType::LinuxSll2 => cooked::sll2(frame),
        LinkType::Ieee80211 => wifi::bare(frame),
        LinkType::Radiotap => wifi::radiotap(frame),
        LinkType::Ppi => wifi::ppi(frame),
        LinkType::Null => bsd_loopback(frame, false),
        LinkType::Loop => bsd_loopback(frame, true),
        LinkType::Raw => raw(frame),
        LinkType::Ipv4 => Ok(LinkInfo {
            ethertype: ETHERTYPE_IPV4,
            ..LinkInfo::default()
        }),
        LinkType::Ipv6 => Ok(LinkInfo {
            ethertype: ETHERTYPE_IPV6,
            ..LinkInfo::default()
        }),
    }
}

pub(super) fn ethernet(frame: &[u8]) -> Result<LinkInfo, DecodeError> {
    let eth = Ethernet2HeaderSlice::from_slice(frame)
        .map_err(|e| DecodeError::truncated(Layer::Link, 0, e.required_len, frame.len()))?;
    let mut info = LinkInfo {
        ethertype: eth.ether_type().0,
        offset: eth.slice().len(),
        src_mac: Some(eth.source()),
        dst_mac: Some(eth.destination()),
        ..LinkInfo::default()
    };
    let mut tags = 0;
    while matches!(
        info.ethertype,
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
    ) {
        tags += 1;
        if tags > MAX_VLAN_TAGS {
            return Err(DecodeError::Malformed {
                layer: Layer::Vlan,
                offset: info.offset,
                reason: "more than 4 VLAN tags",
            });
        }
        let rest = &frame[info.offset..];
        let tag = SingleVlanHeaderSlice::from_slice(rest).map_err(|e| {
            DecodeError::truncated(Layer::Vlan, info.offset, e.required_len, rest.len())
        })?;
        info.vlan.get_or_insert(tag.vlan_identifier().value());
        info.ethertype = tag.ether_type().0;
        info.offset += tag.slice().len();
    }
    Ok(info)
}

/// BSD loopback: a 4-byte address family, in the writer's byte order for NULL and network order
/// for LOOP. AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30 depending on the BSD.
fn bsd_loopback(frame: &[u8], network_order: bool) -> Result<LinkInfo, DecodeError> {
    if frame.len() < 4 {
        return Err(DecodeError::truncated(Layer::Link, 0, 4, frame.len()));
    }
    let raw = [frame[0], frame[1], frame[2], frame[3]];
    let family = if network_order {
        u32::from_be_bytes(raw)
    } else {
        // The writer's byte order is unknown; the family is a small number, so pick the reading
        // that gives one.
        let le = u32::from_le_bytes(raw);
        if le <= 0xFFFF {
            le
        } else {
            u32::from_be_bytes(raw)
        }
    };
    let ethertype = match family {
        2 => ETHERTYPE_IPV4,
        10 | 23 | 24 | 28 | 30 => ETHERTYPE_IPV6,
        // Neither IPv4 nor IPv6 (e.g. OSI, AppleTalk): EtherType 0 is never IP, so it is skipped.
        _ => 0,
    };
    Ok(LinkInfo {
        ethertype,
        offset: 4,
        ..LinkInfo::default()
    })
}

/// Raw IP: the version nibble says which.
fn raw(frame: &[u8]) -> Result<LinkInfo, DecodeError> {
    let first = *frame
        .first()
        .ok_or(DecodeError::truncated(Layer::Ip, 0, 1, 0))?;
    let ethertype = match first >> 4 {
        4 => ETHERTYPE_IPV4,
        6 => ETHERTYPE_IPV6,
        _ => {
            return Err(DecodeError::Malformed {
                layer: Layer::Ip,
                offset: 0,
                reason: "IP version is neither 4 nor 6",
            })
        }
    };
    Ok(LinkInfo {
        ethertype,
        ..LinkInfo::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth_frame(tags: &[(u16, u16)], ethertype: u16) -> Vec<u8> {
        let mut f = vec![0x01, 0x00, 0x5e, 0, 0, 0x0d, 0x24, 0x0a, 0xc4, 1, 2, 3];
        for (tpid, vid) in tags {
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&vid.to_be_bytes());
        }
        f.extend_from_slice(&ethertype.to_be_bytes());
        f
    }

    #[test]
    fn ethernet_untagged_single_and_qinq() {
        let plain = parse(LinkType::Ethernet, &eth_frame(&[], 0x0800)).unwrap();
        assert_eq!(
            (plain.ethertype, plain.offset, plain.vlan),
            (0x0800, 14, None)
        );
        assert_eq!(plain.src_mac, Some([0x24, 0x0a, 0xc4, 1, 2, 3]));

        let one = parse(LinkType::Ethernet, &eth_frame(&[(0x8100, 42)], 0x86DD)).unwrap();
        assert_eq!(
            (one.ethertype, one.offset, one.vlan),
            (0x86DD, 18, Some(42))
        );

        let qinq = parse(
            LinkType::Ethernet,
            &eth_frame(&[(0x88A8, 100), (0x8100, 7)], 0x0800),
        )
        .unwrap();
        assert_eq!(
            (qinq.ethertype, qinq.offset, qinq.vlan),
            (0x0800, 22, Some(100))
        );
    }

    #[test]
    fn ethernet_errors_are_typed() {
        assert!(matches!(
            parse(LinkType::Ethernet, &[0u8; 13]),
            Err(DecodeError::Truncated {
                layer: Layer::Link,
                required: 14,
                available: 13,
                ..
            })
        ));
        let mut cut = eth_frame(&[], 0x8100);
        cut.extend_from_slice(&[0, 1]);
        assert!(matches!(
            parse(LinkType::Ethernet, &cut),
            Err(DecodeError::Truncated {
                layer: Layer::Vlan,
                ..
            })
        ));
        let deep = eth_frame(&[(0x8100, 1); 5], 0x0800);
        assert!(matches!(
            parse(LinkType::Ethernet, &deep),
            Err(DecodeError::Malformed {
                layer: Layer::Vlan,
                ..
            })
        ));
    }

    #[test]
    fn cooked_captures() {
        // SLL: packet type, ARPHRD_ETHER, addr len 6, addr (8), protocol IPv4.
        let sll = [
            0, 0, 0, 1, 0, 6, 0x24, 0x0a, 0xc4, 9, 9, 9, 0, 0, 0x08, 0x00,
        ];
        let i = parse(LinkType::LinuxSll, &sll).unwrap();
        assert_eq!(
            (i.ethertype, i.offset, i.src_mac),
            (0x0800, 16, Some([0x24, 0x0a, 0xc4, 9, 9, 9]))
        );
        // SLL2: protocol IPv6, reserved, ifindex 2, ARPHRD_ETHER, outgoing, addr len 6, addr.
        let sll2 = [
            0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        let i = parse(LinkType::LinuxSll2, &sll2).unwrap();
        assert_eq!(
            (i.ethertype, i.offset, i.src_mac),
            (0x86DD, 20, Some([1, 2, 3, 4, 5, 6]))
        );
        assert!(parse(LinkType::LinuxSll2, &sll2[..19]).is_err());
    }

    #[test]
    fn loopback_and_raw() {
        assert_eq!(
            parse(LinkType::Null, &[2, 0, 0, 0]).unwrap().ethertype,
            ETHERTYPE_IPV4
        );
        assert_eq!(
            parse(LinkType::Null, &[0, 0, 0, 30]).unwrap().ethertype,
            ETHERTYPE_IPV6
        );
        assert_eq!(
            parse(LinkType::Loop, &[0, 0, 0, 24]).unwrap().ethertype,
            ETHERTYPE_IPV6
        );
        assert_eq!(
            parse(LinkType::Raw, &[0x45]).unwrap().ethertype,
            ETHERTYPE_IPV4
        );
        assert_eq!(
            parse(LinkType::Raw, &[0x60]).unwrap().ethertype,
            ETHERTYPE_IPV6
        );
        assert!(parse(LinkType::Raw, &[0x50]).is_err());
        assert!(parse(LinkType::Raw, &[]).is_err());
    }
}
