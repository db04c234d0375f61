//! The cheapest look at a frame: for the common well-formed case (Ethernet with at most one
//! 802.1Q tag, Linux cooked v1 or v2, or raw IP; IPv4 without options or IPv6 without extension headers, not fragmented, not cut short,
//! carrying UDP or TCP) read the protocol and ports straight from fixed offsets, so the engine
//! can reject background traffic without running the full decoder.
//!
//! Contract: when [`peek`] answers [`Peek::Ports`] or [`Peek::NotIp`], [`super::decode`] would
//! have decoded the frame without error to exactly that (same protocol and ports, no tunnel, not
//! a fragment) or to `Outcome::NotIp`. Anything else, however common, is [`Peek::Slow`] and goes
//! through the full decoder: UDP to VXLAN's and GENEVE's ports included. A VXLAN port added by
//! `--vxlan-ports` is answered as plain UDP; the pre-filter (`Interest::wants`) passes it to the
//! decoder, which opens it. The tests check the contract on every frame they build.

use super::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use super::tunnel::{geneve, vxlan};
use super::{IPPROTO_TCP, IPPROTO_UDP};
use crate::packet::LinkType;
use std::net::IpAddr;

const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// What [`peek`] could tell without decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peek {
    /// A plain UDP or TCP packet: protocol, source port, destination port.
    Ports(u8, u16, u16),
    /// An Ethernet frame whose EtherType is neither IP nor a VLAN tag.
    NotIp,
    /// Needs the full decoder.
    Slow,
}

#[inline(always)]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline(always)]
pub fn peek(link: LinkType, frame: &[u8]) -> Peek {
    match link {
        LinkType::Ethernet => {}
        // Linux cooked v1 and v2 (`capture -i any`): (protocol, device type, network header).
        LinkType::LinuxSll | LinkType::LinuxSll2 => {
            let (protocol_at, hatype_at, network_at) = if link == LinkType::LinuxSll {
                (14, 2, 16)
            } else {
                (0, 8, 20)
            };
            if frame.len() < network_at {
                return Peek::Slow;
            }
            return match be16(frame, protocol_at) {
                ETHERTYPE_IPV4 => ipv4(&frame[network_at..]),
                ETHERTYPE_IPV6 => ipv6(&frame[network_at..]),
                // Linux's own protocol numbers and the devices whose protocol field is no
                // EtherType (Frame Relay, radiotap, netlink) are the decoder's to count.
                p if p >= 0x0600 && !matches!(be16(frame, hatype_at), 770 | 803 | 824) => {
                    Peek::NotIp
                }
                _ => Peek::Slow,
            };
        }
        LinkType::Raw => {
            return match frame.first().map(|b| b >> 4) {
                Some(4) => ipv4(frame),
                Some(6) => ipv6(frame),
                _ => Peek::Slow,
            }
        }
        LinkType::Ipv4 => return ipv4(frame),
        LinkType::Ipv6 => return ipv6(frame),
        _ => return Peek::Slow,
    }
    if frame.len() < 14 {
        return Peek::Slow;
    }
    let mut ethertype = be16(frame, 12);
    let mut offset = 14;
    if ethertype == ETHERTYPE_VLAN {
        if frame.len() < 18 {
            return Peek::Slow;
        }
        ethertype = be16(frame, 16);
        offset = 18;
    }
    match ethertype {
        ETHERTYPE_IPV4 => ipv4(&frame[offset..]),
        ETHERTYPE_IPV6 => ipv6(&frame[offset..]),
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => Peek::Slow,
        _ => Peek::NotIp,
    }
}

#[inline(always)]
fn ipv4(ip: &[u8]) -> Peek {
    // Version 4, no options; total length within what was captured (padding after it is fine).
    if ip.len() < 20 || ip[0] != 0x45 {
        return Peek::Slow;
    }
    let total = usize::from(be16(ip, 2));
    // MF clear and fragment offset 0: not a fragment.
    if total > ip.len() || total < 20 || be16(ip, 6) & 0x3FFF != 0 {
        return Peek::Slow;
    }
    transport(ip[9], &ip[20..total])
}

#[inline(always)]
fn ipv6(ip: &[u8]) -> Peek {
    if ip.len() < 40 || ip[0] >> 4 != 6 {
        return Peek::Slow;
    }
    let payload = usize::from(be16(ip, 4));
    // Payload length 0 is a jumbogram (or damage): the decoder decides.
    if payload == 0 || 40 + payload > ip.len() {
        return Peek::Slow;
    }
    transport(ip[6], &ip[40..40 + payload])
}

#[inline(always)]
fn transport(proto: u8, l4: &[u8]) -> Peek {
    match proto {
        IPPROTO_UDP => {
            if l4.len() < 8 {
                return Peek::Slow;
            }
            let len = usize::from(be16(l4, 4));
            let dst = be16(l4, 2);
            if len < 8 || len > l4.len() || dst == vxlan::PORT || dst == geneve::PORT {
                return Peek::Slow;
            }
            Peek::Ports(IPPROTO_UDP, be16(l4, 0), dst)
        }
        IPPROTO_TCP => {
            if l4.len() < 20 {
                return Peek::Slow;
            }
            let header = usize::from(l4[12] >> 4) * 4;
            if header < 20 || header > l4.len() {
                return Peek::Slow;
            }
            Peek::Ports(IPPROTO_TCP, be16(l4, 0), be16(l4, 2))
        }
        _ => Peek::Slow,
    }
}

/// The address pair of a frame [`peek`] answered [`Peek::Ports`] for, read from the same
/// offsets: the pre-filter's exact check of a held port needs it before decoding. `None` for a
/// link type it does not read (the full decoder decides then).
#[inline]
pub fn addresses(link: LinkType, frame: &[u8]) -> Option<(IpAddr, IpAddr)> {
    let ip = match link {
        LinkType::Ethernet if frame.get(12..14)? == ETHERTYPE_VLAN.to_be_bytes() => {
            frame.get(18..)?
        }
        LinkType::Ethernet => frame.get(14..)?,
        LinkType::LinuxSll => frame.get(16..)?,
        LinkType::LinuxSll2 => frame.get(20..)?,
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => frame,
        _ => return None,
    };
    match ip.first()? >> 4 {
        4 => {
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            Some((IpAddr::from(src), IpAddr::from(dst)))
        }
        6 => {
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            Some((IpAddr::from(src), IpAddr::from(dst)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, Outcome, Transport};

    /// The contract: whatever `peek` answers, `decode` agrees.
    fn agrees(link: LinkType, frame: &[u8]) -> Peek {
        let p = peek(link, frame);
        let d = decode(link, frame, 4);
        match p {
            Peek::Ports(proto, s, dport) => {
                let Ok(Outcome::Ip(d)) = d else {
                    panic!("peek said ports, decode said {d:?}")
                };
                assert!(d.tunnel.is_none());
                assert_eq!(d.net.proto, proto);
                assert_eq!(d.ports(), Some((s, dport)));
                assert_eq!(addresses(link, frame), Some((d.net.src, d.net.dst)));
                assert!(!matches!(
                    d.transport,
                    Transport::Fragment | Transport::Other(_)
                ));
            }
            Peek::NotIp => assert!(matches!(d, Ok(Outcome::NotIp(_))), "{d:?}"),
            Peek::Slow => {}
        }
        p
    }

    fn eth(ethertype: u16, body: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    fn ipv4_udp(total_extra: i32, flags_frag: u16, udp_len: u16, payload: usize) -> Vec<u8> {
        let l4 = 8 + payload;
        let total = (20 + l4) as i32 + total_extra;
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&(total as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 1]);
        ip.extend_from_slice(&flags_frag.to_be_bytes());
        ip.extend_from_slice(&[64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);
        ip.extend_from_slice(&[0x30, 0x39, 0x0c, 0xa0]);
        ip.extend_from_slice(&udp_len.to_be_bytes());
        ip.extend_from_slice(&[0, 0]);
        ip.extend(std::iter::repeat(0xab).take(payload));
        ip
    }

    #[test]
    fn plain_udp_and_tcp_are_read_from_fixed_offsets() {
        let f = eth(0x0800, &ipv4_udp(0, 0x4000, 12, 4));
        assert_eq!(agrees(LinkType::Ethernet, &f), Peek::Ports(17, 12345, 3232));
        // Ethernet padding after the IP packet.
        let mut padded = f.clone();
        padded.extend_from_slice(&[0; 10]);
        assert_eq!(
            agrees(LinkType::Ethernet, &padded),
            Peek::Ports(17, 12345, 3232)
        );
        // One 802.1Q tag.
        let mut tagged = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x81, 0, 0, 42, 0x08, 0];
        tagged.extend_from_slice(&ipv4_udp(0, 0, 12, 4));
        assert_eq!(
            agrees(LinkType::Ethernet, &tagged),
            Peek::Ports(17, 12345, 3232)
        );
        // TCP over IPv6.
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
        ip6.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        ip6.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        ip6.extend_from_slice(&[
            0x01, 0xbb, 0xc0, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 1, 0, 0, 0, 0, 0,
        ]);
        assert_eq!(
            agrees(LinkType::Ethernet, &eth(0x86DD, &ip6)),
            Peek::Ports(6, 443, 49152)
        );
        // ARP.
        assert_eq!(
            agrees(LinkType::Ethernet, &eth(0x0806, &[0; 28])),
            Peek::NotIp
        );
        // Raw IP, LINKTYPE_IPV4 and Linux cooked v2.
        let udp = ipv4_udp(0, 0, 12, 4);
        assert_eq!(agrees(LinkType::Raw, &udp), Peek::Ports(17, 12345, 3232));
        assert_eq!(agrees(LinkType::Ipv4, &udp), Peek::Ports(17, 12345, 3232));
        let mut sll2 = vec![
            0x08, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0,
        ];
        sll2.extend_from_slice(&udp);
        assert_eq!(
            agrees(LinkType::LinuxSll2, &sll2),
            Peek::Ports(17, 12345, 3232)
        );
        sll2[0..2].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(agrees(LinkType::LinuxSll2, &sll2), Peek::NotIp);
        // Linux cooked v1 from loopback (ARPHRD 772), then 802.2 and a netlink device: the
        // decoder's to count.
        let mut sll = vec![0, 0, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0];
        sll.extend_from_slice(&udp);
        assert_eq!(
            agrees(LinkType::LinuxSll, &sll),
            Peek::Ports(17, 12345, 3232)
        );
        sll[14..16].copy_from_slice(&[0x00, 0x04]);
        assert_eq!(agrees(LinkType::LinuxSll, &sll), Peek::Slow);
        sll[2..4].copy_from_slice(&824u16.to_be_bytes());
        sll[14..16].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(agrees(LinkType::LinuxSll, &sll), Peek::Slow);
    }

    /// Every frame of the bundled captures and of generated benchmark traffic (and every
    /// prefix and a byte flip of a sample of them): `decode` agrees with each fast answer, and
    /// the common background takes the fast path.
    #[test]
    fn decoder_agrees_on_real_and_generated_traffic() {
        use crate::capture::{NativeSource, Next};
        use watch3232_testgen::bench::{self, Format, Profile};
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (name, profile, bytes, packets) in [
            ("mixed.pcap", Profile::Mixed, 3_000_000, 0),
            ("small.pcap", Profile::Small, 0, 30_000),
        ] {
            let path = dir.path().join(name);
            bench::write(&path, profile, Format::Pcap, bytes, packets).unwrap();
            files.push(path);
        }
        // Every link type, and every mirror tunnel (whose frames all take the slow path).
        let testdata = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        for dir in ["links", "tunnels"] {
            for entry in std::fs::read_dir(testdata.join(dir)).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        let (mut fast, mut total) = (0u64, 0u64);
        for path in &files {
            let input = Box::new(std::fs::File::open(path).unwrap());
            let mut src = NativeSource::open(path.to_str().unwrap(), input)
                .unwrap()
                .unwrap();
            // Bundled captures (every link type): every frame; generated ones: a sample.
            let every = if path.starts_with(dir.path()) { 97 } else { 1 };
            while let Ok(Next::Packet(p)) = src.next_packet() {
                total += 1;
                if agrees(p.link, p.data) != Peek::Slow {
                    fast += 1;
                }
                if total % every == 0 {
                    let mut f = p.data.to_vec();
                    for cut in 0..f.len() {
                        agrees(p.link, &f[..cut]);
                    }
                    for i in 0..f.len().min(80) {
                        f[i] ^= 0xff;
                        agrees(p.link, &f);
                        f[i] ^= 0xff;
                    }
                }
            }
        }
        assert!(total > 30_000, "{total}");
        // Background is ~99 % of the generated traffic; nearly all of it is plain UDP/TCP/ARP.
        assert!(fast * 100 > total * 95, "{fast} of {total}");
    }

    #[test]
    fn anything_unusual_goes_to_the_decoder() {
        let slow = |f: &[u8]| assert_eq!(agrees(LinkType::Ethernet, f), Peek::Slow);
        slow(&eth(0x0800, &ipv4_udp(0, 0x2000, 12, 4))); // more fragments
        slow(&eth(0x0800, &ipv4_udp(0, 0x0010, 12, 4))); // non-first fragment
        slow(&eth(0x0800, &ipv4_udp(8, 0, 12, 4))); // total length beyond the capture
        slow(&eth(0x0800, &ipv4_udp(-20, 0, 12, 4))); // total length below the header
        slow(&eth(0x0800, &ipv4_udp(0, 0, 7, 4))); // UDP length below 8
        slow(&eth(0x0800, &ipv4_udp(0, 0, 40, 4))); // UDP length beyond the datagram
        for tunnel_port in [4789u16, 6081] {
            let mut to_tunnel = ipv4_udp(0, 0, 12, 4);
            to_tunnel[22..24].copy_from_slice(&tunnel_port.to_be_bytes());
            slow(&eth(0x0800, &to_tunnel)); // VXLAN, GENEVE: the decoder opens them
        }
        let mut opts = ipv4_udp(0, 0, 12, 4);
        opts[0] = 0x46;
        slow(&eth(0x0800, &opts)); // IPv4 options (and here: a broken header)
        slow(&eth(0x0800, &[0x45, 0, 0])); // cut short
        slow(&eth(0x88A8, &[0; 40])); // QinQ
        slow(&[0; 10]);
        // GRE, PIM, ICMP: never the fast path.
        let mut gre = ipv4_udp(0, 0, 12, 4);
        gre[9] = 47;
        slow(&eth(0x0800, &gre));
        // Link types without a fast path, and a cooked protocol 0 (no EtherType).
        assert_eq!(agrees(LinkType::LinuxSll, &[0; 60]), Peek::Slow);
        assert_eq!(agrees(LinkType::Null, &[2, 0, 0, 0]), Peek::Slow);
        assert_eq!(agrees(LinkType::Raw, &[0x50; 30]), Peek::Slow);
    }
}
