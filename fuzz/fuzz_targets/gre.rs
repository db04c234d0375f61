//! The GRE header parser and its accessors (checksum verification included).
#![no_main]

use libfuzzer_sys::fuzz_target;
use watch3232::decode::gre::GreSlice;

fuzz_target!(|data: &[u8]| {
    match GreSlice::from_slice(data) {
        Ok(g) => {
            assert!(g.header_len() <= data.len());
            assert_eq!(g.header_len() + g.payload().len(), data.len());
            let _ = (
                g.protocol_type(),
                g.key(),
                g.sequence(),
                g.checksum(),
                g.checksum_valid(),
            );
            assert_eq!(g.has_checksum(), g.checksum().is_some());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
