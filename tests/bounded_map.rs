//! Property tests of the bounded map against a model (a `Vec` ordered from least to most
//! recently seen): eviction order, expiry, the capacity never exceeded, and every value put in
//! handed back exactly once (evicted, expired, removed, replaced or drained) unless still held.

use proptest::prelude::*;
use std::collections::HashSet;
use std::time::Duration;
use watch3232::flow::{BoundedMap, Departed, Departure};
use watch3232::time::Timestamp;

#[derive(Clone, Debug)]
enum Op {
    /// `dt` seconds after the previous operation (negative: the clock steps back).
    Insert {
        key: u8,
        dt: i8,
    },
    Touch {
        key: u8,
        dt: i8,
    },
    TouchOrInsert {
        key: u8,
        dt: i8,
    },
    Remove {
        key: u8,
    },
    Expire {
        dt: i8,
    },
    DrainSome {
        max: u8,
    },
}

fn ops(backwards: bool) -> impl Strategy<Value = Vec<Op>> {
    let dt = if backwards { -5i8..20 } else { 0i8..20 };
    let key = 0u8..24;
    let op = prop_oneof![
        4 => (key.clone(), dt.clone()).prop_map(|(key, dt)| Op::Insert { key, dt }),
        3 => (key.clone(), dt.clone()).prop_map(|(key, dt)| Op::Touch { key, dt }),
        3 => (key.clone(), dt.clone()).prop_map(|(key, dt)| Op::TouchOrInsert { key, dt }),
        1 => key.prop_map(|key| Op::Remove { key }),
        2 => dt.prop_map(|dt| Op::Expire { dt }),
        1 => (0u8..4).prop_map(|max| Op::DrainSome { max }),
    ];
    proptest::collection::vec(op, 0..200)
}

/// What the map should hold: (key, serial, last_seen in seconds), least recently seen first.
struct Model {
    entries: Vec<(u8, u64, i64)>,
    capacity: usize,
    timeout: i64,
}

impl Model {
    fn position(&self, key: u8) -> Option<usize> {
        self.entries.iter().position(|e| e.0 == key)
    }

    /// Marks `key` seen at `now`: most recent, `last_seen` never decreasing.
    fn touch(&mut self, key: u8, now: i64) -> Option<u64> {
        let at = self.position(key)?;
        let (k, serial, seen) = self.entries.remove(at);
        self.entries.push((k, serial, seen.max(now)));
        Some(serial)
    }

    /// Inserts an absent key, returning the entry evicted to make room.
    fn insert_new(&mut self, key: u8, serial: u64, now: i64) -> Option<(u8, u64, i64)> {
        let evicted = (self.entries.len() == self.capacity).then(|| self.entries.remove(0));
        self.entries.push((key, serial, now));
        evicted
    }

    fn expire(&mut self, now: i64) -> Vec<(u8, u64, i64)> {
        let idle = self
            .entries
            .iter()
            .take_while(|e| now.saturating_sub(e.2) > self.timeout)
            .count();
        self.entries.drain(..idle).collect()
    }
}

/// Checks one departed entry against what the model expected, and that its value had not
/// come back before.
fn check_departed(
    got: &Departed<u8, u64>,
    want: (u8, u64, i64),
    by: Departure,
    handed_back: &mut HashSet<u64>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        (got.key, got.value, got.last_seen, got.by),
        (want.0, want.1, Timestamp::from_secs(want.2), by)
    );
    prop_assert!(
        handed_back.insert(got.value),
        "value {} handed back twice",
        got.value
    );
    Ok(())
}

fn run(capacity: usize, timeout: u8, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut map: BoundedMap<u8, u64> =
        BoundedMap::new(capacity, Duration::from_secs(u64::from(timeout)));
    let mut model = Model {
        entries: Vec::new(),
        capacity: capacity.max(1),
        timeout: i64::from(timeout),
    };
    let mut now = 1_000i64;
    let mut next_serial = 0u64;
    let mut handed_back = HashSet::new();
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::Insert { key, dt } => {
                now += i64::from(dt);
                let serial = next_serial;
                next_serial += 1;
                let got = map.insert(key, serial, Timestamp::from_secs(now));
                match model.position(key) {
                    Some(at) => {
                        let old = model.entries[at];
                        model.touch(key, now);
                        model.entries.last_mut().unwrap().1 = serial;
                        let got = got.expect("the old value comes back");
                        check_departed(&got, old, Departure::Replaced, &mut handed_back)?;
                    }
                    None => match model.insert_new(key, serial, now) {
                        Some(evicted) => {
                            let got = got.expect("a full map evicts");
                            check_departed(&got, evicted, Departure::Evicted, &mut handed_back)?;
                        }
                        None => prop_assert!(got.is_none(), "evicted below capacity"),
                    },
                }
            }
            Op::Touch { key, dt } => {
                now += i64::from(dt);
                let got = map.touch(&key, Timestamp::from_secs(now)).copied();
                prop_assert_eq!(got, model.touch(key, now));
            }
            Op::TouchOrInsert { key, dt } => {
                now += i64::from(dt);
                let serial = next_serial;
                let (value, got) = map.touch_or_insert_with(key, Timestamp::from_secs(now), || {
                    next_serial += 1;
                    serial
                });
                let value = *value;
                match model.touch(key, now) {
                    Some(held) => {
                        prop_assert_eq!(value, held);
                        prop_assert!(got.is_none());
                    }
                    None => {
                        prop_assert_eq!(value, serial);
                        match model.insert_new(key, serial, now) {
                            Some(evicted) => {
                                let got = got.expect("a full map evicts");
                                check_departed(
                                    &got,
                                    evicted,
                                    Departure::Evicted,
                                    &mut handed_back,
                                )?;
                            }
                            None => prop_assert!(got.is_none(), "evicted below capacity"),
                        }
                    }
                }
            }
            Op::Remove { key } => {
                let got = map.remove(&key);
                match model.position(key) {
                    Some(at) => {
                        let want = model.entries.remove(at);
                        let got = got.expect("held key is removed");
                        check_departed(&got, want, Departure::Removed, &mut handed_back)?;
                    }
                    None => prop_assert!(got.is_none()),
                }
            }
            Op::Expire { dt } => {
                now += i64::from(dt);
                map.expire(Timestamp::from_secs(now), &mut out);
                let want = model.expire(now);
                prop_assert_eq!(out.len(), want.len());
                for (got, want) in out.drain(..).zip(want) {
                    check_departed(&got, want, Departure::Expired, &mut handed_back)?;
                }
            }
            Op::DrainSome { max } => {
                let more = map.drain_some(usize::from(max), &mut out);
                let taken = usize::from(max).min(model.entries.len());
                let want: Vec<_> = model.entries.drain(..taken).collect();
                prop_assert_eq!(more, !model.entries.is_empty());
                prop_assert_eq!(out.len(), want.len());
                for (got, want) in out.drain(..).zip(want) {
                    check_departed(&got, want, Departure::Drained, &mut handed_back)?;
                }
            }
        }
        prop_assert!(map.len() <= model.capacity, "capacity exceeded");
        let held: Vec<(u8, u64, i64)> = map
            .iter()
            .map(|(&k, &v, seen)| (k, v, seen.micros() / 1_000_000))
            .collect();
        prop_assert_eq!(&held, &model.entries, "recency order");
    }
    // Whatever is still held plus whatever came back is everything put in, each once.
    map.drain(&mut out);
    prop_assert_eq!(out.len(), model.entries.len());
    for (got, want) in out.drain(..).zip(std::mem::take(&mut model.entries)) {
        check_departed(&got, want, Departure::Drained, &mut handed_back)?;
    }
    prop_assert!(map.is_empty());
    prop_assert_eq!(handed_back.len() as u64, next_serial);
    let stats = map.stats();
    prop_assert!(stats.peak <= model.capacity);
    prop_assert_eq!(
        stats.evicted + stats.expired + stats.removed + stats.drained,
        stats.created
    );
    prop_assert_eq!(stats.created + stats.replaced, next_serial);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Any sequence of operations, the clock even stepping back: the map matches the model.
    #[test]
    fn bounded_map_matches_the_model(capacity in 0usize..12, timeout in 0u8..30, ops in ops(true)) {
        run(capacity, timeout, ops)?;
    }

    /// With the clock never stepping back, expiry is exact: what stays is fresh, what went
    /// was idle past the timeout.
    #[test]
    fn expiry_is_exact_when_time_moves_forward(capacity in 1usize..12, timeout in 0u8..30, ops in ops(false)) {
        run(capacity, timeout, ops.clone())?;
        let mut map: BoundedMap<u8, u64> =
            BoundedMap::new(capacity, Duration::from_secs(u64::from(timeout)));
        let mut now = 0i64;
        let mut out = Vec::new();
        for op in ops {
            match op {
                Op::Insert { key, dt } | Op::TouchOrInsert { key, dt } => {
                    now += i64::from(dt);
                    map.insert(key, 0, Timestamp::from_secs(now));
                }
                Op::Touch { key, dt } => {
                    now += i64::from(dt);
                    map.touch(&key, Timestamp::from_secs(now));
                }
                Op::Expire { dt } => {
                    now += i64::from(dt);
                    map.expire(Timestamp::from_secs(now), &mut out);
                    for gone in out.drain(..) {
                        prop_assert!(now - gone.last_seen.micros() / 1_000_000 > i64::from(timeout));
                    }
                    for (_, _, seen) in map.iter() {
                        prop_assert!(now - seen.micros() / 1_000_000 <= i64::from(timeout));
                    }
                }
                Op::Remove { .. } | Op::DrainSome { .. } => {}
            }
        }
    }
}
