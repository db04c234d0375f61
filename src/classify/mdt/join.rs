//! Data-MDT Join / S-PMSI Join TLVs, the payload of UDP port 3232 (RFC 6037 §7, RFC 6513
//! §7.4.2.2, RFC 6516 §3): a checked iterator over the TLVs of one datagram.
//!
//! ```text
//! | Type (8) | Length (16)               | Reserved (8) |
//! | Value: C-source, C-group, P-group ...               |
//! ```
//! Length counts the whole TLV, Type and Length included. Type 1 = IPv4 C-flow (16 bytes),
//! type 4 = IPv6 C-flow with an IPv4 P-group (40 bytes). A datagram may carry several TLVs; the
//! last one must end exactly where the datagram ends (RFC 6037 §7.4, RFC 6516 §3.2).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The IANA "MDT port" (RFC 6513 §14).
pub const MDT_PORT: u16 = 3232;
pub const TYPE_IPV4: u8 = 1;
pub const TYPE_IPV6: u8 = 4;
pub const LEN_IPV4: u16 = 16;
pub const LEN_IPV6: u16 = 40;
const TL_LEN: usize = 4;

/// One TLV. Unknown types are kept with their value, not dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinTlv<'a> {
    /// Type 1 (RFC 6037 §7.2, RFC 6513 §7.4.2.2).
    V4 {
        c_source: Ipv4Addr,
        c_group: Ipv4Addr,
        p_group: Ipv4Addr,
    },
    /// Type 4 (RFC 6516 §3.1, RFC 6037 §7.3): IPv6 C-flow, IPv4 P-group.
    V6 {
        c_source: Ipv6Addr,
        c_group: Ipv6Addr,
        p_group: Ipv4Addr,
    },
    /// Any other type: the bytes after Type, Length and Reserved.
    Unknown {
        tlv_type: u8,
        length: u16,
        value: &'a [u8],
    },
}

impl JoinTlv<'_> {
    pub fn tlv_type(&self) -> u8 {
        match self {
            JoinTlv::V4 { .. } => TYPE_IPV4,
            JoinTlv::V6 { .. } => TYPE_IPV6,
            JoinTlv::Unknown { tlv_type, .. } => *tlv_type,
        }
    }
}

/// Why a datagram is not a well-formed sequence of Join TLVs. Offsets count from the start of
/// the UDP payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// No bytes at all.
    Empty,
    /// Fewer than 4 bytes left where a TLV starts (RFC 6037 §7.4: the last TLV ends the datagram).
    Truncated { offset: usize, available: usize },
    /// A Length below 4 cannot even cover Type and Length.
    LengthTooShort { offset: usize, length: u16 },
    /// The Length runs past the end of the datagram.
    PastEnd {
        offset: usize,
        length: u16,
        available: usize,
    },
    /// A known type with the wrong Length (type 1 must be 16, type 4 must be 40).
    BadLength {
        offset: usize,
        tlv_type: u8,
        length: u16,
        expected: u16,
    },
}

impl JoinError {
    /// A short stable name for counters: `mdt.join_<reason>`.
    pub fn reason(&self) -> &'static str {
        match self {
            JoinError::Empty => "empty",
            JoinError::Truncated { .. } => "truncated",
            JoinError::LengthTooShort { .. } => "length_too_short",
            JoinError::PastEnd { .. } => "past_end",
            JoinError::BadLength { .. } => "bad_length",
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            JoinError::Empty => write!(f, "empty datagram, no MDT Join TLV"),
            JoinError::Truncated { offset, available } => {
                write!(
                    f,
                    "MDT Join TLV at offset {offset}: {available} bytes left, a TLV needs 4"
                )
            }
            JoinError::LengthTooShort { offset, length } => {
                write!(
                    f,
                    "MDT Join TLV at offset {offset}: length {length} is below 4"
                )
            }
            JoinError::PastEnd {
                offset,
                length,
                available,
            } => write!(
                f,
                "MDT Join TLV at offset {offset}: length {length} runs past the end \
                 ({available} bytes left)"
            ),
            JoinError::BadLength {
                offset,
                tlv_type,
                length,
                expected,
            } => write!(
                f,
                "MDT Join TLV type {tlv_type} at offset {offset}: length {length}, expected \
                 {expected}"
            ),
        }
    }
}

impl std::error::Error for JoinError {}

/// The TLVs of one datagram, in order; yields the first error and stops.
#[derive(Clone, Debug)]
pub struct JoinTlvs<'a> {
    data: &'a [u8],
    at: usize,
    failed: bool,
}

/// Iterates the TLVs of a UDP 3232 payload.
pub fn join_tlvs(payload: &[u8]) -> JoinTlvs<'_> {
    JoinTlvs {
        data: payload,
        at: 0,
        failed: false,
    }
}

fn v4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

fn v6(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    Ipv6Addr::from(o)
}

impl<'a> JoinTlvs<'a> {
    fn fail(&mut self, e: JoinError) -> Option<Result<JoinTlv<'a>, JoinError>> {
        self.failed = true;
        Some(Err(e))
    }
}

impl<'a> Iterator for JoinTlvs<'a> {
    type Item = Result<JoinTlv<'a>, JoinError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let offset = self.at;
        let left = self.data.len() - offset;
        if left == 0 {
            if offset == 0 {
                return self.fail(JoinError::Empty);
            }
            return None;
        }
        if left < TL_LEN {
            return self.fail(JoinError::Truncated {
                offset,
                available: left,
            });
        }
        let t = &self.data[offset..];
        let tlv_type = t[0];
        let length = u16::from_be_bytes([t[1], t[2]]);
        if usize::from(length) < TL_LEN {
            return self.fail(JoinError::LengthTooShort { offset, length });
        }
        if usize::from(length) > left {
            return self.fail(JoinError::PastEnd {
                offset,
                length,
                available: left,
            });
        }
        let expected = match tlv_type {
            TYPE_IPV4 => Some(LEN_IPV4),
            TYPE_IPV6 => Some(LEN_IPV6),
            _ => None,
        };
        if let Some(expected) = expected.filter(|&e| e != length) {
            return self.fail(JoinError::BadLength {
                offset,
                tlv_type,
                length,
                expected,
            });
        }
        let tlv = &t[..usize::from(length)];
        self.at += tlv.len();
        Some(Ok(match tlv_type {
            TYPE_IPV4 => JoinTlv::V4 {
                c_source: v4(&tlv[4..]),
                c_group: v4(&tlv[8..]),
                p_group: v4(&tlv[12..]),
            },
            TYPE_IPV6 => JoinTlv::V6 {
                c_source: v6(&tlv[4..]),
                c_group: v6(&tlv[20..]),
                p_group: v4(&tlv[36..]),
            },
            _ => JoinTlv::Unknown {
                tlv_type,
                length,
                value: &tlv[TL_LEN..],
            },
        }))
    }
}

/// Checks a whole datagram first (all-or-nothing), then returns its TLVs and whether they mix
/// types, which RFC 6037 §7.4 and RFC 6516 §3.2 forbid ("they MUST be of the same type").
pub fn parse_joins(payload: &[u8]) -> Result<(Vec<JoinTlv<'_>>, bool), JoinError> {
    let tlvs = join_tlvs(payload).collect::<Result<Vec<_>, _>>()?;
    let mixed = tlvs.windows(2).any(|w| w[0].tlv_type() != w[1].tlv_type());
    Ok((tlvs, mixed))
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

    /// mdt.md §5 Ex. 2/3: Type 1, Length 16, C-source 10.1.1.10, C-group 232.5.5.5,
    /// P-group 239.1.2.0.
    const EX2_JOIN: &str = "01 0010 00 0a01010a e8050505 ef010200";

    fn ex2() -> JoinTlv<'static> {
        JoinTlv::V4 {
            c_source: Ipv4Addr::new(10, 1, 1, 10),
            c_group: Ipv4Addr::new(232, 5, 5, 5),
            p_group: Ipv4Addr::new(239, 1, 2, 0),
        }
    }

    #[test]
    fn type_1_from_mdt_example_2() {
        let b = hex(EX2_JOIN);
        assert_eq!(parse_joins(&b).unwrap(), (vec![ex2()], false));
    }

    #[test]
    fn type_1_inside_the_bare_example_3_frame() {
        // mdt.md §5 Ex. 3, the whole 58-byte frame; UDP payload at 14 + 20 + 8.
        let frame = hex(
            "01005e00000d00005e00530108004500002c00030000011117b0c0000201e000000d0ca00ca000184a57\
             010010000a01010ae8050505ef010200",
        );
        assert_eq!(frame.len(), 58);
        assert_eq!(parse_joins(&frame[42..]).unwrap().0, vec![ex2()]);
    }

    #[test]
    fn type_4_ipv6_c_flow() {
        // RFC 6516 §3.1: Type 4, Length 40, C-source 2001:db8::10, C-group ff3e::8001,
        // P-group 239.1.2.9.
        let b = hex(
            "04 0028 00 20010db8000000000000000000000010 ff3e0000000000000000000000008001 ef010209",
        );
        let (tlvs, mixed) = parse_joins(&b).unwrap();
        assert!(!mixed);
        assert_eq!(
            tlvs,
            vec![JoinTlv::V6 {
                c_source: "2001:db8::10".parse().unwrap(),
                c_group: "ff3e::8001".parse().unwrap(),
                p_group: Ipv4Addr::new(239, 1, 2, 9),
            }]
        );
    }

    #[test]
    fn several_tlvs_and_unknown_types() {
        let b = hex(&format!("{EX2_JOIN} {EX2_JOIN} 07 0006 00 abcd"));
        let (tlvs, mixed) = parse_joins(&b).unwrap();
        assert!(mixed);
        assert_eq!(tlvs[..2], [ex2(), ex2()]);
        assert_eq!(
            tlvs[2],
            JoinTlv::Unknown {
                tlv_type: 7,
                length: 6,
                value: &[0xab, 0xcd]
            }
        );
        // An unknown type of the minimum length 4 has an empty value.
        assert_eq!(
            parse_joins(&hex("09 0004 00")).unwrap().0,
            vec![JoinTlv::Unknown {
                tlv_type: 9,
                length: 4,
                value: &[]
            }]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(parse_joins(&[]).unwrap_err(), JoinError::Empty);
        assert_eq!(
            parse_joins(&hex("01 0003 00")).unwrap_err(),
            JoinError::LengthTooShort {
                offset: 0,
                length: 3
            }
        );
        assert_eq!(
            parse_joins(&hex("01 0010 00 0a01010a")).unwrap_err(),
            JoinError::PastEnd {
                offset: 0,
                length: 16,
                available: 8
            }
        );
        assert_eq!(
            parse_joins(&hex("01 0014 00 0a01010a e8050505 ef010200 00000000")).unwrap_err(),
            JoinError::BadLength {
                offset: 0,
                tlv_type: 1,
                length: 20,
                expected: 16
            }
        );
        // Trailing bytes after a good TLV: the datagram must end with the last TLV.
        assert_eq!(
            parse_joins(&hex(&format!("{EX2_JOIN} 0100"))).unwrap_err(),
            JoinError::Truncated {
                offset: 16,
                available: 2
            }
        );
        assert_eq!(
            parse_joins(&hex("04 0010 00 0a01010a e8050505 ef010200")).unwrap_err(),
            JoinError::BadLength {
                offset: 0,
                tlv_type: 4,
                length: 16,
                expected: 40
            }
        );
        // Length 0 does not loop forever.
        assert_eq!(
            parse_joins(&hex("07 0000 00")).unwrap_err(),
            JoinError::LengthTooShort {
                offset: 0,
                length: 0
            }
        );
        assert_eq!(
            JoinError::PastEnd {
                offset: 0,
                length: 16,
                available: 8
            }
            .to_string(),
            "MDT Join TLV at offset 0: length 16 runs past the end (8 bytes left)"
        );
    }

    #[test]
    fn the_iterator_yields_good_tlvs_before_the_error() {
        let b = hex(&format!("{EX2_JOIN} 01 0003 00"));
        let items: Vec<_> = join_tlvs(&b).collect();
        assert_eq!(
            items,
            vec![
                Ok(ex2()),
                Err(JoinError::LengthTooShort {
                    offset: 16,
                    length: 3
                })
            ]
        );
    }

    #[test]
    fn no_panic_on_truncation_or_noise() {
        let two = hex(&format!("{EX2_JOIN} 04 0028 00 {}", "00".repeat(36)));
        for n in 0..=two.len() {
            let _ = parse_joins(&two[..n]);
        }
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 65) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|i| (x.rotate_left(i as u32 * 8) >> 56) as u8 ^ i as u8)
                .collect();
            if let Ok((tlvs, _)) = parse_joins(&buf) {
                let total: usize = tlvs.len();
                assert!(total <= len / 4);
            }
        }
    }
}
