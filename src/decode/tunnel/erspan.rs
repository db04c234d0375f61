//! ERSPAN (draft-foschiano-erspan-03; Wireshark's packet-erspan.c): Cisco's remote SPAN, a
//! mirrored frame inside GRE.
//!
//! - Type I: GRE protocol 0x88BE without a sequence number; no ERSPAN header at all.
//! - Type II: GRE 0x88BE with a sequence number; 8 bytes, version 1:
//!   `Ver(4) VLAN(12) | COS(3) En(2) T(1) Session ID(10) | Reserved(12) Index(20)`.
//! - Type III: GRE 0x22EB; 12 bytes, version 2:
//!   `Ver(4) VLAN(12) | COS(3) BSO(2) T(1) Session ID(10) | Timestamp(32) |
//!   SGT(16) | P(1) FT(5) HW ID(6) D(1) Gra(2) O(1)`, then an 8-byte platform-specific
//!   subheader when O is set. Frame type (FT) 0 is Ethernet, 2 an IP packet.

use super::{Inner, TunnelError};

/// GRE protocol type of ERSPAN types I and II.
pub const GRE_PROTO_ERSPAN: u16 = 0x88BE;
/// GRE protocol type of ERSPAN type III.
pub const GRE_PROTO_ERSPAN_III: u16 = 0x22EB;

const TYPE_II_LEN: usize = 8;
const TYPE_III_LEN: usize = 12;
const PLATFORM_SUBHEADER_LEN: usize = 8;

/// A checked ERSPAN header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Erspan {
    /// 1, 2 or 3 (type I, II, III).
    pub erspan_type: u8,
    /// The SPAN session (10 bits); type I has none.
    pub session_id: Option<u16>,
    /// Where the mirrored frame starts.
    pub header_len: usize,
    pub inner: Inner,
}

/// Parses the ERSPAN header at the start of a GRE payload of protocol `gre_protocol` (0x88BE
/// or 0x22EB); `gre_has_sequence` tells type I (none) from type II.
pub fn parse(
    gre_protocol: u16,
    gre_has_sequence: bool,
    data: &[u8],
) -> Result<Erspan, TunnelError> {
    if gre_protocol == GRE_PROTO_ERSPAN && !gre_has_sequence {
        return Ok(Erspan {
            erspan_type: 1,
            session_id: None,
            header_len: 0,
            inner: Inner::Ethernet,
        });
    }
    let Some(word) = data.get(..4) else {
        let least = if gre_protocol == GRE_PROTO_ERSPAN_III {
            TYPE_III_LEN
        } else {
            TYPE_II_LEN
        };
        return Err(truncated(least, data.len()));
    };
    let session_id = Some(u16::from_be_bytes([word[2], word[3]]) & 0x03ff);
    // The version field decides, whichever of the two protocol types carried it (as Wireshark).
    match word[0] >> 4 {
        1 => {
            if data.len() < TYPE_II_LEN {
                return Err(truncated(TYPE_II_LEN, data.len()));
            }
            Ok(Erspan {
                erspan_type: 2,
                session_id,
                header_len: TYPE_II_LEN,
                inner: Inner::Ethernet,
            })
        }
        2 => {
            let Some(h) = data.get(..TYPE_III_LEN) else {
                return Err(truncated(TYPE_III_LEN, data.len()));
            };
            let last = u16::from_be_bytes([h[10], h[11]]);
            let frame_type = (last >> 10) & 0x1f;
            let inner = match frame_type {
                0 => Inner::Ethernet,
                2 => Inner::Ip,
                _ => {
                    return Err(TunnelError::Malformed(
                        "ERSPAN III frame type is neither Ethernet (0) nor IP (2)",
                    ))
                }
            };
            let header_len = if last & 1 != 0 {
                TYPE_III_LEN + PLATFORM_SUBHEADER_LEN
            } else {
                TYPE_III_LEN
            };
            if data.len() < header_len {
                return Err(truncated(header_len, data.len()));
            }
            Ok(Erspan {
                erspan_type: 3,
                session_id,
                header_len,
                inner,
            })
        }
        _ => Err(TunnelError::Malformed(
            "ERSPAN version is neither 1 (type II) nor 2 (type III)",
        )),
    }
}

fn truncated(required: usize, available: usize) -> TunnelError {
    TunnelError::Truncated {
        required,
        available,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_i_has_no_header() {
        let e = parse(GRE_PROTO_ERSPAN, false, &[0xff; 14]).unwrap();
        assert_eq!(
            e,
            Erspan {
                erspan_type: 1,
                session_id: None,
                header_len: 0,
                inner: Inner::Ethernet
            }
        );
    }

    #[test]
    fn type_ii_from_scapys_erspan_test_vector() {
        // scapy's ERSPAN II test: GRE 10 00 88 be 00 00 00 00, then this header and an
        // Ethernet frame to ff:ff:ff:ff:ff:ff.
        let h = [0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff];
        let e = parse(GRE_PROTO_ERSPAN, true, &h).unwrap();
        assert_eq!((e.erspan_type, e.session_id, e.header_len), (2, Some(0), 8));
        // VLAN 100, COS 5, session 0x3ff (all ten bits), index 7.
        let h = [0x10, 0x64, 0xa3, 0xff, 0x00, 0x00, 0x00, 0x07];
        let e = parse(GRE_PROTO_ERSPAN, true, &h).unwrap();
        assert_eq!(e.session_id, Some(0x3ff));
    }

    #[test]
    fn type_iii_with_and_without_the_platform_subheader() {
        let mut h = vec![0x20, 0x00, 0x00, 0x2a, 1, 2, 3, 4, 0, 0, 0x00, 0x00];
        let e = parse(GRE_PROTO_ERSPAN_III, true, &h).unwrap();
        assert_eq!(
            e,
            Erspan {
                erspan_type: 3,
                session_id: Some(42),
                header_len: 12,
                inner: Inner::Ethernet
            }
        );
        h[11] = 0x01; // O: platform-specific subheader follows
        assert_eq!(
            parse(GRE_PROTO_ERSPAN_III, true, &h),
            Err(TunnelError::Truncated {
                required: 20,
                available: 12
            })
        );
        h.extend_from_slice(&[0; 8]);
        assert_eq!(
            parse(GRE_PROTO_ERSPAN_III, false, &h).unwrap().header_len,
            20
        );
        h[10] = 0x08; // FT 2: an IP packet
        assert_eq!(
            parse(GRE_PROTO_ERSPAN_III, false, &h).unwrap().inner,
            Inner::Ip
        );
        h[10] = 0x04; // FT 1: reserved
        assert!(matches!(
            parse(GRE_PROTO_ERSPAN_III, false, &h),
            Err(TunnelError::Malformed(_))
        ));
    }

    #[test]
    fn refuses_unknown_versions_and_short_headers() {
        assert!(matches!(
            parse(GRE_PROTO_ERSPAN, true, &[0x30, 0, 0, 0, 0, 0, 0, 0]),
            Err(TunnelError::Malformed(_))
        ));
        assert_eq!(
            parse(GRE_PROTO_ERSPAN, true, &[0x10, 0, 0, 1, 0]),
            Err(TunnelError::Truncated {
                required: 8,
                available: 5
            })
        );
        assert_eq!(
            parse(GRE_PROTO_ERSPAN_III, true, &[0x20]),
            Err(TunnelError::Truncated {
                required: 12,
                available: 1
            })
        );
    }
}
