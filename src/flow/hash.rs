//! The hasher of every table keyed by what the network chooses (addresses, ports): foldhash,
//! seeded per table from a per-process random seed. Several times faster than std's SipHash on
//! short keys, and an attacker who cannot see the seed cannot aim keys at one bucket (foldhash's
//! stated hash-flooding resistance; not a cryptographic MAC, which no table here needs).

use std::collections::{HashMap, HashSet};

/// A per-table random seed for [`FastMap`] and [`FastSet`].
pub type SeededState = foldhash::fast::RandomState;

/// A `HashMap` with the seeded fast hasher.
pub type FastMap<K, V> = HashMap<K, V, SeededState>;

/// A `HashSet` with the seeded fast hasher.
pub type FastSet<T> = HashSet<T, SeededState>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn every_table_gets_its_own_seed() {
        let (a, b) = (SeededState::default(), SeededState::default());
        let key = (std::net::Ipv4Addr::new(192, 0, 2, 1), 3232u16);
        assert_ne!(a.hash_one(key), b.hash_one(key));
        assert_eq!(a.hash_one(key), a.hash_one(key));
    }
}
