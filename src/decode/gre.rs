//! GRE (RFC 2784, with the key and sequence options of RFC 2890): a zero-copy view. PPTP's
//! enhanced GRE (version 1, RFC 2637 §4.1) is recognised too, so it is counted, not an error.
//!
//! ```text
//! |C| |K|S| Reserved0 | Ver |  Protocol Type  |
//! |  Checksum (if C)  |  Reserved1 (if C)     |
//! |              Key (if K)                   |
//! |       Sequence Number (if S)              |
//! ```

use super::checksum::internet_checksum;

const FLAG_C: u16 = 0x8000;
/// RFC 1701 routing-present bit. RFC 2784 §2.3: a receiver that does not implement RFC 1701
/// MUST discard a packet with any of bits 1–5 set, except K and S, which RFC 2890 defines.
const FLAG_R: u16 = 0x4000;
const FLAG_K: u16 = 0x2000;
const FLAG_S: u16 = 0x1000;
const FLAG_STRICT_ROUTE: u16 = 0x0800;
const RECURSION_MSB: u16 = 0x0400;
const VERSION_MASK: u16 = 0x0007;
/// RFC 2637 §4.1: the acknowledgment number is present (enhanced GRE only).
const FLAG_ACK: u16 = 0x0080;
/// PPP, the only payload of PPTP's enhanced GRE.
pub const PROTO_PPP: u16 = 0x880B;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GreError {
    #[error("GRE header needs {required} bytes, {available} captured")]
    Truncated { required: usize, available: usize },
    #[error("GRE version {0} (only version 0 is GRE; 1 is PPTP's enhanced GRE)")]
    Version(u8),
    #[error("GRE flags 0x{0:04x} set bits RFC 2784 requires a receiver to discard")]
    ReservedBits(u16),
}

/// A checked view of a GRE header and its payload; accessors cannot panic.
#[derive(Clone, Copy, Debug)]
pub struct GreSlice<'a> {
    packet: &'a [u8],
    header_len: usize,
}

impl<'a> GreSlice<'a> {
    pub fn from_slice(packet: &'a [u8]) -> Result<Self, GreError> {
        if packet.len() < 4 {
            return Err(GreError::Truncated {
                required: 4,
                available: packet.len(),
            });
        }
        let flags = u16::from_be_bytes([packet[0], packet[1]]);
        let version = (flags & VERSION_MASK) as u8;
        if version == 1 {
            return Self::enhanced(packet, flags);
        }
        if version != 0 {
            return Err(GreError::Version(version));
        }
        let forbidden = flags & (FLAG_R | FLAG_STRICT_ROUTE | RECURSION_MSB);
        if forbidden != 0 {
            return Err(GreError::ReservedBits(flags));
        }
        let options = [FLAG_C, FLAG_K, FLAG_S]
            .iter()
            .filter(|&&f| flags & f != 0)
            .count();
        let header_len = 4 + 4 * options;
        if packet.len() < header_len {
            return Err(GreError::Truncated {
                required: header_len,
                available: packet.len(),
            });
        }
        Ok(GreSlice { packet, header_len })
    }

    /// RFC 2637 §4.1: version 1 with the key present (payload length and call id), no
    /// checksum, routing, strict route or recursion, and protocol PPP. Anything else claiming
    /// version 1 stays a version error.
    fn enhanced(packet: &'a [u8], flags: u16) -> Result<Self, GreError> {
        let protocol = u16::from_be_bytes([packet[2], packet[3]]);
        let not_enhanced = FLAG_C | FLAG_R | FLAG_STRICT_ROUTE | RECURSION_MSB | 0x0300;
        if flags & FLAG_K == 0 || flags & not_enhanced != 0 || protocol != PROTO_PPP {
            return Err(GreError::Version(1));
        }
        let options = [FLAG_S, FLAG_ACK]
            .iter()
            .filter(|&&f| flags & f != 0)
            .count();
        let header_len = 8 + 4 * options;
        if packet.len() < header_len {
            return Err(GreError::Truncated {
                required: header_len,
                available: packet.len(),
            });
        }
        Ok(GreSlice { packet, header_len })
    }

    /// 0 for GRE, 1 for PPTP's enhanced GRE.
    pub fn version(&self) -> u8 {
        (self.flags() & VERSION_MASK) as u8
    }

    /// PPTP's call id (the low half of the key field), for enhanced GRE.
    pub fn pptp_call_id(&self) -> Option<u16> {
        (self.version() == 1)
            .then(|| self.key())
            .flatten()
            .map(|k| k as u16)
    }

    fn flags(&self) -> u16 {
        u16::from_be_bytes([self.packet[0], self.packet[1]])
    }

    pub fn protocol_type(&self) -> u16 {
        u16::from_be_bytes([self.packet[2], self.packet[3]])
    }

    pub fn header_len(&self) -> usize {
        self.header_len
    }

    pub fn has_checksum(&self) -> bool {
        self.flags() & FLAG_C != 0
    }

    pub fn checksum(&self) -> Option<u16> {
        self.has_checksum()
            .then(|| u16::from_be_bytes([self.packet[4], self.packet[5]]))
    }

    fn option_word(&self, flag: u16) -> Option<u32> {
        if self.flags() & flag == 0 {
            return None;
        }
        // Options come in the order C, K, S; each one present before `flag` shifts it by 4.
        let before = [FLAG_C, FLAG_K]
            .iter()
            .filter(|&&f| f > flag && self.flags() & f != 0)
            .count();
        let at = 4 + 4 * before;
        let b = &self.packet[at..at + 4];
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn key(&self) -> Option<u32> {
        self.option_word(FLAG_K)
    }

    pub fn sequence(&self) -> Option<u32> {
        self.option_word(FLAG_S)
    }

    pub fn payload(&self) -> &'a [u8] {
        &self.packet[self.header_len..]
    }

    /// `None` when no checksum is present; otherwise whether it verifies over header and
    /// payload (RFC 2784 §2.5). A payload cut short by the snap length cannot verify.
    pub fn checksum_valid(&self) -> Option<bool> {
        self.has_checksum()
            .then(|| internet_checksum(self.packet) == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn plain_gre_from_mdt_example_1() {
        // mdt.md §5 Ex. 1: GRE header of the default-MDT hello, then the inner IPv4 header.
        let pkt = hex("000008004500004000010000");
        let g = GreSlice::from_slice(&pkt).unwrap();
        assert_eq!(g.protocol_type(), 0x0800);
        assert_eq!(
            (g.header_len(), g.key(), g.sequence(), g.checksum()),
            (4, None, None, None)
        );
        assert_eq!(g.checksum_valid(), None);
        assert_eq!(g.payload()[0], 0x45);
    }

    #[test]
    fn checksum_key_and_sequence_from_mdt_example_4() {
        // mdt.md §5 Ex. 4: flags C|K|S, checksum 4794, key 100, sequence 7, then the
        // 64-byte inner IPv4/PIM hello of Ex. 1 (outer frame bytes 14+20 onwards).
        let inner = hex("450000400001000001671748c0000201e000000d200051da0001000200690002000401f409c40013000400000001001400041a2b3c4d001800060100c6336401");
        let mut pkt = hex("b0000800479400000000006400000007");
        pkt.extend_from_slice(&inner);
        let g = GreSlice::from_slice(&pkt).unwrap();
        assert_eq!(g.header_len(), 16);
        assert_eq!(g.checksum(), Some(0x4794));
        assert_eq!(g.key(), Some(100));
        assert_eq!(g.sequence(), Some(7));
        assert_eq!(g.checksum_valid(), Some(true));
        assert_eq!(g.payload(), &inner[..]);
        pkt[20] ^= 0xff;
        assert_eq!(
            GreSlice::from_slice(&pkt).unwrap().checksum_valid(),
            Some(false)
        );
    }

    #[test]
    fn key_alone_and_sequence_alone() {
        let k = hex("20000800deadbeef");
        assert_eq!(GreSlice::from_slice(&k).unwrap().key(), Some(0xdeadbeef));
        let s = hex("1000080000000009");
        let g = GreSlice::from_slice(&s).unwrap();
        assert_eq!((g.key(), g.sequence()), (None, Some(9)));
    }

    #[test]
    fn pptp_enhanced_gre_is_recognised() {
        // RFC 2637 §4.1: K, S and A set, version 1, PPP; payload length 4, call id 0x1c2d,
        // sequence 5, acknowledgment 3, then 4 bytes of PPP.
        let pkt = hex("3081880b00041c2d0000000500000003ff030021");
        let g = GreSlice::from_slice(&pkt).unwrap();
        assert_eq!(
            (g.version(), g.protocol_type(), g.header_len()),
            (1, 0x880B, 16)
        );
        assert_eq!((g.pptp_call_id(), g.sequence()), (Some(0x1c2d), Some(5)));
        assert_eq!(g.payload(), &hex("ff030021")[..]);
        // An acknowledgment alone (no payload) is 12 bytes.
        let ack_only = hex("2081880b00001c2d00000003");
        let ack = GreSlice::from_slice(&ack_only).unwrap();
        assert_eq!((ack.header_len(), ack.sequence()), (12, None));
        // Version 1 without the key, or carrying IP, is no PPTP: a version error as before.
        assert_eq!(
            GreSlice::from_slice(&hex("0001880b")).unwrap_err(),
            GreError::Version(1)
        );
        assert_eq!(
            GreSlice::from_slice(&hex("2001080000041c2d")).unwrap_err(),
            GreError::Version(1)
        );
        assert_eq!(
            GreSlice::from_slice(&hex("3081880b00041c2d00000005")).unwrap_err(),
            GreError::Truncated {
                required: 16,
                available: 12
            }
        );
    }

    #[test]
    fn rejects_what_rfc2784_says_to_discard() {
        assert_eq!(
            GreSlice::from_slice(&hex("0001880b")).unwrap_err(),
            GreError::Version(1)
        );
        assert_eq!(
            GreSlice::from_slice(&hex("40000800")).unwrap_err(),
            GreError::ReservedBits(0x4000)
        );
        assert_eq!(
            GreSlice::from_slice(&hex("0000")).unwrap_err(),
            GreError::Truncated {
                required: 4,
                available: 2
            }
        );
        assert_eq!(
            GreSlice::from_slice(&hex("b0000800aaaa")).unwrap_err(),
            GreError::Truncated {
                required: 16,
                available: 6
            }
        );
        // Bits 6-12 are reserved but ignored on receipt.
        assert!(GreSlice::from_slice(&hex("00f80800")).is_ok());
    }
}
