//! Community ID v1 (corelight/community-id-spec): a flow hash that Zeek, Suricata and the SIEMs
//! compute identically, so events from different sensors can be joined.
//!
//! `base64(sha1(seed:u16be · addr_lo · addr_hi · proto:u8 · 0:u8 · port_lo:u16be · port_hi:u16be))`,
//! with the endpoints ordered so that the smaller (address, port) comes first; ICMP types and codes
//! stand in for ports, mapped so both directions of an echo give the same ID.

use base64::Engine as _;
use sha1::{Digest, Sha1};
use std::net::IpAddr;

const ICMP: u8 = 1;
const ICMPV6: u8 = 58;
const TCP: u8 = 6;
const UDP: u8 = 17;
const SCTP: u8 = 132;

/// The ID of the flow `src:src_port → dst:dst_port` over `proto`. For ICMP/ICMPv6 pass the
/// type as `src_port` and the code as `dst_port`. Protocols without ports ignore both.
pub fn community_id_v1(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    proto: u8,
) -> String {
    let (mut sport, mut dport, one_way) = match proto {
        ICMP => icmp_ports(src_port as u8, dst_port as u8),
        ICMPV6 => icmp6_ports(src_port as u8, dst_port as u8),
        TCP | UDP | SCTP => (src_port, dst_port, false),
        _ => (0, 0, false),
    };
    let has_ports = matches!(proto, ICMP | ICMPV6 | TCP | UDP | SCTP);
    let (mut a, mut b) = (src, dst);
    // The spec's `is_ordered`: one-way ICMP messages keep their direction; otherwise the smaller
    // address comes first, ties broken by the smaller port.
    let ordered = one_way || a < b || (a == b && sport < dport);
    if !ordered {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut sport, &mut dport);
    }
    let mut hasher = Sha1::new();
    hasher.update(seed.to_be_bytes());
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => {
            hasher.update(x.octets());
            hasher.update(y.octets());
        }
        _ => {
            hasher.update(v6_octets(a));
            hasher.update(v6_octets(b));
        }
    }
    hasher.update([proto, 0]);
    if has_ports {
        hasher.update(sport.to_be_bytes());
        hasher.update(dport.to_be_bytes());
    }
    // "1:" and 28 base64 characters, written into one allocation (no `format!`).
    let mut id = String::with_capacity(30);
    id.push_str("1:");
    base64::engine::general_purpose::STANDARD.encode_string(hasher.finalize(), &mut id);
    id
}

fn v6_octets(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// ICMPv4: request/reply pairs map to each other so both directions share an ID.
fn icmp_ports(ty: u8, code: u8) -> (u16, u16, bool) {
    let counterpart = match ty {
        8 => Some(0), // echo request → reply
        0 => Some(8),
        13 => Some(14), // timestamp
        14 => Some(13),
        15 => Some(16), // information
        16 => Some(15),
        10 => Some(9), // router solicitation → advertisement
        9 => Some(10),
        17 => Some(18), // address mask
        18 => Some(17),
        _ => None,
    };
    match counterpart {
        Some(c) => (u16::from(ty), c, false),
        None => (u16::from(ty), u16::from(code), true),
    }
}

fn icmp6_ports(ty: u8, code: u8) -> (u16, u16, bool) {
    let counterpart = match ty {
        128 => Some(129), // echo
        129 => Some(128),
        133 => Some(134), // router solicitation / advertisement
        134 => Some(133),
        135 => Some(136), // neighbour solicitation / advertisement
        136 => Some(135),
        130 => Some(131), // MLD query / report
        131 => Some(130),
        139 => Some(140), // node information query / reply
        140 => Some(139),
        144 => Some(145), // home agent address discovery
        145 => Some(144),
        _ => None,
    };
    match counterpart {
        Some(c) => (u16::from(ty), c, false),
        None => (u16::from(ty), u16::from(code), true),
    }
}
