//! Input formats shared by the fuzz targets and the seed writer
//! (`cargo run -p watch3232-testgen --example fuzz_seeds`, which encodes the same layouts).

use watch3232::packet::LinkType;

/// Every link type the decoder accepts, indexed by an input byte (modulo the length).
pub const LINKS: [LinkType; 11] = [
    LinkType::Null,
    LinkType::Ethernet,
    LinkType::Raw,
    LinkType::Loop,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Ieee80211,
    LinkType::Radiotap,
    LinkType::Ppi,
];

pub fn link(selector: u8) -> LinkType {
    LINKS[usize::from(selector) % LINKS.len()]
}

/// Splits a pipeline input: byte 0 picks the link type; then records of
/// `[len_hi, len_lo, dt_ms, frame: len bytes]` (a short last frame takes what is left).
/// Yields `(milliseconds since the previous packet, frame)`.
pub fn records(data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.len() < 3 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let dt = rest[2];
        let body = &rest[3..];
        let take = len.min(body.len());
        let (frame, after) = body.split_at(take);
        rest = after;
        Some((dt, frame))
    })
}
