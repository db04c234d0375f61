//! One `stats` object from the counters of several engines (the shards of `read --workers N`).

use crate::event::stats::{FileStats, FlowStats, KernelDrops, StatsDetails, WorkerStats};
use std::collections::BTreeMap;

/// A `stats` object of a run with workers: the workers' counters (`parts`, with their numbers,
/// in any order) summed with the aggregator's, each worker's share listed by number, and
/// `events.stats` set to the `stats` events written before it (the writer makes them, so no
/// engine counts them).
pub fn workers_stats(
    mut parts: Vec<(usize, StatsDetails)>,
    aggregator: &StatsDetails,
    stats_written: u64,
) -> StatsDetails {
    parts.sort_by_key(|(worker, _)| *worker);
    let mut total = merge_stats(parts.iter().map(|(_, p)| p).chain([aggregator]));
    total.workers = Some(parts.iter().map(|(n, p)| WorkerStats::of(*n, p)).collect());
    if stats_written > 0 {
        total.events.insert("stats", stats_written);
    }
    total
}

/// The sum of `parts`: every counter added up. The flow table's `active`, `peak` and `capacity`
/// are sums too (N tables sharing `--max-flows`, [`crate::engine::Config::for_worker`]; the
/// peak is an upper bound of the tables' joint peak). `memory` and `output` are left to the
/// writer.
pub fn merge_stats<'a>(parts: impl IntoIterator<Item = &'a StatsDetails>) -> StatsDetails {
    let mut total = StatsDetails::default();
    for p in parts {
        total.packets += p.packets;
        total.bytes += p.bytes;
        total.decode_errors += p.decode_errors;
        add_maps(&mut total.decode_error_kinds, &p.decode_error_kinds);
        total.not_ip += p.not_ip;
        total.fragments += p.fragments;
        total.snaplen_cut += p.snaplen_cut;
        total.interesting_packets += p.interesting_packets;
        add_flows(&mut total.flows, &p.flows);
        add_maps(&mut total.events, &p.events);
        add_maps(&mut total.classifiers, &p.classifiers);
        if let Some(k) = &p.kernel {
            let t = total.kernel.get_or_insert_with(KernelDrops::default);
            t.received += k.received;
            t.dropped += k.dropped;
            t.if_dropped += k.if_dropped;
        }
        if let Some(f) = &p.files {
            let t = total.files.get_or_insert_with(FileStats::default);
            t.read += f.read;
            t.failed += f.failed;
            t.truncated += f.truncated;
        }
    }
    total
}

fn add_maps<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

fn add_flows(into: &mut FlowStats, from: &FlowStats) {
    into.active += from.active;
    into.created += from.created;
    into.expired += from.expired;
    into.evicted += from.evicted;
    into.closed += from.closed;
    into.peak += from.peak;
    into.capacity += from.capacity;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_keep_their_shares_in_order() {
        let worker = |packets: u64, created: u64| {
            let mut s = StatsDetails {
                packets,
                interesting_packets: packets / 2,
                ..StatsDetails::default()
            };
            s.flows.created = created;
            s
        };
        let (a, b) = (worker(10, 3), worker(4, 1));
        let mut aggregator = StatsDetails::default();
        aggregator.events.insert("scan", 2);
        // Given out of order: listed by worker number.
        let run = workers_stats(vec![(1, b.clone()), (0, a.clone())], &aggregator, 0);
        assert_eq!((run.packets, run.flows.created), (14, 4));
        assert_eq!(run.events.get("scan"), Some(&2));
        assert_eq!(run.events.get("stats"), None, "none written before");
        let shares = run.workers.expect("two workers' shares");
        assert_eq!(shares, [WorkerStats::of(0, &a), WorkerStats::of(1, &b)]);
        assert_eq!((shares[1].packets, shares[1].interesting_packets), (4, 2));
        // A worker missing (it failed): the others keep their numbers.
        let run = workers_stats(vec![(1, b)], &aggregator, 3);
        let shares = run.workers.expect("one share");
        assert_eq!((shares.len(), shares[0].worker), (1, 1));
        assert_eq!(run.events.get("stats"), Some(&3));
    }

    #[test]
    fn counters_add_up() {
        let mut a = StatsDetails {
            packets: 3,
            ..StatsDetails::default()
        };
        a.events.insert("arduino_ota", 2);
        a.flows.created = 4;
        let mut b = StatsDetails {
            packets: 5,
            files: Some(FileStats {
                read: 1,
                failed: 0,
                truncated: 1,
            }),
            ..StatsDetails::default()
        };
        b.events.insert("arduino_ota", 1);
        b.events.insert("mdt", 7);
        b.flows.created = 6;
        let t = merge_stats([&a, &b]);
        assert_eq!(t.packets, 8);
        assert_eq!(t.events["arduino_ota"], 3);
        assert_eq!(t.events["mdt"], 7);
        assert_eq!(t.flows.created, 10);
        assert_eq!(t.files.as_ref().map(|f| f.truncated), Some(1));
        assert_eq!(t.kernel, None);
    }
}
