//! The Data-MDT Join TLV reader (UDP 3232 payloads): the checked iterator, the all-or-nothing
//! `parse_joins`, and agreement with `mdt::probe::is_join_tlvs_only` (what the anomaly guesser asks).
#![no_main]

use libfuzzer_sys::fuzz_target;
use watch3232::classify::mdt::probe::is_join_tlvs_only;
use watch3232::classify::mdt::join::{join_tlvs, parse_joins, JoinTlv, LEN_IPV4, LEN_IPV6};

fn inside(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fuzz_target!(|data: &[u8]| {
    let mut consumed = 0usize;
    let mut count = 0usize;
    let mut failed = false;
    for t in join_tlvs(data) {
        assert!(!failed, "a TLV after an error");
        match t {
            Ok(t) => {
                count += 1;
                let len = match t {
                    JoinTlv::V4 { .. } => usize::from(LEN_IPV4),
                    JoinTlv::V6 { .. } => usize::from(LEN_IPV6),
                    JoinTlv::Unknown {
                        tlv_type,
                        length,
                        value,
                    } => {
                        assert!(tlv_type != 1 && tlv_type != 4);
                        assert!(inside(value, data));
                        assert_eq!(value.len() + 4, usize::from(length));
                        // The value starts 4 bytes into this TLV.
                        assert_eq!(
                            value.as_ptr() as usize - data.as_ptr() as usize,
                            consumed + 4
                        );
                        usize::from(length)
                    }
                };
                assert_eq!(data[consumed], t.tlv_type());
                consumed += len;
                assert!(consumed <= data.len());
            }
            Err(e) => {
                failed = true;
                let _ = (e.to_string(), e.reason());
            }
        }
    }
    if !failed {
        assert_eq!(consumed, data.len());
    }
    match parse_joins(data) {
        Ok((tlvs, mixed)) => {
            assert!(!failed);
            assert_eq!(tlvs.len(), count);
            assert_eq!(
                mixed,
                tlvs.iter().any(|t| t.tlv_type() != tlvs[0].tlv_type())
            );
        }
        Err(e) => {
            assert!(failed);
            let _ = e.to_string();
        }
    }
    // The guesser's stricter test (one known type only) implies a clean parse.
    if is_join_tlvs_only(data) {
        let (tlvs, mixed) = parse_joins(data).expect("guessed join parses");
        assert!(!mixed && !tlvs.is_empty());
        assert!(tlvs
            .iter()
            .all(|t| matches!(t, JoinTlv::V4 { .. } | JoinTlv::V6 { .. })));
    }
});
