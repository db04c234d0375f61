//! The TCP reassembly of the ArduinoOTA data connection (flow::reasm::Stream).
//! Input: byte 0 = out-of-order cap / 16 (so 0..4080 bytes), bytes 1..5 = ISN, byte 5 = flags
//! (bit 0: SYN first; bit 1: payload bytes from the input, else a function of the sequence
//! number so the delivered stream can be checked byte for byte). Then segments: a kind byte
//! (bit 7: a 4-byte offset from the ISN follows, else a signed 2-byte one; bit 6: a big
//! segment of 64 + 64 * (bits 0-5) bytes, else bits 0-5 bytes) and, in input mode, the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watch3232::flow::reasm::Stream;

/// The byte at sequence number `s` when payloads are derived from the sequence space.
fn at(s: u32) -> u8 {
    (s.wrapping_mul(0x9E37_79B1) >> 24) as u8
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let cap = usize::from(data[0]) * 16;
    let isn = u32::from_be_bytes([data[1], data[2], data[3], data[4]]);
    let flags = data[5];
    let from_input = flags & 2 != 0;
    let mut s = Stream::new(cap);
    if flags & 1 != 0 {
        s.syn(isn.wrapping_sub(1));
    }
    // Where the stream starts: the SYN's ISN+1, else the first non-empty segment.
    let mut start: Option<u32> = (flags & 1 != 0).then_some(isn);
    let mut out: Vec<u8> = Vec::new();
    let mut fed = 0u64;
    let mut rest = &data[6..];
    let mut payload = Vec::new();
    while let Some((&kind, tail)) = rest.split_first() {
        rest = tail;
        let delta = if kind & 0x80 != 0 {
            let Some(b) = rest.get(..4) else { break };
            rest = &rest[4..];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        } else {
            let Some(b) = rest.get(..2) else { break };
            rest = &rest[2..];
            i16::from_be_bytes([b[0], b[1]]) as i32 as u32
        };
        let seq = isn.wrapping_add(delta);
        // Length: 0..63, or 64..(64 + 63 * 64) in steps of 64 for big segments.
        let len = if kind & 0x40 != 0 {
            64 + usize::from(kind & 0x3f) * 64
        } else {
            usize::from(kind & 0x3f)
        };
        payload.clear();
        if from_input {
            let n = len.min(rest.len());
            payload.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
        } else {
            payload.extend((0..len as u32).map(|i| at(seq.wrapping_add(i))));
        }
        if !payload.is_empty() && start.is_none() {
            start = Some(seq);
        }
        fed += payload.len() as u64;
        let before = out.len();
        s.segment(seq, &payload, &mut |b: &[u8]| {
            assert!(!b.is_empty(), "empty delivery");
            out.extend_from_slice(b);
        });
        assert!(out.len() >= before);
        assert_eq!(out.len() as u64, s.delivered);
        assert!(s.delivered <= fed);
        assert!(s.buffered() <= cap, "buffered {} > cap {cap}", s.buffered());
        // Every byte fed is delivered, buffered, counted as seen again, or dropped.
        assert_eq!(
            fed,
            s.delivered + s.buffered() as u64 + s.retransmitted_bytes + s.dropped_bytes
        );
        if s.buffered() == 0 && s.dropped_bytes == 0 {
            assert!(!s.has_gap());
        }
    }
    if !from_input {
        if let Some(start) = start {
            for (i, &b) in out.iter().enumerate() {
                assert_eq!(b, at(start.wrapping_add(i as u32)), "byte {i} out of order");
            }
        }
    }
});
