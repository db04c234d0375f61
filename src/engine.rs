//! The per-packet pipeline: decode → interest check → flow table → classifiers → events.
//!
//! The engine owns no I/O: sources push packets in, and the caller drains events out.
//! Time is packet time, so a capture file replays exactly as it was recorded.

use crate::aggregate::{Aggregator, At, Observation, Phase, Sink};
use crate::artifact::{Artifact, Artifacts};
use crate::classify::ota::IdSequence;
use crate::classify::{
    self, dir_index, AppState, Classifier, Context, Flow, Interest, Observer, Pkt, Verdict,
};
use crate::decode::{self, Decoded, Outcome, Transport};
use crate::event::stats::{FileStats, FlowStats, KernelDrops, StatsDetails, StatsKind};
use crate::event::{Body, Event, Origin, Severity};
use crate::flow::{Endpoints, FlowKey, FlowTable, Removed, RemovedBy};
use crate::packet::Packet;
use crate::stats::Counters;
use crate::time::Timestamp;

/// What the engine needs to know; the CLI fills it from flags.
#[derive(Clone, Debug)]
pub struct Config {
    /// What the classifiers are told (ports, tunables, Community ID seed).
    pub classify: classify::Config,
    /// Hard bound on tracked flows; the least recently seen is evicted past it.
    pub max_flows: usize,
    /// A flow idle this long (packet time) is ended.
    pub flow_timeout_secs: u64,
    pub max_tunnel_depth: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            classify: classify::Config::default(),
            max_flows: 100_000,
            flow_timeout_secs: 120,
            max_tunnel_depth: decode::DEFAULT_MAX_TUNNEL_DEPTH,
        }
    }
}

impl Config {
    /// The configuration of engine `index` of `workers` sharing one run: the per-engine bounds
    /// (tracked flows; OTA sessions, which also bound the mDNS announcement cache) are split
    /// between them, so `--max-flows` and `--max-ota-sessions` bound the run's memory whatever
    /// `--workers` is. The shares add up to the whole, or to `workers` when the whole is
    /// smaller (each is at least 1). The cross-flow tables live in the one aggregator and keep
    /// their whole bounds. Session ids are interleaved, so they stay unique in the run.
    pub fn for_worker(&self, index: usize, workers: usize) -> Config {
        let workers = workers.max(1);
        let share = |whole: usize| (whole / workers + usize::from(index < whole % workers)).max(1);
        let mut config = self.clone();
        config.max_flows = share(self.max_flows);
        config.classify.ota.max_sessions = share(self.classify.ota.max_sessions);
        // Each worker numbers its sessions in its own residue class: no id is used twice.
        config.classify.ota.session_ids = IdSequence {
            first: index as u64 + 1,
            step: workers as u64,
        };
        config
    }
}

/// How often (in packet time) idle flows are swept and classifiers ticked.
const TICK_MICROS: i64 = 1_000_000;

pub struct Engine {
    /// What classifiers may touch, kept apart from the flow table and the classifier list so
    /// a `Context` can be lent while a flow of the table is borrowed.
    shared: Shared,
    classifiers: Vec<Box<dyn Classifier>>,
    flows: FlowTable<Flow>,
    removed: Vec<Removed<Flow>>,
    now: Timestamp,
    next_tick: Timestamp,
    /// Ticks come from [`Engine::tick_to`] (a shard of a sharded read), not from `process`.
    external_clock: bool,
    kernel: Option<KernelDrops>,
    /// How far the end of input has got: the table is flushed, then the classifiers finish,
    /// then (one engine) the aggregator, in batches.
    ending: Ending,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    Running,
    /// The classifiers have finished; the aggregator's scan windows are being closed.
    Aggregator,
    Done,
}

struct Shared {
    config: Config,
    origin: Origin,
    counters: Counters,
    interest: Interest,
    events: Vec<Event>,
    /// The cross-flow tables: run inline by one engine, unused by a worker (whose observations
    /// queue in `observations` for the driver's aggregator).
    aggregator: Aggregator,
    worker: bool,
    observations: Vec<(At, Observation)>,
    /// Where the engine stands in the global packet order, to stamp queued observations.
    at: At,
    artifacts: Artifacts,
}

impl Shared {
    fn context(&mut self) -> Context<'_> {
        let observer = if self.worker {
            Observer::Queue {
                queue: &mut self.observations,
                at: self.at,
            }
        } else {
            Observer::Inline(&mut self.aggregator)
        };
        Context::new(
            &self.config.classify,
            &self.origin,
            &mut self.counters,
            &mut self.interest,
            &mut self.events,
            &mut self.artifacts,
            observer,
        )
    }

    /// The aggregator's share of a tick, a report or the end: run inline by one engine; a
    /// worker queues the clock observation (`Tick`, `Finish`) for the driver's aggregator.
    fn clock(&mut self, now: Timestamp, what: Clock) {
        if self.worker {
            let obs = match what {
                Clock::Tick => Observation::Tick { now },
                Clock::Finish => Observation::Finish { now },
                // The driver reports its aggregator on its own timer.
                Clock::Report => return,
            };
            let at = At::new(self.at.index, Phase::Clock);
            self.observations.push((at, obs));
            return;
        }
        let mut sink = Sink {
            counters: &mut self.counters,
            events: &mut self.events,
            origin: &self.origin,
        };
        match what {
            Clock::Tick => self.aggregator.tick_into(now, &mut sink),
            Clock::Report => self.aggregator.report_into(now, &mut sink),
            Clock::Finish => self.aggregator.finish_into(now, &mut sink),
        }
    }
}

#[derive(Clone, Copy)]
enum Clock {
    Tick,
    Report,
    Finish,
}

impl Engine {
    /// One engine: its own aggregator runs inline.
    pub fn new(config: Config) -> Self {
        Self::with_mode(config, false)
    }

    /// A worker engine (one shard of the packets): observations for the cross-flow tables are
    /// queued, stamped, for [`Engine::drain_observations`]; the driver merges every worker's
    /// by stamp into one [`Aggregator`]. Feed it with [`Engine::advance_at`] so every worker
    /// ticks where one engine would.
    pub fn new_worker(config: Config) -> Self {
        Self::with_mode(config, true)
    }

    fn with_mode(config: Config, worker: bool) -> Self {
        let classifiers = classify::registry(&config.classify);
        let aggregator =
            Aggregator::new(&config.classify.aggregate_settings(config.flow_timeout_secs));
        assert!(
            classifiers.len() <= 32,
            "the declined mask holds 32 classifiers"
        );
        let mut interest = Interest::default();
        for c in &classifiers {
            c.interests(&mut interest);
        }
        interest.add_tunnels(&config.classify.vxlan_ports);
        Engine {
            flows: FlowTable::new(config.max_flows, config.flow_timeout_secs),
            shared: Shared {
                config,
                origin: Origin::default(),
                counters: Counters::default(),
                interest,
                events: Vec::new(),
                aggregator,
                worker,
                observations: Vec::new(),
                at: At::new(0, Phase::Packet),
                artifacts: Artifacts::default(),
            },
            classifiers,
            removed: Vec::new(),
            now: Timestamp::default(),
            next_tick: Timestamp::default(),
            external_clock: false,
            kernel: None,
            ending: Ending::Running,
        }
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    pub fn interest(&self) -> &Interest {
        &self.shared.interest
    }

    /// Names the source of the packets that follow (`pcap_filename` / `in_iface`).
    pub fn set_origin(&mut self, origin: Origin) {
        self.shared.origin = origin;
    }

    /// The source of the packets being processed.
    pub fn origin(&self) -> &Origin {
        &self.shared.origin
    }

    pub fn counters_mut(&mut self) -> &mut Counters {
        &mut self.shared.counters
    }

    pub fn set_kernel_stats(&mut self, kernel: KernelDrops) {
        self.kernel = Some(kernel);
    }

    /// Whether any event waits to be drained.
    #[inline]
    pub fn has_events(&self) -> bool {
        !self.shared.events.is_empty()
    }

    /// Files waiting to be written (extracted firmware), oldest first. The driver writes them
    /// before it drains the events, which name them.
    pub fn take_artifacts(&mut self) -> Vec<Artifact> {
        if self.shared.artifacts.is_empty() {
            return Vec::new();
        }
        self.shared.artifacts.take()
    }

    /// `artifact` could not be written: its event (not drained yet) and the counters say so.
    pub fn artifact_not_written(&mut self, artifact: &Artifact, error: &std::io::Error) {
        classify::ota::extract::firmware_not_written(
            &mut self.shared.events,
            &mut self.shared.counters,
            artifact,
            error,
        );
    }

    /// Events produced since the last call, in order.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.shared.events.drain(..)
    }

    #[inline(always)]
    pub fn process(&mut self, packet: &Packet<'_>) {
        self.process_numbered(packet, packet.index);
    }

    /// [`Engine::process`] for a worker of a run over several files: `global` is the packet's
    /// position in the whole run (its `pcap_cnt` restarts with each file), the stamp its
    /// observations carry.
    ///
    /// Inlined into the read loops: most packets end at the cheap reject, and a call with the
    /// full decoder's frame behind it cost more than the reject itself.
    #[inline(always)]
    pub fn process_numbered(&mut self, packet: &Packet<'_>, global: u64) {
        self.shared.counters.packets += 1;
        self.shared.counters.bytes += u64::from(packet.wire_len);
        if packet.ts > self.now {
            self.now = packet.ts;
        }
        if self.now >= self.next_tick && !self.external_clock {
            self.housekeeping(global);
        }
        // The cheap reject first: plain UDP/TCP nobody wants never reaches the decoder. The
        // pre-filter's one decision, as `wanted` takes it after the full decoder.
        match decode::fast::peek(packet.link, packet.data) {
            decode::fast::Peek::Ports(proto, src, dst) => {
                if !self.shared.interest.wants(proto, Some((src, dst)), false) {
                    return;
                }
                self.process_wanted_ports(packet, global, proto, src, dst);
            }
            decode::fast::Peek::NotIp => self.shared.counters.not_ip += 1,
            decode::fast::Peek::Slow => self.process_decoded(packet, global),
        }
    }

    #[inline(never)]
    fn housekeeping(&mut self, global: u64) {
        self.shared.at = At::new(global, Phase::Housekeeping);
        self.tick();
    }

    /// A plain UDP/TCP packet the pre-filter's port bitmaps passed.
    #[inline(never)]
    fn process_wanted_ports(
        &mut self,
        packet: &Packet<'_>,
        global: u64,
        proto: u8,
        src: u16,
        dst: u16,
    ) {
        // A TCP port only a run-time hold names: wanted only between the hold's two hosts,
        // checked here so colliding background traffic is not decoded.
        let interest = &self.shared.interest;
        if proto == decode::IPPROTO_TCP && interest.only_held(src, dst) {
            if let Some(pair) = decode::fast::addresses(packet.link, packet.data) {
                if !interest.wants_from(proto, pair, Some((src, dst)), false) {
                    return;
                }
            }
        }
        self.process_decoded(packet, global);
    }

    /// The full decoder, the pre-filter's decision on what it found, then the classifiers.
    #[inline(never)]
    fn process_decoded(&mut self, packet: &Packet<'_>, global: u64) {
        self.shared.at = At::new(global, Phase::Packet);
        let options = decode::Options {
            max_tunnel_depth: self.shared.config.max_tunnel_depth,
            vxlan_ports: &self.shared.config.classify.vxlan_ports,
        };
        let decoded = match decode::decode_with(packet.link, packet.data, &options) {
            Ok(Outcome::Ip(d)) => d,
            Ok(Outcome::NotIp(_)) => {
                self.shared.counters.not_ip += 1;
                return;
            }
            Ok(Outcome::Skipped(why)) => {
                self.shared.counters.link_skips.count(why);
                tracing::debug!(skip = why.name(), "frame skipped at the link layer");
                return;
            }
            Err(e) => {
                self.count_decode_error(&e);
                let mut cx = self.shared.context();
                for c in &mut self.classifiers {
                    c.on_decode_error(&mut cx, packet, &e);
                }
                return;
            }
        };
        if decoded.net.truncated {
            self.shared.counters.snaplen_cut += 1;
        }
        if !self.wanted(&decoded) {
            return;
        }
        self.shared.counters.interesting_packets += 1;
        self.dispatch(packet, &decoded);
    }

    fn count_decode_error(&mut self, e: &decode::DecodeError) {
        self.shared.counters.decode_errors += 1;
        self.shared.counters.decode_error_kinds.count(e);
        tracing::debug!(error = %e, "packet not decoded");
    }

    /// The pre-filter's decision on a decoded packet (`process` takes the same decision before
    /// decoding when `decode::fast::peek` can read the ports). Fragments are counted, not wanted.
    #[inline]
    fn wanted(&mut self, d: &Decoded<'_>) -> bool {
        if matches!(d.transport, Transport::Fragment) {
            self.shared.counters.fragments += 1;
            return false;
        }
        // A mirror tunnel (ERSPAN, VXLAN…) only carried the packet here: judged as if bare.
        let in_gre = d.tunnel.is_some_and(|t| t.kind == decode::TunnelKind::Gre);
        self.shared
            .interest
            .wants_from(d.net.proto, (d.net.src, d.net.dst), d.ports(), in_gre)
    }

    fn dispatch(&mut self, packet: &Packet<'_>, d: &Decoded<'_>) {
        let (src_port, dst_port) = d.ports().unwrap_or((0, 0));
        let (key, _) = FlowKey::new(d.net.src, d.net.dst, src_port, dst_port, d.net.proto);
        let now = packet.ts;
        // One lookup: the flow, or a new one (the evicted flow is reported before this
        // packet is handled, as it left first).
        let (at, evicted) = self.flows.find_or_insert(key, now, |id| {
            let endpoints = Endpoints {
                src: d.net.src,
                dst: d.net.dst,
                src_port,
                dst_port,
                proto: d.net.proto,
            };
            Flow::new(id, endpoints, now, d.tunnel)
        });
        if let Some(ev) = evicted {
            self.removed.push(ev);
            self.finish_removed();
        }
        let (_, flow) = self.flows.at_mut(at);
        let dir = flow.endpoints.direction_of(d.net.src, src_port);
        let i = dir_index(dir);
        flow.last_seen = now;
        flow.packets[i] += 1;
        flow.payload_bytes[i] += d.payload().len() as u64;
        if let Transport::Tcp(t) = d.transport {
            flow.tcp_flags[i] |= t.flags.0;
        }
        let pkt = Pkt {
            ts: now,
            index: packet.index,
            decoded: d,
            dir,
        };
        let mut cx = self.shared.context();
        let done = match flow.owner {
            Some(owner) => {
                let v = self.classifiers[usize::from(owner)].on_packet(&mut cx, &pkt, flow);
                v == Verdict::Done
            }
            None => offer(&mut self.classifiers, &mut cx, &pkt, flow),
        };
        if done {
            if let Some(removed) = self.flows.close(&key) {
                self.removed.push(removed);
                self.finish_removed();
            }
        }
    }

    /// Sweeps idle flows and lets classifiers do their periodic work.
    fn tick(&mut self) {
        // Saturating: a damaged capture can carry a timestamp near the end of time.
        self.next_tick = Timestamp(self.now.micros().saturating_add(TICK_MICROS));
        self.flows.expire(self.now, &mut self.removed);
        self.finish_removed();
        self.shared.at.order = i64::MAX;
        let mut cx = self.shared.context();
        for c in &mut self.classifiers {
            c.on_tick(&mut cx, self.now);
        }
        self.shared.clock(self.now, Clock::Tick);
    }

    /// Hands every flow that left the table to whoever should report it.
    fn finish_removed(&mut self) {
        let removed = std::mem::take(&mut self.removed);
        for mut r in removed {
            if self.shared.at.phase == Phase::Housekeeping {
                self.shared.at.order = r.value.last_seen.micros();
            }
            let mut cx = self.shared.context();
            match r.value.owner {
                Some(owner) => {
                    self.classifiers[usize::from(owner)].on_flow_end(&mut cx, &mut r.value, r.by)
                }
                None => {
                    cx.counters.unclassified_flows += 1;
                    cx.counters.unclassified_packets += r.value.packets[0] + r.value.packets[1];
                    for (i, c) in self.classifiers.iter_mut().enumerate() {
                        if r.value.declined & (1 << i) == 0 {
                            c.on_flow_end(&mut cx, &mut r.value, r.by);
                        }
                    }
                }
            }
            if matches!(r.by, RemovedBy::Evicted) {
                tracing::debug!(flow_id = r.id, "flow evicted: table full");
            }
            // Drop per-flow state now, not when the Vec is reused.
            r.value.app = AppState::None;
        }
    }

    /// End of input: flush every flow, let classifiers report, and append the `stats` summary.
    pub fn finish(&mut self) {
        self.finish_without_summary();
        let summary = self.stats_event(StatsKind::Summary);
        self.shared.events.push(summary);
    }

    /// [`Engine::finish`] without the summary: a shard of a sharded run, whose counters the
    /// driver merges into one summary.
    pub fn finish_without_summary(&mut self) {
        while self.flush_flows(usize::MAX) {}
        if self.shared.worker {
            self.finish_classifiers();
            self.shared.clock(self.now, Clock::Finish);
        }
    }

    /// The classifiers' end of input, once.
    fn finish_classifiers(&mut self) {
        if self.ending != Ending::Running {
            return;
        }
        self.ending = Ending::Aggregator;
        self.shared.at.order = i64::MAX;
        let mut cx = self.shared.context();
        for c in &mut self.classifiers {
            c.on_finish(&mut cx, self.now);
        }
    }

    /// One engine's end of input after the flows: the classifiers finish, then the aggregator
    /// closes its scan windows about `max` released events at a time (each window holds its
    /// probes' events). Returns whether any are left.
    fn finish_some(&mut self, max: usize) -> bool {
        self.finish_classifiers();
        if self.ending == Ending::Done {
            return false;
        }
        let mut sink = Sink {
            counters: &mut self.shared.counters,
            events: &mut self.shared.events,
            origin: &self.shared.origin,
        };
        let more = self
            .shared
            .aggregator
            .finish_some_into(self.now, max, &mut sink);
        if !more {
            self.ending = Ending::Done;
        }
        more
    }

    /// Hands the clock to the caller: `process` no longer ticks, [`Engine::tick_to`] does. The
    /// shards of a sharded read tick at the packet times one engine would have, so flow expiry
    /// and classifier ticks agree with a single engine.
    pub fn use_external_clock(&mut self) {
        self.external_clock = true;
    }

    /// Moves the clock to `now` (never back) and ticks: what `process` does when a packet
    /// crosses the next tick.
    pub fn tick_to(&mut self, now: Timestamp) {
        self.set_clock(now);
        self.tick();
    }

    /// [`Engine::tick_to`] for a worker: the tick comes before the packet whose index in the
    /// whole run is `global`, the stamp of what the tick observes.
    pub fn tick_to_at(&mut self, now: Timestamp, global: u64) {
        self.shared.at = At::new(global, Phase::Housekeeping);
        self.tick_to(now);
    }

    /// Whether a worker has observations waiting for [`Engine::drain_observations`].
    pub fn has_observations(&self) -> bool {
        !self.shared.observations.is_empty()
    }

    /// Moves the clock to `now` (never back) without ticking.
    pub fn set_clock(&mut self, now: Timestamp) {
        if now > self.now {
            self.now = now;
        }
    }

    /// Ends up to `max` of the flows still open (end of input), reporting them; returns whether
    /// any are left. Callers drain events between calls, so a full table's end-of-run events
    /// never sit in memory all at once. [`Engine::finish`] then finds the table empty.
    ///
    /// One engine goes on, once the table is empty, with the rest of the end of input (the
    /// classifiers finish, the scan windows release their held probes) in batches too, so
    /// `true` may mean more windows, not more flows.
    pub fn flush_flows(&mut self, max: usize) -> bool {
        self.shared.at = At::new(u64::MAX, Phase::Housekeeping);
        let more = self.flows.drain_some(max, &mut self.removed);
        self.finish_removed();
        if more || self.shared.worker {
            return more;
        }
        self.finish_some(max)
    }

    /// Periodic reports (every `--stats-interval`): each classifier's inventory snapshot.
    pub fn periodic_reports(&mut self) {
        let now = self.now;
        let mut cx = self.shared.context();
        for c in &mut self.classifiers {
            c.on_report(&mut cx, now);
        }
        self.shared.clock(now, Clock::Report);
    }

    /// A `stats` event with the counters so far (`summary` at the end, `periodic` on a timer).
    pub fn stats_event(&mut self, kind: StatsKind) -> Event {
        let details = self.stats_details();
        self.shared.counters.events.stats += 1;
        let origin = self.shared.origin.clone();
        let body = Body::Stats(Box::new(details));
        Event::global(self.now, origin, kind, Severity::Info, body)
    }

    /// The counters so far, as a `stats` event carries them.
    pub fn stats_details(&self) -> StatsDetails {
        let t = self.flows.stats();
        let c = &self.shared.counters;
        let has_files = c.files_read + c.files_failed > 0;
        StatsDetails {
            packets: c.packets,
            bytes: c.bytes,
            decode_errors: c.decode_errors,
            decode_error_kinds: c.decode_error_kinds.to_map(),
            not_ip: c.not_ip,
            fragments: c.fragments,
            snaplen_cut: c.snaplen_cut,
            interesting_packets: c.interesting_packets,
            flows: FlowStats {
                active: self.flows.len(),
                created: t.created,
                expired: t.expired,
                evicted: t.evicted,
                closed: t.closed,
                peak: t.peak,
                capacity: self.flows.capacity(),
            },
            events: c.events.to_map(),
            classifiers: c.classifier_map(),
            kernel: self.kernel.clone(),
            files: has_files.then_some(FileStats {
                read: c.files_read,
                failed: c.files_failed,
                truncated: c.files_truncated,
            }),
            ..StatsDetails::default()
        }
    }

    /// Moves the clock forward without a packet (live capture on a quiet link), so idle flows
    /// still expire.
    pub fn advance_to(&mut self, now: Timestamp) {
        if now > self.now {
            self.now = now;
        }
        if self.now >= self.next_tick {
            self.tick();
        }
    }

    /// [`Engine::advance_to`] for a worker, stamped with the global index of the packet that
    /// moved the clock: call it on every worker before each packet goes to its own (or at least
    /// at every packet where one engine would tick), so every worker ticks and ends idle flows
    /// exactly where one engine would.
    pub fn advance_at(&mut self, now: Timestamp, index: u64) {
        self.shared.at = At::new(index, Phase::Housekeeping);
        self.advance_to(now);
    }

    /// Observations queued by a worker engine since the last call, in the order they were made
    /// (stamps never decrease). Empty for one engine.
    pub fn drain_observations(&mut self) -> std::vec::Drain<'_, (At, Observation)> {
        self.shared.observations.drain(..)
    }

    /// Packet time of the newest packet seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }
}

/// Offers an unclaimed flow's packet to each classifier that has not declined it. Returns
/// whether the flow is finished.
fn offer(
    classifiers: &mut [Box<dyn Classifier>],
    cx: &mut Context<'_>,
    pkt: &Pkt<'_>,
    flow: &mut Flow,
) -> bool {
    for (i, c) in classifiers.iter_mut().enumerate() {
        if flow.declined & (1 << i) != 0 {
            continue;
        }
        match c.on_packet(cx, pkt, flow) {
            Verdict::Claim => {
                flow.owner = Some(i as u8);
                return false;
            }
            Verdict::Done => {
                flow.owner = Some(i as u8);
                return true;
            }
            Verdict::Decline => flow.declined |= 1 << i,
            Verdict::Undecided => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_share_the_per_engine_bounds() {
        let mut whole = Config::default();
        for (flows, workers) in [(100_000, 1), (100_000, 3), (10, 4), (3, 4), (1, 2)] {
            whole.max_flows = flows;
            let shares: Vec<usize> = (0..workers)
                .map(|i| whole.for_worker(i, workers).max_flows)
                .collect();
            assert!(shares.iter().all(|&s| s >= 1), "{shares:?}");
            let most = shares.iter().max().unwrap();
            assert!(most - shares.iter().min().unwrap() <= 1, "{shares:?}");
            // The whole, or one a worker where the whole is smaller than the workers.
            assert_eq!(
                shares.iter().sum::<usize>(),
                flows.max(workers),
                "{shares:?}"
            );
        }
        let split = Config::default().for_worker(1, 2);
        assert_eq!(
            split.classify.ota.max_sessions,
            Config::default().classify.ota.max_sessions / 2
        );
        assert_eq!(split.flow_timeout_secs, Config::default().flow_timeout_secs);
        // Worker 1 of 2 numbers sessions 2, 4, 6, …; one engine 1, 2, 3, ….
        assert_eq!(
            split.classify.ota.session_ids,
            IdSequence { first: 2, step: 2 }
        );
        assert_eq!(
            Config::default().classify.ota.session_ids,
            IdSequence::default()
        );
    }

    /// docs/performance.md, "Memory per flow and per session": what one tracked flow costs in a
    /// full default table (100 000 flows), the anomaly path's state of a probe included, stays
    /// within issue 16's 400 bytes. The sizes are upper bounds the section quotes: a change that
    /// grows one must update the section.
    #[test]
    fn a_tracked_flow_fits_its_memory_budget() {
        use crate::classify::anomaly::AnomalyFlow;
        use crate::flow::BoundedMap;
        use std::mem::size_of;
        let entry = FlowTable::<Flow>::entry_bytes();
        let bucket = BoundedMap::<FlowKey, ()>::INDEX_BUCKET_BYTES;
        println!(
            "table entry {entry} B (Flow {}, FlowKey {}, index bucket {bucket}); AnomalyFlow {}",
            size_of::<Flow>(),
            size_of::<FlowKey>(),
            size_of::<AnomalyFlow>()
        );
        assert!(size_of::<Flow>() <= 152, "Flow {}", size_of::<Flow>());
        assert!(entry <= 221, "{entry} bytes a table entry");
        assert_eq!(bucket, 5, "the index holds slab positions only");
        assert!(size_of::<AnomalyFlow>() <= 120);
        // The index rounds up to a power of two of buckets (100 000 → 131 072), and evictions'
        // tombstones can make it double once more (262 144).
        let index_slack = bucket * 262_144 / 100_000 - bucket;
        // The anomaly state is one allocation (its sample and first record inline), plus the
        // allocator's 8-byte header and 16-byte rounding.
        let anomaly = (size_of::<AnomalyFlow>() + 8).next_multiple_of(16);
        let full = entry + index_slack + anomaly;
        println!("{full} bytes a probe's flow in a full default table");
        assert!(full <= 400, "{full} bytes a flow in a full default table");
    }

    /// The same section's per-session cost: one OTA session is an entry of the session table
    /// and one of the expected connect-backs' index, before the strings it owns.
    #[test]
    fn an_ota_session_fits_its_memory_budget() {
        use crate::classify::arduino_ota::session::{Expectation, Session, SessionKey};
        use crate::flow::BoundedMap;
        use std::mem::size_of;
        let entry = BoundedMap::<SessionKey, Session>::entry_bytes();
        let expectation = size_of::<(Expectation, SessionKey)>() + 1;
        println!(
            "session entry {entry} B (Session {}), expectation {expectation} B",
            size_of::<Session>()
        );
        assert!(entry <= 440, "{entry} bytes a session entry");
        assert!(expectation <= 73, "{expectation} bytes an expectation");
    }
}
