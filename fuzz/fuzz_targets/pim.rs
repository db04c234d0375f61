//! The PIMv2 parsers of the MDT classifier: the common header, checksum verification, Hello
//! options and Join/Prune bodies, and the encoded addresses at any offset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use watch3232::classify::mdt::pim::{
    encoded_group, encoded_source, encoded_unicast, HelloOptions, PimError, PimPacket, PimType,
    HEADER_LEN,
};
use watch3232::event::mdt::{Hello, JoinPrune};
use watch3232::decode::checksum::internet_checksum;

/// `inner` lies inside `outer` (same allocation, in bounds).
fn inside(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fn err(e: PimError) {
    let _ = (e.to_string(), e.reason());
}

const V4: (IpAddr, IpAddr) = (
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
    IpAddr::V4(Ipv4Addr::new(224, 0, 0, 13)),
);
const V6: (IpAddr, IpAddr) = (
    IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
    IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xd)),
);

fuzz_target!(|data: &[u8]| {
    // Encoded addresses at every offset (and a little past the end). Errors are formatted
    // once per input, not per offset (it would dominate the run time).
    let mut first_err = None;
    for offset in 0..data.len() + 3 {
        match encoded_unicast(data, offset) {
            Ok((_, used)) => assert!(offset + used <= data.len()),
            Err(e) => {
                let _ = e.reason();
                first_err.get_or_insert(e);
            }
        }
        match encoded_group(data, offset) {
            Ok((g, used)) => {
                assert!(offset + used <= data.len());
                assert!(g.mask_len <= if g.group.is_ipv4() { 32 } else { 128 });
            }
            Err(e) => {
                let _ = e.reason();
                first_err.get_or_insert(e);
            }
        }
        match encoded_source(data, offset) {
            Ok((s, used)) => {
                assert!(offset + used <= data.len());
                assert!(s.mask_len <= if s.source.is_ipv4() { 32 } else { 128 });
            }
            Err(e) => {
                let _ = e.reason();
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        err(e);
    }

    let pkt = match PimPacket::new_checked(data) {
        Ok(p) => p,
        Err(e) => {
            err(e);
            // The body parsers take any bytes: run them on the input as a body too.
            let _ = Hello::parse(data).map_err(err);
            let _ = JoinPrune::parse(data).map_err(err);
            return;
        }
    };
    let body = pkt.body();
    assert!(inside(body, data));
    assert_eq!(body.len() + HEADER_LEN, data.len());
    assert_eq!(pkt.len(), data.len());
    let ty = pkt.msg_type();
    assert_eq!(PimType::from_u8(ty.code()), ty);
    let _ = (ty.name(), pkt.flags(), pkt.checksum());

    // Options: each value inside the body, offsets increasing, nothing after an error.
    let mut last_end = HEADER_LEN;
    let mut failed = false;
    for o in HelloOptions::new(body) {
        assert!(!failed, "an option after an error");
        match o {
            Ok(o) => {
                assert!(inside(o.value, body));
                assert_eq!(o.offset, last_end);
                last_end = o.offset + 4 + o.value.len();
                assert!(last_end <= data.len());
            }
            Err(e) => {
                failed = true;
                err(e);
            }
        }
    }
    if !failed {
        assert_eq!(last_end, data.len());
    }
    match Hello::parse(body) {
        Ok(h) => {
            assert!(!failed);
            assert!(h.addresses.len() <= body.len() / 6);
            let _ = format!("{h:?}");
        }
        Err(e) => err(e),
    }
    match JoinPrune::parse(body) {
        Ok(jp) => {
            let sources: usize = jp
                .groups
                .iter()
                .map(|g| g.joins.len() + g.prunes.len())
                .sum();
            assert!(6 + 4 + jp.groups.len() * 12 + sources * 8 <= body.len());
            let _ = format!("{jp:?}");
        }
        Err(e) => err(e),
    }

    // Checksums: the input's own, then with the right checksum put in (IPv4, no pseudo-header).
    for (src, dst) in [V4, V6] {
        match pkt.verify_checksum(src, dst) {
            Ok(()) => {}
            Err(PimError::Checksum { .. }) => {}
            Err(e) => panic!("verify_checksum: unexpected {e:?}"),
        }
    }
    let mut fixed = data.to_vec();
    fixed[2..4].fill(0);
    let covered = if ty == PimType::Register {
        fixed.len().min(8)
    } else {
        fixed.len()
    };
    let sum = internet_checksum(&fixed[..covered]);
    fixed[2..4].copy_from_slice(&sum.to_be_bytes());
    let p = PimPacket::new_checked(&fixed[..]).expect("same header");
    assert_eq!(p.verify_checksum(V4.0, V4.1), Ok(()));
});
