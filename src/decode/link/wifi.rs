//! IEEE 802.11 (LINKTYPE_IEEE802_11 105), bare or behind a radiotap (127) or PPI (192) header:
//! data frames (QoS data and 4-address WDS frames included) whose LLC/SNAP header names an
//! EtherType. Encrypted, management, control and empty data frames are well formed but carry
//! nothing we read: they are [`Skip`]s, counted by kind. The radiotap and PPI headers give
//! their own length; radiotap's flags (and PPI's 802.11-Common flags) say whether a 4-byte FCS
//! ends the frame (trimmed) and whether the 802.11 header is padded to 32 bits.

use super::{ethernet, LinkInfo, Skip};
use crate::decode::{DecodeError, Layer};

const TYPE_MANAGEMENT: u8 = 0;
const TYPE_CONTROL: u8 = 1;
const TYPE_DATA: u8 = 2;
const FC_TO_DS: u8 = 0x01;
const FC_FROM_DS: u8 = 0x02;
const FC_PROTECTED: u8 = 0x40;
/// With QoS, an HT/VHT Control field follows the QoS Control field.
const FC_ORDER: u8 = 0x80;
/// Data subtypes with this bit carry no body (Null, CF-Ack/Poll without data, QoS Null).
const SUBTYPE_NO_DATA: u8 = 0x4;
const SUBTYPE_QOS: u8 = 0x8;
const QOS_AMSDU: u8 = 0x80;
/// RFC 1042 SNAP (OUI 00-00-00) and 802.1H bridge tunnel (OUI 00-00-F8).
const SNAP_RFC1042: [u8; 6] = [0xAA, 0xAA, 0x03, 0x00, 0x00, 0x00];
const SNAP_BRIDGE_TUNNEL: [u8; 6] = [0xAA, 0xAA, 0x03, 0x00, 0x00, 0xF8];

const RADIOTAP_PRESENT_TSFT: u32 = 1 << 0;
const RADIOTAP_PRESENT_FLAGS: u32 = 1 << 1;
const RADIOTAP_PRESENT_EXT: u32 = 1 << 31;
const RADIOTAP_FLAG_FCS: u8 = 0x10;
const RADIOTAP_FLAG_DATA_PAD: u8 = 0x20;
const RADIOTAP_FLAG_BAD_FCS: u8 = 0x40;

const PPI_FIELD_80211_COMMON: u16 = 2;
const PPI_COMMON_FCS: u16 = 0x0001;
const PPI_COMMON_DATA_PAD: u16 = 0x0002;
const PPI_COMMON_BAD_FCS: u16 = 0x0004;
const DLT_EN10MB: u32 = 1;
const DLT_IEEE802_11: u32 = 105;

/// What the capture header says about the 802.11 frame after it.
#[derive(Clone, Copy, Debug, Default)]
struct FrameOptions {
    /// A 4-byte FCS ends the frame.
    fcs: bool,
    /// The 802.11 header is padded to a multiple of 4 bytes.
    data_pad: bool,
}

/// LINKTYPE_IEEE802_11: the 802.11 header first, no FCS.
pub(super) fn bare(frame: &[u8]) -> Result<LinkInfo, DecodeError> {
    ieee80211(frame, 0, FrameOptions::default())
}

/// LINKTYPE_IEEE802_11_RADIOTAP: version(1) pad(1) length(2, LE) present(4, LE)…, fields.
pub(super) fn radiotap(frame: &[u8]) -> Result<LinkInfo, DecodeError> {
    let len = header_len(
        frame,
        "radiotap version is not 0",
        "radiotap length below 8",
    )?;
    let present = le32(frame, 4);
    // Further presence words follow while bit 31 is set; the fields start after the last.
    let mut fields = 8;
    let mut word = present;
    while word & RADIOTAP_PRESENT_EXT != 0 {
        if fields + 4 > len {
            return Err(malformed(4, "radiotap presence words run past its length"));
        }
        word = le32(frame, fields);
        fields += 4;
    }
    let mut flags = 0;
    if present & RADIOTAP_PRESENT_FLAGS != 0 {
        // Only TSFT (8 bytes, 8-aligned from the header's start) comes before the flags.
        let at = if present & RADIOTAP_PRESENT_TSFT != 0 {
            fields.next_multiple_of(8) + 8
        } else {
            fields
        };
        flags = *frame[..len]
            .get(at)
            .ok_or(malformed(at, "radiotap flags lie past its length"))?;
    }
    if flags & RADIOTAP_FLAG_BAD_FCS != 0 {
        return Ok(LinkInfo::skipped(Skip::WifiOther));
    }
    let options = FrameOptions {
        fcs: flags & RADIOTAP_FLAG_FCS != 0,
        data_pad: flags & RADIOTAP_FLAG_DATA_PAD != 0,
    };
    ieee80211(frame, len, options)
}

/// LINKTYPE_PPI: version(1) flags(1) length(2, LE) DLT(4, LE), then fields of type(2) length(2).
pub(super) fn ppi(frame: &[u8]) -> Result<LinkInfo, DecodeError> {
    let len = header_len(frame, "PPI version is not 0", "PPI length below 8")?;
    let mut options = FrameOptions::default();
    let mut at = 8;
    while at + 4 <= len {
        let (kind, field_len) = (le16(frame, at), usize::from(le16(frame, at + 2)));
        let value = at + 4..at + 4 + field_len;
        if value.end > len {
            return Err(malformed(at, "PPI field runs past the PPI header"));
        }
        // 802.11-Common: TSF timer(8), then its flags.
        if kind == PPI_FIELD_80211_COMMON && field_len >= 10 {
            let flags = le16(frame, value.start + 8);
            if flags & PPI_COMMON_BAD_FCS != 0 {
                return Ok(LinkInfo::skipped(Skip::WifiOther));
            }
            options.fcs = flags & PPI_COMMON_FCS != 0;
            options.data_pad = flags & PPI_COMMON_DATA_PAD != 0;
        }
        at = value.end;
    }
    match le32(frame, 4) {
        DLT_IEEE802_11 => ieee80211(frame, len, options),
        DLT_EN10MB => {
            let inner = ethernet(&frame[len..]).map_err(|e| e.shifted(len))?;
            Ok(LinkInfo {
                offset: inner.offset + len,
                ..inner
            })
        }
        _ => Ok(LinkInfo::skipped(Skip::UnsupportedProtocol)),
    }
}

/// The length of a radiotap or PPI header: both start with version 0, a pad or flags byte and
/// their own length (16 bits, little-endian, at least the 8 bytes of the fixed part).
fn header_len(
    frame: &[u8],
    bad_version: &'static str,
    too_short: &'static str,
) -> Result<usize, DecodeError> {
    if frame.len() < 8 {
        return Err(DecodeError::truncated(Layer::Link, 0, 8, frame.len()));
    }
    if frame[0] != 0 {
        return Err(malformed(0, bad_version));
    }
    let len = usize::from(le16(frame, 2));
    if len < 8 {
        return Err(malformed(0, too_short));
    }
    if len > frame.len() {
        return Err(DecodeError::truncated(Layer::Link, 0, len, frame.len()));
    }
    Ok(len)
}

/// The 802.11 frame at `start`.
fn ieee80211(frame: &[u8], start: usize, options: FrameOptions) -> Result<LinkInfo, DecodeError> {
    let trailer = if options.fcs && frame.len() >= start + 4 {
        4
    } else {
        0
    };
    let h = &frame[start..frame.len() - trailer];
    if h.len() < 2 {
        return Err(DecodeError::truncated(Layer::Link, start, 2, h.len()));
    }
    let (fc0, flags) = (h[0], h[1]);
    let subtype = fc0 >> 4;
    match (fc0 >> 2) & 0x3 {
        TYPE_MANAGEMENT => return Ok(LinkInfo::skipped(Skip::WifiManagement)),
        TYPE_CONTROL => return Ok(LinkInfo::skipped(Skip::WifiControl)),
        TYPE_DATA => {}
        _ => return Ok(LinkInfo::skipped(Skip::WifiOther)),
    }
    if subtype & SUBTYPE_NO_DATA != 0 {
        return Ok(LinkInfo::skipped(Skip::WifiNoData));
    }
    let four_address = flags & (FC_TO_DS | FC_FROM_DS) == FC_TO_DS | FC_FROM_DS;
    let qos = subtype & SUBTYPE_QOS != 0;
    let qos_at = if four_address { 30 } else { 24 };
    let mut len = qos_at;
    if qos {
        len += 2;
        if flags & FC_ORDER != 0 {
            len += 4;
        }
    }
    if h.len() < len {
        return Err(DecodeError::truncated(Layer::Link, start, len, h.len()));
    }
    if flags & FC_PROTECTED != 0 {
        return Ok(LinkInfo::skipped(Skip::WifiEncrypted));
    }
    // Fragment number: only the first fragment starts with the LLC header.
    if le16(h, 22) & 0x000F != 0 {
        return Ok(LinkInfo::skipped(Skip::WifiFragment));
    }
    if qos && h[qos_at] & QOS_AMSDU != 0 {
        return Ok(LinkInfo::skipped(Skip::WifiOther));
    }
    if options.data_pad {
        len = len.next_multiple_of(4);
    }
    let address =
        |at: usize| -> [u8; 6] { [h[at], h[at + 1], h[at + 2], h[at + 3], h[at + 4], h[at + 5]] };
    // Address 1 is the receiver, 2 the transmitter; the DS bits say where source and
    // destination are.
    let (dst, src) = match flags & (FC_TO_DS | FC_FROM_DS) {
        0 => (address(4), address(10)),
        FC_TO_DS => (address(16), address(10)),
        FC_FROM_DS => (address(4), address(16)),
        _ => (address(16), address(24)),
    };
    let llc = h.get(len..len + 8).ok_or(DecodeError::truncated(
        Layer::Link,
        start + len,
        8,
        h.len().saturating_sub(len),
    ))?;
    // Any other LLC (STP, IPX, NetBIOS…) is not IP: EtherType 0.
    let ethertype = if llc[..6] == SNAP_RFC1042 || llc[..6] == SNAP_BRIDGE_TUNNEL {
        u16::from_be_bytes([llc[6], llc[7]])
    } else {
        0
    };
    Ok(LinkInfo {
        ethertype,
        offset: start + len + 8,
        src_mac: Some(src),
        dst_mac: Some(dst),
        trailer,
        ..LinkInfo::default()
    })
}

fn malformed(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError::Malformed {
        layer: Layer::Link,
        offset,
        reason,
    }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::link::ETHERTYPE_IPV4;

    const AP: [u8; 6] = [0x02, 0, 0, 0, 0, 0xAA];
    const STA: [u8; 6] = [0x24, 0x0a, 0xc4, 1, 2, 3];
    const HOST: [u8; 6] = [0x00, 0x00, 0x5e, 0, 0x53, 1];
    const WDS: [u8; 6] = [0x02, 0, 0, 0, 0, 0xBB];

    /// A data frame (subtype 0, or 8 for QoS) with the given flags byte, then SNAP IPv4.
    fn data_frame(subtype: u8, flags: u8) -> Vec<u8> {
        let mut f = vec![(subtype << 4) | (TYPE_DATA << 2), flags, 0, 0];
        let (a1, a2, a3) = match flags & 3 {
            0 => (STA, HOST, AP),
            1 => (AP, STA, HOST),
            2 => (STA, AP, HOST),
            _ => (AP, WDS, HOST),
        };
        for a in [a1, a2, a3] {
            f.extend_from_slice(&a);
        }
        f.extend_from_slice(&[0x10, 0]); // sequence 1, fragment 0
        if flags & 3 == 3 {
            f.extend_from_slice(&STA);
        }
        if subtype & SUBTYPE_QOS != 0 {
            f.extend_from_slice(&[0, 0]);
        }
        f.extend_from_slice(&SNAP_RFC1042);
        f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        f.push(0x45);
        f
    }

    #[test]
    fn data_frames_give_ip_and_addresses_by_ds_bits() {
        // (flags, header length, source, destination)
        for (flags, hdr, src, dst) in [
            (0, 24, HOST, STA),
            (1, 24, STA, HOST),
            (2, 24, HOST, STA),
            (3, 30, STA, HOST),
        ] {
            for (subtype, qos) in [(0, 0), (8, 2)] {
                let f = data_frame(subtype, flags);
                let i = bare(&f).unwrap();
                assert_eq!(
                    (i.ethertype, i.offset, i.src_mac, i.dst_mac, i.skipped),
                    (ETHERTYPE_IPV4, hdr + qos + 8, Some(src), Some(dst), None),
                    "flags {flags} subtype {subtype}"
                );
                assert_eq!(f[i.offset], 0x45);
            }
        }
    }

    #[test]
    fn frames_without_readable_ip_are_skips() {
        let mut protected = data_frame(8, 1 | FC_PROTECTED);
        assert_eq!(bare(&protected).unwrap().skipped, Some(Skip::WifiEncrypted));
        protected[1] &= !FC_PROTECTED;
        protected[22] = 0x11; // fragment 1
        assert_eq!(bare(&protected).unwrap().skipped, Some(Skip::WifiFragment));
        let beacon = [0x80, 0, 0, 0];
        assert_eq!(bare(&beacon).unwrap().skipped, Some(Skip::WifiManagement));
        let ack = [0xD4, 0, 0, 0];
        assert_eq!(bare(&ack).unwrap().skipped, Some(Skip::WifiControl));
        let qos_null = [0xC8, 1, 0, 0];
        assert_eq!(bare(&qos_null).unwrap().skipped, Some(Skip::WifiNoData));
        let mut amsdu = data_frame(8, 1);
        amsdu[24] = QOS_AMSDU;
        assert_eq!(bare(&amsdu).unwrap().skipped, Some(Skip::WifiOther));
    }

    #[test]
    fn short_frames_are_truncated_not_panics() {
        let f = data_frame(8, 3);
        for cut in 0..f.len() - 1 {
            let r = bare(&f[..cut]);
            assert!(
                matches!(r, Err(DecodeError::Truncated { .. })),
                "cut at {cut}: {r:?}"
            );
        }
    }

    /// Radiotap with TSFT and flags present, then the frame (and a dummy FCS when flagged).
    fn radiotap_frame(flags: u8, inner: &[u8]) -> Vec<u8> {
        let mut f = vec![0, 0, 24, 0];
        f.extend_from_slice(&(RADIOTAP_PRESENT_TSFT | RADIOTAP_PRESENT_FLAGS).to_le_bytes());
        f.extend_from_slice(&[7; 8]); // TSFT at 8, already aligned
        f.push(flags);
        f.extend_from_slice(&[0; 7]);
        f.extend_from_slice(inner);
        if flags & RADIOTAP_FLAG_FCS != 0 {
            f.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        }
        f
    }

    #[test]
    fn radiotap_length_flags_and_fcs() {
        let inner = data_frame(8, 2);
        let plain = radiotap(&radiotap_frame(0, &inner)).unwrap();
        assert_eq!((plain.offset, plain.trailer), (24 + 26 + 8, 0));
        let fcs = radiotap(&radiotap_frame(RADIOTAP_FLAG_FCS, &inner)).unwrap();
        assert_eq!((fcs.offset, fcs.trailer), (24 + 26 + 8, 4));
        let bad = radiotap(&radiotap_frame(RADIOTAP_FLAG_BAD_FCS, &inner)).unwrap();
        assert_eq!(bad.skipped, Some(Skip::WifiOther));
        let mut wrong_version = radiotap_frame(0, &inner);
        wrong_version[0] = 1;
        assert!(matches!(
            radiotap(&wrong_version),
            Err(DecodeError::Malformed { .. })
        ));
        let mut too_long = radiotap_frame(0, &inner);
        too_long[2] = 0xFF;
        assert!(matches!(
            radiotap(&too_long),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn damaged_capture_headers_never_panic() {
        let inner = data_frame(8, 3);
        let mut ppi_frame = vec![0, 0, 8, 0];
        ppi_frame.extend_from_slice(&DLT_IEEE802_11.to_le_bytes());
        ppi_frame.extend_from_slice(&inner);
        for (frame, parse) in [
            (
                radiotap_frame(RADIOTAP_FLAG_FCS, &inner),
                radiotap as fn(&[u8]) -> _,
            ),
            (ppi_frame, ppi),
        ] {
            for cut in 0..=frame.len() {
                let _ = parse(&frame[..cut]);
            }
            for at in 0..frame.len().min(40) {
                for value in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
                    let mut damaged = frame.clone();
                    damaged[at] = value;
                    let _ = parse(&damaged);
                }
            }
        }
    }

    #[test]
    fn ppi_length_and_common_flags() {
        let inner = data_frame(0, 1);
        let mut f = vec![0, 0, 32, 0];
        f.extend_from_slice(&DLT_IEEE802_11.to_le_bytes());
        f.extend_from_slice(&PPI_FIELD_80211_COMMON.to_le_bytes());
        f.extend_from_slice(&20u16.to_le_bytes());
        let mut common = [0u8; 20];
        common[8] = PPI_COMMON_FCS as u8;
        f.extend_from_slice(&common);
        f.extend_from_slice(&inner);
        f.extend_from_slice(&[0; 4]);
        let i = ppi(&f).unwrap();
        assert_eq!(
            (i.ethertype, i.offset, i.trailer),
            (ETHERTYPE_IPV4, 32 + 24 + 8, 4)
        );
        f[4] = 147; // a user DLT: not ours
        assert_eq!(ppi(&f).unwrap().skipped, Some(Skip::UnsupportedProtocol));
    }
}
