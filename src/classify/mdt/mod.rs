//! Multicast-VPN "MDT" (RFC 6037, RFC 6513/6516): default MDTs (GRE to a provider group),
//! PIM peering between PEs inside them, Data-MDT Joins on UDP 3232, and an end-of-run
//! inventory. Facts: shared/docs/mdt.md; what is reported: docs/mdt.md.
//!
//! `pim` and `join` are the pure parsers; this module keeps the bounded MDT tables (PEs,
//! default MDTs, PIM neighbours, C-(S,G) → P-group) and turns changes into events.

pub mod join;
pub mod pim;

use super::{AppState, Classifier, Context, Flow, Interest, Malformed, Pkt, Resembled, Verdict};
use crate::decode::gre::GreSlice;
use crate::decode::{DecodeError, Layer, Transport, Tunnel, IPPROTO_GRE, IPPROTO_PIM};
use crate::event::mdt::{
    DataMdtEntry, DataMdtJoinDetails, DefaultMdtDetails, DefaultMdtEntry, Evictions, Hello,
    Inventory, JoinPrune, MalformedDetails, MalformedProtocol, MdtDetails, MdtKind, NeighborEntry,
    NeighborState, PGroupEntry, PGroupRole, PeEntry, PimChange, PimDetails, SeenVia,
};
use crate::event::{Body, Event, FlowFields, Severity, TunnelFields};
use crate::flow::community_id::community_id_v1;
use crate::packet::Packet;
use crate::stats::MdtCounters;
use crate::time::Timestamp;
use join::{parse_joins, JoinError, JoinTlv, MDT_PORT};
use pim::{PimError, PimPacket, PimType};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Default bound on each MDT table (PE/group pairs, neighbours, C-flows, join/prune senders).
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

const ALL_PIM_ROUTERS_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 13);
const ALL_PIM_ROUTERS_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xd);

fn is_all_pim_routers(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => a == ALL_PIM_ROUTERS_V4,
        IpAddr::V6(a) => a == ALL_PIM_ROUTERS_V6,
    }
}

/// What one flow has already reported (so repeats are counted, not re-reported).
#[derive(Debug, Default)]
pub struct MdtFlow {
    /// Bit `t` set: the first PIM message of type `t` (other than Hello/Join-Prune) was reported.
    other_pim_reported: u64,
    malformed_pim_reported: bool,
    malformed_join_reported: bool,
    /// Unknown join TLV types already reported.
    unknown_tlvs_reported: Vec<u8>,
}

fn flow_state(flow: &mut Flow) -> &mut MdtFlow {
    if !matches!(flow.app, AppState::Mdt(_)) {
        flow.app = AppState::Mdt(Box::default());
    }
    match &mut flow.app {
        AppState::Mdt(s) => s,
        _ => unreachable!("set just above"),
    }
}

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

/// Inserts into a bounded table. When it is full, the eighth of the entries seen longest ago
/// makes room (one pass per batch, so a flood of new keys costs O(log n) per insert, amortised).
/// Returns how many entries were dropped.
fn insert_bounded<K: Ord + Clone, V>(
    map: &mut BTreeMap<K, V>,
    cap: usize,
    key: K,
    value: V,
    last: impl Fn(&V) -> Timestamp,
) -> u64 {
    let cap = cap.max(1);
    let mut evicted = 0;
    if !map.contains_key(&key) && map.len() >= cap {
        let batch = (cap / 8).max(1).min(map.len());
        let mut ages: Vec<(Timestamp, K)> = map.iter().map(|(k, v)| (last(v), k.clone())).collect();
        ages.select_nth_unstable_by(batch - 1, |a, b| a.0.cmp(&b.0));
        for (_, k) in ages.drain(..batch) {
            map.remove(&k);
            evicted += 1;
        }
    }
    map.insert(key, value);
    evicted
}

/// Neighbours are per MDT: (default-MDT group or `None` for bare PIM, sender).
type NeighborKey = (Option<IpAddr>, IpAddr);

pub struct Mdt {
    cap: usize,
    default_mdts: BTreeMap<(IpAddr, IpAddr), Seen>,
    neighbors: BTreeMap<NeighborKey, Neighbor>,
    /// (PE, C-source, C-group) → P-group.
    data_mdts: BTreeMap<(IpAddr, IpAddr, IpAddr), DataMdt>,
    /// (MDT, sender, upstream) → digest of the last Join/Prune's groups and last seen.
    join_prunes: BTreeMap<(Option<IpAddr>, IpAddr, IpAddr), (u64, Timestamp)>,
    /// GRE to multicast groups: (PE, P-group) → traffic.
    p_groups: BTreeMap<(IpAddr, IpAddr), GroupTraffic>,
    /// GRE that did not decode, sent to a multicast group: (PE, P-group, reason), reported once.
    gre_errors: BTreeMap<(IpAddr, IpAddr, &'static str), Seen>,
    evictions: Evictions,
}

impl Mdt {
    /// `max_entries`: the bound on each table.
    pub fn new(max_entries: usize) -> Self {
        Mdt {
            cap: max_entries,
            default_mdts: BTreeMap::new(),
            neighbors: BTreeMap::new(),
            data_mdts: BTreeMap::new(),
            join_prunes: BTreeMap::new(),
            p_groups: BTreeMap::new(),
            gre_errors: BTreeMap::new(),
            evictions: Evictions::default(),
        }
    }
}

/// The tunnel of a packet when it is GRE to a multicast (provider) group.
fn mdt_tunnel(pkt: &Pkt<'_>) -> Option<Tunnel> {
    pkt.decoded.tunnel.filter(|t| t.outer_dst.is_multicast())
}

/// Emits an event about `flow` with the tunnel *this* packet came in (a flow's stored tunnel is
/// its first packet's; the same inner flow can arrive bare and in GRE).
/// A `pim` event (always `info`) about the packet at hand.
fn emit_pim(cx: &mut Context<'_>, pkt: &Pkt<'_>, flow: &mut Flow, d: PimDetails) {
    emit(
        cx,
        pkt,
        flow,
        MdtKind::Pim,
        Severity::Info,
        MdtDetails::Pim(Box::new(d)),
    );
}

fn emit(
    cx: &mut Context<'_>,
    pkt: &Pkt<'_>,
    flow: &mut Flow,
    kind: MdtKind,
    sev: Severity,
    d: MdtDetails,
) {
    let stored = std::mem::replace(&mut flow.tunnel, pkt.decoded.tunnel);
    let reverse = flow.endpoints.src != pkt.decoded.net.src;
    cx.emit_flow_event(
        pkt.ts,
        Some(pkt.index),
        flow,
        reverse,
        kind,
        sev,
        Body::Mdt(d),
    );
    flow.tunnel = stored;
}

/// The outermost IP source and destination of a frame that did not decode further.
fn outer_addresses(packet: &Packet<'_>) -> Option<(IpAddr, IpAddr)> {
    let link = crate::decode::link::parse(packet.link, packet.data).ok()?;
    let ip = packet.data.get(link.offset..)?;
    let (slice, _) = etherparse::LaxIpSlice::from_slice(ip).ok()?;
    Some((slice.source_addr(), slice.destination_addr()))
}

fn tunnel_fields(t: Tunnel) -> TunnelFields {
    TunnelFields {
        src_ip: t.outer_src,
        dest_ip: t.outer_dst,
        proto: "GRE",
        gre_key: t.key,
        depth: t.depth,
    }
}

fn pim_error_counter<'c>(c: &'c mut MdtCounters, e: &PimError) -> &'c mut u64 {
    match e {
        PimError::Truncated { .. } => &mut c.pim_truncated,
        PimError::Version(_) => &mut c.pim_bad_version,
        PimError::Checksum { .. } => &mut c.pim_bad_checksum,
        PimError::OptionPastEnd { .. } => &mut c.pim_option_past_end,
        PimError::OptionLength { .. } => &mut c.pim_option_length,
        PimError::AddressFamily { .. } => &mut c.pim_address_family,
        PimError::EncodingType { .. } => &mut c.pim_encoding_type,
        PimError::MaskLength { .. } => &mut c.pim_mask_length,
        PimError::TrailingBytes { .. } => &mut c.pim_trailing_bytes,
    }
}

fn join_error_counter<'c>(c: &'c mut MdtCounters, e: &JoinError) -> &'c mut u64 {
    match e {
        JoinError::Empty => &mut c.join_empty,
        JoinError::Truncated { .. } => &mut c.join_truncated,
        JoinError::LengthTooShort { .. } => &mut c.join_length_too_short,
        JoinError::PastEnd { .. } => &mut c.join_past_end,
        JoinError::BadLength { .. } => &mut c.join_bad_length,
    }
}

fn digest(jp: &JoinPrune) -> u64 {
    // DefaultHasher::new() uses fixed keys: the same groups hash the same in every run.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    jp.groups.hash(&mut h);
    h.finish()
}

impl Mdt {
    /// Records a (PE, default-MDT group) pair revealed by control traffic; the first sighting
    /// is an event.
    fn see_default_mdt(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        t: Tunnel,
        via: SeenVia,
    ) {
        let key = (t.outer_src, t.outer_dst);
        if let Some(seen) = self.default_mdts.get_mut(&key) {
            seen.last = pkt.ts;
            return;
        }
        let dropped = insert_bounded(
            &mut self.default_mdts,
            self.cap,
            key,
            Seen::at(pkt.ts),
            |s| s.last,
        );
        if dropped > 0 {
            self.evictions.default_mdts += dropped;
            cx.counters.mdt.evicted_default_mdts += dropped;
        }
        let d = DefaultMdtDetails {
            pe: t.outer_src,
            p_group: t.outer_dst,
            first_seen: pkt.ts,
            seen_via: via,
        };
        emit(
            cx,
            pkt,
            flow,
            MdtKind::DefaultMdt,
            Severity::Info,
            MdtDetails::DefaultMdt(d),
        );
    }

    fn malformed(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        protocol: MalformedProtocol,
        reason: &'static str,
        error: String,
    ) {
        let st = flow_state(flow);
        let reported = if protocol == MalformedProtocol::Pim {
            &mut st.malformed_pim_reported
        } else {
            &mut st.malformed_join_reported
        };
        if std::mem::replace(reported, true) {
            return;
        }
        let d = MalformedDetails {
            protocol,
            reason,
            error,
        };
        emit(
            cx,
            pkt,
            flow,
            MdtKind::Malformed,
            Severity::Low,
            MdtDetails::Malformed(d),
        );
    }

    fn on_pim(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        payload: &[u8],
    ) -> Verdict {
        cx.counters.mdt.pim_messages += 1;
        let net = pkt.decoded.net;
        let tunnel = mdt_tunnel(pkt);
        let parsed = PimPacket::new_checked(payload).and_then(|p| {
            if net.truncated {
                cx.counters.mdt.pim_checksum_unverified += 1;
            } else {
                p.verify_checksum(net.src, net.dst)?;
            }
            Ok(p)
        });
        let p = match parsed {
            Ok(p) => p,
            Err(e) => return self.bad_pim(cx, pkt, flow, e),
        };
        if let Some(t) = tunnel {
            self.see_default_mdt(cx, pkt, flow, t, SeenVia::Pim);
        }
        let base = PimDetails {
            pim_type: p.msg_type().name(),
            pim_type_code: p.msg_type().code(),
            neighbor: net.src,
            default_mdt: tunnel.map(|t| t.outer_dst),
            pe: tunnel.map(|t| t.outer_src),
            change: None,
            previous_generation_id: None,
            hello: None,
            join_prune: None,
            length: None,
        };
        match p.msg_type() {
            PimType::Hello => match Hello::parse(p.body()) {
                Ok(h) => self.on_hello(cx, pkt, flow, base, h),
                Err(e) => return self.bad_pim(cx, pkt, flow, e),
            },
            PimType::JoinPrune => match JoinPrune::parse(p.body()) {
                Ok(jp) => self.on_join_prune(cx, pkt, flow, base, jp),
                Err(e) => return self.bad_pim(cx, pkt, flow, e),
            },
            other => {
                cx.counters.mdt.pim_other_types += 1;
                let bit = 1u64 << (other.code() & 63);
                let st = flow_state(flow);
                if st.other_pim_reported & bit == 0 {
                    st.other_pim_reported |= bit;
                    let d = PimDetails {
                        length: Some(p.len()),
                        ..base
                    };
                    emit_pim(cx, pkt, flow, d);
                }
            }
        }
        Verdict::Claim
    }

    fn bad_pim(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        e: PimError,
    ) -> Verdict {
        cx.counters.mdt.pim_malformed += 1;
        *pim_error_counter(&mut cx.counters.mdt, &e) += 1;
        tracing::debug!(error = %e, pcap_cnt = pkt.index, "PIM message not accepted");
        if mdt_tunnel(pkt).is_some()
            || is_all_pim_routers(pkt.decoded.net.dst)
            || flow.owner.is_some()
        {
            self.malformed(
                cx,
                pkt,
                flow,
                MalformedProtocol::Pim,
                e.reason(),
                e.to_string(),
            );
            Verdict::Claim
        } else {
            // Unicast PIM that does not parse: the anomaly path reports it.
            if flow.malformed.is_none() {
                flow.malformed = Some(Malformed {
                    protocol: Resembled::Mdt,
                    error: e.to_string(),
                });
            }
            Verdict::Decline
        }
    }

    fn on_hello(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        base: PimDetails,
        h: Hello,
    ) {
        cx.counters.mdt.pim_hellos += 1;
        let key = (base.default_mdt, base.neighbor);
        let now = pkt.ts;
        let leaving = h.holdtime == Some(0);
        let mut previous_generation_id = None;
        let hello_flow = |flow: &mut Flow| HelloFlow {
            flow_id: flow.id,
            fields: flow.fields_oriented(
                cx.config.community_id_seed,
                flow.endpoints.src != base.neighbor,
            ),
            tunnel: pkt.decoded.tunnel.map(tunnel_fields),
        };
        let change = match self.neighbors.get_mut(&key) {
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
                    flow: hello_flow(flow),
                };
                let dropped =
                    insert_bounded(&mut self.neighbors, self.cap, key, n, |n| n.seen.last);
                if dropped > 0 {
                    self.evictions.pim_neighbors += dropped;
                    cx.counters.mdt.evicted_pim_neighbors += dropped;
                }
                Some(if leaving {
                    PimChange::Leaving
                } else {
                    PimChange::New
                })
            }
            Some(n) => {
                let gone = n.state != NeighborState::Up || n.expired(now);
                if n.flow.flow_id != flow.id
                    || n.flow.tunnel != pkt.decoded.tunnel.map(tunnel_fields)
                {
                    n.flow = hello_flow(flow);
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
            cx.counters.mdt.pim_hello_refreshes += 1;
            return;
        };
        let d = PimDetails {
            change: Some(change),
            previous_generation_id,
            hello: Some(h),
            ..base
        };
        emit_pim(cx, pkt, flow, d);
    }

    fn on_join_prune(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        base: PimDetails,
        jp: JoinPrune,
    ) {
        cx.counters.mdt.pim_join_prunes += 1;
        let key = (base.default_mdt, base.neighbor, jp.upstream_neighbor);
        let dg = digest(&jp);
        match self.join_prunes.get_mut(&key) {
            Some(entry) if entry.0 == dg => {
                entry.1 = pkt.ts;
                cx.counters.mdt.pim_join_prune_refreshes += 1;
                return;
            }
            Some(entry) => *entry = (dg, pkt.ts),
            None => {
                let dropped =
                    insert_bounded(&mut self.join_prunes, self.cap, key, (dg, pkt.ts), |e| e.1);
                if dropped > 0 {
                    self.evictions.join_prunes += dropped;
                    cx.counters.mdt.evicted_join_prunes += dropped;
                }
            }
        }
        let d = PimDetails {
            join_prune: Some(jp),
            ..base
        };
        emit_pim(cx, pkt, flow, d);
    }

    fn on_udp(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        payload: &[u8],
    ) -> Verdict {
        let tunnel = mdt_tunnel(pkt);
        let (tlvs, mixed) = match parse_joins(payload) {
            Ok(parsed) => parsed,
            Err(e) => {
                cx.counters.mdt.join_malformed += 1;
                *join_error_counter(&mut cx.counters.mdt, &e) += 1;
                tracing::debug!(error = %e, pcap_cnt = pkt.index, "UDP 3232 payload is not an MDT Join");
                // Only a datagram that resembles a Join is "malformed MDT"; anything else on
                // UDP 3232 (a scan probe, another service) is left to the anomaly path's own
                // judgement, unlabelled.
                if flow.malformed.is_none() && resembles_join(pkt, payload, tunnel.is_some()) {
                    flow.malformed = Some(Malformed {
                        protocol: Resembled::Mdt,
                        error: e.to_string(),
                    });
                }
                // Inside an MDT (or a flow already known as joins) keep the flow, so later
                // valid joins from the same PE are still seen; elsewhere the anomaly path
                // reports it.
                if tunnel.is_some()
                    || is_all_pim_routers(pkt.decoded.net.dst)
                    || flow.owner.is_some()
                {
                    self.malformed(
                        cx,
                        pkt,
                        flow,
                        MalformedProtocol::DataMdtJoin,
                        e.reason(),
                        e.to_string(),
                    );
                    return Verdict::Claim;
                }
                return Verdict::Decline;
            }
        };
        cx.counters.mdt.join_datagrams += 1;
        if mixed {
            cx.counters.mdt.join_mixed_types += 1;
        }
        if tunnel.is_none() {
            cx.counters.mdt.join_bare += 1;
        }
        if let Some(t) = tunnel {
            self.see_default_mdt(cx, pkt, flow, t, SeenVia::DataMdtJoin);
        }
        for tlv in tlvs {
            self.on_join_tlv(cx, pkt, flow, tunnel, tlv);
        }
        Verdict::Claim
    }

    fn on_join_tlv(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        tunnel: Option<Tunnel>,
        tlv: JoinTlv<'_>,
    ) {
        cx.counters.mdt.join_tlvs += 1;
        let pe = pkt.decoded.net.src.to_canonical();
        let mut d = DataMdtJoinDetails {
            tlv_type: tlv.tlv_type(),
            pe,
            c_source: None,
            c_group: None,
            p_group: None,
            encapsulated: pkt.decoded.tunnel.is_some(),
            p_group_default: tunnel.map(|t| t.outer_dst),
            previous_p_group: None,
            tlv_length: None,
            value_hex: None,
        };
        let (c_source, c_group, p_group) = match tlv {
            JoinTlv::V4 {
                c_source,
                c_group,
                p_group,
            } => (c_source.into(), c_group.into(), p_group.into()),
            JoinTlv::V6 {
                c_source,
                c_group,
                p_group,
            } => (c_source.into(), c_group.into(), p_group.into()),
            JoinTlv::Unknown {
                tlv_type,
                length,
                value,
            } => {
                cx.counters.mdt.join_unknown_types += 1;
                let st = flow_state(flow);
                if st.unknown_tlvs_reported.contains(&tlv_type) {
                    return;
                }
                st.unknown_tlvs_reported.push(tlv_type);
                d.tlv_length = Some(length);
                d.value_hex = Some(value.iter().take(64).map(|b| format!("{b:02x}")).collect());
                emit(
                    cx,
                    pkt,
                    flow,
                    MdtKind::DataMdtJoin,
                    Severity::Info,
                    MdtDetails::DataMdtJoin(d),
                );
                return;
            }
        };
        let (tlv_type, now) = (d.tlv_type, pkt.ts);
        let key = (pe, c_source, c_group);
        match self.data_mdts.get_mut(&key) {
            Some(e) if e.p_group == p_group => {
                e.joins += 1;
                e.seen.last = now;
                cx.counters.mdt.join_refreshes += 1;
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
                let dropped =
                    insert_bounded(&mut self.data_mdts, self.cap, key, e, |e| e.seen.last);
                if dropped > 0 {
                    self.evictions.data_mdts += dropped;
                    cx.counters.mdt.evicted_data_mdts += dropped;
                }
            }
        }
        d.c_source = Some(c_source);
        d.c_group = Some(c_group);
        d.p_group = Some(p_group);
        emit(
            cx,
            pkt,
            flow,
            MdtKind::DataMdtJoin,
            Severity::Info,
            MdtDetails::DataMdtJoin(d),
        );
    }

    /// GRE to a multicast group: traffic per (PE, P-group); `inner` = the customer (S,G) when
    /// the payload is IP.
    fn on_group_traffic(
        &mut self,
        cx: &mut Context<'_>,
        pe: IpAddr,
        group: IpAddr,
        inner: Option<(IpAddr, IpAddr)>,
        mpls: bool,
        now: Timestamp,
    ) {
        match self.p_groups.get_mut(&(pe, group)) {
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
                let dropped = insert_bounded(&mut self.p_groups, self.cap, (pe, group), g, |g| {
                    g.seen.last
                });
                if dropped > 0 {
                    self.evictions.p_groups += dropped;
                    cx.counters.mdt.evicted_p_groups += dropped;
                }
            }
        }
        if let Some((s, g)) = inner {
            if let Some(e) = self.data_mdts.get_mut(&(pe, s, g)) {
                if e.p_group == group {
                    e.data_packets += 1;
                    cx.counters.mdt.data_mdt_packets += 1;
                }
            }
        }
    }

    fn inventory(&self, now: Timestamp) -> Inventory {
        let mut pes: BTreeMap<IpAddr, PeEntry> = BTreeMap::new();
        let mut groups: BTreeMap<IpAddr, DefaultMdtEntry> = BTreeMap::new();
        for (&(pe, group), seen) in &self.default_mdts {
            let p = pes.entry(pe).or_insert_with(|| PeEntry {
                pe,
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
        for (&(pe, _, _), e) in &self.data_mdts {
            let p = pes.entry(pe).or_insert_with(|| PeEntry {
                pe,
                default_mdts: Vec::new(),
                data_mdts: 0,
                first_seen: e.seen.first,
                last_seen: e.seen.last,
            });
            p.data_mdts += 1;
            p.first_seen = p.first_seen.min(e.seen.first);
            p.last_seen = p.last_seen.max(e.seen.last);
        }
        let state = |n: &Neighbor| match n.state {
            NeighborState::Up if n.expired(now) => NeighborState::Expired,
            other => other,
        };
        // DR election per MDT and address family (RFC 7761 §4.3.2): highest priority, then
        // highest address; by address alone if any neighbour omits the priority option.
        let link = |ctx: Option<IpAddr>, addr: IpAddr| (ctx, addr.is_ipv4());
        let mut all_have_priority: BTreeMap<(Option<IpAddr>, bool), bool> = BTreeMap::new();
        for (&(ctx, addr), n) in &self.neighbors {
            if state(n) == NeighborState::Up {
                let all = all_have_priority.entry(link(ctx, addr)).or_insert(true);
                *all &= n.hello.dr_priority.is_some();
            }
        }
        let mut dr: BTreeMap<(Option<IpAddr>, bool), (u32, IpAddr)> = BTreeMap::new();
        for (&(ctx, addr), n) in &self.neighbors {
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
        let pim_neighbors = self
            .neighbors
            .iter()
            .map(|(&(ctx, addr), n)| NeighborEntry {
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
        let data_mdts = self
            .data_mdts
            .iter()
            .map(|(&(pe, c_source, c_group), e)| DataMdtEntry {
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
        let data_groups: std::collections::BTreeSet<(IpAddr, IpAddr)> = self
            .data_mdts
            .iter()
            .map(|(k, e)| (k.0, e.p_group))
            .collect();
        let p_groups = self
            .p_groups
            .iter()
            .map(|(&(pe, p_group), g)| {
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
    fn expire_neighbors(&mut self, cx: &mut Context<'_>, now: Timestamp) {
        for (&(default_mdt, neighbor), n) in self.neighbors.iter_mut() {
            if n.state != NeighborState::Up || !n.expired(now) {
                continue;
            }
            n.state = NeighborState::Expired;
            cx.counters.mdt.pim_neighbors_expired += 1;
            let d = PimDetails {
                pim_type: PimType::Hello.name(),
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
            let mut e = Event::global(at, cx.origin.clone(), MdtKind::Pim, Severity::Info, body);
            e.flow_id = Some(n.flow.flow_id);
            e.flow = Some(n.flow.fields.clone());
            e.tunnel = n.flow.tunnel.clone();
            cx.emit(e);
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

impl Classifier for Mdt {
    fn name(&self) -> &'static str {
        "mdt"
    }

    fn interests(&self, interest: &mut Interest) {
        interest.add_protocol(IPPROTO_PIM);
        // GRE whose payload is not IP (MPLS…) stops decoding at the GRE header: counted here.
        interest.add_protocol(IPPROTO_GRE);
        interest.add_udp_port(MDT_PORT);
        interest.tunnelled = true;
    }

    fn on_packet(&mut self, cx: &mut Context<'_>, pkt: &Pkt<'_>, flow: &mut Flow) -> Verdict {
        let d = pkt.decoded;
        if let Some(t) = d.tunnel {
            if t.checksum_ok == Some(false) {
                cx.counters.mdt.gre_bad_checksum += 1;
            }
        }
        match d.transport {
            Transport::Other(payload) if d.net.proto == IPPROTO_PIM => {
                if let Some(t) = mdt_tunnel(pkt) {
                    self.on_group_traffic(cx, t.outer_src, t.outer_dst, None, false, pkt.ts);
                }
                self.on_pim(cx, pkt, flow, payload)
            }
            Transport::Other(payload) if d.net.proto == IPPROTO_GRE => {
                // GRE carrying something other than IP: the decoder stopped at its header.
                let mpls = match GreSlice::from_slice(payload).map(|g| g.protocol_type()) {
                    Ok(0x8847) | Ok(0x8848) => {
                        cx.counters.mdt.gre_mpls += 1;
                        true
                    }
                    Ok(_) => {
                        cx.counters.mdt.gre_other_payload += 1;
                        false
                    }
                    Err(_) => return Verdict::Decline,
                };
                if d.net.dst.is_multicast() {
                    self.on_group_traffic(cx, d.net.src, d.net.dst, None, mpls, pkt.ts);
                }
                Verdict::Claim
            }
            Transport::Udp(u) if u.dst_port == MDT_PORT || u.src_port == MDT_PORT => {
                if let Some(t) = mdt_tunnel(pkt) {
                    self.on_group_traffic(cx, t.outer_src, t.outer_dst, None, false, pkt.ts);
                }
                self.on_udp(cx, pkt, flow, u.payload)
            }
            _ => match mdt_tunnel(pkt) {
                Some(t) => {
                    // Customer traffic in a provider group.
                    cx.counters.mdt.gre_customer_packets += 1;
                    let inner = Some((d.net.src, d.net.dst));
                    self.on_group_traffic(cx, t.outer_src, t.outer_dst, inner, false, pkt.ts);
                    Verdict::Claim
                }
                None => Verdict::Decline,
            },
        }
    }

    /// GRE that does not decode (bad version, RFC 1701 bits, truncated, nested too deep) sent to
    /// a multicast group: a `malformed` event once per (PE, P-group, reason); every one counted.
    fn on_decode_error(&mut self, cx: &mut Context<'_>, packet: &Packet<'_>, error: &DecodeError) {
        if error.layer() != Layer::Gre {
            return;
        }
        let Some((pe, group)) = outer_addresses(packet) else {
            return;
        };
        if !group.is_multicast() {
            return;
        }
        cx.counters.mdt.gre_errors_to_groups += 1;
        let key = (pe, group, error.kind());
        if let Some(seen) = self.gre_errors.get_mut(&key) {
            seen.last = packet.ts;
            return;
        }
        let dropped = insert_bounded(
            &mut self.gre_errors,
            self.cap,
            key,
            Seen::at(packet.ts),
            |s| s.last,
        );
        if dropped > 0 {
            self.evictions.gre_errors += dropped;
            cx.counters.mdt.evicted_gre_errors += dropped;
        }
        let d = MalformedDetails {
            protocol: MalformedProtocol::Gre,
            reason: error.kind(),
            error: error.to_string(),
        };
        let body = Body::Mdt(MdtDetails::Malformed(d));
        let mut e = Event::global(
            packet.ts,
            cx.origin.clone(),
            MdtKind::Malformed,
            Severity::Low,
            body,
        );
        e.pcap_cnt = Some(packet.index);
        e.flow = Some(FlowFields {
            src_ip: pe,
            src_port: None,
            dest_ip: group,
            dest_port: None,
            proto: "GRE",
            community_id: community_id_v1(
                cx.config.community_id_seed,
                pe,
                group,
                0,
                0,
                IPPROTO_GRE,
            ),
        });
        cx.emit(e);
    }

    fn on_tick(&mut self, cx: &mut Context<'_>, now: Timestamp) {
        self.expire_neighbors(cx, now);
    }

    fn on_report(&mut self, cx: &mut Context<'_>, now: Timestamp) {
        self.report_inventory(cx, now);
    }

    fn on_finish(&mut self, cx: &mut Context<'_>, now: Timestamp) {
        self.report_inventory(cx, now);
    }
}

impl Mdt {
    /// The `inventory` event: PEs, default MDTs, neighbours, C-flows (nothing when empty).
    fn report_inventory(&mut self, cx: &mut Context<'_>, now: Timestamp) {
        if self.is_empty() {
            return;
        }
        self.expire_neighbors(cx, now);
        let inv = self.inventory(now);
        let body = Body::Mdt(MdtDetails::Inventory(Box::new(inv)));
        cx.emit(Event::global(
            now,
            cx.origin.clone(),
            MdtKind::Inventory,
            Severity::Info,
            body,
        ));
    }
}

/// Whether a UDP 3232 datagram that failed to parse was meant as a Data-MDT Join: carried in a
/// default MDT, sent to ALL-PIM-ROUTERS, sent 3232 → 3232 as PEs do, or opening with a known
/// TLV type and its length (type 1: 16, type 4: 40).
fn resembles_join(pkt: &Pkt<'_>, payload: &[u8], tunnelled: bool) -> bool {
    if tunnelled || is_all_pim_routers(pkt.decoded.net.dst) {
        return true;
    }
    if pkt.decoded.ports() == Some((3232, 3232)) {
        return true;
    }
    match payload {
        [1, hi, lo, ..] => u16::from_be_bytes([*hi, *lo]) == 16,
        [4, hi, lo, ..] => u16::from_be_bytes([*hi, *lo]) == 40,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_drops_its_oldest_eighth() {
        let mut m: BTreeMap<u32, Timestamp> = BTreeMap::new();
        for k in 0..16u32 {
            // Key k last seen at 100 - k: the highest keys are the oldest.
            assert_eq!(
                insert_bounded(&mut m, 16, k, Timestamp(100 - i64::from(k)), |t| *t),
                0
            );
        }
        // Updating a present key never evicts.
        assert_eq!(insert_bounded(&mut m, 16, 3, Timestamp(500), |t| *t), 0);
        assert_eq!(insert_bounded(&mut m, 16, 99, Timestamp(1000), |t| *t), 2);
        assert_eq!(m.len(), 15);
        assert!(!m.contains_key(&15) && !m.contains_key(&14) && m.contains_key(&13));
        // A cap of 1 (or 0) keeps exactly the newest entry.
        let mut one: BTreeMap<u32, Timestamp> = BTreeMap::new();
        insert_bounded(&mut one, 0, 1, Timestamp(1), |t| *t);
        assert_eq!(insert_bounded(&mut one, 0, 2, Timestamp(2), |t| *t), 1);
        assert_eq!(one.keys().copied().collect::<Vec<_>>(), [2]);
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
                    community_id: String::new(),
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
