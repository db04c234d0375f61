//! The flow table: per-flow state in a [`BoundedMap`] (hard capacity, idle expiry, eviction of
//! the least-recently-seen flow when full, all O(1)), each flow numbered, and every flow that
//! leaves handed back with the reason.

use super::bounded::{BoundedMap, Departed, Departure, Handle};
use super::FlowKey;
use crate::time::Timestamp;
use std::time::Duration;

struct Slot<V> {
    id: u64,
    value: V,
}

/// Why a flow left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovedBy {
    /// Idle for longer than the timeout.
    Expired,
    /// The table was full and this was the least recently seen flow.
    Evicted,
    /// A classifier said the conversation is over (FIN/RST, final reply…).
    Closed,
    /// End of input: every flow is flushed.
    Flushed,
}

/// A flow handed back when it leaves the table, so its owner can report it.
pub struct Removed<V> {
    pub key: FlowKey,
    pub id: u64,
    pub last_seen: Timestamp,
    pub value: V,
    pub by: RemovedBy,
}

impl<V> Removed<V> {
    fn from_departed(d: Departed<FlowKey, Slot<V>>) -> Self {
        let by = match d.by {
            Departure::Expired => RemovedBy::Expired,
            Departure::Evicted => RemovedBy::Evicted,
            Departure::Removed => RemovedBy::Closed,
            Departure::Drained => RemovedBy::Flushed,
            Departure::Replaced => unreachable!("the table never inserts a key it holds"),
        };
        Removed {
            key: d.key,
            id: d.value.id,
            last_seen: d.last_seen,
            value: d.value.value,
            by,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    pub created: u64,
    pub expired: u64,
    pub evicted: u64,
    pub closed: u64,
    pub peak: usize,
}

pub struct FlowTable<V> {
    map: BoundedMap<FlowKey, Slot<V>>,
}

impl<V> FlowTable<V> {
    /// A table that holds at most `capacity` flows (at least 1) and expires flows idle for
    /// `idle_timeout_secs`.
    pub fn new(capacity: usize, idle_timeout_secs: u64) -> Self {
        FlowTable {
            map: BoundedMap::new(capacity, Duration::from_secs(idle_timeout_secs)),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// Bytes one flow costs in a full table, before whatever its state allocates
    /// ([`BoundedMap::entry_bytes`]).
    pub fn entry_bytes() -> usize {
        BoundedMap::<FlowKey, Slot<V>>::entry_bytes()
    }

    pub fn stats(&self) -> TableStats {
        let s = self.map.stats();
        TableStats {
            created: s.created,
            expired: s.expired,
            evicted: s.evicted,
            closed: s.removed,
            peak: s.peak,
        }
    }

    pub fn contains(&self, key: &FlowKey) -> bool {
        self.map.contains_key(key)
    }

    /// The flow's id and state, marking it seen at `now`.
    pub fn touch(&mut self, key: &FlowKey, now: Timestamp) -> Option<(u64, &mut V)> {
        self.map
            .touch(key, now)
            .map(|slot| (slot.id, &mut slot.value))
    }

    pub fn get(&self, key: &FlowKey) -> Option<(u64, &V)> {
        self.map.get(key).map(|s| (s.id, &s.value))
    }

    /// Inserts a new flow built from its id (the key must not be present). When the table is
    /// full the least recently seen flow is evicted first and returned.
    pub fn insert(
        &mut self,
        key: FlowKey,
        now: Timestamp,
        make: impl FnOnce(u64) -> V,
    ) -> (u64, Option<Removed<V>>) {
        debug_assert!(!self.map.contains_key(&key));
        let id = super::flow_id::flow_id(&key, now);
        let slot = Slot {
            id,
            value: make(id),
        };
        let evicted = self.map.insert(key, slot, now);
        (id, evicted.map(Removed::from_departed))
    }

    /// The flow under `key` marked seen at `now`, or a new one built from its id; with the
    /// flow evicted to make room, if the table was full. One hash lookup for a known flow;
    /// reach the flow with [`FlowTable::at_mut`] once the evicted one is dealt with.
    pub fn find_or_insert(
        &mut self,
        key: FlowKey,
        now: Timestamp,
        make: impl FnOnce(u64) -> V,
    ) -> (Handle, Option<Removed<V>>) {
        let (at, evicted) = self.map.find_or_insert_with(key, now, || {
            let id = super::flow_id::flow_id(&key, now);
            Slot {
                id,
                value: make(id),
            }
        });
        (at, evicted.map(Removed::from_departed))
    }

    /// The flow's id and state at `at` (from [`FlowTable::find_or_insert`]; no flow has left
    /// since).
    pub fn at_mut(&mut self, at: Handle) -> (u64, &mut V) {
        let slot = self.map.at_mut(at);
        (slot.id, &mut slot.value)
    }

    /// Removes a flow whose conversation is over.
    pub fn close(&mut self, key: &FlowKey) -> Option<Removed<V>> {
        self.map.remove(key).map(Removed::from_departed)
    }

    /// Removes every flow idle since before `now - timeout`, least recently seen first.
    pub fn expire(&mut self, now: Timestamp, out: &mut Vec<Removed<V>>) {
        let mut gone = Vec::new();
        self.map.expire(now, &mut gone);
        out.extend(gone.into_iter().map(Removed::from_departed));
    }

    /// Removes every flow (end of input), least recently seen first.
    pub fn drain(&mut self, out: &mut Vec<Removed<V>>) {
        while self.drain_some(usize::MAX, out) {}
        debug_assert!(self.map.is_empty());
    }

    /// Removes up to `max` flows, least recently seen first; returns whether any are left.
    /// Lets the end of a run report a full table in batches instead of all at once.
    pub fn drain_some(&mut self, max: usize, out: &mut Vec<Removed<V>>) -> bool {
        let mut gone = Vec::new();
        let more = self.map.drain_some(max, &mut gone);
        out.extend(gone.into_iter().map(Removed::from_departed));
        more
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn key(n: u32) -> FlowKey {
        FlowKey::new(
            IpAddr::V4(Ipv4Addr::from(n)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            1000,
            3232,
            17,
        )
        .0
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs(s)
    }

    #[test]
    fn capacity_is_a_hard_bound_and_evicts_least_recently_seen() {
        let mut table = FlowTable::new(3, 60);
        for n in 0..3 {
            assert!(table.insert(key(n), t(n as i64), |_| n).1.is_none());
        }
        table.touch(&key(0), t(10)); // 0 is now the most recent
        let (_, evicted) = table.insert(key(3), t(11), |_| 3);
        let evicted = evicted.unwrap();
        assert_eq!((evicted.value, evicted.by), (1, RemovedBy::Evicted));
        assert_eq!(table.len(), 3);
        for n in 4..1000 {
            table.insert(key(n), t(n as i64), |_| n);
            assert!(table.len() <= 3);
        }
        assert_eq!(table.stats().evicted, 997);
        // The recency list cannot grow without bound either.
        assert!(table.map.slots_allocated() <= 3 * 2 + 1);
    }

    #[test]
    fn idle_flows_expire_and_active_ones_stay() {
        let mut table = FlowTable::new(100, 30);
        table.insert(key(1), t(0), |_| "idle");
        table.insert(key(2), t(0), |_| "busy");
        table.touch(&key(2), t(25));
        let mut out = Vec::new();
        table.expire(t(30), &mut out);
        assert!(out.is_empty(), "nothing is past 30 s yet");
        table.expire(t(31), &mut out);
        assert_eq!(
            out.iter().map(|r| r.value).collect::<Vec<_>>(),
            vec!["idle"]
        );
        assert_eq!(out[0].by, RemovedBy::Expired);
        out.clear();
        table.expire(t(56), &mut out);
        assert_eq!(out.len(), 1);
        assert!(table.is_empty());
    }

    #[test]
    fn closed_flows_leave_at_once_and_drain_flushes_the_rest() {
        let mut table = FlowTable::new(10, 30);
        let (id1, _) = table.insert(key(1), t(0), |_| 1);
        let (id2, _) = table.insert(key(2), t(0), |_| 2);
        assert_ne!(id1, id2);
        assert_eq!(table.close(&key(1)).unwrap().id, id1);
        assert!(table.close(&key(1)).is_none());
        let mut out = Vec::new();
        table.drain(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].id, out[0].by), (id2, RemovedBy::Flushed));
        assert_eq!(table.stats().closed, 1);
    }

    #[test]
    fn drain_in_batches_returns_every_flow_once() {
        let mut table = FlowTable::new(100, 30);
        for n in 0..10 {
            table.insert(key(n), t(0), |_| n);
        }
        table.close(&key(3));
        let mut out = Vec::new();
        assert!(table.drain_some(4, &mut out));
        assert_eq!(out.len(), 4);
        assert!(table.drain_some(4, &mut out));
        assert!(!table.drain_some(4, &mut out));
        let mut got: Vec<u32> = out.iter().map(|r| r.value).collect();
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 4, 5, 6, 7, 8, 9]);
        assert!(!table.drain_some(4, &mut out));
    }

    #[test]
    fn churn_of_closed_flows_keeps_the_queue_bounded() {
        let mut table = FlowTable::new(4, 3600);
        table.insert(key(0), t(0), |_| 0); // a long-lived flow at the front of the queue
        for n in 1..10_000u32 {
            table.insert(key(n % 7 + 1), t(1), |_| n);
            table.close(&key(n % 7 + 1));
            assert!(table.map.slots_allocated() <= 2 * 4 + 17);
        }
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn time_stepping_backwards_does_not_expire_or_panic() {
        let mut table = FlowTable::new(10, 30);
        table.insert(key(1), t(100), |_| 1);
        table.touch(&key(1), t(50));
        let mut out = Vec::new();
        table.expire(t(40), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn timestamps_at_the_ends_of_time_do_not_overflow() {
        // Found by tests/corrupt.rs: a bit flip in a pcapng timestamp.
        let mut table = FlowTable::new(10, 30);
        table.insert(key(1), Timestamp(i64::MIN), |_| 1);
        let mut out = Vec::new();
        table.expire(Timestamp(i64::MAX), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].by, RemovedBy::Expired);
    }
}
