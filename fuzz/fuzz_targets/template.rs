//! TEMPLATE for a new parser's fuzz target. To add one:
//! 1. copy this file to `fuzz_targets/<name>.rs` and call your parser below;
//! 2. add a `[[bin]]` with `name = "<name>"` to fuzz/Cargo.toml (copy the `template` entry);
//! 3. optionally add seeds in testdata/gen/examples/fuzz_seeds.rs (`<name>/` directory);
//! 4. `fuzz/run.sh 60 <name>` — run.sh picks up every target from `cargo fuzz list`.
//! Assert what must hold for any input (views inside the input, lengths add up, Display never
//! panics); a parser that returns an error is fine, one that panics or loops is the bug.
//!
//! As shipped, it exercises two small pure functions: the Internet checksum and Community ID.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use watch3232::decode::checksum::internet_checksum;
use watch3232::flow::community_id::community_id_v1;

fuzz_target!(|data: &[u8]| {
    // Your parser here, e.g. `let _ = my_parser::parse(data);`
    let sum = internet_checksum(data);
    // Appending the checksum (at an even offset) makes the whole verify to zero.
    if data.len() % 2 == 0 {
        let mut with = data.to_vec();
        with.extend_from_slice(&sum.to_be_bytes());
        assert_eq!(internet_checksum(&with), 0);
    }
    if data.len() >= 39 {
        let b = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
        let (src, dst) = if data[0] & 1 == 0 {
            let a: [u8; 4] = data[1..5].try_into().unwrap();
            let c: [u8; 4] = data[5..9].try_into().unwrap();
            (IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V4(Ipv4Addr::from(c)))
        } else {
            let a: [u8; 16] = data[1..17].try_into().unwrap();
            let c: [u8; 16] = data[17..33].try_into().unwrap();
            (IpAddr::V6(Ipv6Addr::from(a)), IpAddr::V6(Ipv6Addr::from(c)))
        };
        let proto = data[38];
        let id = community_id_v1(b(33), src, dst, b(35), b(37), proto);
        assert!(id.starts_with("1:"));
        // Direction-independent, except one-way ICMP messages (the spec keeps their direction).
        if proto != 1 && proto != 58 {
            assert_eq!(id, community_id_v1(b(33), dst, src, b(37), b(35), proto));
        }
    }
});
