//! The bounded flow table under arbitrary operations, checked against a model: the size never
//! passes the capacity, and every inserted flow comes back exactly once (closed, expired,
//! evicted or drained), with the right reason.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use watch3232::time::Timestamp;
use watch3232::flow::{FlowKey, FlowTable, RemovedBy};

#[derive(Arbitrary, Debug)]
enum Op {
    /// Insert (or touch, if present) flow `n` after `dt` seconds.
    Packet {
        n: u8,
        dt: u8,
    },
    Close {
        n: u8,
    },
    Expire {
        dt: u8,
    },
    /// A step back in time (captures do that).
    Rewind {
        dt: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    capacity: u8,
    timeout: u8,
    ops: Vec<Op>,
}

fn key(n: u8) -> FlowKey {
    let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, n));
    FlowKey::new(
        a,
        IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)),
        40000 + u16::from(n),
        3232,
        17,
    )
    .0
}

fuzz_target!(|input: Input| {
    let capacity = usize::from(input.capacity % 16).max(1);
    let timeout = u64::from(input.timeout % 32);
    let mut table: FlowTable<u64> = FlowTable::new(capacity, timeout);
    let mut now = Timestamp::from_secs(1_000_000);
    // n -> (id, insertion number): flow ids hash the key and start time, so a flow reopened in
    // the same microsecond has its predecessor's id; the insertion number tells them apart.
    let mut live: HashMap<u8, (u64, u64)> = HashMap::new();
    let mut returned: HashSet<u64> = HashSet::new();
    let mut inserted = 0u64;
    let mut out = Vec::new();
    let mut check_out = |out: &mut Vec<watch3232::flow::Removed<u64>>,
                         live: &mut HashMap<u8, (u64, u64)>,
                         by: &[RemovedBy]| {
        for r in out.drain(..) {
            assert!(by.contains(&r.by), "{:?} not in {by:?}", r.by);
            assert_eq!(r.value, r.id, "value travels with its flow");
            let (&n, &(id, serial)) = live
                .iter()
                .find(|(&n, _)| key(n) == r.key)
                .expect("a live flow");
            assert_eq!(r.id, id);
            assert!(returned.insert(serial), "flow {serial} returned twice");
            live.remove(&n);
        }
    };
    for op in input.ops.iter().take(2000) {
        match *op {
            Op::Packet { n, dt } => {
                now = Timestamp(now.micros() + i64::from(dt % 8) * 1_000_000);
                let k = key(n);
                if table.contains(&k) {
                    let (id, v) = table.touch(&k, now).expect("present");
                    assert_eq!(live.get(&n).map(|l| l.0), Some(id));
                    assert_eq!(*v, id);
                } else {
                    assert!(!live.contains_key(&n));
                    let (id, evicted) = table.insert(k, now, |id| id);
                    inserted += 1;
                    if let Some(e) = evicted {
                        assert_eq!(live.len(), capacity, "eviction only when full");
                        out.push(e);
                        check_out(&mut out, &mut live, &[RemovedBy::Evicted]);
                    }
                    live.insert(n, (id, inserted));
                }
            }
            Op::Close { n } => {
                let removed = table.close(&key(n));
                assert_eq!(removed.is_some(), live.contains_key(&n));
                if let Some(r) = removed {
                    out.push(r);
                    check_out(&mut out, &mut live, &[RemovedBy::Closed]);
                }
            }
            Op::Expire { dt } => {
                now = Timestamp(now.micros() + i64::from(dt) * 1_000_000);
                table.expire(now, &mut out);
                for r in &out {
                    assert!(now.micros() - r.last_seen.micros() > timeout as i64 * 1_000_000);
                }
                check_out(&mut out, &mut live, &[RemovedBy::Expired]);
            }
            Op::Rewind { dt } => now = Timestamp(now.micros() - i64::from(dt) * 1_000_000),
        }
        assert!(table.len() <= capacity);
        assert_eq!(table.len(), live.len());
    }
    table.drain(&mut out);
    check_out(&mut out, &mut live, &[RemovedBy::Flushed]);
    assert!(live.is_empty() && table.is_empty());
    assert_eq!(
        returned.len() as u64,
        inserted,
        "every flow returned exactly once"
    );
});
