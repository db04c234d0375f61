//! Recognising multicast-VPN MDT traffic from its address and payload alone, for the anomaly
//! guesser (MDT traffic this classifier did not claim is not an anomaly) as well as this
//! classifier.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const ALL_PIM_ROUTERS_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 13);
const ALL_PIM_ROUTERS_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xd);

/// ALL-PIM-ROUTERS, where PIM messages and Data-MDT (S-PMSI) joins go (RFC 6037 §6.2).
pub fn is_all_pim_routers(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a == ALL_PIM_ROUTERS_V4,
        IpAddr::V6(a) => a == ALL_PIM_ROUTERS_V6,
    }
}

/// A datagram made only of Data-MDT join TLVs (RFC 6037 §7; RFC 6516 §3): all of type 1
/// (length 16) or all of type 4 (length 40), ending exactly at the end of the datagram.
pub fn is_join_tlvs_only(data: &[u8]) -> bool {
    let (ty, len) = match data.first() {
        Some(1) => (1u8, 16usize),
        Some(4) => (4u8, 40usize),
        _ => return false,
    };
    data.len() % len == 0
        && data
            .chunks_exact(len)
            .all(|t| t[0] == ty && usize::from(u16::from_be_bytes([t[1], t[2]])) == len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdt_joins() {
        let one = [1, 0, 16, 0, 10, 1, 1, 1, 232, 1, 1, 1, 239, 232, 0, 1];
        assert!(is_join_tlvs_only(&one) && is_join_tlvs_only(&[one, one].concat()));
        assert!(
            !is_join_tlvs_only(&one[..15])
                && !is_join_tlvs_only(&[1, 0, 17])
                && !is_join_tlvs_only(b"")
        );
        let mut v6 = vec![4, 0, 40];
        v6.resize(40, 0);
        assert!(is_join_tlvs_only(&v6) && !is_join_tlvs_only(&[&one[..], &v6[..]].concat()));
        assert!(
            is_all_pim_routers("224.0.0.13".parse().unwrap())
                && is_all_pim_routers("ff02::d".parse().unwrap())
        );
        assert!(!is_all_pim_routers("224.0.0.5".parse().unwrap()));
    }
}
