//! Multicast-VPN MDT captures (shared/docs/mdt.md; RFC 6037, 6513, 6516): GRE to default-MDT
//! groups carrying PE–PE PIM and Data-MDT Joins, customer traffic in data MDTs, and bad input.
//!
//! - [`examples`]: the four example packets of mdt.md §5, byte for byte.
//! - [`mvpn`]: several PEs over six minutes (see the function for the timeline).
//! - [`malformed`]: broken joins, PIM, and GRE.

use crate::capture::Record;
use crate::frame::{self, Link, LAPTOP_MAC, ROUTER_MAC};
use crate::scenarios::{ip, EPOCH_US};
use etherparse::PacketBuilder;
use std::net::IpAddr;

pub const PE1: &str = "192.0.2.1";
pub const PE2: &str = "192.0.2.2";
pub const PE3: &str = "192.0.2.3";
pub const PE4: &str = "192.0.2.4";
/// Default MDT of VRF A (all three PEs) and of VRF B (PE1, PE2).
pub const MDT_A: &str = "239.1.1.1";
pub const MDT_B: &str = "239.1.1.2";
pub const ALL_PIM: &str = "224.0.0.13";
pub const ALL_PIM_V6: &str = "ff02::d";

/// RFC 1071 checksum.
pub fn csum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// GRE options (RFC 2784 checksum, RFC 2890 key and sequence).
#[derive(Clone, Copy, Debug, Default)]
pub struct GreOpts {
    pub checksum: bool,
    pub key: Option<u32>,
    pub seq: Option<u32>,
}

pub fn gre(proto: u16, o: GreOpts, payload: &[u8]) -> Vec<u8> {
    let flags: u16 = (if o.checksum { 0x8000 } else { 0 })
        | (if o.key.is_some() { 0x2000 } else { 0 })
        | (if o.seq.is_some() { 0x1000 } else { 0 });
    let mut g = flags.to_be_bytes().to_vec();
    g.extend_from_slice(&proto.to_be_bytes());
    if o.checksum {
        g.extend_from_slice(&[0; 4]);
    }
    if let Some(k) = o.key {
        g.extend_from_slice(&k.to_be_bytes());
    }
    if let Some(s) = o.seq {
        g.extend_from_slice(&s.to_be_bytes());
    }
    g.extend_from_slice(payload);
    if o.checksum {
        let c = csum(&g);
        g[4..6].copy_from_slice(&c.to_be_bytes());
    }
    g
}

/// A PIMv2 message with its checksum (IPv6: with the pseudo-header, RFC 7761 §4.9).
pub fn pim(msg_type: u8, body: &[u8], src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let mut m = vec![0x20 | msg_type, 0, 0, 0];
    m.extend_from_slice(body);
    let mut summed = Vec::new();
    if let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) {
        summed.extend_from_slice(&s.octets());
        summed.extend_from_slice(&d.octets());
        summed.extend_from_slice(&(m.len() as u32).to_be_bytes());
        summed.extend_from_slice(&[0, 0, 0, 103]);
    }
    summed.extend_from_slice(&m);
    let c = csum(&summed);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

pub fn enc_unicast(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => [&[1, 0][..], &a.octets()].concat(),
        IpAddr::V6(a) => [&[2, 0][..], &a.octets()].concat(),
    }
}

/// Hello options: holdtime, LAN prune delay (500/2500 ms), DR priority, generation ID, and an
/// address list when `addresses` is not empty — FRR's order.
pub fn hello_body(holdtime: u16, dr_priority: u32, genid: u32, addresses: &[IpAddr]) -> Vec<u8> {
    let mut b = Vec::new();
    let mut opt = |t: u16, v: &[u8]| {
        b.extend_from_slice(&t.to_be_bytes());
        b.extend_from_slice(&(v.len() as u16).to_be_bytes());
        b.extend_from_slice(v);
    };
    opt(1, &holdtime.to_be_bytes());
    opt(2, &[0x01, 0xf4, 0x09, 0xc4]);
    opt(19, &dr_priority.to_be_bytes());
    opt(20, &genid.to_be_bytes());
    if !addresses.is_empty() {
        let list: Vec<u8> = addresses.iter().flat_map(|&a| enc_unicast(a)).collect();
        opt(24, &list);
    }
    b
}

/// A Join/Prune to `upstream` with one IPv4 group and (S,G) joins/prunes (flags S, mask 32).
pub fn join_prune_body(upstream: IpAddr, group: &str, joins: &[&str], prunes: &[&str]) -> Vec<u8> {
    let mut b = enc_unicast(upstream);
    b.extend_from_slice(&[0, 1, 0, 210]);
    b.extend_from_slice(&[1, 0, 0, 32]);
    b.extend_from_slice(&group.parse::<std::net::Ipv4Addr>().unwrap().octets());
    b.extend_from_slice(&(joins.len() as u16).to_be_bytes());
    b.extend_from_slice(&(prunes.len() as u16).to_be_bytes());
    for s in joins.iter().chain(prunes) {
        b.extend_from_slice(&[1, 0, 0x04, 32]);
        b.extend_from_slice(&s.parse::<std::net::Ipv4Addr>().unwrap().octets());
    }
    b
}

/// Type 1 TLV (RFC 6037 §7.2).
pub fn join_v4(c_source: &str, c_group: &str, p_group: &str) -> Vec<u8> {
    let mut t = vec![1, 0, 16, 0];
    for a in [c_source, c_group, p_group] {
        t.extend_from_slice(&a.parse::<std::net::Ipv4Addr>().unwrap().octets());
    }
    t
}

/// Type 4 TLV (RFC 6516 §3.1): IPv6 C-source and C-group, IPv4 P-group; length 40.
pub fn join_v6(c_source: &str, c_group: &str, p_group: &str) -> Vec<u8> {
    let mut t = vec![4, 0, 40, 0];
    t.extend_from_slice(&c_source.parse::<std::net::Ipv6Addr>().unwrap().octets());
    t.extend_from_slice(&c_group.parse::<std::net::Ipv6Addr>().unwrap().octets());
    t.extend_from_slice(&p_group.parse::<std::net::Ipv4Addr>().unwrap().octets());
    t
}

/// An IP/UDP datagram with the given TTL (joins go out with TTL 1).
pub fn udp_ttl(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    ttl: u8,
    payload: &[u8],
) -> Vec<u8> {
    let b = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), ttl),
        (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), ttl),
        _ => panic!("mixed address families"),
    }
    .udp(sport, dport);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("write to Vec");
    out
}

/// An inner packet wrapped in GRE from `pe` to the provider group `group` (outer TTL 255).
pub fn in_gre(pe: &str, group: &str, o: GreOpts, inner: &[u8]) -> Vec<u8> {
    let proto = if inner[0] >> 4 == 6 { 0x86DD } else { 0x0800 };
    frame::ip_raw(ip(pe), ip(group), 47, 255, &gre(proto, o, inner))
}

/// The PE's PIM hello packet (inner IP, TTL 1) for the IPv4 or IPv6 instance.
pub fn hello_packet(src: IpAddr, body: &[u8]) -> Vec<u8> {
    let dst = if src.is_ipv4() {
        ip(ALL_PIM)
    } else {
        ip(ALL_PIM_V6)
    };
    frame::ip_raw(src, dst, 103, 1, &pim(0, body, src, dst))
}

fn mcast_mac(group: IpAddr) -> [u8; 6] {
    match group {
        IpAddr::V4(g) => {
            let o = g.octets();
            [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
        }
        IpAddr::V6(g) => {
            let o = g.octets();
            [0x33, 0x33, o[12], o[13], o[14], o[15]]
        }
    }
}

/// Frames an IP packet on Ethernet from the router, to the destination's multicast MAC.
fn eth(ip_pkt: &[u8]) -> Vec<u8> {
    eth_from(ROUTER_MAC, ip_pkt)
}

fn eth_from(src: [u8; 6], ip_pkt: &[u8]) -> Vec<u8> {
    let dst = if ip_pkt[0] >> 4 == 4 {
        IpAddr::V4([ip_pkt[16], ip_pkt[17], ip_pkt[18], ip_pkt[19]].into())
    } else {
        let mut o = [0u8; 16];
        o.copy_from_slice(&ip_pkt[24..40]);
        IpAddr::V6(o.into())
    };
    let dmac = if dst.is_multicast() {
        mcast_mac(dst)
    } else {
        [0x00, 0x00, 0x5e, 0x00, 0x53, 0x02]
    };
    Link::Ethernet { src, dst: dmac }.wrap(ip_pkt)
}

/// Packets at millisecond offsets from the epoch; sorted (stably) before writing.
#[derive(Default)]
struct Schedule(Vec<(i64, Vec<u8>)>);

impl Schedule {
    fn at(&mut self, ms: i64, ip_pkt: Vec<u8>) {
        self.0.push((ms, eth(&ip_pkt)));
    }

    fn records(mut self) -> Vec<Record> {
        self.0.sort_by_key(|(ms, _)| *ms);
        self.0
            .into_iter()
            .map(|(ms, f)| Record::new(EPOCH_US + ms * 1000, f))
            .collect()
    }
}

/// mdt.md §5 Examples 1–4, byte for byte (the doc's generator, in Rust).
pub fn examples() -> Vec<Record> {
    let (pe, grp) = (ip(PE1), ip(ALL_PIM));
    let hello = pim(
        0,
        &hello_body(105, 1, 0x1a2b3c4d, &[ip("198.51.100.1")]),
        pe,
        grp,
    );
    let ip4 = |src: &str, dst: &str, proto: u8, ttl: u8, ident: u16, payload: &[u8]| {
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&(20 + payload.len() as u16).to_be_bytes());
        h.extend_from_slice(&ident.to_be_bytes());
        h.extend_from_slice(&[0, 0, ttl, proto, 0, 0]);
        h.extend_from_slice(&src.parse::<std::net::Ipv4Addr>().unwrap().octets());
        h.extend_from_slice(&dst.parse::<std::net::Ipv4Addr>().unwrap().octets());
        let c = csum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h.extend_from_slice(payload);
        h
    };
    let inner1 = ip4(PE1, ALL_PIM, 103, 1, 1, &hello);
    let pkt1 = ip4(
        PE1,
        MDT_A,
        47,
        255,
        0x1001,
        &gre(0x0800, GreOpts::default(), &inner1),
    );
    let join = join_v4("10.1.1.10", "232.5.5.5", "239.1.2.0");
    let udp = |ident: u16| {
        ip4(
            PE1,
            ALL_PIM,
            17,
            1,
            ident,
            &udp_ttl(pe, grp, 3232, 3232, 1, &join)[20..],
        )
    };
    let pkt2 = ip4(
        PE1,
        MDT_A,
        47,
        255,
        0x1002,
        &gre(0x0800, GreOpts::default(), &udp(2)),
    );
    let pkt3 = udp(3);
    let o4 = GreOpts {
        checksum: true,
        key: Some(100),
        seq: Some(7),
    };
    let pkt4 = ip4(PE1, MDT_A, 47, 255, 0x1004, &gre(0x0800, o4, &inner1));
    [pkt1, pkt2, pkt3, pkt4]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Record::new(
                1_700_000_000_000_000 + i as i64 * 1_000_000,
                eth_from(LAPTOP_MAC, p),
            )
        })
        .collect()
}

/// Six minutes of a three-PE MVPN core:
/// - Hellos every 30 s: PE1, PE2, PE3 in VRF A (239.1.1.1), PE1 and PE2 in VRF B (239.1.1.2),
///   plus PE1's IPv6 PIM instance in VRF A (`::ffff:192.0.2.1` → `ff02::d`, GRE 0x86DD).
///   GRE: PE1 plain, PE2 in A with checksum, PE3 with key 100 + sequence, PE2 in B with key 7.
/// - t=150 s: PE3 restarts (new Generation ID). t=210 s: PE2 leaves VRF B (holdtime 0) and
///   sends no more hellos there. t=240 s: PE1 raises its VRF A DR priority to 5.
/// - PE4 in VRF B sends hellos at 9, 39 and 69 s, then falls silent (expires at 174 s).
/// - PE3 joins (10.1.1.10, 232.5.5.5) towards PE1 every 60 s in VRF A; at t=180 s it adds a
///   prune for 10.1.1.99.
/// - Data-MDT joins every 60 s from t=20 s: PE1 in A, one datagram with two TLVs
///   (10.1.1.10, 232.5.5.5) → 239.1.2.0 and (10.1.1.11, 232.5.5.6) → 239.1.2.1; from t=200 s the
///   second moves to 239.1.2.5 (t=200 s). PE2 in B, type 4 over IPv6: (2001:db8:1::10, ff3e::8001) →
///   239.1.2.9. PE3 once, bare (no GRE): (10.3.3.3, 232.7.7.7) → 239.1.2.7. PE3 once in A: a
///   TLV of unknown type 7.
/// - Customer data: 10.1.1.10 → 232.5.5.5 UDP 5004 in GRE to 239.1.2.0, 5 packets from t=23 s;
///   2001:db8:1::10 → ff3e::8001 (IPv6 in GRE) to 239.1.2.9, 3 packets at t=335 s.
/// - An Assert from PE2 in VRF A at t=100 s. MPLS in GRE from PE1 to 239.1.3.0, 3 packets.
pub fn mvpn() -> Vec<Record> {
    let mut s = Schedule::default();
    let plain = GreOpts::default();
    let key7 = GreOpts {
        key: Some(7),
        ..GreOpts::default()
    };
    let genid = |pe: u32, epoch: u32| 0x1a2b_3c00 + pe * 0x100 + epoch;
    let mut seq3 = 0u32;
    for tick in 0..12i64 {
        let t = tick * 30_000;
        // PE1, VRF A, IPv4 and IPv6 instances.
        let prio1 = if t >= 240_000 { 5 } else { 1 };
        let h = hello_body(105, prio1, genid(1, 0), &[ip("198.51.100.1")]);
        s.at(t, in_gre(PE1, MDT_A, plain, &hello_packet(ip(PE1), &h)));
        let v6 = ip("::ffff:192.0.2.1");
        let h6 = hello_body(105, 1, genid(1, 6), &[ip("2001:db8:ffff::1")]);
        s.at(t + 1, in_gre(PE1, MDT_A, plain, &hello_packet(v6, &h6)));
        // PE2, VRF A with GRE checksum.
        let h = hello_body(105, 10, genid(2, 0), &[]);
        let csum_opts = GreOpts {
            checksum: true,
            ..GreOpts::default()
        };
        s.at(
            t + 2_000,
            in_gre(PE2, MDT_A, csum_opts, &hello_packet(ip(PE2), &h)),
        );
        // PE3, VRF A with key and sequence; restarts at 150 s.
        let h = hello_body(105, 1, genid(3, if t >= 150_000 { 1 } else { 0 }), &[]);
        seq3 += 1;
        let o = GreOpts {
            key: Some(100),
            seq: Some(seq3),
            ..GreOpts::default()
        };
        if t != 150_000 {
            s.at(t + 4_000, in_gre(PE3, MDT_A, o, &hello_packet(ip(PE3), &h)));
        }
        // VRF B: PE1, and PE2 until it leaves at 210 s.
        let h = hello_body(105, 1, genid(1, 0xb), &[]);
        s.at(
            t + 6_000,
            in_gre(PE1, MDT_B, plain, &hello_packet(ip(PE1), &h)),
        );
        if t < 210_000 {
            let h = hello_body(105, 1, genid(2, 0xb), &[]);
            s.at(
                t + 8_000,
                in_gre(PE2, MDT_B, key7, &hello_packet(ip(PE2), &h)),
            );
        }
        // PE4 in VRF B fails silently after its hello at 69 s: its holdtime ends at 174 s.
        if t <= 60_000 {
            let h = hello_body(105, 1, genid(4, 0xb), &[]);
            s.at(
                t + 9_000,
                in_gre(PE4, MDT_B, plain, &hello_packet(ip(PE4), &h)),
            );
        }
    }
    // PE3 restart: a triggered hello with the new genid, 5 s after it comes back.
    let h = hello_body(105, 1, genid(3, 1), &[]);
    let o = GreOpts {
        key: Some(100),
        seq: Some(1000),
        ..GreOpts::default()
    };
    s.at(155_000, in_gre(PE3, MDT_A, o, &hello_packet(ip(PE3), &h)));
    // PE2 leaves VRF B.
    let h = hello_body(0, 1, genid(2, 0xb), &[]);
    s.at(
        210_000,
        in_gre(PE2, MDT_B, key7, &hello_packet(ip(PE2), &h)),
    );

    // PE3's Join/Prune towards PE1 in VRF A.
    for tick in 0..6i64 {
        let t = 10_000 + tick * 60_000;
        let prunes: &[&str] = if t >= 180_000 { &["10.1.1.99"] } else { &[] };
        let body = join_prune_body(ip(PE1), "232.5.5.5", &["10.1.1.10"], prunes);
        let o = GreOpts {
            key: Some(100),
            seq: Some(2000 + tick as u32),
            ..GreOpts::default()
        };
        s.at(
            t,
            in_gre(
                PE3,
                MDT_A,
                o,
                &frame::ip_raw(
                    ip(PE3),
                    ip(ALL_PIM),
                    103,
                    1,
                    &pim(3, &body, ip(PE3), ip(ALL_PIM)),
                ),
            ),
        );
    }
    // An Assert from PE2 (group 232.5.5.5, source 10.1.1.10, metric preference, metric).
    let mut assert = [&[1u8, 0, 0, 32][..], &[232, 5, 5, 5]].concat();
    assert.extend_from_slice(&[1, 0, 10, 1, 1, 10, 0, 0, 0, 110, 0, 0, 0, 20]);
    let a = frame::ip_raw(
        ip(PE2),
        ip(ALL_PIM),
        103,
        1,
        &pim(5, &assert, ip(PE2), ip(ALL_PIM)),
    );
    s.at(
        100_000,
        in_gre(
            PE2,
            MDT_A,
            GreOpts {
                checksum: true,
                ..GreOpts::default()
            },
            &a,
        ),
    );

    // Data-MDT joins.
    for tick in 0..6i64 {
        let t = 20_000 + tick * 60_000;
        let p2 = if t >= 200_000 {
            "239.1.2.5"
        } else {
            "239.1.2.1"
        };
        let tlvs = [
            join_v4("10.1.1.10", "232.5.5.5", "239.1.2.0"),
            join_v4("10.1.1.11", "232.5.5.6", p2),
        ]
        .concat();
        s.at(
            t,
            in_gre(
                PE1,
                MDT_A,
                plain,
                &udp_ttl(ip(PE1), ip(ALL_PIM), 3232, 3232, 1, &tlvs),
            ),
        );
        let v6 = join_v6("2001:db8:1::10", "ff3e::8001", "239.1.2.9");
        let src6 = ip("::ffff:192.0.2.2");
        s.at(
            t + 500,
            in_gre(
                PE2,
                MDT_B,
                key7,
                &udp_ttl(src6, ip(ALL_PIM_V6), 3232, 3232, 1, &v6),
            ),
        );
    }
    // PE3: a bare join, and an unknown TLV type in GRE.
    let bare = join_v4("10.3.3.3", "232.7.7.7", "239.1.2.7");
    s.at(50_000, udp_ttl(ip(PE3), ip(ALL_PIM), 3232, 3232, 1, &bare));
    let unknown = [7u8, 0, 8, 0, 0xde, 0xad, 0xbe, 0xef];
    let o = GreOpts {
        key: Some(100),
        seq: Some(3000),
        ..GreOpts::default()
    };
    s.at(
        70_000,
        in_gre(
            PE3,
            MDT_A,
            o,
            &udp_ttl(ip(PE3), ip(ALL_PIM), 3232, 3232, 1, &unknown),
        ),
    );

    // Customer traffic on the data MDT, 3 s after the first join (MDT_DATA_DELAY).
    for i in 0..5i64 {
        let data = udp_ttl(
            ip("10.1.1.10"),
            ip("232.5.5.5"),
            40000,
            5004,
            30,
            &[0x80, 0x21, 0, i as u8],
        );
        s.at(23_000 + i * 1000, in_gre(PE1, "239.1.2.0", plain, &data));
    }
    // IPv6 customer traffic on PE2's data MDT (type 4 join above), at the end of the capture.
    for i in 0..3i64 {
        let data = udp_ttl(
            ip("2001:db8:1::10"),
            ip("ff3e::8001"),
            40000,
            5004,
            30,
            &[0x80, 0x21, 1, i as u8],
        );
        s.at(335_100 + i * 100, in_gre(PE2, "239.1.2.9", plain, &data));
    }
    // MPLS-in-GRE (RFC 4023) to a group: counted, not decoded.
    for i in 0..3i64 {
        let mpls = [
            0x00, 0x01, 0x01, 0x40, 0x45, 0, 0, 20, 0, 0, 0, 0, 1, 17, 0, 0, 10, 1, 1, 10, 232, 5,
            5, 5,
        ];
        s.at(
            30_000 + i * 1000,
            frame::ip_raw(
                ip(PE1),
                ip("239.1.3.0"),
                47,
                255,
                &gre(0x8847, plain, &mpls),
            ),
        );
    }
    s.records()
}

/// Bad input, one finding per flow:
/// 1. PE2 in VRF A: a hello whose PIM checksum is wrong.
/// 2. PE3 in VRF A: a hello whose Holdtime option claims 8 bytes (runs past the end).
/// 3. 192.0.2.99 → 224.0.0.13:3232 bare: a type-1 TLV with Length 20 (must be 16).
/// 4. 198.51.100.7:40000 → 192.0.2.1:3232 unicast: Length 3 (below 4) — for the anomaly path.
/// 5. PE1 in VRF A → 224.0.0.13:3232: a TLV running past the end of the datagram.
/// 6. GRE version 1; GRE with the RFC 1701 routing bit; GRE cut after 2 bytes; GRE-in-GRE 50
///    levels deep (decode errors, counted).
/// 7. PE1 → 239.1.1.1, GRE with a wrong checksum around a good hello (decoded, counted).
pub fn malformed() -> Vec<Record> {
    let mut s = Schedule::default();
    let plain = GreOpts::default();
    let mut bad = hello_packet(ip(PE2), &hello_body(105, 1, 42, &[]));
    bad[22] ^= 0xff; // the PIM checksum's first byte (inner IPv4 header is 20 bytes)
    s.at(0, in_gre(PE2, MDT_A, plain, &bad));
    let mut body = hello_body(105, 1, 43, &[]);
    body[3] = 8; // Holdtime length 8; the options after it no longer line up
    body.truncate(6);
    s.at(
        1_000,
        in_gre(PE3, MDT_A, plain, &hello_packet(ip(PE3), &body)),
    );
    let len20 = [
        &[1u8, 0, 20, 0][..],
        &[10, 9, 9, 9, 232, 9, 9, 9, 239, 1, 2, 99, 0, 0, 0, 0],
    ]
    .concat();
    s.at(
        2_000,
        udp_ttl(ip("192.0.2.99"), ip(ALL_PIM), 3232, 3232, 1, &len20),
    );
    s.at(
        3_000,
        udp_ttl(ip("198.51.100.7"), ip(PE1), 40000, 3232, 64, &[1, 0, 3, 0]),
    );
    let past = [&[1u8, 0, 16, 0][..], &[10, 1, 1, 10, 232, 5, 5, 5]].concat();
    s.at(
        4_000,
        in_gre(
            PE1,
            MDT_A,
            plain,
            &udp_ttl(ip(PE1), ip(ALL_PIM), 3232, 3232, 1, &past),
        ),
    );
    let hello = hello_packet(ip(PE1), &hello_body(105, 1, 44, &[]));
    let mut v1 = gre(0x0800, plain, &hello);
    v1[1] = 0x01;
    s.at(5_000, frame::ip_raw(ip(PE1), ip(MDT_A), 47, 255, &v1));
    let mut routing = gre(0x0800, plain, &hello);
    routing[0] = 0x40;
    s.at(6_000, frame::ip_raw(ip(PE1), ip(MDT_A), 47, 255, &routing));
    s.at(
        7_000,
        frame::ip_raw(ip(PE1), ip(MDT_A), 47, 255, &[0x00, 0x00]),
    );
    let mut nested = hello.clone();
    for _ in 0..50 {
        nested = frame::ip_raw(ip(PE1), ip(MDT_A), 47, 255, &gre(0x0800, plain, &nested));
    }
    s.at(8_000, nested);
    let mut bad_gre = gre(
        0x0800,
        GreOpts {
            checksum: true,
            ..GreOpts::default()
        },
        &hello,
    );
    bad_gre[4] ^= 0x55;
    s.at(9_000, frame::ip_raw(ip(PE1), ip(MDT_A), 47, 255, &bad_gre));
    s.records()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn examples_match_mdt_md_section_5() {
        let r = examples();
        assert_eq!(hex(&r[0].data), "01005e01010100005e00530108004500005810010000ff2ff971c0000201ef01010100000800450000400001000001671748c0000201e000000d200051da0001000200690002000401f409c40013000400000001001400041a2b3c4d001800060100c6336401");
        assert_eq!(hex(&r[1].data), "01005e01010100005e00530108004500004410020000ff2ff984c0000201ef010101000008004500002c00020000011117b1c0000201e000000d0ca00ca000184a57010010000a01010ae8050505ef010200");
        assert_eq!(hex(&r[2].data), "01005e00000d00005e00530108004500002c00030000011117b0c0000201e000000d0ca00ca000184a57010010000a01010ae8050505ef010200");
        assert_eq!(r[3].data.len(), 114);
        assert_eq!(hex(&r[3].data[34..50]), "b0000800479400000000006400000007");
    }
}
