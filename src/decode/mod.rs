//! Decoding: link → IP → (GRE | ERSPAN | VXLAN | GENEVE → [Ethernet →] IP)* → transport, as
//! zero-copy views over the frame.
//!
//! [`decode`] is a pure function: it never allocates and never panics; what it cannot decode
//! is a typed [`DecodeError`] naming the layer, the offset and the reason, which the engine counts.

pub mod checksum;
pub mod fast;
pub mod gre;
pub mod link;
pub mod tunnel;

use crate::packet::LinkType;
use etherparse::{LaxIpSlice, TcpSlice, UdpSlice};
use gre::{GreError, GreSlice};
use link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use std::net::IpAddr;
use tunnel::{erspan, geneve, vxlan, Inner, TunnelError};

/// Default bound on nested tunnels: deeper stacks are reported, not followed.
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
    Erspan,
    Vxlan,
    Geneve,
}

impl Layer {
    pub const ALL: [Layer; 9] = [
        Layer::Link,
        Layer::Vlan,
        Layer::Ip,
        Layer::Gre,
        Layer::Udp,
        Layer::Tcp,
        Layer::Erspan,
        Layer::Vxlan,
        Layer::Geneve,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Vlan => "vlan",
            Layer::Ip => "ip",
            Layer::Gre => "gre",
            Layer::Udp => "udp",
            Layer::Tcp => "tcp",
            Layer::Erspan => "erspan",
            Layer::Vxlan => "vxlan",
            Layer::Geneve => "geneve",
        }
    }

    /// The protocol's own spelling, for messages.
    fn label(self) -> &'static str {
        match self {
            Layer::Gre => "GRE",
            Layer::Erspan => "ERSPAN",
            Layer::Vxlan => "VXLAN",
            Layer::Geneve => "GENEVE",
            other => other.name(),
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
    /// `layer` is the encapsulation one level too deep.
    #[error("{} nested deeper than {max} levels", .layer.label())]
    TunnelTooDeep { max: u8, layer: Layer },
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
            DecodeError::Gre { .. } => Layer::Gre,
            DecodeError::TunnelTooDeep { layer, .. } => *layer,
        }
    }

    /// An encapsulation header's error at `offset` of the frame.
    fn tunnel(layer: Layer, offset: usize, e: TunnelError) -> Self {
        match e {
            TunnelError::Truncated {
                required,
                available,
            } => DecodeError::truncated(layer, offset, required, available),
            TunnelError::Malformed(reason) => DecodeError::Malformed {
                layer,
                offset,
                reason,
            },
        }
    }

    /// The same error for a header found `by` bytes further into the frame (a parser that
    /// was handed a sub-slice counted from its start).
    fn shifted(self, by: usize) -> Self {
        match self {
            DecodeError::Truncated {
                layer,
                offset,
                required,
                available,
            } => DecodeError::Truncated {
                layer,
                offset: offset + by,
                required,
                available,
            },
            DecodeError::Malformed {
                layer,
                offset,
                reason,
            } => DecodeError::Malformed {
                layer,
                offset: offset + by,
                reason,
            },
            DecodeError::Gre { offset, error } => DecodeError::Gre {
                offset: offset + by,
                error,
            },
            other => other,
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

/// What the outermost encapsulation of a tunnelled packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    /// IP in GRE (RFC 2784): a network tunnel, e.g. a multicast-VPN default MDT.
    Gre,
    /// Ethernet in GRE (protocol 0x6558, transparent Ethernet bridging).
    GreTeb,
    /// ERSPAN type I, II or III in GRE.
    Erspan,
    /// VXLAN in UDP (RFC 7348).
    Vxlan,
    /// GENEVE in UDP (RFC 8926).
    Geneve,
}

impl TunnelKind {
    /// The `tunnel.type` of an event.
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::Gre => "gre",
            TunnelKind::GreTeb => "gre_teb",
            TunnelKind::Erspan => "erspan",
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::Geneve => "geneve",
        }
    }

    /// The IP protocol of its delivery header.
    pub fn delivery_proto(self) -> u8 {
        match self {
            TunnelKind::Gre | TunnelKind::GreTeb | TunnelKind::Erspan => IPPROTO_GRE,
            TunnelKind::Vxlan | TunnelKind::Geneve => IPPROTO_UDP,
        }
    }
}

/// The tunnels a packet arrived in: the outermost delivery header and its kind, and the
/// identifiers of the innermost layer that carries each (GRE key, VNI, ERSPAN session).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunnel {
    pub kind: TunnelKind,
    /// Delivery header of the outermost tunnel (for an MDT: PE address → default-MDT group).
    pub outer_src: IpAddr,
    pub outer_dst: IpAddr,
    pub key: Option<u32>,
    pub sequence: Option<u32>,
    /// `Some(valid)` when the innermost GRE carried a checksum.
    pub checksum_ok: Option<bool>,
    /// VXLAN or GENEVE network identifier.
    pub vni: Option<u32>,
    /// ERSPAN type (1, 2, 3) and session id (types II and III).
    pub erspan_type: Option<u8>,
    pub erspan_session: Option<u16>,
    /// 1 for a single encapsulation.
    pub depth: u8,
}

/// How far [`decode_with`] follows tunnels.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// Bound on nested encapsulations; one more is `tunnel_too_deep`.
    pub max_tunnel_depth: u8,
    /// UDP destination ports that carry VXLAN (RFC 7348: 4789; Linux's default was 8472).
    pub vxlan_ports: &'a [u16],
}

/// The VXLAN ports when none are configured.
pub const DEFAULT_VXLAN_PORTS: [u16; 1] = [vxlan::PORT];

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
// Returned by value once per packet on the hot path: boxing the large variant would allocate.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    Ip(Decoded<'a>),
    /// ARP, LLDP, STP…: the EtherType (0 when the link layer had none).
    NotIp(u16),
    /// A well-formed frame whose link layer carries nothing we read (encrypted 802.11…).
    Skipped(link::Skip),
}

/// Decodes one frame. `max_depth` bounds tunnel nesting; VXLAN is on its IANA port only.
pub fn decode(
    link_type: LinkType,
    frame: &[u8],
    max_depth: u8,
) -> Result<Outcome<'_>, DecodeError> {
    decode_with(
        link_type,
        frame,
        &Options {
            max_tunnel_depth: max_depth,
            vxlan_ports: &DEFAULT_VXLAN_PORTS,
        },
    )
}

/// One encapsulation layer the decode loop found: what it is and where its payload starts.
struct Layering {
    kind: TunnelKind,
    layer: Layer,
    inner: Inner,
    inner_offset: usize,
    gre: Option<(Option<u32>, Option<u32>, Option<bool>)>,
    vni: Option<u32>,
    erspan: Option<erspan::Erspan>,
}

/// Decodes one frame, following every tunnel `options` names, up to its depth bound. A frame
/// inside a mirror tunnel (ERSPAN, VXLAN, GENEVE, GRE bridging) is decoded as if it arrived
/// bare: `link` is the inner Ethernet header, the flow the inner one.
pub fn decode_with<'a>(
    link_type: LinkType,
    frame: &'a [u8],
    options: &Options<'_>,
) -> Result<Outcome<'a>, DecodeError> {
    let mut link = link::parse(link_type, frame)?;
    if let Some(why) = link.skipped {
        return Ok(Outcome::Skipped(why));
    }
    if link.ethertype != ETHERTYPE_IPV4 && link.ethertype != ETHERTYPE_IPV6 {
        return Ok(Outcome::NotIp(link.ethertype));
    }
    let frame = &frame[..frame.len() - link.trailer];
    let mut offset = link.offset;
    let mut ethertype = link.ethertype;
    let mut tunnel: Option<Tunnel> = None;
    loop {
        let (net, payload, fragment) = ip(frame, offset, ethertype)?;
        // `payload` is a sub-slice of `frame`; its position is the address difference.
        let payload_offset = payload.as_ptr() as usize - frame.as_ptr() as usize;
        let done = |transport| {
            Ok(Outcome::Ip(Decoded {
                link,
                net,
                transport,
                tunnel,
            }))
        };
        if fragment {
            return done(Transport::Fragment);
        }
        let found = match net.proto {
            IPPROTO_UDP => {
                let transport = udp(payload, payload_offset, net.truncated)?;
                let Transport::Udp(u) = transport else {
                    return done(transport);
                };
                let at = u.payload.as_ptr() as usize - frame.as_ptr() as usize;
                match udp_tunnel(u, at, options)? {
                    Some(found) => found,
                    None => return done(transport),
                }
            }
            IPPROTO_TCP => return done(tcp(payload, payload_offset)?),
            IPPROTO_GRE => {
                let g = GreSlice::from_slice(payload).map_err(|error| DecodeError::Gre {
                    offset: payload_offset,
                    error,
                })?;
                match gre_tunnel(&g, payload_offset, net.truncated)? {
                    Some(found) => found,
                    // PPTP, MPLS, keepalives…: counted by whoever looks at `Other`.
                    None => return done(Transport::Other(payload)),
                }
            }
            _ => return done(Transport::Other(payload)),
        };
        let depth = tunnel.map_or(1, |t| t.depth + 1);
        if depth > options.max_tunnel_depth {
            return Err(DecodeError::TunnelTooDeep {
                max: options.max_tunnel_depth,
                layer: found.layer,
            });
        }
        let t = tunnel.get_or_insert(Tunnel {
            kind: found.kind,
            outer_src: net.src,
            outer_dst: net.dst,
            key: None,
            sequence: None,
            checksum_ok: None,
            vni: None,
            erspan_type: None,
            erspan_session: None,
            depth,
        });
        t.depth = depth;
        if let Some((key, sequence, checksum_ok)) = found.gre {
            (t.key, t.sequence, t.checksum_ok) = (key, sequence, checksum_ok);
        }
        t.vni = found.vni.or(t.vni);
        if let Some(e) = found.erspan {
            t.erspan_type = Some(e.erspan_type);
            t.erspan_session = e.session_id.or(t.erspan_session);
        }
        offset = found.inner_offset;
        ethertype = match found.inner {
            Inner::EtherType(e) if e == ETHERTYPE_IPV4 || e == ETHERTYPE_IPV6 => e,
            // GENEVE carrying MPLS, NSH…: counted as not IP, as an Ethernet frame of ARP is.
            Inner::EtherType(e) => return Ok(Outcome::NotIp(e)),
            Inner::Ip => match frame.get(offset).map(|b| b >> 4) {
                Some(6) => ETHERTYPE_IPV6,
                _ => ETHERTYPE_IPV4,
            },
            Inner::Ethernet => {
                let inner = link::parse(LinkType::Ethernet, &frame[offset..])
                    .map_err(|e| e.shifted(offset))?;
                if inner.ethertype != ETHERTYPE_IPV4 && inner.ethertype != ETHERTYPE_IPV6 {
                    return Ok(Outcome::NotIp(inner.ethertype));
                }
                link = link::LinkInfo {
                    offset: offset + inner.offset,
                    ..inner
                };
                offset = link.offset;
                inner.ethertype
            }
        };
    }
}

/// The GRE payloads the loop follows: IP, Ethernet (bridging) and ERSPAN; `None` for the rest.
fn gre_tunnel(
    g: &GreSlice<'_>,
    offset: usize,
    ip_truncated: bool,
) -> Result<Option<Layering>, DecodeError> {
    if g.version() != 0 {
        return Ok(None);
    }
    let inner_offset = offset + g.header_len();
    let gre = Some((
        g.key(),
        g.sequence(),
        // A payload cut short by the snap length cannot verify.
        if ip_truncated {
            None
        } else {
            g.checksum_valid()
        },
    ));
    let (kind, inner, erspan) = match g.protocol_type() {
        p @ (ETHERTYPE_IPV4 | ETHERTYPE_IPV6) => (TunnelKind::Gre, Inner::EtherType(p), None),
        tunnel::ETHERTYPE_TEB => (TunnelKind::GreTeb, Inner::Ethernet, None),
        p @ (erspan::GRE_PROTO_ERSPAN | erspan::GRE_PROTO_ERSPAN_III) => {
            let e = erspan::parse(p, g.sequence().is_some(), g.payload())
                .map_err(|e| DecodeError::tunnel(Layer::Erspan, inner_offset, e))?;
            (TunnelKind::Erspan, e.inner, Some(e))
        }
        _ => return Ok(None),
    };
    Ok(Some(Layering {
        kind,
        layer: Layer::Gre,
        inner,
        inner_offset: inner_offset + erspan.map_or(0, |e| e.header_len),
        gre,
        vni: None,
        erspan,
    }))
}

/// VXLAN on one of its ports, GENEVE on 6081 (both by destination port, as RFC 7348 §5 and
/// RFC 8926 §3.3 send them); `None` for any other UDP. `at`: the UDP payload's offset.
fn udp_tunnel(
    u: UdpView<'_>,
    at: usize,
    options: &Options<'_>,
) -> Result<Option<Layering>, DecodeError> {
    if options.vxlan_ports.contains(&u.dst_port) {
        let v = vxlan::parse(u.payload).map_err(|e| DecodeError::tunnel(Layer::Vxlan, at, e))?;
        return Ok(Some(Layering {
            kind: TunnelKind::Vxlan,
            layer: Layer::Vxlan,
            inner: Inner::Ethernet,
            inner_offset: at + vxlan::HEADER_LEN,
            gre: None,
            vni: Some(v.vni),
            erspan: None,
        }));
    }
    if u.dst_port != geneve::PORT {
        return Ok(None);
    }
    let g = geneve::parse(u.payload).map_err(|e| DecodeError::tunnel(Layer::Geneve, at, e))?;
    Ok(Some(Layering {
        kind: TunnelKind::Geneve,
        layer: Layer::Geneve,
        inner: g.inner(),
        inner_offset: at + g.header_len,
        gre: None,
        vni: Some(g.vni),
        erspan: None,
    }))
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
