//! Flows: a direction-independent key, the Community ID of a flow, one bounded table of
//! per-flow state with idle expiry and least-recently-seen eviction, and TCP sequence
//! tracking and stream reassembly for every classifier that follows a TCP stream.

mod bounded;
pub mod community_id;
pub mod flow_id;
mod hash;
pub mod reasm;
mod table;

pub use bounded::{BoundedMap, BoundedStats, Departed, Departure, Handle};
pub use hash::{FastMap, FastSet, SeededState};
pub use table::{FlowTable, Removed, RemovedBy, TableStats};

use std::net::IpAddr;

/// A conversation's identity, independent of direction: the lower (address, port) end first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    pub lo_addr: IpAddr,
    pub hi_addr: IpAddr,
    pub lo_port: u16,
    pub hi_port: u16,
    pub proto: u8,
}

/// Packed into 38 bytes and hashed in one write (a derived `Hash` makes nine calls into the
/// hasher, two of them for enum tags): the flow table hashes a key on every wanted packet.
impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut packed = [0u8; 38];
        let mut v6 = false;
        for (at, addr) in [(0, self.lo_addr), (16, self.hi_addr)] {
            match addr {
                IpAddr::V4(a) => packed[at..at + 4].copy_from_slice(&a.octets()),
                IpAddr::V6(a) => {
                    packed[at..at + 16].copy_from_slice(&a.octets());
                    v6 = true;
                }
            }
        }
        packed[32..34].copy_from_slice(&self.lo_port.to_ne_bytes());
        packed[34..36].copy_from_slice(&self.hi_port.to_ne_bytes());
        packed[36] = self.proto;
        packed[37] = u8::from(v6);
        state.write(&packed);
    }
}

/// Which way a packet travels relative to the flow's first packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the endpoint that sent the first packet we saw (the "client" in EVE terms).
    ToServer,
    ToClient,
}

impl FlowKey {
    /// The key for a packet and whether the packet runs lo → hi.
    pub fn new(
        src: IpAddr,
        dst: IpAddr,
        src_port: u16,
        dst_port: u16,
        proto: u8,
    ) -> (FlowKey, bool) {
        let forward = (src, src_port) <= (dst, dst_port);
        let key = if forward {
            FlowKey {
                lo_addr: src,
                hi_addr: dst,
                lo_port: src_port,
                hi_port: dst_port,
                proto,
            }
        } else {
            FlowKey {
                lo_addr: dst,
                hi_addr: src,
                lo_port: dst_port,
                hi_port: src_port,
                proto,
            }
        };
        (key, forward)
    }
}

/// The endpoints of a flow as its first packet had them: `src` is who spoke first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: u8,
}

impl Endpoints {
    pub fn key(&self) -> FlowKey {
        FlowKey::new(self.src, self.dst, self.src_port, self.dst_port, self.proto).0
    }

    pub fn reversed(&self) -> Endpoints {
        Endpoints {
            src: self.dst,
            dst: self.src,
            src_port: self.dst_port,
            dst_port: self.src_port,
            proto: self.proto,
        }
    }

    /// Whether a packet from `src:src_port` travels in the flow's original direction.
    pub fn direction_of(&self, src: IpAddr, src_port: u16) -> Direction {
        if src == self.src && src_port == self.src_port {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_direction_independent() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let (k1, f1) = FlowKey::new(a, b, 40000, 3232, 17);
        let (k2, f2) = FlowKey::new(b, a, 3232, 40000, 17);
        assert_eq!(k1, k2);
        assert_ne!(f1, f2);
        let e = Endpoints {
            src: b,
            dst: a,
            src_port: 3232,
            dst_port: 40000,
            proto: 17,
        };
        assert_eq!(e.key(), k1);
        assert_eq!(e.direction_of(b, 3232), Direction::ToServer);
        assert_eq!(e.direction_of(a, 40000), Direction::ToClient);
        assert_eq!(e.reversed().reversed(), e);
    }
}
