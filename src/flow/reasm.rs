//! TCP byte streams, one direction at a time: [`SeqTracker`] says where a segment falls against
//! the next expected byte (new, already seen, or ahead of a gap), and [`Stream`] puts a stream
//! back in order on top of it: retransmitted bytes are skipped, early segments wait in a
//! bounded out-of-order buffer, and in-order bytes go to a sink. Every TCP follower (OTA
//! transfers and their acks, ESPHome, the anomaly sampler) uses these two.
//!
//! Sequence numbers are 32-bit and wrap; positions in the stream are 64-bit offsets, so a
//! stream longer than 4 GiB still counts correctly as long as segments arrive within ±2 GiB
//! of the next expected byte.

use std::collections::BTreeMap;

/// A segment further ahead than this is not buffered (it is not part of this stream's window).
const MAX_AHEAD: u64 = 64 * 1024 * 1024;

/// Where a segment falls against the next expected byte of its direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// It starts at or before the next expected byte and brings new bytes after its first
    /// `skip` (bytes already seen: a retransmission or overlap).
    New { skip: usize },
    /// Nothing new: empty, or every byte already seen.
    Old,
    /// It starts `by` bytes after the next expected byte: bytes are missing before it.
    Ahead { by: u64 },
}

/// The next expected sequence number of one TCP direction (unknown until its SYN or first
/// data).
#[derive(Clone, Copy, Debug, Default)]
pub struct SeqTracker {
    next: Option<u32>,
}

impl SeqTracker {
    /// The SYN (or SYN-ACK) of this direction: data starts at `seq + 1`.
    pub fn syn(&mut self, seq: u32) {
        if self.next.is_none() {
            self.next = Some(seq.wrapping_add(1));
        }
    }

    /// Where a segment of `len` bytes at `seq` falls; the first data fixes the start of a
    /// direction whose SYN was not seen. Does not advance: see [`SeqTracker::advance`].
    pub fn place(&mut self, seq: u32, len: usize) -> Placement {
        if len == 0 {
            return Placement::Old;
        }
        let next = *self.next.get_or_insert(seq);
        // Signed distance from the next expected byte (wrapping arithmetic, RFC 9293 §3.4).
        let off = i64::from(seq.wrapping_sub(next) as i32);
        if off > 0 {
            return Placement::Ahead { by: off as u64 };
        }
        let skip = off.unsigned_abs();
        if skip >= len as u64 {
            Placement::Old
        } else {
            Placement::New {
                skip: skip as usize,
            }
        }
    }

    /// `bytes` more of the stream were taken in order.
    pub fn advance(&mut self, bytes: usize) {
        let next = self.next.unwrap_or(0);
        self.next = Some(next.wrapping_add(bytes as u32));
    }
}

#[derive(Debug)]
pub struct Stream {
    /// The next byte we expect.
    seq: SeqTracker,
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
            seq: SeqTracker::default(),
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
        self.seq.syn(seq);
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
        let ahead = match self.seq.place(seq, payload.len()) {
            Placement::Old => {
                self.retransmitted_bytes += payload.len() as u64;
                return;
            }
            Placement::New { skip } => {
                self.retransmitted_bytes += skip as u64;
                self.deliver(&payload[skip..], sink);
                self.drain(sink);
                return;
            }
            Placement::Ahead { by } => by,
        };
        if ahead > MAX_AHEAD || self.ooo_bytes + payload.len() > self.max_ooo_bytes {
            self.dropped_bytes += payload.len() as u64;
        } else {
            let pos = self.delivered + ahead;
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
        self.seq.advance(bytes.len());
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
    fn tracker_places_new_old_and_ahead_segments() {
        let mut t = SeqTracker::default();
        assert_eq!(t.place(500, 0), Placement::Old); // an empty segment fixes nothing
        t.syn(99);
        assert_eq!(t.place(100, 4), Placement::New { skip: 0 });
        t.advance(4);
        assert_eq!(t.place(100, 4), Placement::Old);
        assert_eq!(t.place(102, 4), Placement::New { skip: 2 });
        assert_eq!(t.place(110, 1), Placement::Ahead { by: 6 });
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
