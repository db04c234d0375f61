//! The mDNS message reader: whole messages, and a name at every offset (compression pointers
//! must end: backwards only, at most MAX_JUMPS).
#![no_main]

use libfuzzer_sys::fuzz_target;
use watch3232::classify::mdns::parser::{name, parse, Rdata, MAX_NAME, MAX_RECORDS};

fuzz_target!(|data: &[u8]| {
    for at in 0..data.len() + 2 {
        match name(data, at) {
            Ok((n, end)) => {
                assert!(at < data.len());
                assert!(end > at && end <= data.len(), "name at {at} ends at {end}");
                assert!(n.len() <= MAX_NAME);
                assert!(n.is_ascii());
            }
            // Formatted for the first offset only (per offset it would dominate the run time).
            Err(e) if at == 0 => {
                let _ = e.to_string();
            }
            Err(_) => {}
        }
    }
    match parse(data) {
        Ok(m) => {
            assert!(data.len() >= 12);
            assert!(m.records.len() <= MAX_RECORDS);
            for r in &m.records {
                assert!(r.name.len() <= MAX_NAME);
                match &r.rdata {
                    Rdata::Ptr(n) => assert!(n.len() <= MAX_NAME),
                    Rdata::Srv { target, .. } => assert!(target.len() <= MAX_NAME),
                    Rdata::Txt(items) => {
                        assert!(items.len() <= 32);
                        assert!(items.iter().all(|i| !i.is_empty() && i.len() <= 255 * 3));
                    }
                    Rdata::Addr(_) | Rdata::Other => {}
                }
            }
            let _ = format!("{m:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
