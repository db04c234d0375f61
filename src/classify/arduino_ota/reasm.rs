//! One direction of a TCP byte stream, put back in order: retransmitted bytes are skipped,
//! early segments wait in a bounded out-of-order buffer, and in-order bytes go to a sink.
//!
//! Sequence numbers are 32-bit and wrap; positions in the stream are 64-bit offsets, so a
//! stream longer than 4 GiB still counts correctly as long as segments arrive within ±2 GiB
//! of the next expected byte.

use std::collections::BTreeMap;

/// A segment further ahead than this is not buffered (it is not part of this stream's window).
const MAX_AHEAD: i64 = 64 * 1024 * 1024;

#[derive(Debug)]
pub struct Stream {
    /// Absolute sequence number of the next byte we expect (unknown until SYN or first data).
    next: Option<u32>,
    /// Bytes handed to the sink so far (= stream offset of `next`).
    pub delivered: u64,
    /// Segments that arrived early, by stream offset.
    ooo: BTreeMap<u64, Vec<u8>>,
    ooo_bytes: usize,
    max_ooo_bytes: usize,
    /// Bytes seen again (retransmissions, overlaps).
    pub retransmitted_bytes: u64,
    /// Segments that arrived ahead of a gap.
    pub out_of_order_segments: u64,
    /// Bytes that could not be buffered (buffer full or absurdly far ahead): a hole remains.
    pub dropped_bytes: u64,
    pub fin: bool,
}

impl Stream {
    pub fn new(max_ooo_bytes: usize) -> Self {
        Stream {
            next: None,
            delivered: 0,
            ooo: BTreeMap::new(),
            ooo_bytes: 0,
            max_ooo_bytes,
            retransmitted_bytes: 0,
            out_of_order_segments: 0,
            dropped_bytes: 0,
            fin: false,
        }
    }

    /// The SYN (or SYN-ACK) of this direction: data starts at `seq + 1`.
    pub fn syn(&mut self, seq: u32) {
        if self.next.is_none() {
            self.next = Some(seq.wrapping_add(1));
        }
    }

    /// Whether bytes are still waiting behind a hole.
    pub fn has_gap(&self) -> bool {
        !self.ooo.is_empty() || self.dropped_bytes > 0
    }

    /// Bytes buffered out of order right now.
    pub fn buffered(&self) -> usize {
        self.ooo_bytes
    }

    /// Feeds one segment's payload; in-order bytes go to `sink`, in stream order.
    pub fn segment(&mut self, seq: u32, payload: &[u8], sink: &mut impl FnMut(&[u8])) {
        if payload.is_empty() {
            return;
        }
        let next = *self.next.get_or_insert(seq);
        // Signed distance from the next expected byte (wrapping arithmetic, RFC 9293 §3.4).
        let off = i64::from(seq.wrapping_sub(next) as i32);
        if off <= 0 {
            let skip = off.unsigned_abs();
            if skip >= payload.len() as u64 {
                self.retransmitted_bytes += payload.len() as u64;
                return;
            }
            self.retransmitted_bytes += skip;
            self.deliver(&payload[skip as usize..], sink);
            self.drain(sink);
        } else if off > MAX_AHEAD || self.ooo_bytes + payload.len() > self.max_ooo_bytes {
            self.dropped_bytes += payload.len() as u64;
        } else {
            let pos = self.delivered + off as u64;
            self.out_of_order_segments += 1;
            match self.ooo.get(&pos) {
                Some(have) if have.len() >= payload.len() => {
                    self.retransmitted_bytes += payload.len() as u64;
                }
                _ => {
                    if let Some(old) = self.ooo.insert(pos, payload.to_vec()) {
                        self.ooo_bytes -= old.len();
                        self.retransmitted_bytes += old.len() as u64;
                    }
                    self.ooo_bytes += payload.len();
                }
            }
        }
    }

    fn deliver(&mut self, bytes: &[u8], sink: &mut impl FnMut(&[u8])) {
        sink(bytes);
        self.delivered += bytes.len() as u64;
        let next = self.next.unwrap_or(0);
        self.next = Some(next.wrapping_add(bytes.len() as u32));
    }

    /// Moves buffered segments that the stream has reached to the sink.
    fn drain(&mut self, sink: &mut impl FnMut(&[u8])) {
        while let Some(entry) = self.ooo.first_entry() {
            let pos = *entry.key();
            if pos > self.delivered {
                break;
            }
            let data = entry.remove();
            self.ooo_bytes -= data.len();
            let skip = self.delivered - pos;
            if skip >= data.len() as u64 {
                self.retransmitted_bytes += data.len() as u64;
                continue;
            }
            self.retransmitted_bytes += skip;
            self.deliver(&data[skip as usize..], sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(s: &mut Stream, out: &mut Vec<u8>, seq: u32, data: &[u8]) {
        s.segment(seq, data, &mut |b| out.extend_from_slice(b));
    }

    #[test]
    fn in_order_reordered_and_retransmitted() {
        let mut s = Stream::new(1 << 20);
        let mut out = Vec::new();
        s.syn(999);
        feed(&mut s, &mut out, 1000, b"abcd");
        feed(&mut s, &mut out, 1008, b"ijkl"); // early
        feed(&mut s, &mut out, 1000, b"abcd"); // retransmit
        assert_eq!(out, b"abcd");
        assert!(s.has_gap());
        feed(&mut s, &mut out, 1002, b"cdefgh"); // overlaps 2 bytes, fills the hole
        assert_eq!(out, b"abcdefghijkl");
        assert_eq!(s.delivered, 12);
        assert_eq!(s.retransmitted_bytes, 4 + 2);
        assert_eq!(s.out_of_order_segments, 1);
        assert!(!s.has_gap());
    }

    #[test]
    fn wraps_around_the_sequence_space() {
        let mut s = Stream::new(1 << 20);
        let mut out = Vec::new();
        s.syn(u32::MAX - 2);
        feed(&mut s, &mut out, u32::MAX - 1, b"ab");
        feed(&mut s, &mut out, 0, b"cd");
        assert_eq!(out, b"abcd");
    }

    #[test]
    fn out_of_order_buffer_is_bounded() {
        let mut s = Stream::new(8);
        let mut out = Vec::new();
        feed(&mut s, &mut out, 100, b"a");
        feed(&mut s, &mut out, 110, b"12345678");
        feed(&mut s, &mut out, 120, b"x"); // no room
        feed(&mut s, &mut out, 101 + (MAX_AHEAD as u32) + 10, b"far");
        assert_eq!((s.buffered(), s.dropped_bytes), (8, 4));
        assert_eq!(out, b"a");
    }
}
