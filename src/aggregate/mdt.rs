//! The MDT tables (RFC 6037, RFC 6513/6516): default MDTs, PIM neighbours and DR election,
//! Join/Prune senders, C-(S,G) → Data-MDT P-groups, traffic per P-group and broken GRE sent to
//! groups, and the `inventory` built from them. The MDT classifier parses; what a table needs
//! arrives here as observations, and the table decides which become events. A PE's Hellos, its
//! joins and its data reach different workers when sharded; here they meet again.

use super::{FlowRef, Sink};
use crate::event::mdt::{
    DataMdtEntry, DataMdtJoinDetails, DefaultMdtEntry, Evictions, Hello, Inventory, JoinPrune,
    MdtDetails, MdtKind, NeighborEntry, NeighborState, PGroupEntry, PGroupRole, PeEntry, PimChange,
    PimDetails,
};
use crate::event::{Body, Event, EventKind, FlowFields, Severity, TunnelFields};
use crate::flow::BoundedMap;
use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
struct Seen {
    first: Timestamp,
    last: Timestamp,
}

impl Seen {
    fn at(now: Timestamp) -> Self {
        Seen {
            first: now,
            last: now,
        }
    }
}

/// Where a neighbour's Hellos come from, to write its expiry (which has no packet).
#[derive(Debug)]
struct HelloFlow {
    flow_id: u64,
    fields: FlowFields,
    tunnel: Option<TunnelFields>,
}

#[derive(Debug)]
struct Neighbor {
    hello: Hello,
    pe: Option<IpAddr>,
    state: NeighborState,
    restarts: u32,
    hellos: u64,
    seen: Seen,
    flow: HelloFlow,
}

impl Neighbor {
    /// Whether the holdtime ran out by `now` (0xffff never expires; no option = 105 s).
    fn expired(&self, now: Timestamp) -> bool {
        self.expires_at().is_some_and(|at| now > at)
    }

    /// When the holdtime runs out (RFC 7761 §4.3.1: 0xffff never; no option = 105 s).
    fn expires_at(&self) -> Option<Timestamp> {
        let hold = self.hello.holdtime.unwrap_or(105);
        (hold != 0xffff).then(|| self.seen.last.saturating_add_secs(u64::from(hold)))
    }
}

#[derive(Debug)]
struct DataMdt {
    p_group: IpAddr,
    tlv_type: u8,
    joins: u64,
    data_packets: u64,
    seen: Seen,
}

#[derive(Debug)]
struct GroupTraffic {
    packets: u64,
    mpls_packets: u64,
    seen: Seen,
}

/// Neighbours are per MDT: (default-MDT group or `None` for bare PIM, sender).
type NeighborKey = (Option<IpAddr>, IpAddr);

pub struct MdtTables {
    /// (PE, default-MDT group). Never expires; the least recently seen is evicted. Reported
    /// in key order.
    default_mdts: BoundedMap<(IpAddr, IpAddr), Seen>,
    /// Never expires on its own: a neighbour's holdtime is its own, so `expire_neighbors`
    /// walks them. The least recently heard is evicted. Reported in key order.
    neighbors: BoundedMap<NeighborKey, Neighbor>,
    /// (PE, C-source, C-group) → P-group.
    /// Never expires; the least recently joined is evicted. Reported in key order.
    data_mdts: BoundedMap<(IpAddr, IpAddr, IpAddr), DataMdt>,
    /// (MDT, sender, upstream) → digest of the last Join/Prune's groups and last seen.
    /// Never expires: an entry only stops a repeat; the least recently seen is evicted.
    join_prunes: BoundedMap<(Option<IpAddr>, IpAddr, IpAddr), (u64, Timestamp)>,
    /// GRE to multicast groups: (PE, P-group) → traffic.
    /// Never expires; the least recently seen is evicted. Reported in key order.
    p_groups: BoundedMap<(IpAddr, IpAddr), GroupTraffic>,
    /// GRE that did not decode, sent to a multicast group: (PE, P-group, reason), reported once.
    /// Never expires: an entry only stops a repeat; the least recently seen is evicted.
    gre_errors: BoundedMap<(IpAddr, IpAddr, &'static str), Seen>,
    /// A PE's address inside its MDTs (inner source of its hellos and joins in GRE) → the PE
    /// (outer source), where the two differ: bare joins from it are that PE's.
    /// Never expires; the least recently seen is evicted.
    in_mdt: BoundedMap<IpAddr, (IpAddr, Seen)>,
    evictions: Evictions,
}

fn digest(jp: &JoinPrune) -> u64 {
    // DefaultHasher::new() uses fixed keys: the same groups hash the same in every run.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    jp.groups.hash(&mut h);
    h.finish()
}

/// The event about `flow` an observation carries, with `body`.
fn flow_event(flow: &FlowRef, kind: MdtKind, body: MdtDetails, sink: &Sink<'_>) -> Event {
    let body = Body::Mdt(body);
    Event {
        timestamp: flow.ts,
        flow_id: Some(flow.flow_id),
        origin: sink.origin.clone(),
        pcap_cnt: flow.pcap_cnt,
        event_type: body.event_type(),
        kind: kind.as_str(),
        severity: Severity::Info,
        parties: None,
        flow: Some(flow.fields.clone()),
        tunnel: flow.tunnel.clone(),
        body,
    }
}

impl MdtTables {
    /// `max_entries`: the bound on each table.
    pub fn new(max_entries: usize) -> Self {
        MdtTables {
            default_mdts: BoundedMap::new(max_entries, Duration::MAX),
            neighbors: BoundedMap::new(max_entries, Duration::MAX),
            data_mdts: BoundedMap::new(max_entries, Duration::MAX),
            join_prunes: BoundedMap::new(max_entries, Duration::MAX),
            p_groups: BoundedMap::new(max_entries, Duration::MAX),
            gre_errors: BoundedMap::new(max_entries, Duration::MAX),
            in_mdt: BoundedMap::new(max_entries, Duration::MAX),
            evictions: Evictions::default(),
        }
    }

    /// A (PE, default-MDT group) pair revealed by control traffic; the first sighting writes
    /// `event` (a `default_mdt`).
    pub(super) fn default_mdt_seen(
        &mut self,
        pe: IpAddr,
        p_group: IpAddr,
        event: Event,
        sink: &mut Sink<'_>,
    ) {
        let key = (pe, p_group);
        let now = event.timestamp;
        if let Some(seen) = self.default_mdts.touch(&key, now) {
            seen.last = now;
            return;
        }
        if self.default_mdts.insert(key, Seen::at(now), now).is_some() {
            self.evictions.default_mdts += 1;
            sink.counters.mdt.evicted_default_mdts += 1;
        }
        sink.emit(event);
    }

    /// A PIM Hello: neighbour state per MDT (new, restart, options, leaving).
    pub(super) fn hello(&mut self, base: PimDetails, h: Hello, flow: FlowRef, sink: &mut Sink<'_>) {
        let key = (base.default_mdt, base.neighbor);
        let now = flow.ts;
        if let Some(pe) = base.pe {
            self.learn_in_mdt_address(base.neighbor, pe, now, sink);
        }
        let leaving = h.holdtime == Some(0);
        let mut previous_generation_id = None;
        let hello_flow = |flow: &FlowRef| HelloFlow {
            flow_id: flow.flow_id,
            fields: flow.fields.clone(),
            tunnel: flow.tunnel.clone(),
        };
        let change = match self.neighbors.touch(&key, now) {
            None => {
                let n = Neighbor {
                    hello: h.clone(),
                    pe: base.pe,
                    state: if leaving {
                        NeighborState::Left
                    } else {
                        NeighborState::Up
                    },
                    restarts: 0,
                    hellos: 1,
                    seen: Seen::at(now),
                    flow: hello_flow(&flow),
                };
                if self.neighbors.insert(key, n, now).is_some() {
                    self.evictions.pim_neighbors += 1;
                    sink.counters.mdt.evicted_pim_neighbors += 1;
                }
                Some(if leaving {
                    PimChange::Leaving
                } else {
                    PimChange::New
                })
            }
            Some(n) => {
                let gone = n.state != NeighborState::Up || n.expired(now);
                if n.flow.flow_id != flow.flow_id || n.flow.tunnel != flow.tunnel {
                    n.flow = hello_flow(&flow);
                }
                let change = if leaving {
                    (n.state != NeighborState::Left).then_some(PimChange::Leaving)
                } else if gone {
                    Some(PimChange::New)
                } else if h.generation_id != n.hello.generation_id {
                    n.restarts += 1;
                    previous_generation_id = n.hello.generation_id;
                    Some(PimChange::Restart)
                } else if h != n.hello {
                    Some(PimChange::Options)
                } else {
                    None
                };
                n.state = if leaving {
                    NeighborState::Left
                } else {
                    NeighborState::Up
                };
                n.hello = h.clone();
                n.pe = base.pe;
                n.hellos += 1;
                n.seen.last = now;
                change
            }
        };
        let Some(change) = change else {
            sink.counters.mdt.pim_hello_refreshes += 1;
            return;
        };
        let d = PimDetails {
            change: Some(change),
            previous_generation_id,
            hello: Some(h),
            ..base
        };
        let event = flow_event(&flow, MdtKind::Pim, MdtDetails::Pim(Box::new(d)), sink);
        sink.emit(event);
    }

    /// A PIM Join/Prune: written when the sender's groups change.
    pub(super) fn join_prune(
        &mut self,
        base: PimDetails,
        jp: JoinPrune,
        flow: FlowRef,
        sink: &mut Sink<'_>,
    ) {
        let key = (base.default_mdt, base.neighbor, jp.upstream_neighbor);
        let dg = digest(&jp);
        match self.join_prunes.touch(&key, flow.ts) {
            Some(entry) if entry.0 == dg => {
                entry.1 = flow.ts;
                sink.counters.mdt.pim_join_prune_refreshes += 1;
                return;
            }
            Some(entry) => *entry = (dg, flow.ts),
            None => {
                if self
                    .join_prunes
                    .insert(key, (dg, flow.ts), flow.ts)
                    .is_some()
                {
                    self.evictions.join_prunes += 1;
                    sink.counters.mdt.evicted_join_prunes += 1;
                }
            }
        }
        let d = PimDetails {
            join_prune: Some(jp),
            ..base
        };
        let event = flow_event(&flow, MdtKind::Pim, MdtDetails::Pim(Box::new(d)), sink);
        sink.emit(event);
    }

    /// A Data-MDT Join TLV (C-source, C-group, P-group set): written when the C-flow is new or
    /// moves to another P-group.
    pub(super) fn data_mdt_join(
        &mut self,
        mut d: DataMdtJoinDetails,
        flow: FlowRef,
        sink: &mut Sink<'_>,
    ) {
        let (Some(c_source), Some(c_group), Some(p_group)) = (d.c_source, d.c_group, d.p_group)
        else {
            debug_assert!(
                false,
                "a Data-MDT join observation names its C-flow and P-group"
            );
            return;
        };
        if let Some(inner) = d.in_mdt_address {
            self.learn_in_mdt_address(inner, d.pe, flow.ts, sink);
        } else if d.p_group_default.is_none() {
            // A bare join from a known in-MDT address: that PE's.
            if let Some(&(pe, _)) = self.in_mdt.get(&d.pe) {
                d.in_mdt_address = Some(d.pe);
                d.pe = pe;
            }
        }
        let pe = d.pe;
        let (tlv_type, now) = (d.tlv_type, flow.ts);
        let key = (pe, c_source, c_group);
        match self.data_mdts.touch(&key, now) {
            Some(e) if e.p_group == p_group => {
                e.joins += 1;
                e.seen.last = now;
                sink.counters.mdt.join_refreshes += 1;
                return;
            }
            Some(e) => {
                d.previous_p_group = Some(e.p_group);
                *e = DataMdt {
                    p_group,
                    tlv_type,
                    joins: 1,
                    data_packets: 0,
                    seen: Seen {
                        first: e.seen.first,
                        last: now,
                    },
                };
            }
            None => {
                let e = DataMdt {
                    p_group,
                    tlv_type,
                    joins: 1,
                    data_packets: 0,
                    seen: Seen::at(now),
                };
                if self.data_mdts.insert(key, e, now).is_some() {
                    self.evictions.data_mdts += 1;
                    sink.counters.mdt.evicted_data_mdts += 1;
                }
            }
        }
        let event = flow_event(
            &flow,
            MdtKind::DataMdtJoin,
            MdtDetails::DataMdtJoin(d),
            sink,
        );
        sink.emit(event);
    }

    /// GRE to a multicast group: traffic per (PE, P-group); `inner` = the customer (S,G) when
    /// the payload is IP.
    pub(super) fn group_traffic(
        &mut self,
        pe: IpAddr,
        group: IpAddr,
        inner: Option<(IpAddr, IpAddr)>,
        mpls: bool,
        now: Timestamp,
        sink: &mut Sink<'_>,
    ) {
        match self.p_groups.touch(&(pe, group), now) {
            Some(g) => {
                g.packets += 1;
                g.mpls_packets += u64::from(mpls);
                g.seen.last = now;
            }
            None => {
                let g = GroupTraffic {
                    packets: 1,
                    mpls_packets: u64::from(mpls),
                    seen: Seen::at(now),
                };
                if self.p_groups.insert((pe, group), g, now).is_some() {
                    self.evictions.p_groups += 1;
                    sink.counters.mdt.evicted_p_groups += 1;
                }
            }
        }
        if let Some((s, g)) = inner {
            if let Some(e) = self.data_mdts.get_mut(&(pe, s, g)) {
                if e.p_group == group {
                    e.data_packets += 1;
                    sink.counters.mdt.data_mdt_packets += 1;
                }
            }
        }
    }

    /// Links a PE's in-MDT address (inner source) to the PE (outer source) when they differ.
    fn learn_in_mdt_address(
        &mut self,
        inner: IpAddr,
        pe: IpAddr,
        now: Timestamp,
        sink: &mut Sink<'_>,
    ) {
        let (inner, pe) = (inner.to_canonical(), pe.to_canonical());
        if inner == pe {
            return;
        }
        if let Some(entry) = self.in_mdt.touch(&inner, now) {
            *entry = (
                pe,
                Seen {
                    first: entry.1.first,
                    last: now,
                },
            );
            return;
        }
        if self
            .in_mdt
            .insert(inner, (pe, Seen::at(now)), now)
            .is_some()
        {
            sink.counters.mdt.evicted_in_mdt_addresses += 1;
        }
    }

    /// GRE that did not decode, sent to a group: `event` (a `malformed`) once per (PE, group,
    /// reason).
    pub(super) fn gre_error(
        &mut self,
        pe: IpAddr,
        group: IpAddr,
        reason: &'static str,
        event: Event,
        sink: &mut Sink<'_>,
    ) {
        let key = (pe, group, reason);
        if let Some(seen) = self.gre_errors.touch(&key, event.timestamp) {
            seen.last = event.timestamp;
            return;
        }
        if self
            .gre_errors
            .insert(key, Seen::at(event.timestamp), event.timestamp)
            .is_some()
        {
            self.evictions.gre_errors += 1;
            sink.counters.mdt.evicted_gre_errors += 1;
        }
        sink.emit(event);
    }

    fn inventory(&self, now: Timestamp) -> Inventory {
        let mut pes: BTreeMap<IpAddr, PeEntry> = BTreeMap::new();
        let mut groups: BTreeMap<IpAddr, DefaultMdtEntry> = BTreeMap::new();
        let mut default_mdts: Vec<((IpAddr, IpAddr), Seen)> = self
            .default_mdts
            .iter()
            .map(|(&key, &seen, _)| (key, seen))
            .collect();
        default_mdts.sort_unstable_by_key(|&(key, _)| key);
        for ((pe, group), seen) in default_mdts {
            let p = pes.entry(pe).or_insert_with(|| PeEntry {
                pe,
                in_mdt_addresses: Vec::new(),
                default_mdts: Vec::new(),
                data_mdts: 0,
                first_seen: seen.first,
                last_seen: seen.last,
            });
            p.default_mdts.push(group);
            p.first_seen = p.first_seen.min(seen.first);
            p.last_seen = p.last_seen.max(seen.last);
            let g = groups.entry(group).or_insert_with(|| DefaultMdtEntry {
                p_group: group,
                pes: Vec::new(),
                first_seen: seen.first,
                last_seen: seen.last,
            });
            g.pes.push(pe);
            g.first_seen = g.first_seen.min(seen.first);
            g.last_seen = g.last_seen.max(seen.last);
        }
        for (&(pe, _, _), e, _) in self.data_mdts.iter() {
            let p = pes.entry(pe).or_insert_with(|| PeEntry {
                pe,
                in_mdt_addresses: Vec::new(),
                default_mdts: Vec::new(),
                data_mdts: 0,
                first_seen: e.seen.first,
                last_seen: e.seen.last,
            });
            p.data_mdts += 1;
            p.first_seen = p.first_seen.min(e.seen.first);
            p.last_seen = p.last_seen.max(e.seen.last);
        }
        for (&inner, &(pe, _), _) in self.in_mdt.iter() {
            if let Some(p) = pes.get_mut(&pe) {
                p.in_mdt_addresses.push(inner);
            }
        }
        for p in pes.values_mut() {
            p.in_mdt_addresses.sort_unstable();
        }
        let state = |n: &Neighbor| match n.state {
            NeighborState::Up if n.expired(now) => NeighborState::Expired,
            other => other,
        };
        // DR election per MDT and address family (RFC 7761 §4.3.2): highest priority, then
        // highest address; by address alone if any neighbour omits the priority option.
        let link = |ctx: Option<IpAddr>, addr: IpAddr| (ctx, addr.is_ipv4());
        let mut neighbors: Vec<(NeighborKey, &Neighbor)> =
            self.neighbors.iter().map(|(&key, n, _)| (key, n)).collect();
        neighbors.sort_unstable_by_key(|&(key, _)| key);
        let mut all_have_priority: BTreeMap<(Option<IpAddr>, bool), bool> = BTreeMap::new();
        for &((ctx, addr), n) in &neighbors {
            if state(n) == NeighborState::Up {
                let all = all_have_priority.entry(link(ctx, addr)).or_insert(true);
                *all &= n.hello.dr_priority.is_some();
            }
        }
        let mut dr: BTreeMap<(Option<IpAddr>, bool), (u32, IpAddr)> = BTreeMap::new();
        for &((ctx, addr), n) in &neighbors {
            if state(n) != NeighborState::Up {
                continue;
            }
            let l = link(ctx, addr);
            let prio = if all_have_priority[&l] {
                n.hello.dr_priority.unwrap_or(1)
            } else {
                0
            };
            let best = dr.entry(l).or_insert((prio, addr));
            if (prio, addr) > *best {
                *best = (prio, addr);
            }
        }
        let pim_neighbors = neighbors
            .iter()
            .map(|&((ctx, addr), n)| NeighborEntry {
                neighbor: addr,
                default_mdt: ctx,
                pe: n.pe,
                dr_priority: n.hello.dr_priority,
                dr: dr.get(&link(ctx, addr)).is_some_and(|b| b.1 == addr)
                    && state(n) == NeighborState::Up,
                holdtime: n.hello.holdtime,
                generation_id: n.hello.generation_id,
                state: state(n),
                restarts: n.restarts,
                hellos: n.hellos,
                first_seen: n.seen.first,
                last_seen: n.seen.last,
            })
            .collect();
        let mut data_mdts: Vec<DataMdtEntry> = self
            .data_mdts
            .iter()
            .map(|(&(pe, c_source, c_group), e, _)| DataMdtEntry {
                pe,
                c_source,
                c_group,
                p_group: e.p_group,
                tlv_type: e.tlv_type,
                joins: e.joins,
                data_packets: e.data_packets,
                first_seen: e.seen.first,
                last_seen: e.seen.last,
            })
            .collect();
        data_mdts.sort_unstable_by_key(|e| (e.pe, e.c_source, e.c_group));
        let data_groups: std::collections::BTreeSet<(IpAddr, IpAddr)> = self
            .data_mdts
            .iter()
            .map(|(k, e, _)| (k.0, e.p_group))
            .collect();
        let mut p_groups: Vec<PGroupEntry> = self
            .p_groups
            .iter()
            .map(|(&(pe, p_group), g, _)| {
                let role = if self.default_mdts.contains_key(&(pe, p_group)) {
                    PGroupRole::Default
                } else if data_groups.contains(&(pe, p_group)) {
                    PGroupRole::Data
                } else {
                    PGroupRole::Unknown
                };
                PGroupEntry {
                    pe,
                    p_group,
                    role,
                    packets: g.packets,
                    mpls_packets: g.mpls_packets,
                    first_seen: g.seen.first,
                    last_seen: g.seen.last,
                }
            })
            .collect();
        p_groups.sort_unstable_by_key(|g| (g.pe, g.p_group));
        Inventory {
            pes: pes.into_values().collect(),
            default_mdts: groups.into_values().collect(),
            pim_neighbors,
            data_mdts,
            p_groups,
            evictions: self.evictions.clone(),
        }
    }

    /// Neighbours whose holdtime ran out by `now` leave with a `pim` `expired` event, stamped
    /// with the moment the holdtime ended.
    pub(super) fn expire_neighbors(&mut self, now: Timestamp, sink: &mut Sink<'_>) {
        let mut expired: Vec<NeighborKey> = self
            .neighbors
            .iter()
            .filter(|(_, n, _)| n.state == NeighborState::Up && n.expired(now))
            .map(|(&key, _, _)| key)
            .collect();
        expired.sort_unstable();
        for key in expired {
            let (default_mdt, neighbor) = key;
            // Not a sighting: the entry keeps its place in the recency order.
            let n = self.neighbors.get_mut(&key).expect("listed above");
            n.state = NeighborState::Expired;
            sink.counters.mdt.pim_neighbors_expired += 1;
            let d = PimDetails {
                // PIM type 0, Hello (RFC 7761 §4.9.2), as the MDT classifier names it.
                pim_type: "hello",
                pim_type_code: 0,
                neighbor,
                default_mdt,
                pe: n.pe,
                change: Some(PimChange::Expired),
                previous_generation_id: None,
                hello: Some(n.hello.clone()),
                join_prune: None,
                length: None,
            };
            let body = Body::Mdt(MdtDetails::Pim(Box::new(d)));
            let at = n.expires_at().unwrap_or(now);
            let mut e = Event::global(at, sink.origin.clone(), MdtKind::Pim, Severity::Info, body);
            e.flow_id = Some(n.flow.flow_id);
            e.flow = Some(n.flow.fields.clone());
            e.tunnel = n.flow.tunnel.clone();
            sink.emit(e);
        }
    }

    fn is_empty(&self) -> bool {
        self.default_mdts.is_empty()
            && self.neighbors.is_empty()
            && self.data_mdts.is_empty()
            && self.join_prunes.is_empty()
            && self.p_groups.is_empty()
    }
}

impl MdtTables {
    /// The `inventory` event: PEs, default MDTs, neighbours, C-flows (nothing when empty).
    pub(super) fn report_inventory(&mut self, now: Timestamp, sink: &mut Sink<'_>) {
        if self.is_empty() {
            return;
        }
        self.expire_neighbors(now, sink);
        let inv = self.inventory(now);
        let body = Body::Mdt(MdtDetails::Inventory(Box::new(inv)));
        sink.emit(Event::global(
            now,
            sink.origin.clone(),
            MdtKind::Inventory,
            Severity::Info,
            body,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_drops_its_least_recently_seen_entry() {
        let origin = crate::event::Origin::default();
        let mut counters = crate::stats::Counters::default();
        let mut events = Vec::new();
        let mut sink = Sink {
            counters: &mut counters,
            events: &mut events,
            origin: &origin,
        };
        let mut tables = MdtTables::new(4);
        let ip = |n: u8| IpAddr::from([192, 0, 2, n]);
        let group = IpAddr::from([239, 1, 1, 1]);
        for n in 1..=4u8 {
            tables.group_traffic(
                ip(n),
                group,
                None,
                false,
                Timestamp(i64::from(n)),
                &mut sink,
            );
        }
        // Seeing the oldest again saves it: the next oldest goes, one at a time.
        tables.group_traffic(ip(1), group, None, false, Timestamp(10), &mut sink);
        tables.group_traffic(ip(9), group, None, false, Timestamp(11), &mut sink);
        let mut kept: Vec<IpAddr> = tables.p_groups.iter().map(|(k, _, _)| k.0).collect();
        kept.sort_unstable();
        assert_eq!(kept, [ip(1), ip(3), ip(4), ip(9)]);
        assert_eq!(tables.evictions.p_groups, 1);
        assert_eq!(sink.counters.mdt.evicted_p_groups, 1);
        // A bound of 0 keeps exactly the newest entry.
        let mut one = MdtTables::new(0);
        one.group_traffic(ip(1), group, None, false, Timestamp(1), &mut sink);
        one.group_traffic(ip(2), group, None, false, Timestamp(2), &mut sink);
        assert_eq!((one.p_groups.len(), one.evictions.p_groups), (1, 1));
        assert!(one.p_groups.contains_key(&(ip(2), group)));
    }

    #[test]
    fn neighbour_expiry_follows_the_holdtime() {
        let mut n = Neighbor {
            hello: Hello {
                holdtime: Some(17),
                ..Hello::default()
            },
            pe: None,
            state: NeighborState::Up,
            restarts: 0,
            hellos: 1,
            seen: Seen::at(Timestamp(1_000_000)),
            flow: HelloFlow {
                flow_id: 1,
                fields: FlowFields {
                    src_ip: "192.0.2.1".parse().unwrap(),
                    src_port: None,
                    dest_ip: "224.0.0.13".parse().unwrap(),
                    dest_port: None,
                    proto: "PIM",
                    community_id: "".into(),
                },
                tunnel: None,
            },
        };
        assert_eq!(n.expires_at(), Some(Timestamp(18_000_000)));
        assert!(!n.expired(Timestamp(18_000_000)) && n.expired(Timestamp(18_000_001)));
        n.hello.holdtime = None; // RFC 7761 §4.11 Default_Hello_Holdtime, 105 s
        assert_eq!(n.expires_at(), Some(Timestamp(106_000_000)));
        n.hello.holdtime = Some(0xffff);
        assert_eq!(n.expires_at(), None);
    }
}
