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
        DecodeError::TunnelTooDeep { max: 4 }
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
