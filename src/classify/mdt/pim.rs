//! PIMv2 (RFC 7761 §4.9): the common header with its checksum, Hello options and Join/Prune,
//! as a checked zero-copy view ([`PimPacket`]) plus owned representations of what we report.
//!
//! ```text
//! | Ver(4)=2 | Type(4) | Reserved(8) |       Checksum (16)        |
//! ```
//! The checksum covers the whole PIM message (Register: its 8-byte header only), and for IPv6
//! also the pseudo-header (src, dst, upper-layer length, next header 103).

use crate::decode::checksum::{finish, sum_words};
use crate::event::mdt::{
    EncodedGroup, EncodedSource, Hello, JoinPrune, JoinPruneGroup, LanPruneDelay, UnknownOption,
};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// PIM's IP protocol number (the IPv6 pseudo-header's next header).
pub const IPPROTO_PIM: u8 = 103;
pub const HEADER_LEN: usize = 4;

/// Hello option types (RFC 7761 §4.9.2; IANA "PIM-Hello Options").
pub mod option {
    pub const HOLDTIME: u16 = 1;
    pub const LAN_PRUNE_DELAY: u16 = 2;
    pub const DR_PRIORITY: u16 = 19;
    pub const GENERATION_ID: u16 = 20;
    pub const ADDRESS_LIST: u16 = 24;
}

/// The message type of the common header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PimType {
    Hello,
    Register,
    RegisterStop,
    JoinPrune,
    Bootstrap,
    Assert,
    Graft,
    GraftAck,
    CandidateRpAdvertisement,
    /// RFC 3973 (PIM-DM).
    StateRefresh,
    /// RFC 5015 (BIDIR-PIM).
    DfElection,
    /// RFC 6754.
    EcmpRedirect,
    Other(u8),
}

impl PimType {
    pub fn from_u8(t: u8) -> Self {
        match t {
            0 => PimType::Hello,
            1 => PimType::Register,
            2 => PimType::RegisterStop,
            3 => PimType::JoinPrune,
            4 => PimType::Bootstrap,
            5 => PimType::Assert,
            6 => PimType::Graft,
            7 => PimType::GraftAck,
            8 => PimType::CandidateRpAdvertisement,
            9 => PimType::StateRefresh,
            10 => PimType::DfElection,
            11 => PimType::EcmpRedirect,
            t => PimType::Other(t),
        }
    }

    /// The `pim_type` of an event.
    pub fn name(self) -> &'static str {
        match self {
            PimType::Hello => "hello",
            PimType::Register => "register",
            PimType::RegisterStop => "register_stop",
            PimType::JoinPrune => "join_prune",
            PimType::Bootstrap => "bootstrap",
            PimType::Assert => "assert",
            PimType::Graft => "graft",
            PimType::GraftAck => "graft_ack",
            PimType::CandidateRpAdvertisement => "c_rp_advertisement",
            PimType::StateRefresh => "state_refresh",
            PimType::DfElection => "df_election",
            PimType::EcmpRedirect => "ecmp_redirect",
            PimType::Other(_) => "unknown",
        }
    }

    pub fn code(self) -> u8 {
        match self {
            PimType::Hello => 0,
            PimType::Register => 1,
            PimType::RegisterStop => 2,
            PimType::JoinPrune => 3,
            PimType::Bootstrap => 4,
            PimType::Assert => 5,
            PimType::Graft => 6,
            PimType::GraftAck => 7,
            PimType::CandidateRpAdvertisement => 8,
            PimType::StateRefresh => 9,
            PimType::DfElection => 10,
            PimType::EcmpRedirect => 11,
            PimType::Other(t) => t,
        }
    }
}

/// Why a PIM message was not accepted. Offsets count from the first byte of the PIM header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PimError {
    /// `what` at `offset` needs `required` bytes, only `available` remain.
    Truncated {
        what: &'static str,
        offset: usize,
        required: usize,
        available: usize,
    },
    /// The version nibble is not 2.
    Version(u8),
    /// The checksum does not verify; `found` is the field, `computed` the right value.
    Checksum { found: u16, computed: u16 },
    /// A Hello option's length runs past the end of the message.
    OptionPastEnd {
        option_type: u16,
        offset: usize,
        length: u16,
        available: usize,
    },
    /// A known Hello option with the wrong length (e.g. a 3-byte Holdtime).
    OptionLength {
        option_type: u16,
        length: u16,
        expected: u16,
    },
    /// An encoded address with an address family other than 1 (IPv4) or 2 (IPv6).
    AddressFamily { offset: usize, family: u8 },
    /// An encoded address with an encoding type other than 0 (native).
    EncodingType { offset: usize, encoding: u8 },
    /// A mask length longer than the address.
    MaskLength { offset: usize, mask_len: u8 },
    /// Bytes left after the last group of a Join/Prune.
    TrailingBytes { offset: usize, count: usize },
}

impl PimError {
    /// A short stable name for counters: `mdt.pim_<reason>`.
    pub fn reason(&self) -> &'static str {
        match self {
            PimError::Truncated { .. } => "truncated",
            PimError::Version(_) => "version",
            PimError::Checksum { .. } => "bad_checksum",
            PimError::OptionPastEnd { .. } => "option_past_end",
            PimError::OptionLength { .. } => "option_length",
            PimError::AddressFamily { .. } => "address_family",
            PimError::EncodingType { .. } => "encoding_type",
            PimError::MaskLength { .. } => "mask_length",
            PimError::TrailingBytes { .. } => "trailing_bytes",
        }
    }
}

impl fmt::Display for PimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PimError::Truncated {
                what,
                offset,
                required,
                available,
            } => {
                write!(
                    f,
                    "PIM {what} at offset {offset} needs {required} bytes, {available} left"
                )
            }
            PimError::Version(v) => write!(f, "PIM version {v}, expected 2"),
            PimError::Checksum { found, computed } => {
                write!(
                    f,
                    "PIM checksum 0x{found:04x} is wrong (0x{computed:04x} expected)"
                )
            }
            PimError::OptionPastEnd {
                option_type,
                offset,
                length,
                available,
            } => write!(
                f,
                "PIM Hello option {option_type} at offset {offset}: length {length} runs past the \
                 end ({available} bytes left)"
            ),
            PimError::OptionLength {
                option_type,
                length,
                expected,
            } => write!(
                f,
                "PIM Hello option {option_type} has length {length}, expected {expected}"
            ),
            PimError::AddressFamily { offset, family } => {
                write!(
                    f,
                    "PIM encoded address at offset {offset}: address family {family}"
                )
            }
            PimError::EncodingType { offset, encoding } => {
                write!(
                    f,
                    "PIM encoded address at offset {offset}: encoding type {encoding}"
                )
            }
            PimError::MaskLength { offset, mask_len } => {
                write!(
                    f,
                    "PIM encoded address at offset {offset}: mask length {mask_len}"
                )
            }
            PimError::TrailingBytes { offset, count } => {
                write!(
                    f,
                    "PIM Join/Prune: {count} bytes after the last group (offset {offset})"
                )
            }
        }
    }
}

impl std::error::Error for PimError {}

fn need(buf: &[u8], what: &'static str, offset: usize, required: usize) -> Result<(), PimError> {
    let available = buf.len().saturating_sub(offset);
    if available < required {
        return Err(PimError::Truncated {
            what,
            offset,
            required,
            available,
        });
    }
    Ok(())
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A PIM message whose header has been checked (length ≥ 4, version 2); accessors cannot
/// panic. `T` is anything that derefs to bytes, as in smoltcp's `Packet<T>`.
#[derive(Clone, Copy, Debug)]
pub struct PimPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> PimPacket<T> {
    pub fn new_checked(buffer: T) -> Result<Self, PimError> {
        let b = buffer.as_ref();
        need(b, "header", 0, HEADER_LEN)?;
        let version = b[0] >> 4;
        if version != 2 {
            return Err(PimError::Version(version));
        }
        Ok(PimPacket { buffer })
    }

    pub fn msg_type(&self) -> PimType {
        PimType::from_u8(self.buffer.as_ref()[0] & 0x0f)
    }

    /// The reserved byte (per-type flag bits since RFC 9436).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    /// The message after the 4-byte common header.
    pub fn body(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    pub fn len(&self) -> usize {
        self.buffer.as_ref().len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// Verifies the checksum (RFC 7761 §4.9). For IPv6 the pseudo-header of RFC 8200 §8.1 is
    /// included. A Register's checksum covers its 8-byte header only; the whole-message sum is
    /// also accepted, as §4.9.3 asks of receivers.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> Result<(), PimError> {
        let b = self.buffer.as_ref();
        let covered = if self.msg_type() == PimType::Register {
            &b[..b.len().min(8)]
        } else {
            b
        };
        let ok = |data: &[u8]| sum_with_pseudo(src, dst, data, 0) == 0;
        if ok(covered) || (covered.len() != b.len() && ok(b)) {
            return Ok(());
        }
        // What the field should have held: the sum with the field zeroed (error path only).
        let mut zeroed = covered.to_vec();
        zeroed[2..4].fill(0);
        let computed = sum_with_pseudo(src, dst, &zeroed, 0);
        Err(PimError::Checksum {
            found: self.checksum(),
            computed,
        })
    }
}

/// The folded, complemented sum of `data` (plus `extra`), with the IPv6 pseudo-header when both
/// addresses are IPv6. The upper-layer length is `data`'s length.
fn sum_with_pseudo(src: IpAddr, dst: IpAddr, data: &[u8], extra: u64) -> u16 {
    let mut sum = sum_words(data, extra);
    if let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) {
        sum = sum_words(&s.octets(), sum);
        sum = sum_words(&d.octets(), sum);
        sum = sum_words(&(data.len() as u32).to_be_bytes(), sum);
        sum += u64::from(IPPROTO_PIM);
    }
    finish(sum)
}

/// An Encoded-Unicast address (RFC 7761 §4.9.1): `Family(8) EncType(8) Address`.
/// Returns the address and the bytes consumed.
pub fn encoded_unicast(b: &[u8], offset: usize) -> Result<(IpAddr, usize), PimError> {
    need(b, "encoded unicast address", offset, 2)?;
    address(b, offset, 2, "encoded unicast address")
}

/// Reads `Family EncType [..] Address`; `head` = bytes before the address (2 for unicast,
/// 4 for group and source, which carry flags and a mask length).
fn address(
    b: &[u8],
    offset: usize,
    head: usize,
    what: &'static str,
) -> Result<(IpAddr, usize), PimError> {
    let family = b[offset];
    let encoding = b[offset + 1];
    let alen = match family {
        1 => 4,
        2 => 16,
        family => return Err(PimError::AddressFamily { offset, family }),
    };
    if encoding != 0 {
        return Err(PimError::EncodingType { offset, encoding });
    }
    need(b, what, offset, head + alen)?;
    let a = &b[offset + head..offset + head + alen];
    let addr = if alen == 4 {
        IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
    } else {
        let mut o = [0u8; 16];
        o.copy_from_slice(a);
        IpAddr::V6(Ipv6Addr::from(o))
    };
    Ok((addr, head + alen))
}

fn max_mask(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

pub fn encoded_group(b: &[u8], offset: usize) -> Result<(EncodedGroup, usize), PimError> {
    need(b, "encoded group address", offset, 4)?;
    let (group, len) = address(b, offset, 4, "encoded group address")?;
    let (flags, mask_len) = (b[offset + 2], b[offset + 3]);
    if mask_len > max_mask(group) {
        return Err(PimError::MaskLength { offset, mask_len });
    }
    let g = EncodedGroup {
        group,
        mask_len,
        bidir: flags & 0x80 != 0,
        zone: flags & 0x01 != 0,
    };
    Ok((g, len))
}

pub fn encoded_source(b: &[u8], offset: usize) -> Result<(EncodedSource, usize), PimError> {
    need(b, "encoded source address", offset, 4)?;
    let (source, len) = address(b, offset, 4, "encoded source address")?;
    let (flags, mask_len) = (b[offset + 2], b[offset + 3]);
    if mask_len > max_mask(source) {
        return Err(PimError::MaskLength { offset, mask_len });
    }
    let s = EncodedSource {
        source,
        mask_len,
        sparse: flags & 0x04 != 0,
        wildcard: flags & 0x02 != 0,
        rpt: flags & 0x01 != 0,
    };
    Ok((s, len))
}

/// One Hello option as it appears on the wire: `Type(16) Length(16) Value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelloOption<'a> {
    pub option_type: u16,
    pub value: &'a [u8],
    /// Offset of the option's Type field from the start of the PIM header.
    pub offset: usize,
}

/// Iterates the options of a Hello; yields an error (then stops) when a header or a value runs
/// past the end. `body` is the message after the common header.
#[derive(Clone, Debug)]
pub struct HelloOptions<'a> {
    body: &'a [u8],
    at: usize,
    failed: bool,
}

impl<'a> HelloOptions<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        HelloOptions {
            body,
            at: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for HelloOptions<'a> {
    type Item = Result<HelloOption<'a>, PimError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.body.len() {
            return None;
        }
        let offset = HEADER_LEN + self.at;
        let left = self.body.len() - self.at;
        if left < 4 {
            self.failed = true;
            let e = PimError::Truncated {
                what: "hello option",
                offset,
                required: 4,
                available: left,
            };
            return Some(Err(e));
        }
        let option_type = be16(self.body, self.at);
        let length = be16(self.body, self.at + 2);
        let available = left - 4;
        if usize::from(length) > available {
            self.failed = true;
            return Some(Err(PimError::OptionPastEnd {
                option_type,
                offset,
                length,
                available,
            }));
        }
        let start = self.at + 4;
        let value = &self.body[start..start + usize::from(length)];
        self.at = start + usize::from(length);
        Some(Ok(HelloOption {
            option_type,
            value,
            offset,
        }))
    }
}

fn fixed_len(o: &HelloOption<'_>, expected: u16) -> Result<(), PimError> {
    let length = o.value.len() as u16;
    if length != expected {
        return Err(PimError::OptionLength {
            option_type: o.option_type,
            length,
            expected,
        });
    }
    Ok(())
}

impl Hello {
    /// Parses the options of a Hello; `body` is the message after the common header.
    pub fn parse(body: &[u8]) -> Result<Hello, PimError> {
        let mut h = Hello::default();
        for o in HelloOptions::new(body) {
            let o = o?;
            let v = o.value;
            match o.option_type {
                option::HOLDTIME => {
                    fixed_len(&o, 2)?;
                    h.holdtime = Some(be16(v, 0));
                }
                option::LAN_PRUNE_DELAY => {
                    fixed_len(&o, 4)?;
                    h.lan_prune_delay = Some(LanPruneDelay {
                        t_bit: v[0] & 0x80 != 0,
                        propagation_delay_ms: be16(v, 0) & 0x7fff,
                        override_interval_ms: be16(v, 2),
                    });
                }
                option::DR_PRIORITY => {
                    fixed_len(&o, 4)?;
                    h.dr_priority = Some(be32(v, 0));
                }
                option::GENERATION_ID => {
                    fixed_len(&o, 4)?;
                    h.generation_id = Some(be32(v, 0));
                }
                option::ADDRESS_LIST => {
                    let mut at = 0;
                    while at < v.len() {
                        // Offsets in errors are relative to the PIM header.
                        let base = o.offset + 4;
                        let (addr, used) = encoded_unicast(v, at).map_err(|e| rebase(e, base))?;
                        h.addresses.push(addr);
                        at += used;
                    }
                }
                option_type => h.unknown.push(UnknownOption {
                    option_type,
                    length: v.len() as u16,
                }),
            }
        }
        Ok(h)
    }
}

/// Moves an error's offset from a sub-slice to the PIM header.
fn rebase(e: PimError, base: usize) -> PimError {
    match e {
        PimError::Truncated {
            what,
            offset,
            required,
            available,
        } => PimError::Truncated {
            what,
            offset: offset + base,
            required,
            available,
        },
        PimError::AddressFamily { offset, family } => PimError::AddressFamily {
            offset: offset + base,
            family,
        },
        PimError::EncodingType { offset, encoding } => PimError::EncodingType {
            offset: offset + base,
            encoding,
        },
        PimError::MaskLength { offset, mask_len } => PimError::MaskLength {
            offset: offset + base,
            mask_len,
        },
        other => other,
    }
}

/// The smallest Encoded-Source (IPv4): bounds pre-allocation by what the bytes can hold.
const MIN_SOURCE_LEN: usize = 8;

impl JoinPrune {
    /// Parses a Join/Prune; `body` is the message after the common header.
    pub fn parse(body: &[u8]) -> Result<JoinPrune, PimError> {
        // Offsets inside `body` are moved to count from the PIM header.
        let b = body;
        let base = HEADER_LEN;
        let re = |e| rebase(e, base);
        let (upstream_neighbor, mut at) = encoded_unicast(b, 0).map_err(re)?;
        need(b, "join/prune header", at, 4).map_err(re)?;
        let num_groups = b[at + 1];
        let holdtime = be16(b, at + 2);
        at += 4;
        let mut groups = Vec::with_capacity(usize::from(num_groups).min(b.len() / 12));
        for _ in 0..num_groups {
            let (group, used) = encoded_group(b, at).map_err(re)?;
            at += used;
            need(b, "group source counts", at, 4).map_err(re)?;
            let n_join = usize::from(be16(b, at));
            let n_prune = usize::from(be16(b, at + 2));
            at += 4;
            let room = (b.len() - at) / MIN_SOURCE_LEN;
            let mut joins = Vec::with_capacity(n_join.min(room));
            for _ in 0..n_join {
                let (s, used) = encoded_source(b, at).map_err(re)?;
                joins.push(s);
                at += used;
            }
            let mut prunes = Vec::with_capacity(n_prune.min(room));
            for _ in 0..n_prune {
                let (s, used) = encoded_source(b, at).map_err(re)?;
                prunes.push(s);
                at += used;
            }
            groups.push(JoinPruneGroup {
                group,
                joins,
                prunes,
            });
        }
        if at != b.len() {
            return Err(PimError::TrailingBytes {
                offset: base + at,
                count: b.len() - at,
            });
        }
        Ok(JoinPrune {
            upstream_neighbor,
            holdtime,
            groups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// mdt.md §5 Ex. 1: the PIM Hello inside the default MDT (inner IPv4 payload).
    const EX1_HELLO: &str = "200051da 00010002 0069 0002000401f409c4 001300040000 0001 \
                             001400041a2b3c4d 001800060100c6336401";

    #[test]
    fn hello_from_mdt_example_1() {
        let b = hex(EX1_HELLO);
        let p = PimPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.msg_type(), PimType::Hello);
        assert_eq!((p.flags(), p.checksum()), (0, 0x51da));
        p.verify_checksum(ip("192.0.2.1"), ip("224.0.0.13"))
            .unwrap();
        let h = Hello::parse(p.body()).unwrap();
        assert_eq!(
            h,
            Hello {
                holdtime: Some(105),
                lan_prune_delay: Some(LanPruneDelay {
                    t_bit: false,
                    propagation_delay_ms: 500,
                    override_interval_ms: 2500
                }),
                dr_priority: Some(1),
                generation_id: Some(0x1a2b3c4d),
                addresses: vec![ip("198.51.100.1")],
                unknown: vec![],
            }
        );
    }

    #[test]
    fn hello_from_the_full_example_1_frame() {
        // The whole 102-byte frame of mdt.md §5 Ex. 1; the PIM message starts at 14+20+4+20.
        let frame = hex(
            "01005e01010100005e00530108004500005810010000ff2ff971c0000201ef01010100000800450000400001\
             000001671748c0000201e000000d200051da0001000200690002000401f409c40013000400000001001400\
             041a2b3c4d001800060100c6336401",
        );
        assert_eq!(frame.len(), 102);
        let p = PimPacket::new_checked(&frame[58..]).unwrap();
        p.verify_checksum(ip("192.0.2.1"), ip("224.0.0.13"))
            .unwrap();
        assert_eq!(
            Hello::parse(p.body()).unwrap().generation_id,
            Some(0x1a2b3c4d)
        );
    }

    #[test]
    fn bad_checksum_names_the_right_value() {
        let mut b = hex(EX1_HELLO);
        b[2] = 0x12;
        b[3] = 0x34;
        let p = PimPacket::new_checked(&b[..]).unwrap();
        assert_eq!(
            p.verify_checksum(ip("192.0.2.1"), ip("224.0.0.13")),
            Err(PimError::Checksum {
                found: 0x1234,
                computed: 0x51da
            })
        );
    }

    #[test]
    fn ipv6_checksum_includes_the_pseudo_header() {
        // Ex. 1's options sent over IPv6 from the IPv4-mapped PE address to ff02::d (RFC 6516 §4).
        let mut b = hex(EX1_HELLO);
        b[2] = 0;
        b[3] = 0;
        let (src, dst) = (ip("::ffff:192.0.2.1"), ip("ff02::d"));
        let c = sum_with_pseudo(src, dst, &b, 0);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        let p = PimPacket::new_checked(&b[..]).unwrap();
        p.verify_checksum(src, dst).unwrap();
        // The IPv4 sum (no pseudo-header) is no longer right, and the reverse too.
        assert!(p
            .verify_checksum(ip("192.0.2.1"), ip("224.0.0.13"))
            .is_err());
        let v4 = hex(EX1_HELLO);
        assert!(PimPacket::new_checked(&v4[..])
            .unwrap()
            .verify_checksum(src, dst)
            .is_err());
        // Pseudo-header by hand: src, dst, 32-bit length, 3 zero bytes, next header 103.
        let mut pseudo = Vec::new();
        if let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
        }
        pseudo.extend_from_slice(&(b.len() as u32).to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, 103]);
        pseudo.extend_from_slice(&b);
        assert_eq!(crate::decode::checksum::internet_checksum(&pseudo), 0);
    }

    #[test]
    fn version_and_truncation() {
        assert_eq!(
            PimPacket::new_checked(&hex("100051da")[..]).unwrap_err(),
            PimError::Version(1)
        );
        assert_eq!(
            PimPacket::new_checked(&hex("2000")[..]).unwrap_err(),
            PimError::Truncated {
                what: "header",
                offset: 0,
                required: 4,
                available: 2
            }
        );
    }

    #[test]
    fn option_running_past_the_end() {
        // Holdtime claims 8 bytes, 2 follow.
        let body = hex("00010008 0069");
        assert_eq!(
            Hello::parse(&body).unwrap_err(),
            PimError::OptionPastEnd {
                option_type: 1,
                offset: 4,
                length: 8,
                available: 2
            }
        );
        assert_eq!(
            Hello::parse(&hex("000100")).unwrap_err(),
            PimError::Truncated {
                what: "hello option",
                offset: 4,
                required: 4,
                available: 3
            }
        );
        assert_eq!(
            Hello::parse(&hex("00010003 006900")).unwrap_err(),
            PimError::OptionLength {
                option_type: 1,
                length: 3,
                expected: 2
            }
        );
    }

    #[test]
    fn unknown_options_are_kept_and_ipv6_addresses_decoded() {
        // Holdtime 0 (goodbye), option 22 (bidir capable, empty), 65004 (Cisco RPF vector),
        // and an IPv6 address list with two entries.
        let body = hex("00010002 0000 00160000 fdec0002 abcd \
             00180024 0200 20010db8000000000000000000000001 0200 fe800000000000000000000000000002");
        let h = Hello::parse(&body).unwrap();
        assert_eq!(h.holdtime, Some(0));
        assert_eq!(
            h.unknown,
            vec![
                UnknownOption {
                    option_type: 22,
                    length: 0
                },
                UnknownOption {
                    option_type: 65004,
                    length: 2
                }
            ]
        );
        assert_eq!(h.addresses, vec![ip("2001:db8::1"), ip("fe80::2")]);
        // Address family 3 in the list.
        let bad = hex("00180006 0300 c6336401");
        assert_eq!(
            Hello::parse(&bad).unwrap_err(),
            PimError::AddressFamily {
                offset: 8,
                family: 3
            }
        );
    }

    #[test]
    fn join_prune_ipv4_with_flags() {
        // Upstream 192.0.2.2, 1 group, holdtime 210; group 232.5.5.5/32; 1 join (S=10.1.1.10,
        // flags S), 1 prune (*, W|R|S, RP 10.9.9.9).
        let msg = hex("23000000 0100c0000202 00 01 00d2 \
             0100 0020 e8050505 0001 0001 \
             0100 0420 0a01010a \
             0100 0720 0a090909");
        let p = PimPacket::new_checked(&msg[..]).unwrap();
        assert_eq!(p.msg_type(), PimType::JoinPrune);
        let jp = JoinPrune::parse(p.body()).unwrap();
        assert_eq!(jp.upstream_neighbor, ip("192.0.2.2"));
        assert_eq!(jp.holdtime, 210);
        assert_eq!(jp.groups.len(), 1);
        let g = &jp.groups[0];
        assert_eq!(
            g.group,
            EncodedGroup {
                group: ip("232.5.5.5"),
                mask_len: 32,
                bidir: false,
                zone: false
            }
        );
        assert_eq!(
            g.joins,
            vec![EncodedSource {
                source: ip("10.1.1.10"),
                mask_len: 32,
                sparse: true,
                wildcard: false,
                rpt: false
            }]
        );
        assert_eq!(
            g.prunes,
            vec![EncodedSource {
                source: ip("10.9.9.9"),
                mask_len: 32,
                sparse: true,
                wildcard: true,
                rpt: true
            }]
        );
    }

    #[test]
    fn join_prune_ipv6() {
        let msg = hex("0200 fe800000000000000000000000000001 00 01 00d2 \
             0200 0080 ff3e0000000000000000000000008001 0001 0000 \
             0200 0480 20010db8000000000000000000000010");
        let jp = JoinPrune::parse(&msg).unwrap();
        assert_eq!(jp.upstream_neighbor, ip("fe80::1"));
        assert_eq!(jp.groups[0].group.group, ip("ff3e::8001"));
        assert_eq!(jp.groups[0].group.mask_len, 128);
        assert_eq!(jp.groups[0].joins[0].source, ip("2001:db8::10"));
        assert!(jp.groups[0].prunes.is_empty());
    }

    #[test]
    fn join_prune_errors_name_the_offset() {
        // Claims 2 groups, carries 1.
        let two = hex("0100c0000202 00 02 00d2 0100 0020 e8050505 0000 0000");
        assert_eq!(
            JoinPrune::parse(&two).unwrap_err(),
            PimError::Truncated {
                what: "encoded group address",
                offset: 26,
                required: 4,
                available: 0
            }
        );
        let trailing = hex("0100c0000202 00 00 00d2 ff");
        assert_eq!(
            JoinPrune::parse(&trailing).unwrap_err(),
            PimError::TrailingBytes {
                offset: 14,
                count: 1
            }
        );
        let mask = hex("0100c0000202 00 01 00d2 0100 0021 e8050505 0000 0000");
        assert_eq!(
            JoinPrune::parse(&mask).unwrap_err(),
            PimError::MaskLength {
                offset: 14,
                mask_len: 33
            }
        );
        let enc = hex("0101c0000202 00 00 00d2");
        assert_eq!(
            JoinPrune::parse(&enc).unwrap_err(),
            PimError::EncodingType {
                offset: 4,
                encoding: 1
            }
        );
        // A count of 65535 sources with no bytes: an error, not a huge allocation.
        let many = hex("0100c0000202 00 01 00d2 0100 0020 e8050505 ffff 0000");
        assert!(matches!(
            JoinPrune::parse(&many),
            Err(PimError::Truncated { .. })
        ));
    }

    #[test]
    fn register_checksum_covers_the_header_only() {
        // Register header (8 bytes) + an inner packet that the checksum does not cover.
        let mut b = hex("21000000 00000000 4500001c");
        let c = crate::decode::checksum::internet_checksum(&b[..8]);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        let p = PimPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.msg_type().name(), "register");
        p.verify_checksum(ip("10.0.0.1"), ip("10.0.0.2")).unwrap();
    }

    #[test]
    fn type_names() {
        let names: Vec<_> = (0..13).map(|t| PimType::from_u8(t).name()).collect();
        assert_eq!(
            names,
            [
                "hello",
                "register",
                "register_stop",
                "join_prune",
                "bootstrap",
                "assert",
                "graft",
                "graft_ack",
                "c_rp_advertisement",
                "state_refresh",
                "df_election",
                "ecmp_redirect",
                "unknown"
            ]
        );
        assert_eq!(PimType::from_u8(12).code(), 12);
    }

    #[test]
    fn no_panic_on_truncation_or_noise() {
        let hello = hex(EX1_HELLO);
        let jp = hex("23000000 0100c0000202 00 01 00d2 0100 0020 e8050505 0001 0001 0100 0420 0a01010a 0100 0720 0a090909");
        let (s, d) = (ip("::ffff:192.0.2.1"), ip("ff02::d"));
        for msg in [&hello, &jp] {
            for n in 0..=msg.len() {
                if let Ok(p) = PimPacket::new_checked(&msg[..n]) {
                    let _ = p.verify_checksum(s, d);
                    let _ = Hello::parse(p.body());
                    let _ = JoinPrune::parse(p.body());
                }
            }
        }
        // xorshift noise: every length up to 96, every first byte.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 97) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|i| (x.rotate_left(i as u32 * 8) >> 56) as u8 ^ i as u8)
                .collect();
            let _ = Hello::parse(&buf);
            let _ = JoinPrune::parse(&buf);
            if let Ok(p) = PimPacket::new_checked(&buf[..]) {
                let _ = p.verify_checksum(s, d);
            }
        }
    }
}
