//! Linux cooked captures, what `tcpdump -i any` writes: LINKTYPE_LINUX_SLL (113) and
//! LINKTYPE_LINUX_SLL2 (276). The network layer is named by the protocol field, whatever the
//! device's hardware type: Ethernet, loopback (ARPHRD 772), PPP (512), tun (65534), IP-in-IP
//! (768) and GRE devices (778, 823) all put the packet's EtherType there. As in Wireshark's
//! `packet-sll.c`, only netlink, Frame Relay and radiotap devices put something else there,
//! and values below 0x0600 are Linux's own (`LINUX_SLL_P_802_3` 1, `P_802_2` 4, CAN 0x0C…).

use super::{wifi, LinkInfo, Skip};
use crate::decode::{DecodeError, Layer};

const ARPHRD_FRAD: u16 = 770;
const ARPHRD_IEEE80211_RADIOTAP: u16 = 803;
const ARPHRD_NETLINK: u16 = 824;

/// Protocol values below this are Linux's `LINUX_SLL_P_*` numbers, not EtherTypes.
const MIN_ETHERTYPE: u16 = 0x0600;

/// SLL: packet type(2) hatype(2) halen(2) addr(8) protocol(2).
pub(super) fn sll(frame: &[u8]) -> Result<LinkInfo, DecodeError> {
    const LEN: usize = 16;
    if frame.len() < LEN {
        return Err(DecodeError::truncated(Layer::Link, 0, LEN, frame.len()));
    }
    let halen = be16(frame, 4);
    let mac = source_mac(halen, &frame[6..14]);
    by_protocol(frame, LEN, be16(frame, 2), be16(frame, 14), mac)
}

/// SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8).
pub(super) fn sll2(frame: &[u8]) -> Result<LinkInfo, DecodeError> {
    const LEN: usize = 20;
    if frame.len() < LEN {
        return Err(DecodeError::truncated(Layer::Link, 0, LEN, frame.len()));
    }
    let mac = source_mac(u16::from(frame[11]), &frame[12..20]);
    by_protocol(frame, LEN, be16(frame, 8), be16(frame, 0), mac)
}

fn by_protocol(
    frame: &[u8],
    offset: usize,
    hatype: u16,
    protocol: u16,
    src_mac: Option<[u8; 6]>,
) -> Result<LinkInfo, DecodeError> {
    match hatype {
        // A monitor-mode interface under `-i any`: radiotap and 802.11 follow.
        ARPHRD_IEEE80211_RADIOTAP => {
            let inner = wifi::radiotap(&frame[offset..])?;
            return Ok(LinkInfo {
                offset: inner.offset + offset,
                ..inner
            });
        }
        ARPHRD_NETLINK | ARPHRD_FRAD => return Ok(LinkInfo::skipped(Skip::UnsupportedProtocol)),
        _ => {}
    }
    if protocol < MIN_ETHERTYPE {
        return Ok(LinkInfo::skipped(Skip::UnsupportedProtocol));
    }
    Ok(LinkInfo {
        ethertype: protocol,
        offset,
        src_mac,
        ..LinkInfo::default()
    })
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn source_mac(len: u16, addr: &[u8]) -> Option<[u8; 6]> {
    (len == 6 && addr.len() >= 6).then(|| [addr[0], addr[1], addr[2], addr[3], addr[4], addr[5]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};

    fn sll_header(hatype: u16, halen: u16, protocol: u16) -> Vec<u8> {
        let mut f = vec![0, 0];
        f.extend_from_slice(&hatype.to_be_bytes());
        f.extend_from_slice(&halen.to_be_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&protocol.to_be_bytes());
        f
    }

    fn sll2_header(hatype: u16, protocol: u16) -> Vec<u8> {
        let mut f = protocol.to_be_bytes().to_vec();
        f.extend_from_slice(&[0, 0, 0, 0, 0, 3]);
        f.extend_from_slice(&hatype.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&[0; 8]);
        f
    }

    #[test]
    fn every_device_type_carrying_ip_is_read_by_its_protocol() {
        // Ethernet, PPP, IP-in-IP, loopback, GRE, ip6gre, tun/none.
        for hatype in [1, 512, 768, 772, 778, 823, 65534] {
            for protocol in [ETHERTYPE_IPV4, ETHERTYPE_IPV6] {
                let v1 = sll(&sll_header(hatype, 0, protocol)).unwrap();
                assert_eq!(
                    (v1.ethertype, v1.offset, v1.skipped),
                    (protocol, 16, None),
                    "SLL hatype {hatype}"
                );
                let v2 = sll2(&sll2_header(hatype, protocol)).unwrap();
                assert_eq!(
                    (v2.ethertype, v2.offset, v2.skipped),
                    (protocol, 20, None),
                    "SLL2 hatype {hatype}"
                );
            }
        }
    }

    #[test]
    fn linux_protocol_numbers_and_netlink_are_skipped_not_errors() {
        // 802.3 without LLC, 802.2, CAN, CAN FD on an Ethernet device.
        for protocol in [0x0001, 0x0004, 0x000C, 0x000D] {
            assert_eq!(
                sll(&sll_header(1, 6, protocol)).unwrap().skipped,
                Some(Skip::UnsupportedProtocol)
            );
            assert_eq!(
                sll2(&sll2_header(1, protocol)).unwrap().skipped,
                Some(Skip::UnsupportedProtocol)
            );
        }
        // Netlink's protocol field is a netlink family, whatever its value.
        let netlink = sll(&sll_header(ARPHRD_NETLINK, 0, 0x0800)).unwrap();
        assert_eq!(
            (netlink.ethertype, netlink.skipped),
            (0, Some(Skip::UnsupportedProtocol))
        );
        // ARP is simply not IP.
        let arp = sll(&sll_header(1, 6, 0x0806)).unwrap();
        assert_eq!((arp.ethertype, arp.skipped), (0x0806, None));
    }

    #[test]
    fn a_monitor_interface_under_any_is_read_as_radiotap() {
        // Radiotap (no fields), then an 802.11 data frame to the AP with SNAP IPv4.
        let mut frame = sll_header(ARPHRD_IEEE80211_RADIOTAP, 0, 0x0019);
        frame.extend_from_slice(&[0, 0, 8, 0, 0, 0, 0, 0]);
        frame.extend_from_slice(&[0x08, 0x01, 0, 0]);
        frame.extend_from_slice(&[0; 20]);
        frame.extend_from_slice(&[0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00]);
        let i = sll(&frame).unwrap();
        assert_eq!(
            (i.ethertype, i.offset, i.skipped),
            (ETHERTYPE_IPV4, 16 + 8 + 24 + 8, None)
        );
    }

    #[test]
    fn short_headers_are_truncated() {
        assert_eq!(
            sll(&[0; 15]).unwrap_err(),
            DecodeError::truncated(Layer::Link, 0, 16, 15)
        );
        assert_eq!(
            sll2(&[0; 19]).unwrap_err(),
            DecodeError::truncated(Layer::Link, 0, 20, 19)
        );
    }
}
