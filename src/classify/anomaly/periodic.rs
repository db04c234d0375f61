//! Beacons across connections: a client that opens a new flow to the same service at regular
//! intervals (one TCP connection per check-in). Per (client, server, port, transport) pair the
//! start times and client byte counts of its last [`HISTORY`] ended flows are kept; when they
//! pass the [`behaviour::beacon`] test (≥ 5 flows, mean interval ≥ 1 s, jitter ≤ 10 %, similar
//! sizes), the flow that just ended is reported as a `beacon` instead of its own reason. Flows
//! already reported keep their events: one event per flow still holds.
//!
//! Bounds: at most `max_pairs` pairs; past it the least recently updated pair is dropped
//! (`anomaly.beacon_pairs_evicted`).

use super::behaviour::{self, Record};
use crate::event::anomaly::Beacon;
use crate::flow::BoundedMap;
use crate::time::Timestamp;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

/// Flows remembered per pair.
pub const HISTORY: usize = 16;

pub type PairKey = (IpAddr, IpAddr, u16, u8);

struct Pair {
    /// (start µs, client payload bytes), in start order.
    flows: VecDeque<(i64, u64)>,
}

pub struct PairTracker {
    /// A pair is seen when one of its flows ends; pairs never expire, only the least
    /// recently updated is evicted when the map is full.
    pairs: BoundedMap<PairKey, Pair>,
    pub evicted: u64,
}

impl PairTracker {
    pub fn new(max_pairs: usize) -> Self {
        PairTracker {
            pairs: BoundedMap::new(max_pairs, Duration::MAX),
            evicted: 0,
        }
    }

    /// Records an ended flow of `key` that started at `start` with `bytes` from the client;
    /// returns the beacon its pair now shows, if any.
    pub fn record(
        &mut self,
        key: PairKey,
        start: Timestamp,
        now: Timestamp,
        bytes: u64,
    ) -> Option<Beacon> {
        let (pair, evicted) = self.pairs.touch_or_insert_with(key, now, || Pair {
            flows: VecDeque::new(),
        });
        if evicted.is_some() {
            self.evicted += 1;
        }
        let at = pair.flows.partition_point(|&(s, _)| s <= start.micros());
        pair.flows.insert(at, (start.micros(), bytes));
        if pair.flows.len() > HISTORY {
            pair.flows.pop_front();
        }
        let records: Vec<Record> = pair
            .flows
            .iter()
            .map(|&(ts_us, b)| Record {
                ts_us,
                to_server: true,
                len: u32::try_from(b).unwrap_or(u32::MAX),
            })
            .collect();
        behaviour::beacon(&records)
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: &str) -> PairKey {
        (c.parse().unwrap(), "203.0.113.11".parse().unwrap(), 3232, 6)
    }

    #[test]
    fn fifth_regular_connection_is_a_beacon() {
        let mut t = PairTracker::new(8);
        let s = |secs: i64| Timestamp(secs * 1_000_000);
        for i in 0..4 {
            assert_eq!(
                t.record(key("192.0.2.67"), s(i * 20), s(i * 20 + 1), 90),
                None
            );
        }
        let b = t.record(key("192.0.2.67"), s(80), s(81), 92).unwrap();
        assert_eq!((b.period_s, b.count), (20.0, 5));
        // Out-of-order ends are sorted by start.
        let mut t = PairTracker::new(8);
        for i in [1, 0, 3, 2] {
            t.record(key("192.0.2.68"), s(i * 20), s(200), 90);
        }
        assert!(t.record(key("192.0.2.68"), s(80), s(200), 90).is_some());
    }

    #[test]
    fn pairs_are_bounded() {
        let mut t = PairTracker::new(3);
        for i in 0..10 {
            t.record(key(&format!("10.0.0.{i}")), Timestamp(i), Timestamp(i), 1);
            assert!(t.len() <= 3);
        }
        assert_eq!(t.evicted, 7);
    }
}
