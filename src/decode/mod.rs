//! Decoding: link → IP → (GRE → IP)* → transport, as zero-copy views over the frame.
//!
//! [`decode`] is a pure function: it never allocates and never panics; what it cannot decode
//! is a typed [`DecodeError`] naming the layer, the offset and the reason, which the engine counts.

pub mod checksum;
pub mod fast;
pub mod gre;
pub mod link;

use crate::packet::LinkType;
use etherparse::{LaxIpSlice, TcpSlice, UdpSlice};
use gre::{GreError, GreSlice};
use link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use std::net::IpAddr;

/// Default bound on nested GRE: deeper stacks are reported, not followed.
pub const DEFAULT_MAX_TUNNEL_DEPTH: u8 = 4;

pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_GRE: u8 = 47;
pub const IPPROTO_PIM: u8 = 103;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    Link,
    Vlan,
    Ip,
    Gre,
    Udp,
    Tcp,
}

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::Link,
        Layer::Vlan,
        Layer::Ip,
        Layer::Gre,
        Layer::Udp,
        Layer::Tcp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Vlan => "vlan",
            Layer::Ip => "ip",
            Layer::Gre => "gre",
            Layer::Udp => "udp",
            Layer::Tcp => "tcp",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{} header at offset {offset} needs {required} bytes, {available} captured", layer.name())]
    Truncated {
        layer: Layer,
        offset: usize,
        required: usize,
        available: usize,
    },
    #[error("{} header at offset {offset}: {reason}", layer.name())]
    Malformed {
        layer: Layer,
        offset: usize,
        reason: &'static str,
    },
    #[error("GRE at offset {offset}: {error}")]
    Gre { offset: usize, error: GreError },
    #[error("GRE nested deeper than {max} levels")]
    TunnelTooDeep { max: u8 },
}

impl DecodeError {
    pub fn truncated(layer: Layer, offset: usize, required: usize, available: usize) -> Self {
        DecodeError::Truncated {
            layer,
            offset,
            required,
            available,
        }
    }

    pub fn layer(&self) -> Layer {
        match self {
            DecodeError::Truncated { layer, .. } | DecodeError::Malformed { layer, .. } => *layer,
            DecodeError::Gre { .. } | DecodeError::TunnelTooDeep { .. } => Layer::Gre,
        }
    }

    /// A short stable name for stats keys and anomaly details.
    pub fn kind(&self) -> &'static str {
        self.error_kind().name()
    }

    pub fn error_kind(&self) -> ErrorKind {
        match self {
            DecodeError::Truncated { .. } => ErrorKind::Truncated,
            DecodeError::Malformed { .. } => ErrorKind::Malformed,
            DecodeError::Gre {
                error: GreError::Version(_),
                ..
            } => ErrorKind::GreVersion,
            DecodeError::Gre {
                error: GreError::ReservedBits(_),
                ..
            } => ErrorKind::GreReservedBits,
            DecodeError::Gre {
                error: GreError::Truncated { .. },
                ..
            } => ErrorKind::Truncated,
            DecodeError::TunnelTooDeep { .. } => ErrorKind::TunnelTooDeep,
        }
    }
}

/// What went wrong, whatever the layer (the second half of a `decode_error_kinds` key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Truncated,
    Malformed,
    GreVersion,
    GreReservedBits,
    TunnelTooDeep,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::Truncated,
        ErrorKind::Malformed,
        ErrorKind::GreVersion,
        ErrorKind::GreReservedBits,
        ErrorKind::TunnelTooDeep,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Truncated => "truncated",
            ErrorKind::Malformed => "malformed",
            ErrorKind::GreVersion => "gre_version",
            ErrorKind::GreReservedBits => "gre_reserved_bits",
            ErrorKind::TunnelTooDeep => "tunnel_too_deep",
        }
    }
}

/// Addresses and protocol of the (innermost) IP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Transport protocol (IPv6: after the extension headers).
    pub proto: u8,
    pub ttl: u8,
    /// The IP payload is cut short by the snap length.
    pub truncated: bool,
}

/// The GRE tunnel a packet arrived in: the outermost delivery header and the innermost GRE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunnel {
    /// Delivery header of the outermost GRE (for an MDT: PE address → default-MDT group).
    pub outer_src: IpAddr,
    pub outer_dst: IpAddr,
    pub key: Option<u32>,
    pub sequence: Option<u32>,
    /// `Some(valid)` when the innermost GRE carried a checksum.
    pub checksum_ok: Option<bool>,
    /// 1 for a single GRE header.
    pub depth: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

#[derive(Clone, Copy, Debug)]
pub struct UdpView<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug)]
pub struct TcpView<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// The TCP options as sent (scanner fingerprints).
    pub options: &'a [u8],
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug)]
pub enum Transport<'a> {
    Udp(UdpView<'a>),
    Tcp(TcpView<'a>),
    /// A non-first IPv4/IPv6 fragment: no transport header to read.
    Fragment,
    /// Any other protocol (PIM, ICMP, GRE we could not follow…): the IP payload.
    Other(&'a [u8]),
}

/// A decoded packet: borrowed views, nothing copied.
#[derive(Clone, Copy, Debug)]
pub struct Decoded<'a> {
    pub link: link::LinkInfo,
    pub net: NetInfo,
    pub transport: Transport<'a>,
    pub tunnel: Option<Tunnel>,
}

impl Decoded<'_> {
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.transport {
            Transport::Udp(u) => Some((u.src_port, u.dst_port)),
            Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
            _ => None,
        }
    }

    pub fn payload(&self) -> &[u8] {
        match self.transport {
            Transport::Udp(u) => u.payload,
            Transport::Tcp(t) => t.payload,
            Transport::Other(p) => p,
            Transport::Fragment => &[],
        }
    }
}

/// Why a frame produced no [`Decoded`] without being broken: it is simply not IP.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    Ip(Decoded<'a>),
    /// ARP, LLDP, STP…: the EtherType (0 when the link layer had none).
    NotIp(u16),
}

/// Decodes one frame. `max_depth` bounds GRE nesting.
pub fn decode(
    link_type: LinkType,
    frame: &[u8],
    max_depth: u8,
) -> Result<Outcome<'_>, DecodeError> {
    let link = link::parse(link_type, frame)?;
    if link.ethertype != ETHERTYPE_IPV4 && link.ethertype != ETHERTYPE_IPV6 {
        return Ok(Outcome::NotIp(link.ethertype));
    }
    let mut offset = link.offset;
    let mut ethertype = link.ethertype;
    let mut tunnel: Option<Tunnel> = None;
    loop {
        let (net, payload, fragment) = ip(frame, offset, ethertype)?;
        // `payload` is a sub-slice of `frame`; its position is the address difference.
        let payload_offset = payload.as_ptr() as usize - frame.as_ptr() as usize;
        if fragment {
            return Ok(Outcome::Ip(Decoded {
                link,
                net,
                transport: Transport::Fragment,
                tunnel,
            }));
        }
        match net.proto {
            IPPROTO_UDP => {
                let transport = udp(payload, payload_offset, net.truncated)?;
                return Ok(Outcome::Ip(Decoded {
                    link,
                    net,
                    transport,
                    tunnel,
                }));
            }
            IPPROTO_TCP => {
                let transport = tcp(payload, payload_offset)?;
                return Ok(Outcome::Ip(Decoded {
                    link,
                    net,
                    transport,
                    tunnel,
                }));
            }
            IPPROTO_GRE => {
                let g = GreSlice::from_slice(payload).map_err(|error| DecodeError::Gre {
                    offset: payload_offset,
                    error,
                })?;
                let inner_is_ip = matches!(g.protocol_type(), ETHERTYPE_IPV4 | ETHERTYPE_IPV6);
                if !inner_is_ip {
                    // MPLS, Ethernet (TEB), ERSPAN…: counted by whoever looks at `Other`.
                    return Ok(Outcome::Ip(Decoded {
                        link,
                        net,
                        transport: Transport::Other(payload),
                        tunnel,
                    }));
                }
                let depth = tunnel.map_or(1, |t| t.depth + 1);
                if depth > max_depth {
                    return Err(DecodeError::TunnelTooDeep { max: max_depth });
                }
                let (outer_src, outer_dst) =
                    tunnel.map_or((net.src, net.dst), |t| (t.outer_src, t.outer_dst));
                tunnel = Some(Tunnel {
                    outer_src,
                    outer_dst,
                    key: g.key(),
                    sequence: g.sequence(),
                    checksum_ok: if net.truncated {
                        None
                    } else {
                        g.checksum_valid()
                    },
                    depth,
                });
                offset = payload_offset + g.header_len();
                ethertype = g.protocol_type();
            }
            _ => {
                return Ok(Outcome::Ip(Decoded {
                    link,
                    net,
                    transport: Transport::Other(payload),
                    tunnel,
                }))
            }
        }
    }
}

/// IPv4 or IPv6 at `offset`; returns the header facts, the payload, and whether the payload is
/// a non-first fragment.
fn ip(frame: &[u8], offset: usize, ethertype: u16) -> Result<(NetInfo, &[u8], bool), DecodeError> {
    let data = &frame[offset..];
    let expected_version = if ethertype == ETHERTYPE_IPV6 { 6 } else { 4 };
    match data.first() {
        None => return Err(DecodeError::truncated(Layer::Ip, offset, 1, 0)),
        Some(b) if b >> 4 != expected_version => {
            return Err(DecodeError::Malformed {
                layer: Layer::Ip,
                offset,
                reason: "IP version does not match the link layer",
            })
        }
        _ => {}
    }
    let (slice, _ext_error) = LaxIpSlice::from_slice(data).map_err(|e| match e {
        etherparse::err::ip::LaxHeaderSliceError::Len(l) => {
            DecodeError::truncated(Layer::Ip, offset, l.required_len, l.len)
        }
        etherparse::err::ip::LaxHeaderSliceError::Content(_) => DecodeError::Malformed {
            layer: Layer::Ip,
            offset,
            reason: "invalid IP header (version, header length or total length)",
        },
    })?;
    let payload = slice.payload();
    let ttl = match &slice {
        LaxIpSlice::Ipv4(v4) => v4.header().ttl(),
        LaxIpSlice::Ipv6(v6) => v6.header().hop_limit(),
    };
    // A non-first fragment carries no transport header; the first one does (offset 0).
    let non_first_fragment = payload.fragmented
        && match &slice {
            LaxIpSlice::Ipv4(v4) => v4.header().fragments_offset().value() != 0,
            LaxIpSlice::Ipv6(_) => true,
        };
    let net = NetInfo {
        src: slice.source_addr(),
        dst: slice.destination_addr(),
        proto: payload.ip_number.0,
        ttl,
        truncated: payload.incomplete,
    };
    Ok((net, payload.payload, non_first_fragment))
}

fn udp(payload: &[u8], offset: usize, ip_truncated: bool) -> Result<Transport<'_>, DecodeError> {
    // When the snap length cut the datagram, the UDP length cannot be checked against it.
    let parsed = if ip_truncated {
        UdpSlice::from_slice_lax(payload)
    } else {
        UdpSlice::from_slice(payload)
    };
    let udp = parsed.map_err(|e| {
        if payload.len() < 8 {
            DecodeError::truncated(Layer::Udp, offset, 8, payload.len())
        } else if e.required_len == 8 {
            DecodeError::Malformed {
                layer: Layer::Udp,
                offset,
                reason: "UDP length below 8",
            }
        } else {
            DecodeError::Malformed {
                layer: Layer::Udp,
                offset,
                reason: "UDP length exceeds the IP payload",
            }
        }
    })?;
    Ok(Transport::Udp(UdpView {
        src_port: udp.source_port(),
        dst_port: udp.destination_port(),
        payload: udp.payload(),
    }))
}

fn tcp(payload: &[u8], offset: usize) -> Result<Transport<'_>, DecodeError> {
    let tcp = TcpSlice::from_slice(payload).map_err(|e| match e {
        etherparse::err::tcp::HeaderSliceError::Len(l) => {
            DecodeError::truncated(Layer::Tcp, offset, l.required_len, l.len)
        }
        etherparse::err::tcp::HeaderSliceError::Content(_) => DecodeError::Malformed {
            layer: Layer::Tcp,
            offset,
            reason: "TCP data offset below 5",
        },
    })?;
    let flags = (tcp.fin() as u8)
        | (tcp.syn() as u8) << 1
        | (tcp.rst() as u8) << 2
        | (tcp.psh() as u8) << 3
        | (tcp.ack() as u8) << 4
        | (tcp.urg() as u8) << 5;
    Ok(Transport::Tcp(TcpView {
        src_port: tcp.source_port(),
        dst_port: tcp.destination_port(),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: TcpFlags(flags),
        window: tcp.window_size(),
        options: payload.get(20..tcp.header_len()).unwrap_or_default(),
        payload: tcp.payload(),
    }))
}

/// IANA protocol keyword for an IP protocol number, upper case, as EVE writes it.
pub fn proto_name(proto: u8) -> &'static str {
    match proto {
        1 => "ICMP",
        2 => "IGMP",
        IPPROTO_TCP => "TCP",
        IPPROTO_UDP => "UDP",
        IPPROTO_GRE => "GRE",
        50 => "ESP",
        58 => "IPV6-ICMP",
        IPPROTO_PIM => "PIM",
        132 => "SCTP",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests;
