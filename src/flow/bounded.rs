//! One bounded map for every table keyed by something the network chooses: a hard capacity,
//! least-recently-seen eviction and idle expiry, all O(1) per entry, and every entry that
//! leaves is handed back to the caller so no finding is lost.
//!
//! Recency is a doubly linked list threaded through a slab `Vec` by index (no `unsafe`), from
//! the least recently seen entry (the head) to the most recent (the tail); a hash index finds a
//! key's slot. The index holds slab positions only (5 bytes a bucket with its control byte):
//! the key lives once, in the slab, and the index asks the slab to compare or rehash. Being seen means being inserted or touched: it moves the entry to the tail and
//! raises its `last_seen`. Eviction takes the head; expiry walks from the head and stops at
//! the first entry still fresh.

use super::hash::SeededState;
use crate::time::Timestamp;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

/// No slot: the end of the recency list or of the free list.
const NIL: u32 = u32::MAX;

/// Where an entry sits in the map, valid until that entry leaves: lets a caller that looked a
/// key up once reach the entry again without hashing it ([`BoundedMap::at_mut`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(u32);

/// Why an entry left the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Departure {
    /// The map was full and this was the least recently seen entry.
    Evicted,
    /// Not seen for longer than the idle timeout.
    Expired,
    /// The caller removed it.
    Removed,
    /// The caller drained the map (end of a run).
    Drained,
    /// The caller inserted a new value under the same key; this is the old one.
    Replaced,
}

/// An entry handed back when it leaves the map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departed<K, V> {
    pub key: K,
    pub value: V,
    pub last_seen: Timestamp,
    pub by: Departure,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoundedStats {
    /// Entries inserted under a key that was not present.
    pub created: u64,
    pub evicted: u64,
    pub expired: u64,
    pub removed: u64,
    pub drained: u64,
    pub replaced: u64,
    /// The most entries held at once.
    pub peak: usize,
}

struct Entry<K, V> {
    key: K,
    value: V,
    last_seen: Timestamp,
}

/// Links are `u32` slab positions: half the size of `usize`, and a table is bounded far below
/// 4 G entries.
struct Slot<K, V> {
    /// `None` while the slot is on the free list.
    entry: Option<Entry<K, V>>,
    /// Towards the least recently seen end; unused on the free list.
    prev: u32,
    /// Towards the most recently seen end, or the next free slot.
    next: u32,
}

/// A map with a hard capacity, least-recently-seen eviction and idle expiry.
///
/// The hasher defaults to [`SeededState`] (foldhash with a random seed per map) on purpose: the
/// keys are addresses and ports an attacker picks, and a fixed-key fast hash would let them aim
/// every key at one bucket.
///
/// Time is whatever the caller says it is (packet time). If it steps backwards, `last_seen`
/// never decreases, and an idle entry queued behind a fresher one expires when it reaches
/// the head: late, never lost, and the capacity still holds.
pub struct BoundedMap<K, V, S = SeededState> {
    /// Slab positions of the occupied slots, hashed by their keys.
    index: HashTable<u32>,
    hasher: S,
    slots: Vec<Slot<K, V>>,
    /// Least recently seen entry.
    head: u32,
    /// Most recently seen entry.
    tail: u32,
    free: u32,
    capacity: usize,
    idle_timeout_us: i64,
    stats: BoundedStats,
}

impl<K: Eq + Hash, V> BoundedMap<K, V> {
    /// A map of at most `capacity` entries (a capacity of 0 is raised to 1, so a table can
    /// always hold the entry it is asked to insert), expiring entries idle for longer than
    /// `idle_timeout`.
    pub fn new(capacity: usize, idle_timeout: Duration) -> Self {
        Self::with_hasher(capacity, idle_timeout, SeededState::default())
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> BoundedMap<K, V, S> {
    pub fn with_hasher(capacity: usize, idle_timeout: Duration, hasher: S) -> Self {
        // Slab positions are u32, one value kept for NIL.
        let capacity = capacity.clamp(1, NIL as usize - 1);
        // Memory grows with use, not with the configured bound.
        let initial = capacity.min(1 << 16);
        BoundedMap {
            index: HashTable::with_capacity(initial),
            hasher,
            slots: Vec::with_capacity(initial),
            head: NIL,
            tail: NIL,
            free: NIL,
            capacity,
            idle_timeout_us: i64::try_from(idle_timeout.as_micros()).unwrap_or(i64::MAX),
            stats: BoundedStats::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_micros(self.idle_timeout_us as u64)
    }

    pub fn stats(&self) -> BoundedStats {
        self.stats
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_some()
    }

    /// The value, without marking it seen.
    pub fn get(&self, key: &K) -> Option<&V> {
        let i = self.find(key)?;
        Some(&self.entry(i).value)
    }

    /// The value, mutable, without marking it seen.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let i = self.find(key)?;
        Some(&mut self.entry_mut(i).value)
    }

    /// When the entry was last seen.
    pub fn last_seen(&self, key: &K) -> Option<Timestamp> {
        let i = self.find(key)?;
        Some(self.entry(i).last_seen)
    }

    /// Marks the entry seen at `now` (the most recent, whatever `now` is) and returns its value.
    pub fn touch(&mut self, key: &K, now: Timestamp) -> Option<&mut V> {
        let i = self.find(key)?;
        self.mark_seen(i, now);
        Some(&mut self.entry_mut(i).value)
    }

    /// Inserts `value` under `key`, seen at `now`. Hands back what it displaced: the old
    /// value under the same key (`Replaced`), or, when the map was full, the least recently
    /// seen entry (`Evicted`).
    pub fn insert(&mut self, key: K, value: V, now: Timestamp) -> Option<Departed<K, V>> {
        if let Some(i) = self.find(&key) {
            let last_seen = self.entry(i).last_seen;
            self.mark_seen(i, now);
            let old = std::mem::replace(&mut self.entry_mut(i).value, value);
            self.stats.replaced += 1;
            return Some(Departed {
                key,
                value: old,
                last_seen,
                by: Departure::Replaced,
            });
        }
        let evicted = self.make_room();
        self.insert_new(key, value, now);
        evicted
    }

    /// The value under `key` marked seen at `now`, or a new one from `make` if there is none;
    /// with the entry evicted to make room for it, if any.
    pub fn touch_or_insert_with(
        &mut self,
        key: K,
        now: Timestamp,
        make: impl FnOnce() -> V,
    ) -> (&mut V, Option<Departed<K, V>>) {
        let (at, evicted) = self.find_or_insert_with(key, now, make);
        (self.at_mut(at), evicted)
    }

    /// [`BoundedMap::touch_or_insert_with`] that hands back where the entry is instead of a
    /// borrow, so the caller can deal with the evicted entry first: one hash lookup for a key
    /// that is present (the per-packet case), two for a new one.
    pub fn find_or_insert_with(
        &mut self,
        key: K,
        now: Timestamp,
        make: impl FnOnce() -> V,
    ) -> (Handle, Option<Departed<K, V>>) {
        if let Some(i) = self.find(&key) {
            self.mark_seen(i, now);
            return (Handle(i), None);
        }
        let evicted = self.make_room();
        let i = self.insert_new(key, make(), now);
        (Handle(i), evicted)
    }

    /// The value at `at`, from [`BoundedMap::find_or_insert_with`] (no entry has left since).
    pub fn at_mut(&mut self, at: Handle) -> &mut V {
        &mut self.entry_mut(at.0).value
    }

    /// Removes the entry under `key` and hands it back.
    pub fn remove(&mut self, key: &K) -> Option<Departed<K, V>> {
        let i = self.find(key)?;
        self.unindex(i);
        self.stats.removed += 1;
        Some(self.release(i, Departure::Removed))
    }

    /// Hands back every entry idle for longer than the timeout at `now`, least recently seen
    /// first. Costs O(1 + expired).
    pub fn expire(&mut self, now: Timestamp, out: &mut Vec<Departed<K, V>>) {
        while self.head != NIL {
            let last_seen = self.entry(self.head).last_seen;
            if now.micros_since(last_seen) <= self.idle_timeout_us {
                break;
            }
            self.stats.expired += 1;
            out.push(self.pop_head(Departure::Expired));
        }
    }

    /// Hands back up to `max` entries, least recently seen first; returns whether any are
    /// left. Lets the end of a run report a full map in batches.
    pub fn drain_some(&mut self, max: usize, out: &mut Vec<Departed<K, V>>) -> bool {
        for _ in 0..max {
            if self.head == NIL {
                break;
            }
            self.stats.drained += 1;
            out.push(self.pop_head(Departure::Drained));
        }
        self.head != NIL
    }

    /// Hands back every entry, least recently seen first.
    pub fn drain(&mut self, out: &mut Vec<Departed<K, V>>) {
        self.drain_some(usize::MAX, out);
    }

    /// Bytes one entry costs when the map is full: its slab slot, and its index bucket (slab
    /// position and control byte, [`BoundedMap::INDEX_BUCKET_BYTES`]). The index has 8/7
    /// buckets per entry or more, up to the next power of two; the slab has exactly one slot
    /// per entry.
    pub fn entry_bytes() -> usize {
        std::mem::size_of::<Slot<K, V>>() + Self::INDEX_BUCKET_BYTES
    }

    /// One bucket of the index: a slab position and a control byte.
    pub const INDEX_BUCKET_BYTES: usize = std::mem::size_of::<u32>() + 1;

    /// Slots the slab ever allocated: never more than the capacity.
    #[cfg(test)]
    pub(crate) fn slots_allocated(&self) -> usize {
        self.slots.len()
    }

    /// The least recently seen entry: the next to be evicted or expired.
    pub fn oldest(&self) -> Option<(&K, &V, Timestamp)> {
        (self.head != NIL).then(|| {
            let e = self.entry(self.head);
            (&e.key, &e.value, e.last_seen)
        })
    }

    /// Every entry with its `last_seen`, least recently seen first.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V, Timestamp)> + '_ {
        let mut at = self.head;
        std::iter::from_fn(move || {
            if at == NIL {
                return None;
            }
            let slot = &self.slots[at as usize];
            at = slot.next;
            let e = slot.entry.as_ref().expect("linked slot is occupied");
            Some((&e.key, &e.value, e.last_seen))
        })
    }

    /// The slot of `key`: one hash, and the slab compares the keys the hash picks.
    fn find(&self, key: &K) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        let slots = &self.slots;
        self.index
            .find(hash, |&i| {
                slots[i as usize]
                    .entry
                    .as_ref()
                    .is_some_and(|e| e.key == *key)
            })
            .copied()
    }

    /// Takes slot `i` (occupied) out of the index.
    fn unindex(&mut self, i: u32) {
        let hash = self.hasher.hash_one(&self.entry(i).key);
        match self.index.find_entry(hash, |&j| j == i) {
            Ok(bucket) => {
                bucket.remove();
            }
            Err(_) => unreachable!("an occupied slot is indexed"),
        }
    }

    fn entry(&self, i: u32) -> &Entry<K, V> {
        self.slots[i as usize]
            .entry
            .as_ref()
            .expect("indexed slot is occupied")
    }

    fn entry_mut(&mut self, i: u32) -> &mut Entry<K, V> {
        self.slots[i as usize]
            .entry
            .as_mut()
            .expect("indexed slot is occupied")
    }

    /// Evicts the least recently seen entry if one more would not fit.
    fn make_room(&mut self) -> Option<Departed<K, V>> {
        if self.index.len() < self.capacity {
            return None;
        }
        self.stats.evicted += 1;
        Some(self.pop_head(Departure::Evicted))
    }

    /// Stores an entry whose key is absent, with room for it, at the most recent end.
    fn insert_new(&mut self, key: K, value: V, now: Timestamp) -> u32 {
        let hash = self.hasher.hash_one(&key);
        let entry = Some(Entry {
            key,
            value,
            last_seen: now,
        });
        let i = if self.free != NIL {
            let i = self.free;
            self.free = self.slots[i as usize].next;
            self.slots[i as usize].entry = entry;
            i
        } else {
            if self.slots.len() == self.slots.capacity() {
                // Grow by doubling, but never past the capacity: a full table of 100 000
                // flows takes 100 000 slots, not the next power of two.
                let room = self.capacity - self.slots.len();
                self.slots
                    .reserve_exact(self.slots.len().clamp(1, room.max(1)));
            }
            self.slots.push(Slot {
                entry,
                prev: NIL,
                next: NIL,
            });
            (self.slots.len() - 1) as u32
        };
        self.link_at_tail(i);
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hash, i, |&j| {
            let e = slots[j as usize].entry.as_ref();
            hasher.hash_one(&e.expect("indexed slot is occupied").key)
        });
        self.stats.created += 1;
        self.stats.peak = self.stats.peak.max(self.index.len());
        i
    }

    fn mark_seen(&mut self, i: u32, now: Timestamp) {
        let entry = self.entry_mut(i);
        entry.last_seen = entry.last_seen.max(now);
        if self.tail != i {
            self.unlink(i);
            self.link_at_tail(i);
        }
    }

    fn pop_head(&mut self, by: Departure) -> Departed<K, V> {
        let i = self.head;
        self.unindex(i);
        self.release(i, by)
    }

    /// Unlinks slot `i` (already gone from the index), frees it and hands its entry back.
    fn release(&mut self, i: u32, by: Departure) -> Departed<K, V> {
        self.unlink(i);
        let entry = self.slots[i as usize]
            .entry
            .take()
            .expect("released slot is occupied");
        self.slots[i as usize].next = self.free;
        self.free = i;
        Departed {
            key: entry.key,
            value: entry.value,
            last_seen: entry.last_seen,
            by,
        }
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = (self.slots[i as usize].prev, self.slots[i as usize].next);
        match prev {
            NIL => self.head = next,
            p => self.slots[p as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.slots[n as usize].prev = prev,
        }
    }

    fn link_at_tail(&mut self, i: u32) {
        self.slots[i as usize].prev = self.tail;
        self.slots[i as usize].next = NIL;
        match self.tail {
            NIL => self.head = i,
            t => self.slots[t as usize].next = i,
        }
        self.tail = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs(s)
    }

    fn map(capacity: usize, idle_secs: u64) -> BoundedMap<u32, &'static str> {
        BoundedMap::new(capacity, Duration::from_secs(idle_secs))
    }

    #[test]
    fn full_map_evicts_the_least_recently_seen_and_hands_it_back() {
        let mut m = map(3, 60);
        assert!(m.insert(1, "a", t(1)).is_none());
        assert!(m.insert(2, "b", t(2)).is_none());
        assert!(m.insert(3, "c", t(3)).is_none());
        m.touch(&1, t(4));
        let gone = m.insert(4, "d", t(5)).expect("full");
        assert_eq!(
            (gone.key, gone.value, gone.last_seen, gone.by),
            (2, "b", t(2), Departure::Evicted)
        );
        assert_eq!(m.len(), 3);
        let order: Vec<u32> = m.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(order, vec![3, 1, 4]);
        assert_eq!(m.stats().evicted, 1);
        assert_eq!(m.stats().peak, 3);
    }

    #[test]
    fn capacity_zero_holds_one() {
        let mut m = map(0, 60);
        assert_eq!(m.capacity(), 1);
        assert!(m.insert(1, "a", t(0)).is_none());
        assert_eq!(m.insert(2, "b", t(0)).unwrap().key, 1);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn reinserting_a_key_hands_back_the_old_value() {
        let mut m = map(2, 60);
        m.insert(1, "a", t(0));
        m.insert(2, "b", t(1));
        let old = m.insert(1, "A", t(2)).unwrap();
        assert_eq!((old.key, old.value, old.by), (1, "a", Departure::Replaced));
        assert_eq!(m.len(), 2);
        assert_eq!(m.oldest().map(|(k, _, _)| *k), Some(2));
    }

    #[test]
    fn idle_entries_expire_least_recently_seen_first() {
        let mut m = map(10, 30);
        m.insert(1, "idle", t(0));
        m.insert(2, "busy", t(0));
        m.insert(3, "later", t(5));
        m.touch(&2, t(25));
        let mut out = Vec::new();
        m.expire(t(30), &mut out);
        assert!(out.is_empty(), "30 s idle is not past the timeout");
        m.expire(t(36), &mut out);
        let gone: Vec<_> = out.iter().map(|d| (d.key, d.by)).collect();
        assert_eq!(gone, vec![(1, Departure::Expired), (3, Departure::Expired)]);
        assert_eq!(m.len(), 1);
        assert_eq!(m.stats().expired, 2);
    }

    #[test]
    fn touch_or_insert_touches_or_makes_room() {
        let mut m = map(1, 60);
        let (v, gone) = m.touch_or_insert_with(1, t(0), || "a");
        assert_eq!((*v, gone), ("a", None));
        let (v, gone) = m.touch_or_insert_with(1, t(1), || unreachable!());
        assert_eq!((*v, gone), ("a", None));
        assert_eq!(m.last_seen(&1), Some(t(1)));
        let (v, gone) = m.touch_or_insert_with(2, t(2), || "b");
        assert_eq!(*v, "b");
        assert_eq!(gone.map(|d| (d.key, d.by)), Some((1, Departure::Evicted)));
    }

    #[test]
    fn time_stepping_backwards_keeps_last_seen_and_never_panics() {
        let mut m = map(10, 30);
        m.insert(1, "a", t(100));
        m.touch(&1, t(50));
        assert_eq!(m.last_seen(&1), Some(t(100)));
        let mut out = Vec::new();
        m.expire(t(40), &mut out);
        assert!(out.is_empty());
        m.insert(2, "b", Timestamp(i64::MIN));
        m.expire(Timestamp(i64::MAX), &mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn slots_are_reused_so_memory_stays_within_capacity() {
        let mut m: BoundedMap<u32, u32> = BoundedMap::new(8, Duration::from_secs(1));
        let mut out = Vec::new();
        for n in 0..10_000u32 {
            m.insert(n, n, t(i64::from(n)));
            if n % 3 == 0 {
                m.remove(&(n / 2));
            }
            if n % 5 == 0 {
                m.expire(t(i64::from(n)), &mut out);
            }
            assert!(m.len() <= 8);
        }
        assert!(m.slots_allocated() <= 8);
        assert!(!m.drain_some(8, &mut out));
        assert!(m.is_empty());
    }
}
