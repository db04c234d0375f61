//! Anomalies: every flow on a watched port (`--watch-ports`) that no other classifier claims,
//! explained. Registered last, it never claims a flow: while a flow is unclaimed it samples
//! the first bytes each way and the payload timeline, and reports once when the flow ends (or
//! once when a long-lived flow is first judged, then one update at its end).
//!
//! Pieces: [`guess`] (pure protocol guessers), [`behaviour`] (beacon / interactive heuristics),
//! [`allowlist`] (silenced findings). Scan windows span flows: probes go to the aggregator
//! (`crate::aggregate::scan`). docs/anomalies.md.

pub mod allowlist;
pub mod behaviour;
pub mod fingerprint;
pub mod guess;
pub mod periodic;
pub mod shell;

use super::mdt;
use super::{AppState, Classifier, Context, Flow, Interest, Pkt, Resembled, Verdict};
use crate::aggregate::scan::Probe;
use crate::aggregate::{LazyEvent, Observation};
use crate::decimal::ip_port;
use crate::decode::{TcpFlags, Transport};
use crate::event::anomaly::{
    AnomalyDetails, Beacon, Evidence, FlowSummary, Interactive, Previews, ProtocolGuess, Reason,
    Report, ScanMethod, TcpSummary,
};
use crate::event::{Body, Event, Origin, Severity};
use crate::flow::reasm::{Placement, SeqTracker};
use crate::flow::{Direction, RemovedBy};
use crate::time::Timestamp;
use allowlist::Allowlist;
use behaviour::Record;
use smallvec::SmallVec;
use std::net::IpAddr;
use std::sync::Arc;

/// Tunables of the anomaly path (CLI flags in `cli::anomaly`).
#[derive(Clone, Debug)]
pub struct AnomalyConfig {
    /// Payload bytes kept per direction of a flow (a TLS ClientHello may grow it to 16 KiB
    /// until it is complete).
    pub sample_bytes: usize,
    /// A flow still open after this many packets, or this many seconds, is judged early.
    pub judge_packets: u64,
    pub judge_secs: u64,
    /// Horizontal scan: distinct hosts probed by one source in a window.
    pub scan_hosts: usize,
    /// Vertical scan: distinct watched ports probed on one host in a window.
    pub scan_ports: usize,
    pub scan_window_secs: u64,
    /// Open scan windows (sources) tracked at once.
    pub max_scan_sources: usize,
    /// (client, server, port) pairs whose connection times are kept for beacon detection.
    pub max_beacon_pairs: usize,
    pub allowlist: Option<Arc<Allowlist>>,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            sample_bytes: 512,
            judge_packets: 200,
            judge_secs: 300,
            scan_hosts: 16,
            scan_ports: 3,
            scan_window_secs: 60,
            max_scan_sources: 1024,
            max_beacon_pairs: 4096,
            allowlist: None,
        }
    }
}

/// A UDP flow is a probe (foldable into a scan) when it carried at most this many payload
/// bytes in at most two datagrams and got no answer (nmap `-sU` sends 0 bytes to 3232).
const MAX_UDP_PROBE_BYTES: u64 = 64;

/// Largest TLS ClientHello the sample grows to hold.
const MAX_HELLO: usize = 16 * 1024 + 5;

/// Payload bytes a side's sample holds inline before it allocates: most flows on a watched port
/// that nobody claims are probes of a few bytes (docs/performance.md, "Memory per flow and per
/// session").
const INLINE_SAMPLE: usize = 16;

/// A side's first payload bytes.
pub type Sample = SmallVec<[u8; INLINE_SAMPLE]>;

/// What the anomaly path keeps about one unclaimed flow on a watched port. Sides are those
/// of the service: index 0 = towards the watched port, 1 = from it.
#[derive(Debug, Default)]
pub struct AnomalyFlow {
    /// The flow's `src` (first speaker) is the service side.
    pub reversed: bool,
    pub sample: [Sample; 2],
    /// Next TCP sequence number expected per side (retransmissions are not sampled twice).
    next_seq: [SeqTracker; 2],
    /// A gap in the sequence space: sampling of that side stopped.
    gap: [bool; 2],
    /// One inline: a probe's datagram costs no allocation.
    pub records: SmallVec<[Record; 1]>,
    /// The service side sent a SYN-ACK or data.
    pub answered: bool,
    syn_ack_seen: bool,
    pub handshake_completed: bool,
    /// The client's sample holds a whole ClientHello (or is not one): stop checking.
    hello_complete: bool,
    /// The client's sample cannot hold a whole ClientHello before this length (what the last
    /// parse said it lacked): a hello spread over many segments is parsed again only then.
    hello_parse_at: usize,
    pub last_index: u64,
    /// The early report went out; the end brings an update.
    pub reported_early: bool,
    /// The client's first SYN looked like nmap's SYN-scan probe.
    pub nmap_syn: bool,
    syn_seen: bool,
}

pub struct Anomaly {
    ports: Vec<u16>,
    cfg: AnomalyConfig,
    pairs: periodic::PairTracker,
}

fn flag_names(f: u8) -> String {
    const NAMES: [(u8, &str); 6] = [
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::URG, "URG"),
    ];
    NAMES
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Anomaly {
    /// `ports`: the watched ports. (Scan windows, which span flows, live in the aggregator.)
    pub fn new(ports: &[u16], config: &AnomalyConfig) -> Self {
        let cfg = config.clone();
        let pairs = periodic::PairTracker::new(cfg.max_beacon_pairs);
        Anomaly {
            ports: ports.to_vec(),
            cfg,
            pairs,
        }
    }

    fn watched(&self, port: u16) -> bool {
        self.ports.contains(&port)
    }

    /// Whether the flow's first speaker is the service (its port is watched, the other's not).
    fn service_is_src(&self, flow: &Flow, pkt: &Pkt<'_>) -> bool {
        let e = &flow.endpoints;
        let (s, d) = (self.watched(e.src_port), self.watched(e.dst_port));
        if s != d {
            return s;
        }
        // Both or neither watched: a first packet that is a SYN-ACK comes from the service.
        matches!(pkt.decoded.transport, Transport::Tcp(t) if t.flags.has(TcpFlags::SYN) && t.flags.has(TcpFlags::ACK))
    }

    fn sample(
        &self,
        st: &mut AnomalyFlow,
        side: usize,
        seq: Option<u32>,
        syn: bool,
        payload: &[u8],
    ) {
        if let Some(seq) = seq {
            if syn {
                st.next_seq[side].syn(seq);
            }
            if payload.is_empty() || st.gap[side] {
                return;
            }
            match st.next_seq[side].place(seq, payload.len()) {
                Placement::New { skip } => {
                    // Perhaps a retransmission with new bytes at its tail.
                    st.next_seq[side].advance(payload.len() - skip);
                    self.keep(st, side, &payload[skip..]);
                }
                Placement::Old => {}
                Placement::Ahead { .. } => {
                    // Bytes missing before this segment: stop sampling this side.
                    st.gap[side] = true;
                }
            }
        } else if !payload.is_empty() {
            self.keep(st, side, payload);
        }
    }

    fn keep(&self, st: &mut AnomalyFlow, side: usize, data: &[u8]) {
        let s = &mut st.sample[side];
        let mut cap = self.cfg.sample_bytes;
        if side == 0 && s.len() >= cap && s.first() == Some(&22) && !st.hello_complete {
            // Let a TLS ClientHello complete, up to MAX_HELLO. Parsed once its length is
            // reached, not on every segment: `needed` may count one record header too many.
            if s.len() < st.hello_parse_at {
                cap = MAX_HELLO;
            } else if let Err(guess::tls::TlsError::Truncated { needed }) =
                guess::tls::parse_client_hello(s)
            {
                st.hello_parse_at = needed.saturating_sub(5).max(s.len() + 1);
                cap = MAX_HELLO;
            } else {
                st.hello_complete = true;
            }
        } else if side == 0 && s.is_empty() && data.first() == Some(&22) {
            cap = cap.max(MAX_HELLO.min(guess::tls::record_len(data).unwrap_or(0)));
        }
        if s.len() < cap {
            let take = (cap - s.len()).min(data.len());
            s.extend_from_slice(&data[..take]);
        }
    }

    fn judge_now(&self, flow: &Flow) -> bool {
        let packets = flow.packets[0] + flow.packets[1];
        packets >= self.cfg.judge_packets
            || flow.last_seen.micros_since(flow.first_seen)
                >= (self.cfg.judge_secs as i64).saturating_mul(1_000_000)
    }
}

fn state(flow: &mut Flow) -> Option<&mut AnomalyFlow> {
    if matches!(flow.app, AppState::None) {
        flow.app = AppState::Anomaly(Box::default());
    }
    match &mut flow.app {
        AppState::Anomaly(s) => Some(s),
        // Another classifier keeps state in this flow while it decides: leave it alone.
        _ => None,
    }
}

/// Everything decided about a flow. Its summary and its sentence are written only when its
/// event is ([`describe`]): a probe's finding is judged again if its held event is released,
/// and most never are written at the first judge.
struct Finding {
    reason: Reason,
    severity: Severity,
    severity_reasons: Vec<&'static str>,
    evidence: Evidence,
    beacon: Option<Beacon>,
    interactive: Option<Interactive>,
    error: Option<String>,
    told: Told,
    /// A probe (no payload, no answer): may be folded into a scan.
    probe: bool,
    /// The flow looks like a legitimate protocol that was not claimed (ESPHome OTA magic).
    legitimate: bool,
}

/// Which sentence a finding's `detail` is.
#[derive(Clone, Copy)]
enum Told {
    /// The flow resembled this (e.g. "an MDT Data-MDT join") but did not parse.
    Malformed(&'static str),
    Beacon,
    /// New flows at regular intervals (the pair tracker's verdict, not the flow's own).
    BeaconAcrossFlows,
    Shell,
    HumanPace,
    TcpService,
    NoPayloadNoAnswer,
    Unrecognised,
}

/// The sides of a flow's samples and counters: (towards the service, from it).
fn sides(st: Option<&AnomalyFlow>) -> (usize, usize) {
    if st.is_some_and(|s| s.reversed) {
        (1, 0)
    } else {
        (0, 1)
    }
}

/// The sample to measure entropy on: the client's, or the service's when the client sent none.
fn entropy_source<'a>(s_up: &'a [u8], s_down: &'a [u8]) -> &'a [u8] {
    if s_up.is_empty() {
        s_down
    } else {
        s_up
    }
}

fn samples(st: Option<&AnomalyFlow>) -> (&[u8], &[u8]) {
    match st {
        Some(s) => (&s.sample[0], &s.sample[1]),
        None => (&[], &[]),
    }
}

fn entropy_of(sample: &[u8]) -> Option<f64> {
    (!sample.is_empty()).then(|| round3(guess::entropy(sample)))
}

fn judge(flow: &Flow, st: Option<&AnomalyFlow>) -> Finding {
    let (up, down) = sides(st);
    let tcp = flow.endpoints.proto == crate::decode::IPPROTO_TCP;
    let (s_up, s_down) = samples(st);
    let evidence = if st.is_some() {
        guess::guess_flow(s_up, s_down, tcp)
    } else {
        Evidence::default()
    };
    let answered = st.is_some_and(|s| s.answered) || flow.payload_bytes[down] > 0;
    let entropy_src = entropy_source(s_up, s_down);
    let records = st.map_or(&[][..], |s| &s.records[..]);
    let text_both = |b: &[u8]| !b.is_empty() && guess::simple::is_text(b);
    let guess = evidence.protocol_guess;
    // A shell's content names the flow whatever its rhythm; encrypted or known protocols keep
    // their own reasons.
    let shell = (tcp
        && flow.malformed.is_none()
        && matches!(
            guess,
            None | Some(ProtocolGuess::Text | ProtocolGuess::Binary | ProtocolGuess::Empty)
        ))
    .then(|| shell::shell_signs([s_up, s_down], records))
    .flatten();
    let beacon = if shell.is_none() {
        behaviour::beacon(records)
    } else {
        None
    };
    let interactive = if let Some(m) = &shell {
        Some(Interactive {
            evidence: m.signs.clone(),
            root: m.root,
            download_exec: m.download_exec,
            ..behaviour::pace(records)
        })
    } else if beacon.is_none() {
        behaviour::interactive(records, text_both(s_up) && text_both(s_down))
    } else {
        None
    };
    let no_payload = flow.payload_bytes[0] + flow.payload_bytes[1] == 0;
    let mut sev_reasons = Vec::new();
    let mut error = None;
    let (reason, severity, told) = if let Some(m) = &flow.malformed {
        error = Some(m.error.clone());
        sev_reasons.push("resembles a known protocol but does not parse");
        let (reason, what) = match m.protocol {
            Resembled::Mdt => (Reason::MalformedMdt, "an MDT Data-MDT join"),
            Resembled::ArduinoOta => (Reason::MalformedOta, "an ArduinoOTA invitation"),
        };
        (reason, Severity::Low, Told::Malformed(what))
    } else if beacon.is_some() {
        sev_reasons.extend(["regular send intervals", "similar message sizes"]);
        (Reason::Beacon, Severity::High, Told::Beacon)
    } else if let Some(i) = interactive.as_ref().filter(|i| !i.evidence.is_empty()) {
        sev_reasons.push("shell prompts, commands or their output");
        let mut sev = Severity::High;
        if i.root {
            sev_reasons.push("root shell");
            sev = Severity::Critical;
        }
        if i.download_exec {
            sev_reasons.push("download run by a shell");
            sev = Severity::Critical;
        }
        (Reason::InteractiveSession, sev, Told::Shell)
    } else if interactive.is_some() {
        sev_reasons.extend(["text typed at human pace both ways", "small messages"]);
        (Reason::InteractiveSession, Severity::High, Told::HumanPace)
    } else if tcp && answered {
        sev_reasons.push("a host answers TCP on a watched port with something other than ESPHome");
        let mut sev = Severity::Medium;
        if matches!(
            guess,
            Some(ProtocolGuess::Ssh | ProtocolGuess::Tls | ProtocolGuess::Smb)
        ) {
            sev_reasons.push("remote-access or encrypted service");
            sev = Severity::High;
        }
        (Reason::UnexpectedTcpService, sev, Told::TcpService)
    } else if no_payload {
        sev_reasons.push("connection attempt without payload or answer");
        (
            Reason::UnknownProtocol,
            Severity::Info,
            Told::NoPayloadNoAnswer,
        )
    } else {
        let mut sev = Severity::Low;
        sev_reasons.push("payload matches no classifier");
        let n = entropy_src.len().min(256);
        if n >= 32 && entropy_of(entropy_src).is_some_and(|h| h >= 0.9 * (n as f64).log2()) {
            sev_reasons.push("high-entropy payload (encrypted or compressed)");
            sev = Severity::Medium;
        }
        (Reason::UnknownProtocol, sev, Told::Unrecognised)
    };
    let up_pkts = flow.packets[up];
    let probe = error.is_none()
        && beacon.is_none()
        && interactive.is_none()
        && !answered
        && if tcp {
            no_payload && up_pkts <= 3
        } else {
            flow.packets[down] == 0 && up_pkts <= 2 && flow.payload_bytes[up] <= MAX_UDP_PROBE_BYTES
        };
    Finding {
        reason,
        severity,
        severity_reasons: sev_reasons,
        legitimate: flow.malformed.is_none()
            && (evidence.protocol_guess == Some(ProtocolGuess::EsphomeOta)
                || looks_like_mdt_join(flow, st)),
        evidence,
        beacon,
        interactive,
        error,
        told,
        probe,
    }
}

/// The flow's summary and the finding's sentence: what only a written event needs.
fn describe(flow: &Flow, st: Option<&AnomalyFlow>, f: &Finding) -> (FlowSummary, String) {
    let (up, down) = sides(st);
    let tcp = flow.endpoints.proto == crate::decode::IPPROTO_TCP;
    let (s_up, s_down) = samples(st);
    let summary = FlowSummary {
        pkts_toserver: flow.packets[up],
        pkts_toclient: flow.packets[down],
        bytes_toserver: flow.payload_bytes[up],
        bytes_toclient: flow.payload_bytes[down],
        duration_s: round3(flow.last_seen.secs_since(flow.first_seen)),
        entropy: entropy_of(entropy_source(s_up, s_down)),
        payload_preview: (!s_up.is_empty() || !s_down.is_empty()).then(|| Previews {
            toserver: guess::preview(s_up),
            toclient: guess::preview(s_down),
        }),
        tcp: tcp.then(|| TcpSummary {
            flags_toserver: flag_names(flow.tcp_flags[up]),
            flags_toclient: flag_names(flow.tcp_flags[down]),
            handshake_completed: st.is_some_and(|s| s.handshake_completed),
        }),
    };
    let e = if up == 1 {
        flow.endpoints.reversed()
    } else {
        flow.endpoints
    };
    let (client, server) = (ip_port(e.src, e.src_port), ip_port(e.dst, e.dst_port));
    let proto = crate::decode::proto_name(e.proto);
    let guess_name = f
        .evidence
        .protocol_guess
        .map_or("unknown", ProtocolGuess::as_str);
    let detail = match (f.told, &f.beacon, &f.interactive) {
        (Told::Malformed(what), _, _) => format!(
            "{client} sent {proto} {server} what looks like {what} but does not parse: {}",
            f.error.as_deref().unwrap_or_default()
        ),
        (Told::Beacon, Some(b), _) => format!(
            "{client} sends to {proto} {server} every {:.1} s (jitter {:.2} s, {} messages of ~{:.0} bytes, {guess_name}): beacon-like",
            b.period_s, b.jitter_s, b.count, b.mean_size
        ),
        (Told::BeaconAcrossFlows, Some(b), _) => format!(
            "{} opens {proto} connections to {server} every {:.1} s (jitter {:.2} s, {} flows of ~{:.0} bytes): beacon-like",
            peer_addr(e.src),
            b.period_s,
            b.jitter_s,
            b.count,
            b.mean_size
        ),
        (Told::Shell, _, Some(i)) => {
            let first = &i.evidence[0];
            format!(
                "{client} and {proto} {server} carry a shell session ({} sign(s), first a {} \"{}\"): interactive session",
                i.evidence.len(),
                first.kind.as_str(),
                first.quote
            )
        }
        (Told::HumanPace, _, Some(i)) => format!(
            "{client} and {proto} {server} exchange short text at human pace ({} turns, median pause {:.1} s): interactive session",
            i.turns, i.median_gap_s
        ),
        (Told::TcpService, _, _) => {
            let mut d = server;
            if flow.payload_bytes[0] + flow.payload_bytes[1] == 0 {
                d.push_str(" accepted a connection (no data exchanged)");
            } else {
                d.push_str(" serves ");
                d.push_str(guess_name);
            }
            d.push_str(" to ");
            d.push_str(&client);
            d.push_str(" on TCP ");
            crate::decimal::push_u64(&mut d, e.dst_port.into());
            d
        }
        (Told::NoPayloadNoAnswer, _, _) => {
            [&client, " tried ", proto, " ", &server, "; no payload, no answer"].concat()
        }
        (Told::Unrecognised, _, _) => [
            &client,
            " sent ",
            proto,
            " ",
            &server,
            " payload that no classifier recognises (",
            guess_name,
            ")",
        ]
        .concat(),
        (Told::Beacon | Told::BeaconAcrossFlows | Told::Shell | Told::HumanPace, _, _) => {
            unreachable!("judge sets the beacon or interactive its sentence tells")
        }
    };
    (summary, detail)
}

/// An address alone, as `Display` writes it.
fn peer_addr(addr: IpAddr) -> String {
    let mut s = String::with_capacity(15);
    crate::decimal::push_ip(&mut s, addr);
    s
}

impl Anomaly {
    fn silenced(
        &self,
        cx: &mut Context<'_>,
        reason: Reason,
        addrs: &[IpAddr],
        port: Option<u16>,
        proto: u8,
    ) -> bool {
        let Some(list) = &self.cfg.allowlist else {
            return false;
        };
        if let Some(entry) = list.matches(reason, addrs, port, proto) {
            cx.counters.anomaly.silenced += 1;
            cx.counters.anomaly.silence(reason);
            tracing::debug!(
                line = entry.line,
                reason = reason.name(),
                "anomaly silenced by the allowlist"
            );
            return true;
        }
        false
    }

    fn make_event(&self, cx: &Context<'_>, flow: &mut Flow, f: Finding, report: Report) -> Event {
        anomaly_event(cx.origin, cx.config.community_id_seed, flow, f, report)
    }
}

/// The anomaly event of a judged flow.
fn anomaly_event(
    origin: &Origin,
    community_id_seed: u16,
    flow: &mut Flow,
    f: Finding,
    report: Report,
) -> Event {
    let rev = matches!(&flow.app, AppState::Anomaly(s) if s.reversed);
    let pcap_cnt = match &flow.app {
        AppState::Anomaly(s) if s.last_index > 0 => Some(s.last_index),
        _ => None,
    };
    let (summary, detail) = describe(flow, anomaly_state(flow), &f);
    let body = Body::Anomaly(Box::new(AnomalyDetails {
        reason: f.reason,
        report,
        evidence: f.evidence,
        summary: Some(summary),
        beacon: f.beacon,
        interactive: f.interactive,
        scan: None,
        error: f.error,
        severity_reasons: f.severity_reasons,
        detail,
    }));
    Event {
        timestamp: flow.last_seen,
        flow_id: Some(flow.id),
        origin: origin.clone(),
        pcap_cnt,
        event_type: body.event_type(),
        kind: f.reason.name(),
        severity: f.severity,
        parties: None,
        flow: Some(flow.fields_oriented(community_id_seed, rev)),
        tunnel: flow
            .tunnel
            .as_deref()
            .copied()
            .map(crate::classify::tunnel_fields),
        body,
    }
}

impl Classifier for Anomaly {
    fn name(&self) -> &'static str {
        "anomaly"
    }

    fn interests(&self, interest: &mut Interest) {
        for &p in &self.ports {
            interest.add_tcp_port(p);
            interest.add_udp_port(p);
        }
    }

    fn on_packet(&mut self, cx: &mut Context<'_>, pkt: &Pkt<'_>, flow: &mut Flow) -> Verdict {
        let e = flow.endpoints;
        let on_watched =
            matches!(e.proto, 6 | 17) && (self.watched(e.src_port) || self.watched(e.dst_port));
        if !on_watched {
            return Verdict::Decline;
        }
        let first = flow.packets[0] + flow.packets[1] == 1;
        let reversed = first && self.service_is_src(flow, pkt);
        let Some(st) = state(flow) else {
            cx.counters.anomaly.state_unavailable += 1;
            return Verdict::Undecided;
        };
        if first {
            st.reversed = reversed;
        }
        st.last_index = pkt.index;
        // Side 0 = towards the service.
        let side = usize::from((pkt.dir == Direction::ToServer) == st.reversed);
        let (seq, flags, payload) = match pkt.decoded.transport {
            Transport::Tcp(t) => {
                if side == 0 && t.flags.has(TcpFlags::SYN) && !t.flags.has(TcpFlags::ACK) {
                    if !st.syn_seen {
                        st.nmap_syn = fingerprint::is_nmap_syn(t.window, t.options, t.payload);
                    }
                    st.syn_seen = true;
                }
                (Some(t.seq), t.flags, t.payload)
            }
            Transport::Udp(u) => (None, TcpFlags(0), u.payload),
            _ => (None, TcpFlags(0), &[][..]),
        };
        if side == 1
            && (flags.has(TcpFlags::SYN) && flags.has(TcpFlags::ACK) || !payload.is_empty())
        {
            st.answered = true;
            st.syn_ack_seen |= flags.has(TcpFlags::SYN);
        }
        if side == 0
            && st.syn_ack_seen
            && flags.has(TcpFlags::ACK)
            && !flags.has(TcpFlags::SYN)
            && !flags.has(TcpFlags::RST)
        {
            st.handshake_completed = true;
        }
        self.sample(st, side, seq, flags.has(TcpFlags::SYN), payload);
        if !payload.is_empty() && st.records.len() < behaviour::MAX_RECORDS {
            st.records.push(Record {
                ts_us: pkt.ts.micros(),
                to_server: side == 0,
                len: payload.len() as u32,
            });
        }
        let early = !st.reported_early;
        if early && self.judge_now(flow) {
            let f = judge(
                flow,
                match &flow.app {
                    AppState::Anomaly(s) => Some(s),
                    _ => None,
                },
            );
            if let AppState::Anomaly(s) = &mut flow.app {
                s.reported_early = true;
            }
            let addrs = [flow.endpoints.src, flow.endpoints.dst];
            let port = Some(if reversed_of(flow) {
                flow.endpoints.src_port
            } else {
                flow.endpoints.dst_port
            });
            if !f.legitimate && !self.silenced(cx, f.reason, &addrs, port, flow.endpoints.proto) {
                cx.counters.anomaly.judged_early += 1;
                let ev = self.make_event(cx, flow, f, Report::Early);
                cx.emit(ev);
            }
        }
        Verdict::Undecided
    }

    fn on_flow_end(&mut self, cx: &mut Context<'_>, flow: &mut Flow, _by: RemovedBy) {
        let e = flow.endpoints;
        if !(matches!(e.proto, 6 | 17) && (self.watched(e.src_port) || self.watched(e.dst_port))) {
            return;
        }
        let st = match &flow.app {
            AppState::Anomaly(s) => Some(&**s),
            _ => None,
        };
        let early = st.is_some_and(|s| s.reported_early);
        let mut f = judge(flow, st);
        if f.legitimate {
            let unclaimed = &mut cx.counters.anomaly;
            *if f.evidence.protocol_guess == Some(ProtocolGuess::EsphomeOta) {
                &mut unclaimed.esphome_like_unclaimed
            } else {
                &mut unclaimed.mdt_like_unclaimed
            } += 1;
            return;
        }
        let rev = reversed_of(flow);
        let (client, server, port) = if rev {
            (e.dst, e.src, e.src_port)
        } else {
            (e.src, e.dst, e.dst_port)
        };
        // A shell's content outweighs a rhythm across flows (a reverse shell reconnecting).
        let shell = f
            .interactive
            .as_ref()
            .is_some_and(|i| !i.evidence.is_empty());
        let answered_or_data = !f.probe && f.error.is_none() && f.beacon.is_none() && !shell;
        if answered_or_data && !early {
            let key = (client, server, port, e.proto);
            let bytes = flow.payload_bytes[usize::from(rev)];
            if let Some(mut b) = self
                .pairs
                .record(key, flow.first_seen, flow.last_seen, bytes)
            {
                b.across_flows = true;
                f.told = Told::BeaconAcrossFlows;
                f.reason = Reason::Beacon;
                f.severity = Severity::High;
                f.severity_reasons = vec!["new flows at regular intervals", "similar sizes"];
                f.interactive = None;
                f.beacon = Some(b);
            }
        }
        let silenced = self.silenced(cx, f.reason, &[client, server], Some(port), e.proto);
        let probe = f.probe && !early;
        // An open port that carried nothing (a SYN scan's SYN-ACK, a connect scan's handshake):
        // a probe too, counted as answered.
        let answered_probe = !f.probe
            && !early
            && f.reason == Reason::UnexpectedTcpService
            && flow.payload_bytes[0] + flow.payload_bytes[1] == 0;
        let st = match &flow.app {
            AppState::Anomaly(s) => Some(&**s),
            _ => None,
        };
        let method = if e.proto == crate::decode::IPPROTO_UDP {
            ScanMethod::Udp
        } else if st.is_some_and(|s| s.handshake_completed) {
            ScanMethod::Connect
        } else {
            ScanMethod::Syn
        };
        let nmap = st.is_some_and(|s| s.nmap_syn);
        // A connection that carried data may be a service probe (nmap -sV): fingerprinted ones
        // open or join a version scan; the others are folded only into a version scan of the
        // same target that is already under way, else written at once.
        let service_probe = !early
            && !probe
            && !answered_probe
            && e.proto == crate::decode::IPPROTO_TCP
            && matches!(
                f.reason,
                Reason::UnexpectedTcpService | Reason::UnknownProtocol
            )
            && f.interactive.is_none();
        let version_print =
            service_probe && st.is_some_and(|s| fingerprint::is_nmap_service_probe(&s.sample[0]));
        // (answered, method, fingerprinted) when the flow goes to its source's scan window.
        let probe_facts = if service_probe {
            Some((false, ScanMethod::Version, version_print))
        } else if probe || answered_probe {
            Some((answered_probe, method, nmap))
        } else {
            None
        };
        if let Some((answered, method, nmap)) = probe_facts {
            debug_assert!(!early, "only a flow's end report is a probe");
            let p = Probe {
                src: client,
                dst: server,
                port,
                proto: e.proto,
                first_seen: flow.first_seen,
                last_seen: flow.last_seen,
                answered,
                method,
                nmap,
            };
            // The probe's event waits in its window for the verdict: folded into a scan, or
            // released as it is. The window holds the ended flow and judges it again (the same
            // finding: a probe is no beacon across flows) only if the event is written.
            let held_event = (!silenced).then(|| {
                let mut flow = flow.detach();
                let (origin, seed) = (cx.origin.clone(), cx.config.community_id_seed);
                LazyEvent::new(move || {
                    let f = judge(&flow, anomaly_state(&flow));
                    anomaly_event(&origin, seed, &mut flow, f, Report::End)
                })
            });
            cx.observe(Observation::Probe {
                probe: p,
                held_event,
            });
            return;
        }
        if !silenced {
            let report = if early { Report::Update } else { Report::End };
            let ev = self.make_event(cx, flow, f, report);
            cx.emit(ev);
        }
    }

    fn on_tick(&mut self, cx: &mut Context<'_>, _now: Timestamp) {
        self.export_counters(cx);
    }

    fn on_finish(&mut self, cx: &mut Context<'_>, _now: Timestamp) {
        self.export_counters(cx);
    }
}

/// UDP to ALL-PIM-ROUTERS:3232 whose first datagram is made of Data-MDT join TLVs: MDT
/// traffic the MDT classifier did not claim, not an anomaly.
fn looks_like_mdt_join(flow: &Flow, st: Option<&AnomalyFlow>) -> bool {
    let Some(st) = st else { return false };
    let e = &flow.endpoints;
    let first = st
        .records
        .iter()
        .find(|r| r.to_server)
        .map(|r| r.len as usize);
    e.proto == crate::decode::IPPROTO_UDP
        && e.dst_port == 3232
        && mdt::probe::is_all_pim_routers(e.dst)
        && first.is_some_and(|n| {
            st.sample[0]
                .get(..n)
                .is_some_and(mdt::probe::is_join_tlvs_only)
        })
}

impl Anomaly {
    fn export_counters(&self, cx: &mut Context<'_>) {
        // Totals kept by the trackers: copied, not added.
        cx.counters.anomaly.beacon_pairs_evicted = self.pairs.evicted;
    }
}

fn anomaly_state(flow: &Flow) -> Option<&AnomalyFlow> {
    match &flow.app {
        AppState::Anomaly(s) => Some(s),
        _ => None,
    }
}

fn reversed_of(flow: &Flow) -> bool {
    matches!(&flow.app, AppState::Anomaly(s) if s.reversed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_sampling_follows_sequence_numbers() {
        let a = Anomaly::new(&[3232], &AnomalyConfig::default());
        let mut st = AnomalyFlow::default();
        a.sample(&mut st, 0, Some(100), true, b""); // SYN: data starts at 101
        a.sample(&mut st, 0, Some(101), false, b"abc");
        a.sample(&mut st, 0, Some(101), false, b"abc"); // retransmission
        a.sample(&mut st, 0, Some(102), false, b"bcde"); // overlap, new tail
        assert_eq!(st.sample[0][..], b"abcde"[..]);
        a.sample(&mut st, 0, Some(200), false, b"zz"); // bytes missing: stop
        a.sample(&mut st, 0, Some(106), false, b"f");
        assert_eq!(st.sample[0][..], b"abcde"[..]);
        // Sequence numbers wrap.
        let mut st = AnomalyFlow::default();
        a.sample(&mut st, 1, Some(u32::MAX), true, b"");
        a.sample(&mut st, 1, Some(0), false, b"xy");
        a.sample(&mut st, 1, Some(2), false, b"z");
        assert_eq!(st.sample[1][..], b"xyz"[..]);
        // UDP: every datagram, up to the cap.
        let mut st = AnomalyFlow::default();
        a.sample(&mut st, 0, None, false, &[7; 300]);
        a.sample(&mut st, 0, None, false, &[8; 300]);
        assert_eq!(st.sample[0].len(), 512);
        assert_eq!(st.sample[0][511], 8);
    }

    #[test]
    fn a_client_hello_over_many_segments_is_parsed_once_it_can_be_whole() {
        let a = Anomaly::new(&[3232], &AnomalyConfig::default());
        let ciphers: Vec<u16> = (0x1000..0x1190).collect();
        let hello =
            guess::tls::tests::client_hello(Some("ota.example"), &[], &ciphers, &[29], true);
        assert!(hello.len() > 512 + 300, "{}", hello.len());
        let mut st = AnomalyFlow::default();
        // 8-byte segments: 512 is a multiple, so the sample stays whole at the cap.
        for chunk in hello.chunks(8) {
            a.sample(&mut st, 0, None, false, chunk);
            if st.sample[0].len() > 512 {
                // Parsed once past the cap; it told the whole length, so no parse until then.
                assert_eq!(st.hello_parse_at, hello.len());
            }
        }
        assert!(!st.hello_complete);
        a.sample(&mut st, 0, None, false, b"after");
        assert!(st.hello_complete);
        assert_eq!(st.sample[0][..], hello[..]);
    }

    #[test]
    fn reasons_round_trip_their_names() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_name(r.name()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.name());
            assert!(r.silenced_counter().ends_with(r.name()));
        }
        assert_eq!(Reason::from_name("nope"), None);
    }
}
