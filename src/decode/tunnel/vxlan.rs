//! VXLAN (RFC 7348 §5): an 8-byte header after UDP, then the inner Ethernet frame.
//!
//! ```text
//! |R|R|R|R|I|R|R|R|            Reserved                           |
//! |                VXLAN Network Identifier (VNI) |   Reserved    |
//! ```

use super::TunnelError;

/// IANA's VXLAN port (RFC 7348 §5: the destination port of every VXLAN packet).
pub const PORT: u16 = 4789;
pub const HEADER_LEN: usize = 8;
/// The I flag: the VNI is valid. RFC 7348 §5: it MUST be set.
const FLAG_I: u8 = 0x08;

/// A checked VXLAN header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vxlan {
    pub vni: u32,
}

/// Parses the header at the start of a UDP payload; the inner frame follows at [`HEADER_LEN`].
pub fn parse(data: &[u8]) -> Result<Vxlan, TunnelError> {
    let Some(h) = data.get(..HEADER_LEN) else {
        return Err(TunnelError::Truncated {
            required: HEADER_LEN,
            available: data.len(),
        });
    };
    if h[0] & FLAG_I == 0 {
        return Err(TunnelError::Malformed("VXLAN I flag clear (no valid VNI)"));
    }
    Ok(Vxlan {
        vni: u32::from_be_bytes([0, h[4], h[5], h[6]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_vni() {
        // RFC 7348 §5 layout; Wireshark's vxlan.vni of this header is 0x123456.
        let h = [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0x00, 0xaa];
        assert_eq!(parse(&h), Ok(Vxlan { vni: 0x123456 }));
        // Reserved bits are ignored on receipt.
        let h = [0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0xff];
        assert_eq!(parse(&h), Ok(Vxlan { vni: 1 }));
    }

    #[test]
    fn refuses_short_headers_and_a_clear_i_flag() {
        assert_eq!(
            parse(&[0x08, 0, 0]),
            Err(TunnelError::Truncated {
                required: 8,
                available: 3
            })
        );
        assert_eq!(
            parse(&[0, 0, 0, 0, 0, 0, 1, 0]),
            Err(TunnelError::Malformed("VXLAN I flag clear (no valid VNI)"))
        );
    }
}
