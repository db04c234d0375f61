//! Packet builders. IP and transport headers come from etherparse's `PacketBuilder`, so
//! lengths and checksums are right; link layers are wrapped around the IP packet.

use etherparse::{IpNumber, PacketBuilder};
use std::net::IpAddr;

pub const ESPRESSIF_MAC: [u8; 6] = [0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56];
pub const LAPTOP_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01];
pub const ROUTER_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0xfe];

pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

fn ip_builder(
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), ttl),
        (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), ttl),
        _ => panic!("mixed address families"),
    }
}

/// An IP packet carrying UDP.
pub fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = ip_builder(src, dst, 64).udp(sport, dport);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("write to Vec");
    out
}

/// An IP packet carrying TCP with the given flags (see [`tcp_flags`]).
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = ip_builder(src, dst, 64).tcp(sport, dport, seq, 64240);
    if flags & tcp_flags::SYN != 0 {
        b = b.syn();
    }
    if flags & tcp_flags::ACK != 0 {
        b = b.ack(ack);
    }
    if flags & tcp_flags::FIN != 0 {
        b = b.fin();
    }
    if flags & tcp_flags::RST != 0 {
        b = b.rst();
    }
    if flags & tcp_flags::PSH != 0 {
        b = b.psh();
    }
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("write to Vec");
    out
}

/// An IP packet with any protocol number and a raw payload (PIM, GRE…).
pub fn ip_raw(src: IpAddr, dst: IpAddr, proto: u8, ttl: u8, payload: &[u8]) -> Vec<u8> {
    let b = ip_builder(src, dst, ttl);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, IpNumber(proto), payload)
        .expect("write to Vec");
    out
}

/// How to wrap an IP packet for the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Ethernet {
        src: [u8; 6],
        dst: [u8; 6],
    },
    /// Ethernet with 802.1Q tags (outermost first; two tags = QinQ with an 802.1ad outer TPID).
    Vlan {
        src: [u8; 6],
        dst: [u8; 6],
        vids: [u16; 2],
        tags: u8,
    },
    Sll,
    Sll2,
    Null,
    Raw,
}

impl Link {
    pub fn linktype(self) -> u32 {
        use crate::capture::linktype::*;
        match self {
            Link::Ethernet { .. } | Link::Vlan { .. } => ETHERNET,
            Link::Sll => LINUX_SLL,
            Link::Sll2 => LINUX_SLL2,
            Link::Null => NULL,
            Link::Raw => RAW,
        }
    }

    /// The same link with source and destination MACs swapped (for the reply direction).
    pub fn reversed(self) -> Link {
        match self {
            Link::Ethernet { src, dst } => Link::Ethernet { src: dst, dst: src },
            Link::Vlan {
                src,
                dst,
                vids,
                tags,
            } => Link::Vlan {
                src: dst,
                dst: src,
                vids,
                tags,
            },
            other => other,
        }
    }

    pub fn wrap(self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ethertype: u16 = if v6 { 0x86DD } else { 0x0800 };
        let mut f = Vec::with_capacity(ip.len() + 24);
        match self {
            Link::Ethernet { src, dst } => {
                f.extend_from_slice(&dst);
                f.extend_from_slice(&src);
            }
            Link::Vlan {
                src,
                dst,
                vids,
                tags,
            } => {
                f.extend_from_slice(&dst);
                f.extend_from_slice(&src);
                for (i, vid) in vids.iter().take(usize::from(tags.min(2))).enumerate() {
                    let tpid: u16 = if tags == 2 && i == 0 { 0x88A8 } else { 0x8100 };
                    f.extend_from_slice(&tpid.to_be_bytes());
                    f.extend_from_slice(&vid.to_be_bytes());
                }
            }
            Link::Sll => {
                f.extend_from_slice(&[0, 0, 0, 1, 0, 6]);
                f.extend_from_slice(&LAPTOP_MAC);
                f.extend_from_slice(&[0, 0]);
            }
            Link::Sll2 => {
                f.extend_from_slice(&ethertype.to_be_bytes());
                f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
                f.extend_from_slice(&LAPTOP_MAC);
                f.extend_from_slice(&[0, 0]);
                f.extend_from_slice(ip);
                return f;
            }
            Link::Null => {
                let family: u32 = if v6 { 30 } else { 2 };
                f.extend_from_slice(&family.to_le_bytes());
                f.extend_from_slice(ip);
                return f;
            }
            Link::Raw => {
                f.extend_from_slice(ip);
                return f;
            }
        }
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(ip);
        f
    }
}
