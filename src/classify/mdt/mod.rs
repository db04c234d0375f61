//! Multicast-VPN "MDT" (RFC 6037, RFC 6513/6516): default MDTs (GRE to a provider group),
//! PIM peering between PEs inside them, Data-MDT Joins on UDP 3232, and an end-of-run
//! inventory. Facts: shared/docs/mdt.md; what is reported: docs/mdt.md.
//!
//! `pim` and `join` are the pure parsers; this module keeps the bounded MDT tables (PEs,
//! default MDTs, PIM neighbours, C-(S,G) → P-group) and turns changes into events.

pub mod join;
pub mod pim;
pub mod probe;

use super::{AppState, Classifier, Context, Flow, Interest, Malformed, Pkt, Resembled, Verdict};
use crate::aggregate::{FlowRef, Observation};
use crate::decode::gre::GreSlice;
use crate::decode::{DecodeError, Layer, Transport, Tunnel, TunnelKind, IPPROTO_GRE, IPPROTO_PIM};
use crate::event::mdt::{
    DataMdtJoinDetails, DefaultMdtDetails, Hello, JoinPrune, MalformedDetails, MalformedProtocol,
    MdtDetails, MdtKind, PimDetails, SeenVia,
};
use crate::event::{Body, Event, FlowFields, Severity};
use crate::flow::community_id::community_id_v1;
use crate::packet::Packet;
use crate::stats::MdtCounters;
use crate::time::Timestamp;
use join::{parse_joins, JoinError, JoinTlv, MDT_PORT};
use pim::{PimError, PimPacket, PimType};
use probe::is_all_pim_routers;
use std::net::IpAddr;

/// Default bound on each MDT table (PE/group pairs, neighbours, C-flows, join/prune senders).
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

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

/// The MDT classifier: parses PIM, GRE and Data-MDT Joins and keeps what one flow already
/// reported; the MDT tables (default MDTs, neighbours, C-flows, P-groups) are the aggregator's
/// (`crate::aggregate::mdt`), fed observations.
#[derive(Debug, Default)]
pub struct Mdt;

impl Mdt {
    pub fn new() -> Self {
        Mdt
    }
}

/// The tunnel of a packet when it is IP in GRE to a multicast (provider) group (a VXLAN
/// flooding to a multicast group is no MDT).
fn mdt_tunnel(pkt: &Pkt<'_>) -> Option<Tunnel> {
    pkt.decoded
        .tunnel
        .filter(|t| t.kind == TunnelKind::Gre && t.outer_dst.is_multicast())
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
    let event = flow_event(cx, pkt, flow, kind, sev, d);
    cx.emit(event);
}

/// The event [`emit`] writes, for an observation to carry.
fn flow_event(
    cx: &Context<'_>,
    pkt: &Pkt<'_>,
    flow: &mut Flow,
    kind: MdtKind,
    sev: Severity,
    d: MdtDetails,
) -> Event {
    let stored = std::mem::replace(&mut flow.tunnel, pkt.decoded.tunnel.map(Box::new));
    let reverse = flow.endpoints.src != pkt.decoded.net.src;
    let event = cx.flow_event(
        pkt.ts,
        Some(pkt.index),
        flow,
        reverse,
        kind,
        sev,
        Body::Mdt(d),
    );
    flow.tunnel = stored;
    event
}

/// The flow and packet an MDT table's event about this packet names (as [`emit`] would).
fn flow_ref(cx: &Context<'_>, pkt: &Pkt<'_>, flow: &mut Flow) -> FlowRef {
    let reverse = flow.endpoints.src != pkt.decoded.net.src;
    FlowRef {
        ts: pkt.ts,
        pcap_cnt: Some(pkt.index),
        flow_id: flow.id,
        fields: flow.fields_oriented(cx.config.community_id_seed, reverse),
        tunnel: pkt.decoded.tunnel.map(crate::classify::tunnel_fields),
    }
}

/// The outermost IP source and destination of a frame that did not decode further.
fn outer_addresses(packet: &Packet<'_>) -> Option<(IpAddr, IpAddr)> {
    let link = crate::decode::link::parse(packet.link, packet.data).ok()?;
    let ip = packet.data.get(link.offset..)?;
    let (slice, _) = etherparse::LaxIpSlice::from_slice(ip).ok()?;
    Some((slice.source_addr(), slice.destination_addr()))
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

impl Mdt {
    /// Records a (PE, default-MDT group) pair revealed by control traffic; the first sighting
    /// is an event.
    fn see_default_mdt(
        &self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        t: Tunnel,
        via: SeenVia,
    ) {
        let d = DefaultMdtDetails {
            pe: t.outer_src,
            p_group: t.outer_dst,
            first_seen: pkt.ts,
            seen_via: via,
        };
        let event = flow_event(
            cx,
            pkt,
            flow,
            MdtKind::DefaultMdt,
            Severity::Info,
            MdtDetails::DefaultMdt(d),
        );
        cx.observe(Observation::DefaultMdtSeen {
            pe: t.outer_src,
            p_group: t.outer_dst,
            event: Box::new(event),
        });
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
                flow.malformed = Some(Box::new(Malformed {
                    protocol: Resembled::Mdt,
                    error: e.to_string(),
                }));
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
        let flow = flow_ref(cx, pkt, flow);
        cx.observe(Observation::PimHello {
            base: Box::new(base),
            hello: Box::new(h),
            flow: Box::new(flow),
        });
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
        let flow = flow_ref(cx, pkt, flow);
        cx.observe(Observation::PimJoinPrune {
            base: Box::new(base),
            join_prune: Box::new(jp),
            flow: Box::new(flow),
        });
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
                    flow.malformed = Some(Box::new(Malformed {
                        protocol: Resembled::Mdt,
                        error: e.to_string(),
                    }));
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
        // In a default MDT the join belongs to the PE at the tunnel's head, as its hellos do;
        // the inner source is its address in the MDT.
        let source = pkt.decoded.net.src.to_canonical();
        let (pe, in_mdt_address) = match tunnel {
            Some(t) => {
                let pe = t.outer_src.to_canonical();
                (pe, (source != pe).then_some(source))
            }
            None => (source, None),
        };
        let mut d = DataMdtJoinDetails {
            tlv_type: tlv.tlv_type(),
            pe,
            in_mdt_address,
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
                d.value_hex = Some(crate::hex::lower(&value[..value.len().min(64)]));
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
        d.c_source = Some(c_source);
        d.c_group = Some(c_group);
        d.p_group = Some(p_group);
        let flow = flow_ref(cx, pkt, flow);
        cx.observe(Observation::DataMdtJoin {
            details: Box::new(d),
            flow: Box::new(flow),
        });
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
        cx.observe(Observation::GroupTraffic {
            pe,
            group,
            inner,
            mpls,
            ts: now,
        });
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
                let mpls =
                    match GreSlice::from_slice(payload).map(|g| (g.version(), g.protocol_type())) {
                        // PPTP's enhanced GRE (RFC 2637): recognised, not an MDT.
                        Ok((1, _)) => {
                            cx.counters.mdt.gre_pptp += 1;
                            false
                        }
                        Ok((_, 0x8847)) | Ok((_, 0x8848)) => {
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
            )
            .into(),
        });
        cx.observe(Observation::GreError {
            pe,
            group,
            reason: error.kind(),
            event: Box::new(e),
        });
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
