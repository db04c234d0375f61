//! GENEVE (RFC 8926 §3.4): an 8-byte header and variable options after UDP, then a payload of
//! the header's protocol type (Ethernet 0x6558, IPv4, IPv6).
//!
//! ```text
//! |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
//! |        Virtual Network Identifier (VNI)       |    Reserved   |
//! |                    Variable-Length Options                    |
//! ```

use super::{Inner, TunnelError, ETHERTYPE_TEB};

/// IANA's GENEVE port.
pub const PORT: u16 = 6081;
const BASE_LEN: usize = 8;

/// A checked GENEVE header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geneve {
    pub vni: u32,
    pub protocol: u16,
    /// Base header and options: where the payload starts.
    pub header_len: usize,
    /// The O bit: a control (OAM) packet.
    pub oam: bool,
}

impl Geneve {
    /// What the payload is: Ethernet, or a packet of the protocol type (IPv4, IPv6, or one
    /// the decoder reports as not IP).
    pub fn inner(&self) -> Inner {
        match self.protocol {
            ETHERTYPE_TEB => Inner::Ethernet,
            other => Inner::EtherType(other),
        }
    }
}

/// Parses the header at the start of a UDP payload; options are skipped by their total length
/// (Opt Len, in 4-byte words), not read.
pub fn parse(data: &[u8]) -> Result<Geneve, TunnelError> {
    let Some(h) = data.get(..BASE_LEN) else {
        return Err(TunnelError::Truncated {
            required: BASE_LEN,
            available: data.len(),
        });
    };
    // RFC 8926 §3.4: a packet of an unknown version MUST be dropped.
    if h[0] >> 6 != 0 {
        return Err(TunnelError::Malformed("GENEVE version is not 0"));
    }
    let header_len = BASE_LEN + 4 * usize::from(h[0] & 0x3f);
    if data.len() < header_len {
        return Err(TunnelError::Truncated {
            required: header_len,
            available: data.len(),
        });
    }
    Ok(Geneve {
        vni: u32::from_be_bytes([0, h[4], h[5], h[6]]),
        protocol: u16::from_be_bytes([h[2], h[3]]),
        header_len,
        oam: h[1] & 0x80 != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_options_by_their_length() {
        // One 8-byte option (class 0x0103, type 0x80, length 1 word): Opt Len 2.
        let h = [
            0x02, 0x00, 0x65, 0x58, 0x00, 0x0c, 0x35, 0x00, 0x01, 0x03, 0x80, 0x01, 0xde, 0xad,
            0xbe, 0xef, 0xee,
        ];
        let g = parse(&h).unwrap();
        assert_eq!(
            g,
            Geneve {
                vni: 0xc35,
                protocol: 0x6558,
                header_len: 16,
                oam: false
            }
        );
        assert_eq!(g.inner(), Inner::Ethernet);
    }

    #[test]
    fn carries_ip_directly_and_flags_oam() {
        let g = parse(&[0x00, 0x80, 0x08, 0x00, 0, 0, 7, 0]).unwrap();
        assert_eq!((g.vni, g.oam, g.header_len), (7, true, 8));
        assert_eq!(g.inner(), Inner::EtherType(0x0800));
        let g = parse(&[0x00, 0x00, 0x86, 0xdd, 0, 0, 7, 0]).unwrap();
        assert_eq!(g.inner(), Inner::EtherType(0x86dd));
        let g = parse(&[0x00, 0x00, 0x88, 0x47, 0, 0, 7, 0]).unwrap();
        assert_eq!(g.inner(), Inner::EtherType(0x8847), "MPLS: not IP");
    }

    #[test]
    fn refuses_other_versions_and_options_past_the_end() {
        assert_eq!(
            parse(&[0x40, 0, 0x65, 0x58, 0, 0, 1, 0]),
            Err(TunnelError::Malformed("GENEVE version is not 0"))
        );
        assert_eq!(
            parse(&[0x3f, 0, 0x65, 0x58, 0, 0, 1, 0]),
            Err(TunnelError::Truncated {
                required: 8 + 252,
                available: 8
            })
        );
        assert_eq!(
            parse(&[0, 0]),
            Err(TunnelError::Truncated {
                required: 8,
                available: 2
            })
        );
    }
}
