//! The bounded map against the flow table it replaces, at 100k entries
//! (`cargo bench --bench bounded`):
//!
//! - `insert_evict/*`: a full table takes a new key, evicting the least recently seen.
//! - `touch/*`: a held key is marked seen.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use watch3232::flow::{BoundedMap, FlowKey, FlowTable};
use watch3232::time::Timestamp;

const ENTRIES: u32 = 100_000;

fn key(n: u32) -> FlowKey {
    FlowKey::new(
        IpAddr::V4(Ipv4Addr::from(n)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        40000,
        3232,
        17,
    )
    .0
}

fn insert_evict(c: &mut Criterion) {
    let mut g = c.benchmark_group("insert_evict");
    g.throughput(Throughput::Elements(1));

    let mut table: FlowTable<u64> = FlowTable::new(ENTRIES as usize, 600);
    for n in 0..ENTRIES {
        table.insert(key(n), Timestamp::from_secs(0), |id| id);
    }
    let mut n = ENTRIES;
    g.bench_function("flow_table", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            let (_, evicted) = table.insert(key(n), Timestamp::from_secs(1), |id| id);
            black_box(evicted.map(|e| e.value))
        })
    });

    let mut map: BoundedMap<FlowKey, u64> =
        BoundedMap::new(ENTRIES as usize, Duration::from_secs(600));
    for n in 0..ENTRIES {
        map.insert(key(n), u64::from(n), Timestamp::from_secs(0));
    }
    let mut n = ENTRIES;
    g.bench_function("bounded_map", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            let evicted = map.insert(key(n), u64::from(n), Timestamp::from_secs(1));
            black_box(evicted.map(|e| e.value))
        })
    });
    g.finish();
}

fn touch(c: &mut Criterion) {
    let mut g = c.benchmark_group("touch");
    g.throughput(Throughput::Elements(1));

    let mut table: FlowTable<u64> = FlowTable::new(ENTRIES as usize, 600);
    for n in 0..ENTRIES {
        table.insert(key(n), Timestamp::from_secs(0), |id| id);
    }
    let mut n = 0u32;
    g.bench_function("flow_table", |b| {
        b.iter(|| {
            n = (n + 7919) % ENTRIES;
            black_box(
                table
                    .touch(&key(n), Timestamp::from_secs(1))
                    .map(|(id, _)| id),
            )
        })
    });

    let mut map: BoundedMap<FlowKey, u64> =
        BoundedMap::new(ENTRIES as usize, Duration::from_secs(600));
    for n in 0..ENTRIES {
        map.insert(key(n), u64::from(n), Timestamp::from_secs(0));
    }
    let mut n = 0u32;
    g.bench_function("bounded_map", |b| {
        b.iter(|| {
            n = (n + 7919) % ENTRIES;
            black_box(map.touch(&key(n), Timestamp::from_secs(1)).copied())
        })
    });
    g.finish();
}

criterion_group!(benches, insert_evict, touch);
criterion_main!(benches);
