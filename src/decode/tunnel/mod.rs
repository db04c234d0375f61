//! Mirror and overlay encapsulations that carry whole frames (or IP packets) to a sensor:
//! ERSPAN inside GRE, VXLAN and GENEVE inside UDP. Each file is a pure, bounds-checked parser of
//! one header; the decode loop (`super::decode_with`) follows what they carry.

pub mod erspan;
pub mod geneve;
pub mod vxlan;

/// What an encapsulation header says follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inner {
    /// An Ethernet frame (ERSPAN, VXLAN, GENEVE protocol 0x6558, GRE 0x6558).
    Ethernet,
    /// An IP packet whose version nibble says which (ERSPAN III frame type 2).
    Ip,
    /// A packet of this EtherType (GENEVE's protocol type: IPv4, IPv6, or not IP).
    EtherType(u16),
}

/// Transparent Ethernet bridging: the EtherType GRE and GENEVE use for an Ethernet payload.
pub const ETHERTYPE_TEB: u16 = 0x6558;

/// Why an encapsulation header could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TunnelError {
    #[error("header needs {required} bytes, {available} captured")]
    Truncated { required: usize, available: usize },
    #[error("{0}")]
    Malformed(&'static str),
}
