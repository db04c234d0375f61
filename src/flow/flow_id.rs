//! The `flow_id` of a flow: a hash of its key and the time of its first packet, reduced to 51
//! bits, as Suricata derives its own (`FlowGetId` in `src/flow.h`: the flow hash and the start
//! time, masked to 51 bits because JSON consumers often hold integers as doubles).
//!
//! Unlike a counter it does not restart with each run, so ids of different captures, runs and
//! sensors do not collide in one index; unlike Suricata's (whose flow hash has a random seed)
//! it is deterministic, so the same capture gives the same ids every run (golden output), and
//! every worker of a sharded run gives a flow the id one engine gives it.

use super::FlowKey;
use crate::time::Timestamp;
use std::net::IpAddr;

/// Ids are below 2^51 (exactly representable as an IEEE double).
pub const FLOW_ID_BITS: u32 = 51;

/// The id of the flow with `key` whose first packet was at `start`; never 0.
pub fn flow_id(key: &FlowKey, start: Timestamp) -> u64 {
    let (lo_hi, lo_lo) = address_words(key.lo_addr);
    let (hi_hi, hi_lo) = address_words(key.hi_addr);
    let ports_proto = (u64::from(key.lo_port) << 32)
        | (u64::from(key.hi_port) << 16)
        | (u64::from(key.proto) << 8)
        | u64::from(key.lo_addr.is_ipv6()) << 1
        | u64::from(key.hi_addr.is_ipv6());
    // A chain of a bijective mixer over fixed-length input: inputs that differ in any word
    // give unrelated outputs, so two flows share an id only by a 2^-51 chance.
    let words = [lo_hi, lo_lo, hi_hi, hi_lo, ports_proto, start.0 as u64];
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for w in words {
        h = mix(h ^ w);
    }
    let id = h & ((1 << FLOW_ID_BITS) - 1);
    id.max(1)
}

/// An address as two 64-bit words (IPv4 in the low bits of the second).
fn address_words(a: IpAddr) -> (u64, u64) {
    let n = match a {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    };
    ((n >> 64) as u64, n as u64)
}

/// MurmurHash3's 64-bit finaliser (`fmix64`): a bijection with full avalanche.
fn mix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn key(last: u8, port: u16) -> FlowKey {
        FlowKey::new(
            IpAddr::from([192, 0, 2, last]),
            IpAddr::from([192, 0, 2, 50]),
            port,
            3232,
            17,
        )
        .0
    }

    #[test]
    fn same_flow_same_id_either_direction() {
        let t = Timestamp(1_700_000_000_123_456);
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        let (k1, _) = FlowKey::new(a, b, 40000, 3232, 6);
        let (k2, _) = FlowKey::new(b, a, 3232, 40000, 6);
        assert_eq!(flow_id(&k1, t), flow_id(&k2, t));
        // Pinned: the ids in golden output depend on it.
        assert_eq!(flow_id(&key(10, 40000), t), 2_220_622_549_018_489);
    }

    #[test]
    fn ids_differ_by_key_and_start_and_fit_51_bits() {
        let mut seen = HashSet::new();
        for last in 1..=40u8 {
            for port in 40000..40050u16 {
                for micros in [0, 1, 1_000_000] {
                    let id = flow_id(&key(last, port), Timestamp(1_700_000_000_000_000 + micros));
                    assert!(id > 0 && id < 1 << 51);
                    assert!(seen.insert(id), "collision at {last} {port} {micros}");
                }
            }
        }
        // An IPv4 address and the IPv6 address with the same low bits are different flows.
        let v4 = FlowKey::new(
            IpAddr::from([0, 0, 0, 1]),
            IpAddr::from([0, 0, 0, 2]),
            1,
            2,
            17,
        )
        .0;
        let v6 = FlowKey::new("::1".parse().unwrap(), "::2".parse().unwrap(), 1, 2, 17).0;
        assert_ne!(flow_id(&v4, Timestamp(0)), flow_id(&v6, Timestamp(0)));
    }
}
