//! Link → IP → GRE* → transport decode of one frame, for every link type and tunnel depth.
//! Input: byte 0 = link type, byte 1 = max tunnel depth (mod 8), then the frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watch3232::decode::{decode, Outcome};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let link = watch3232_fuzz::link(data[0]);
    let depth = data[1] % 8;
    let frame = &data[2..];
    match decode(link, frame, depth) {
        Ok(Outcome::Ip(d)) => {
            // Every view must lie inside the frame.
            let p = d.payload();
            if !p.is_empty() {
                let (start, end) = (
                    frame.as_ptr() as usize,
                    frame.as_ptr() as usize + frame.len(),
                );
                assert!(p.as_ptr() as usize >= start && p.as_ptr() as usize + p.len() <= end);
            }
            let _ = d.ports();
            if let Some(t) = d.tunnel {
                assert!(t.depth >= 1 && t.depth <= depth.max(1));
            }
        }
        Ok(Outcome::NotIp(_)) => {}
        Ok(Outcome::Skipped(why)) => {
            let _ = why.name();
        }
        Err(e) => {
            let _ = (e.to_string(), e.layer().name(), e.kind());
        }
    }
});
