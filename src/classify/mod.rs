//! Classifiers: one module per protocol family, each behind the [`Classifier`] trait.
//!
//! The engine hands a classifier the packets of flows it may own. A classifier *claims* a flow
//! when it recognises it, *declines* when it is sure the flow is not its protocol, or stays
//! undecided. Per-flow state lives in the flow table's [`Flow`] record, one [`AppState`]
//! variant per family. To add a protocol: a folder here, a variant in [`AppState`], and one
//! line in [`registry`].

pub mod anomaly;
pub mod arduino_ota;
mod config;
pub mod device;
pub mod esphome;
pub mod mdns;
pub mod mdt;
pub mod ota;

pub use crate::prefilter::Interest;
pub use config::Config;

use crate::aggregate::{Aggregator, At, Observation, Sink};
use crate::artifact::{Artifact, Artifacts};
use crate::decode::{proto_name, Decoded, Tunnel};
use crate::event::{Body, Event, EventKind, FlowFields, Origin, Severity, TunnelFields};
use crate::flow::community_id::community_id_v1;
use crate::flow::{Direction, Endpoints, RemovedBy};
use crate::stats::Counters;
use crate::time::Timestamp;
use std::sync::Arc;

/// Index of a classifier in the registry.
pub type ClassifierId = u8;

/// Every classifier, in the order they are offered an unclaimed flow.
pub fn registry(config: &Config) -> Vec<Box<dyn Classifier>> {
    vec![
        Box::new(arduino_ota::ArduinoOta::new(&config.ota_ports, &config.ota)),
        Box::new(esphome::Esphome::new(&config.ota)),
        Box::new(mdns::Mdns::new(config.ota.max_sessions)),
        Box::new(mdt::Mdt::new()),
        // Last: the fallback for whatever no classifier above claims.
        Box::new(anomaly::Anomaly::new(&config.watch_ports, &config.anomaly)),
    ]
}

/// What the classifiers of `config` declare: the pre-filter before any run-time port (the live
/// kernel filter is set before packets flow).
pub fn declared_interest(config: &Config) -> Interest {
    let mut interest = Interest::default();
    // What a classifier declares does not depend on the flow timeout.
    for c in registry(config) {
        c.interests(&mut interest);
    }
    interest.add_tunnels(&config.vxlan_ports);
    interest
}

/// What a classifier says about a flow after seeing one of its packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// This flow is mine; send me its remaining packets.
    Claim,
    /// Not mine, whatever comes next.
    Decline,
    /// Can't tell yet; show me the next packet.
    Undecided,
    /// Mine, and the conversation is over: the flow can leave the table now.
    Done,
}

/// Per-flow state owned by one classifier family.
#[derive(Debug, Default)]
pub enum AppState {
    #[default]
    None,
    ArduinoOta(Box<arduino_ota::OtaFlow>),
    Mdt(Box<mdt::MdtFlow>),
    Esphome(Box<esphome::EsphomeFlow>),
    Anomaly(Box<anomaly::AnomalyFlow>),
}

/// One conversation in the flow table.
#[derive(Debug)]
pub struct Flow {
    pub id: u64,
    /// Oriented as the first packet we saw: `src` spoke first.
    pub endpoints: Endpoints,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Packets and payload bytes, indexed by [`dir_index`].
    pub packets: [u64; 2],
    pub payload_bytes: [u64; 2],
    /// TCP flags seen in each direction.
    pub tcp_flags: [u8; 2],
    /// Boxed, like `malformed`: few flows have one, and inline it would cost every flow 60
    /// bytes (docs/performance.md, "Memory per flow and per session").
    pub tunnel: Option<Box<Tunnel>>,
    pub owner: Option<ClassifierId>,
    /// Bit `i` set: classifier `i` declined this flow.
    pub declined: u32,
    /// Set by a classifier that declined a flow which *looked* like its protocol but did not
    /// parse (e.g. an invitation with a 31-digit MD5): the anomaly path reports it.
    pub malformed: Option<Box<Malformed>>,
    pub app: AppState,
    /// Shared with the flow's events: each takes a reference, not a copy.
    community_id: Option<Arc<str>>,
}

pub fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl Flow {
    pub fn new(id: u64, endpoints: Endpoints, now: Timestamp, tunnel: Option<Tunnel>) -> Self {
        Flow {
            id,
            endpoints,
            first_seen: now,
            last_seen: now,
            packets: [0; 2],
            payload_bytes: [0; 2],
            tcp_flags: [0; 2],
            tunnel: tunnel.map(Box::new),
            owner: None,
            declined: 0,
            malformed: None,
            app: AppState::None,
            community_id: None,
        }
    }

    /// Community ID v1 of the flow, computed once.
    pub fn community_id(&mut self, seed: u16) -> &Arc<str> {
        let e = self.endpoints;
        self.community_id.get_or_insert_with(|| {
            Arc::from(community_id_v1(
                seed, e.src, e.dst, e.src_port, e.dst_port, e.proto,
            ))
        })
    }

    /// A copy of the flow as it is, taking its per-flow state (`app`) along: what an event
    /// built later needs, after the table has dropped the flow.
    pub fn detach(&mut self) -> Flow {
        Flow {
            id: self.id,
            endpoints: self.endpoints,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            packets: self.packets,
            payload_bytes: self.payload_bytes,
            tcp_flags: self.tcp_flags,
            tunnel: self.tunnel.clone(),
            owner: self.owner,
            declined: self.declined,
            malformed: self.malformed.clone(),
            app: std::mem::take(&mut self.app),
            community_id: self.community_id.clone(),
        }
    }

    /// The common flow fields of an event, oriented as the flow (`src` spoke first).
    pub fn fields(&mut self, seed: u16) -> FlowFields {
        self.fields_oriented(seed, false)
    }

    /// Flow fields, reversed when `reverse` (e.g. to put the uploader first).
    pub fn fields_oriented(&mut self, seed: u16, reverse: bool) -> FlowFields {
        let e = if reverse {
            self.endpoints.reversed()
        } else {
            self.endpoints
        };
        let has_ports = matches!(e.proto, 6 | 17 | 132);
        FlowFields {
            src_ip: e.src,
            src_port: has_ports.then_some(e.src_port),
            dest_ip: e.dst,
            dest_port: has_ports.then_some(e.dst_port),
            proto: proto_name(e.proto),
            community_id: Arc::clone(self.community_id(seed)),
        }
    }
}

/// Why a flow that resembled a known protocol was not accepted as it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The protocol it resembled.
    pub protocol: Resembled,
    /// The parser's error, for the event's detail.
    pub error: String,
}

/// A protocol a malformed flow resembled (its anomaly is `malformed_ota` or `malformed_mdt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resembled {
    ArduinoOta,
    Mdt,
}

/// A packet as classifiers see it.
#[derive(Clone, Copy, Debug)]
pub struct Pkt<'a> {
    pub ts: Timestamp,
    /// 1-based index in its source (`pcap_cnt`).
    pub index: u64,
    pub decoded: &'a Decoded<'a>,
    pub dir: Direction,
}

/// What a classifier may touch while it handles a packet or a flow's end.
pub struct Context<'e> {
    pub config: &'e Config,
    pub origin: &'e Origin,
    pub counters: &'e mut Counters,
    pub interest: &'e mut Interest,
    events: &'e mut Vec<Event>,
    artifacts: &'e mut Artifacts,
    observer: Observer<'e>,
}

/// Where a classifier's observations go (see [`crate::aggregate`]).
pub enum Observer<'e> {
    /// One engine: applied at once, its events among the engine's.
    Inline(&'e mut Aggregator),
    /// A worker engine: queued, stamped with where the packet stands in the global order.
    Queue {
        queue: &'e mut Vec<(At, Observation)>,
        at: At,
    },
}

impl<'e> Context<'e> {
    pub fn new(
        config: &'e Config,
        origin: &'e Origin,
        counters: &'e mut Counters,
        interest: &'e mut Interest,
        events: &'e mut Vec<Event>,
        artifacts: &'e mut Artifacts,
        observer: Observer<'e>,
    ) -> Self {
        Context {
            config,
            origin,
            counters,
            interest,
            events,
            artifacts,
            observer,
        }
    }

    /// Hands a fact to the cross-flow tables (the aggregator).
    pub fn observe(&mut self, obs: Observation) {
        match &mut self.observer {
            Observer::Inline(aggregator) => aggregator.observe_into(
                obs,
                &mut Sink {
                    counters: self.counters,
                    events: self.events,
                    origin: self.origin,
                },
            ),
            Observer::Queue { queue, at } => queue.push((*at, obs)),
        }
    }

    /// Queues a file for the driver to write before the events that follow; hands it back when
    /// too many bytes wait already.
    pub fn queue_artifact(&mut self, artifact: Artifact) -> Result<(), Artifact> {
        self.artifacts.push(artifact)
    }

    pub fn emit(&mut self, event: Event) {
        self.counters.events.count(&event.body);
        self.events.push(event);
    }

    /// Emits an event about `flow`, completed by the packet at `ts`/`pcap_cnt`.
    #[allow(clippy::too_many_arguments)]
    pub fn emit_flow_event(
        &mut self,
        ts: Timestamp,
        pcap_cnt: Option<u64>,
        flow: &mut Flow,
        reverse: bool,
        kind: impl EventKind,
        severity: Severity,
        body: Body,
    ) {
        let event = self.flow_event(ts, pcap_cnt, flow, reverse, kind, severity, body);
        self.emit(event);
    }

    /// The event [`Context::emit_flow_event`] would write, for an observation to carry (the
    /// aggregator writes it when its table says so).
    #[allow(clippy::too_many_arguments)]
    pub fn flow_event(
        &self,
        ts: Timestamp,
        pcap_cnt: Option<u64>,
        flow: &mut Flow,
        reverse: bool,
        kind: impl EventKind,
        severity: Severity,
        body: Body,
    ) -> Event {
        let flow_fields = flow.fields_oriented(self.config.community_id_seed, reverse);
        Event {
            timestamp: ts,
            flow_id: Some(flow.id),
            origin: self.origin.clone(),
            pcap_cnt,
            event_type: body.event_type(),
            kind: kind.as_str(),
            severity,
            parties: None,
            flow: Some(flow_fields),
            tunnel: flow.tunnel.as_deref().copied().map(tunnel_fields),
            body,
        }
    }
}

/// The `tunnel` object of an event about a flow that arrived in `t`.
pub fn tunnel_fields(t: Tunnel) -> TunnelFields {
    TunnelFields {
        src_ip: t.outer_src,
        dest_ip: t.outer_dst,
        proto: crate::decode::proto_name(t.kind.delivery_proto()),
        tunnel_type: t.kind.name(),
        gre_key: t.key,
        vni: t.vni,
        erspan_type: t.erspan_type,
        erspan_session_id: t.erspan_session,
        depth: t.depth,
    }
}

/// One protocol family's recogniser and state machine.
pub trait Classifier {
    fn name(&self) -> &'static str;

    /// Declares the ports and protocols whose packets this classifier wants.
    fn interests(&self, interest: &mut Interest);

    /// A packet of a flow that is unclaimed (and not declined by this classifier) or claimed by it.
    fn on_packet(&mut self, cx: &mut Context<'_>, pkt: &Pkt<'_>, flow: &mut Flow) -> Verdict;

    /// The flow left the table. Called for the owner, or for every classifier that had not
    /// declined an unclaimed flow.
    fn on_flow_end(&mut self, _cx: &mut Context<'_>, _flow: &mut Flow, _by: RemovedBy) {}

    /// Periodic housekeeping on packet time (about once a second of capture time).
    fn on_tick(&mut self, _cx: &mut Context<'_>, _now: Timestamp) {}

    /// A periodic report (every `--stats-interval`): a snapshot of what the classifier keeps
    /// (inventories), its state left as it is.
    fn on_report(&mut self, _cx: &mut Context<'_>, _now: Timestamp) {}

    /// End of input: report whatever is still pending (inventories, open sessions).
    fn on_finish(&mut self, _cx: &mut Context<'_>, _now: Timestamp) {}

    /// A packet that did not decode (already counted by the engine), e.g. to report broken GRE
    /// sent into a multicast-VPN default MDT.
    fn on_decode_error(
        &mut self,
        _cx: &mut Context<'_>,
        _packet: &crate::packet::Packet<'_>,
        _error: &crate::decode::DecodeError,
    ) {
    }
}
