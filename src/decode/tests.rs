//! Whole-frame decode tests on the example packets of shared/docs/mdt.md §5 and on damaged ones.

use super::*;
use std::net::Ipv4Addr;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// mdt.md §5 Ex. 1: Ethernet / IPv4 / GRE / IPv4 / PIM Hello (102 bytes).
const EX1: &str = "01005e01010100005e00530108004500005810010000ff2ff971c0000201ef01010100000800450000400001000001671748c0000201e000000d200051da0001000200690002000401f409c40013000400000001001400041a2b3c4d001800060100c6336401";
/// Ex. 2: Ethernet / IPv4 / GRE / IPv4 / UDP 3232 / Data-MDT Join (82 bytes).
const EX2: &str = "01005e01010100005e00530108004500004410020000ff2ff984c0000201ef010101000008004500002c00020000011117b1c0000201e000000d0ca00ca000184a57010010000a01010ae8050505ef010200";
/// Ex. 3: the same join, bare (58 bytes).
const EX3: &str = "01005e00000d00005e00530108004500002c00030000011117b0c0000201e000000d0ca00ca000184a57010010000a01010ae8050505ef010200";

fn ip(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn decoded(frame: &[u8]) -> Decoded<'_> {
    match decode(LinkType::Ethernet, frame, DEFAULT_MAX_TUNNEL_DEPTH).unwrap() {
        Outcome::Ip(d) => d,
        Outcome::NotIp(t) => panic!("not IP: {t:#06x}"),
        Outcome::Skipped(why) => panic!("skipped: {why:?}"),
    }
}

#[test]
fn pim_hello_inside_gre() {
    let frame = hex(EX1);
    assert_eq!(frame.len(), 102);
    let d = decoded(&frame);
    assert_eq!(
        (d.net.src, d.net.dst, d.net.proto, d.net.ttl),
        (ip([192, 0, 2, 1]), ip([224, 0, 0, 13]), IPPROTO_PIM, 1)
    );
    let t = d.tunnel.unwrap();
    assert_eq!(
        (t.outer_src, t.outer_dst, t.depth, t.key, t.checksum_ok),
        (ip([192, 0, 2, 1]), ip([239, 1, 1, 1]), 1, None, None)
    );
    let Transport::Other(pim) = d.transport else {
        panic!("PIM is not a port protocol")
    };
    assert_eq!(&pim[..4], &[0x20, 0x00, 0x51, 0xda]);
    assert_eq!(
        checksum::internet_checksum(pim),
        0,
        "the example's PIM checksum verifies"
    );
}

#[test]
fn data_mdt_join_inside_gre_and_bare() {
    for (frame, tunnelled) in [(hex(EX2), true), (hex(EX3), false)] {
        let d = decoded(&frame);
        let Transport::Udp(u) = d.transport else {
            panic!("UDP expected")
        };
        assert_eq!((u.src_port, u.dst_port), (3232, 3232));
        assert_eq!(u.payload, &hex("010010000a01010ae8050505ef010200")[..]);
        assert_eq!(d.tunnel.is_some(), tunnelled);
        assert_eq!(d.net.dst, ip([224, 0, 0, 13]));
    }
}

#[test]
fn gre_with_checksum_key_and_sequence() {
    // Ex. 4 = Ex. 1 with GRE C|K|S (checksum 4794, key 100, sequence 7): rebuild it.
    let ex1 = hex(EX1);
    let inner = &ex1[14 + 20 + 4..];
    let gre = hex("b0000800479400000000006400000007");
    let total = (20 + gre.len() + inner.len()) as u16;
    let mut outer = hex("4500000010040000ff2f0000c0000201ef010101");
    outer[2..4].copy_from_slice(&total.to_be_bytes());
    let c = checksum::internet_checksum(&outer);
    outer[10..12].copy_from_slice(&c.to_be_bytes());
    let mut frame = ex1[..14].to_vec();
    frame.extend_from_slice(&outer);
    frame.extend_from_slice(&gre);
    frame.extend_from_slice(inner);
    assert_eq!(frame.len(), 114);
    let t = decoded(&frame).tunnel.unwrap();
    assert_eq!(
        (t.key, t.sequence, t.checksum_ok),
        (Some(100), Some(7), Some(true))
    );
}

#[test]
fn nested_gre_is_bounded() {
    // Wrap Ex. 1's inner packet in 50 GRE layers: decoding stops at the bound with an error.
    let ex1 = hex(EX1);
    let mut pkt = ex1[14 + 20 + 4..].to_vec();
    for _ in 0..50 {
        let mut outer = hex("4500000000000000ff2f0000c0000201ef010101");
        let total = (20 + 4 + pkt.len()) as u16;
        outer[2..4].copy_from_slice(&total.to_be_bytes());
        outer.extend_from_slice(&hex("00000800"));
        outer.extend_from_slice(&pkt);
        pkt = outer;
    }
    let mut frame = ex1[..14].to_vec();
    frame.extend_from_slice(&pkt);
    assert_eq!(
        decode(LinkType::Ethernet, &frame, 4).unwrap_err(),
        DecodeError::TunnelTooDeep {
            max: 4,
            layer: Layer::Gre
        }
    );
    let two_deep = &ex1; // a single level decodes at any bound ≥ 1
    assert!(decode(LinkType::Ethernet, two_deep, 1).is_ok());
}

#[test]
fn every_truncation_of_every_example_is_an_error_or_a_shorter_view_never_a_panic() {
    for ex in [EX1, EX2, EX3] {
        let frame = hex(ex);
        for cut in 0..frame.len() {
            let _ = decode(LinkType::Ethernet, &frame[..cut], DEFAULT_MAX_TUNNEL_DEPTH);
        }
    }
}

#[test]
fn damaged_headers_are_typed_errors() {
    let mut bad_version = hex(EX3);
    bad_version[14] = 0x55;
    assert!(matches!(
        decode(LinkType::Ethernet, &bad_version, 4),
        Err(DecodeError::Malformed {
            layer: Layer::Ip,
            offset: 14,
            ..
        })
    ));
    let mut bad_udp_len = hex(EX3);
    bad_udp_len[14 + 20 + 4..14 + 20 + 6].copy_from_slice(&[0x00, 0x40]); // 64 > 24 available
    assert!(matches!(
        decode(LinkType::Ethernet, &bad_udp_len, 4),
        Err(DecodeError::Malformed {
            layer: Layer::Udp,
            ..
        })
    ));
    let mut gre_v1 = hex(EX2);
    gre_v1[14 + 20 + 1] = 0x01;
    assert_eq!(
        decode(LinkType::Ethernet, &gre_v1, 4).unwrap_err().kind(),
        "gre_version"
    );
    let arp = hex("ffffffffffff00005e0053010806");
    assert!(matches!(
        decode(LinkType::Ethernet, &arp, 4),
        Ok(Outcome::NotIp(0x0806))
    ));
}

#[test]
fn snaplen_cut_udp_still_decodes_its_ports() {
    let frame = hex(EX3);
    let cut = &frame[..14 + 20 + 8 + 4];
    let d = decoded(cut);
    assert!(d.net.truncated);
    assert_eq!(d.ports(), Some((3232, 3232)));
    assert_eq!(d.payload().len(), 4);
}

/// An outer IPv4 header (protocol `proto`, 192.0.2.10 → 198.51.100.20) around `payload`.
fn outer_ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut ip = hex("4500000000000000402f0000c000020ac6336414");
    let total = (20 + payload.len()) as u16;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[9] = proto;
    ip.extend_from_slice(payload);
    ip
}

/// A UDP header (source 50000) and payload.
fn udp_to(dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = vec![0xc3, 0x50];
    u.extend_from_slice(&dst_port.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// An outer Ethernet frame around an IPv4 packet.
fn outer_eth(ip: &[u8]) -> Vec<u8> {
    let mut f = hex("02000000000a02000000000b0800");
    f.extend_from_slice(ip);
    f
}

/// The mirrored frame: Ex. 3's bare Data-MDT join (UDP 3232), MAC 00:00:5e:00:53:01 → multicast.
fn mirrored() -> Vec<u8> {
    hex(EX3)
}

fn tunnelled(frame: &[u8]) -> (Decoded<'_>, Tunnel) {
    let d = decoded(frame);
    assert_eq!(d.ports(), Some((3232, 3232)), "the inner flow");
    assert_eq!(d.net.dst, ip([224, 0, 0, 13]));
    assert_eq!(
        d.link.src_mac,
        Some([0, 0, 0x5e, 0, 0x53, 1]),
        "the inner link"
    );
    assert_eq!(&frame[d.link.offset..d.link.offset + 1], &[0x45]);
    let t = d.tunnel.expect("tunnel");
    assert_eq!(
        (t.outer_src, t.outer_dst),
        (ip([192, 0, 2, 10]), ip([198, 51, 100, 20]))
    );
    (d, t)
}

#[test]
fn gre_bridging_carries_an_ethernet_frame() {
    let mut gre = hex("200065580000002a"); // K, key 42
    gre.extend_from_slice(&mirrored());
    let frame = outer_eth(&outer_ipv4(IPPROTO_GRE, &gre));
    let (_, t) = tunnelled(&frame);
    assert_eq!(
        (t.kind, t.key, t.vni, t.depth),
        (TunnelKind::GreTeb, Some(42), None, 1)
    );
}

#[test]
fn erspan_types_one_two_and_three() {
    // Type I: no sequence, no ERSPAN header.
    let mut one = hex("000088be");
    one.extend_from_slice(&mirrored());
    // Type II: sequence 9, version 1, session 0x155.
    let mut two = hex("100088be000000091000015500000007");
    two.extend_from_slice(&mirrored());
    // Type III: version 2, session 7, O set: an 8-byte platform subheader follows.
    let mut three = hex("100022eb00000009200000070000000000000001");
    three.extend_from_slice(&[0; 8]);
    three.extend_from_slice(&mirrored());
    for (gre, erspan_type, session) in [(one, 1, None), (two, 2, Some(0x155)), (three, 3, Some(7))]
    {
        let frame = outer_eth(&outer_ipv4(IPPROTO_GRE, &gre));
        let (_, t) = tunnelled(&frame);
        assert_eq!(
            (t.kind, t.erspan_type, t.erspan_session),
            (TunnelKind::Erspan, Some(erspan_type), session)
        );
    }
    // Type III frame type 2: the IP packet without its Ethernet header.
    let mut ip_only = hex("100022eb00000009200000070000000000000800");
    ip_only.extend_from_slice(&mirrored()[14..]);
    let frame = outer_eth(&outer_ipv4(IPPROTO_GRE, &ip_only));
    let d = decoded(&frame);
    assert_eq!(d.ports(), Some((3232, 3232)));
    assert_eq!(
        d.link.src_mac,
        Some([2, 0, 0, 0, 0, 0x0b]),
        "outer link kept"
    );
}

#[test]
fn vxlan_and_geneve_carry_frames_by_destination_port() {
    let mut vxlan = hex("0800000000303900");
    vxlan.extend_from_slice(&mirrored());
    let frame = outer_eth(&outer_ipv4(IPPROTO_UDP, &udp_to(4789, &vxlan)));
    let (_, t) = tunnelled(&frame);
    assert_eq!(
        (t.kind, t.vni, t.depth),
        (TunnelKind::Vxlan, Some(12345), 1)
    );
    // On another port only when configured.
    let frame = outer_eth(&outer_ipv4(IPPROTO_UDP, &udp_to(8472, &vxlan)));
    assert_eq!(decoded(&frame).ports(), Some((50000, 8472)));
    let options = Options {
        max_tunnel_depth: 4,
        vxlan_ports: &[8472],
    };
    let Ok(Outcome::Ip(d)) = decode_with(LinkType::Ethernet, &frame, &options) else {
        panic!("VXLAN on 8472")
    };
    assert_eq!(d.tunnel.map(|t| t.vni), Some(Some(12345)));

    // GENEVE with one 8-byte option, Ethernet inside.
    let mut geneve = hex("020065580000070001038001deadbeef");
    geneve.extend_from_slice(&mirrored());
    let frame = outer_eth(&outer_ipv4(IPPROTO_UDP, &udp_to(6081, &geneve)));
    let (_, t) = tunnelled(&frame);
    assert_eq!((t.kind, t.vni), (TunnelKind::Geneve, Some(7)));
    // GENEVE carrying IPv4 directly; and MPLS, which is not IP.
    let mut direct = hex("0000080000000700");
    direct.extend_from_slice(&mirrored()[14..]);
    let frame = outer_eth(&outer_ipv4(IPPROTO_UDP, &udp_to(6081, &direct)));
    assert_eq!(decoded(&frame).ports(), Some((3232, 3232)));
    let mpls = outer_eth(&outer_ipv4(
        IPPROTO_UDP,
        &udp_to(6081, &hex("000088470000070000000000")),
    ));
    assert!(matches!(
        decode(LinkType::Ethernet, &mpls, 4),
        Ok(Outcome::NotIp(0x8847))
    ));
}

#[test]
fn nested_tunnels_share_one_depth_bound() {
    // VXLAN inside IP-in-GRE: the outer hop is the GRE, the VNI the VXLAN's.
    let mut vxlan = hex("0800000000000500");
    vxlan.extend_from_slice(&mirrored());
    let inner_ip = outer_ipv4(IPPROTO_UDP, &udp_to(4789, &vxlan));
    let mut gre = hex("00000800");
    gre.extend_from_slice(&inner_ip);
    let frame = outer_eth(&outer_ipv4(IPPROTO_GRE, &gre));
    let (_, t) = tunnelled(&frame);
    assert_eq!((t.kind, t.vni, t.depth), (TunnelKind::Gre, Some(5), 2));
    assert_eq!(
        decode(LinkType::Ethernet, &frame, 1).unwrap_err(),
        DecodeError::TunnelTooDeep {
            max: 1,
            layer: Layer::Vxlan
        }
    );
    assert_eq!(
        decode(LinkType::Ethernet, &frame, 1).unwrap_err().kind(),
        "tunnel_too_deep"
    );
}

#[test]
fn broken_encapsulations_are_typed_errors_at_their_offset() {
    // 14 (Ethernet) + 20 (IP) + 8 (UDP): the VXLAN header.
    let frame = outer_eth(&outer_ipv4(IPPROTO_UDP, &udp_to(4789, &[0x08, 0, 0])));
    assert_eq!(
        decode(LinkType::Ethernet, &frame, 4).unwrap_err(),
        DecodeError::truncated(Layer::Vxlan, 42, 8, 3)
    );
    let frame = outer_eth(&outer_ipv4(
        IPPROTO_GRE,
        &hex("100088be000000093000000000000000"),
    ));
    assert!(matches!(
        decode(LinkType::Ethernet, &frame, 4),
        Err(DecodeError::Malformed {
            layer: Layer::Erspan,
            offset: 42,
            ..
        })
    ));
    // An inner Ethernet header cut short: the offset is the frame's.
    let frame = outer_eth(&outer_ipv4(
        IPPROTO_UDP,
        &udp_to(4789, &hex("080000000000010002")),
    ));
    assert_eq!(
        decode(LinkType::Ethernet, &frame, 4).unwrap_err(),
        DecodeError::truncated(Layer::Link, 50, 14, 1)
    );
    // Every cut of every encapsulated frame: an error or a view, never a panic.
    let mut gre = hex("200065580000002a");
    gre.extend_from_slice(&mirrored());
    let frame = outer_eth(&outer_ipv4(IPPROTO_GRE, &gre));
    for cut in 0..frame.len() {
        let _ = decode(LinkType::Ethernet, &frame[..cut], 4);
    }
}

#[test]
fn pptp_enhanced_gre_is_not_a_decode_error() {
    let pptp = hex("3081880b00041c2d0000000500000003ff030021");
    let frame = outer_eth(&outer_ipv4(IPPROTO_GRE, &pptp));
    let d = decoded(&frame);
    assert!(d.tunnel.is_none());
    assert!(matches!(d.transport, Transport::Other(p) if p.len() == pptp.len()));
}
