//! The cross-flow tables: everything whose answer depends on more than one flow (scan windows,
//! and the tables that follow them here). Classifiers keep per-flow state and judge each flow;
//! what a table needs from a flow reaches it as a typed [`Observation`].
//!
//! One engine runs its [`Aggregator`] inline: `Context::observe` applies an observation at the
//! very point where the classifier used to touch the table, so events keep their order. Worker
//! engines (`Engine::new_worker`) queue their observations, stamped with the global packet index
//! ([`At`]); the driver merges every worker's queue by stamp into one aggregator, so `--workers N`
//! finds what one worker finds (a scan spread over hosts that hash to different workers is one
//! scan), the way Zeek's cluster keeps scan detection on one node.

pub mod bruteforce;
pub mod devices;
pub mod mdt;
pub mod scan;

use crate::event::anomaly::{AnomalyDetails, Evidence, Reason, Report};
use crate::event::device::{
    AnnouncementDetails, DeviceDetails, DeviceEntry, DeviceKind, LastUpdate,
};
use crate::event::mdt::{DataMdtJoinDetails, Hello, JoinPrune, PimDetails};
use crate::event::AuthScheme;
use crate::event::{Body, Event, FlowFields, Origin, OtaProtocol, Parties, Severity, TunnelFields};
use crate::stats::Counters;
use crate::time::Timestamp;
use bruteforce::FailureTracker;
use devices::Inventory;
use mdt::MdtTables;
use scan::{Closed, Probe, ScanConfig, ScanTracker};
use std::net::IpAddr;
use std::sync::Arc;

/// A fact about one flow that a cross-flow table needs.
#[derive(Debug)]
pub enum Observation {
    /// A probe flow ended (the anomaly path judged it): its scan window folds `held_event`
    /// into a `scan` event, or releases it unchanged when the window is no scan. `None`: the
    /// probe's own event is written anyway (answered or silenced).
    Probe {
        probe: Probe,
        held_event: Option<LazyEvent>,
    },
    /// A failed OTA password answer (ArduinoOTA or ESPHome). `alert` is the
    /// `ota_auth_bruteforce` event to write, its detail and count left blank, should this
    /// failure reach the threshold of the uploader's window; its body names the protocol.
    AuthFailure {
        uploader: IpAddr,
        /// The device's OTA port (ArduinoOTA), for the alert's detail.
        device_port: u16,
        alert: Box<Event>,
    },
    /// A packet sent by a device itself (its link-layer source, when known, is its MAC).
    DeviceSeen {
        address: IpAddr,
        /// The MAC written out, and its vendor.
        mac: Option<(String, Option<&'static str>)>,
        ts: Timestamp,
    },
    /// An OTA session (ArduinoOTA or ESPHome) with a device ended.
    DeviceSession {
        device: IpAddr,
        port: u16,
        auth: Option<AuthScheme>,
        update: Box<LastUpdate>,
    },
    /// An mDNS announcement of an OTA-capable device.
    DeviceAnnounced {
        announcement: Box<AnnouncementDetails>,
        ts: Timestamp,
    },
    /// A (PE, default-MDT group) pair seen in control traffic; `event` is its `default_mdt`
    /// event, written on the first sighting.
    DefaultMdtSeen {
        pe: IpAddr,
        p_group: IpAddr,
        event: Box<Event>,
    },
    /// A PIM Hello (`base`: the `pim` details of the packet, change not yet decided).
    PimHello {
        base: Box<PimDetails>,
        hello: Box<Hello>,
        flow: Box<FlowRef>,
    },
    /// A PIM Join/Prune.
    PimJoinPrune {
        base: Box<PimDetails>,
        join_prune: Box<JoinPrune>,
        flow: Box<FlowRef>,
    },
    /// A Data-MDT Join TLV naming a C-flow and its P-group (`previous_p_group` left unset).
    DataMdtJoin {
        details: Box<DataMdtJoinDetails>,
        flow: Box<FlowRef>,
    },
    /// A packet of GRE to a multicast group; `inner` = the customer (S,G) when it carries IP.
    GroupTraffic {
        pe: IpAddr,
        group: IpAddr,
        inner: Option<(IpAddr, IpAddr)>,
        mpls: bool,
        ts: Timestamp,
    },
    /// GRE that did not decode, sent to a multicast group; `event` is its `malformed` event,
    /// written once per (PE, group, reason).
    GreError {
        pe: IpAddr,
        group: IpAddr,
        reason: &'static str,
        event: Box<Event>,
    },
    /// A worker's clock tick (worker mode only; one engine ticks the aggregator itself).
    /// Every worker sends one per tick time: the aggregator acts on the first.
    Tick { now: Timestamp },
    /// A worker reached the end of input (worker mode only); acted on once.
    Finish { now: Timestamp },
}

/// An event built only when it is written. A probe's event waits in its scan window for the
/// verdict and is often folded, never written: what it is built from (the ended flow, a few
/// hundred bytes) is held instead of the event (over 1.5 KB; docs/performance.md, "Memory per
/// flow and per session").
pub struct LazyEvent(Box<dyn FnOnce() -> Event + Send>);

impl LazyEvent {
    pub fn new(build: impl FnOnce() -> Event + Send + 'static) -> Self {
        LazyEvent(Box::new(build))
    }

    /// An event already built (tests, and whatever has one at hand).
    pub fn ready(event: Event) -> Self {
        Self::new(move || event)
    }

    pub fn build(self) -> Event {
        (self.0)()
    }
}

impl std::fmt::Debug for LazyEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyEvent")
    }
}

/// The flow and packet an event about an observation names (as `Context::emit_flow_event`
/// would write them).
#[derive(Clone, Debug)]
pub struct FlowRef {
    pub ts: Timestamp,
    pub pcap_cnt: Option<u64>,
    pub flow_id: u64,
    pub fields: FlowFields,
    pub tunnel: Option<TunnelFields>,
}

/// Where an observation happened in the global packet order: the merge key of worker queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct At {
    /// Global index of the packet being handled (`Pkt.index`); `u64::MAX` at the end of input.
    pub index: u64,
    pub phase: Phase,
    /// Within one housekeeping step, the last packet time (µs) of the flow being ended: one
    /// engine ends idle flows least recently seen first, so the merge of several workers'
    /// flow ends must too (a scan window's held probes depend on that order). `i64::MAX` for
    /// the classifiers' own tick work, which follows every flow end; 0 otherwise.
    pub order: i64,
}

/// The steps of handling one packet, in the order one engine runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// The tick this packet triggered: idle flows ending, classifiers' housekeeping (and, at the
    /// end of input, the final flush).
    Housekeeping,
    /// The aggregator's own tick (or finish), after every worker's housekeeping.
    Clock,
    /// The packet itself.
    Packet,
}

impl At {
    pub const fn new(index: u64, phase: Phase) -> Self {
        At {
            index,
            phase,
            order: 0,
        }
    }
}

/// Where the aggregator writes: the engine's counters and events when inline, its own in
/// worker mode.
pub(crate) struct Sink<'a> {
    pub counters: &'a mut Counters,
    pub events: &'a mut Vec<Event>,
    pub origin: &'a Origin,
}

impl Sink<'_> {
    fn emit(&mut self, event: Event) {
        self.counters.events.count(&event.body);
        self.events.push(event);
    }
}

/// The tables, apart from where their events go.
struct Tables {
    /// Scan windows wait this long past their end for their last probe flow to end (the
    /// engine's flow timeout, plus two ticks).
    scan_grace_secs: u64,
    silencer: Option<Arc<dyn Silence>>,
    scans: ScanTracker,
    closed: Vec<Closed>,
    /// Failed OTA password answers per uploader: ArduinoOTA's and ESPHome's, kept apart.
    failures: [FailureTracker; 2],
    bruteforce_window_secs: u64,
    mdt: MdtTables,
    devices: Inventory,
    /// The end of input's inventories are written: [`Tables::finish_some`] goes on with the
    /// scan windows.
    finishing: bool,
}

fn protocol_slot(p: OtaProtocol) -> usize {
    match p {
        OtaProtocol::ArduinoOta => 0,
        _ => 1,
    }
}

/// Owner of every cross-flow table. See the module documentation.
pub struct Aggregator {
    tables: Tables,
    counters: Counters,
    events: Vec<Event>,
    origin: Origin,
    /// The last tick acted on: workers each send one per tick time.
    last_tick: Option<Timestamp>,
    finished: bool,
}

/// What the aggregator is told; `classify::Config::aggregate_settings` fills it from the
/// classifiers' settings (the aggregator imports nothing from `classify`, which feeds it).
#[derive(Clone)]
pub struct Settings {
    pub scan: ScanConfig,
    /// Scan windows wait this long past their end for their last probe flow to end (the
    /// engine's flow timeout, plus two ticks).
    pub scan_grace_secs: u64,
    /// Silences `scan` findings (the anomaly allowlist).
    pub silencer: Option<Arc<dyn Silence>>,
    /// Sources in each brute-force tracker, and devices in the inventory.
    pub max_sources: usize,
    pub bruteforce_threshold: u32,
    pub bruteforce_window_secs: u64,
    /// Bound on each MDT table.
    pub mdt_max_entries: usize,
}

/// Something that silences findings by reason, addresses, port and protocol (the anomaly
/// allowlist).
pub trait Silence: Send + Sync {
    /// The line of the entry silencing `reason` between `addrs` on `port`/`proto`, if any.
    fn silences(
        &self,
        reason: Reason,
        addrs: &[IpAddr],
        port: Option<u16>,
        proto: u8,
    ) -> Option<usize>;
}

impl Aggregator {
    pub fn new(settings: &Settings) -> Self {
        Aggregator {
            tables: Tables {
                scan_grace_secs: settings.scan_grace_secs,
                silencer: settings.silencer.clone(),
                scans: ScanTracker::new(settings.scan.clone()),
                closed: Vec::new(),
                failures: [(); 2].map(|_| {
                    FailureTracker::new(
                        settings.max_sources,
                        settings.bruteforce_threshold,
                        settings.bruteforce_window_secs,
                    )
                }),
                bruteforce_window_secs: settings.bruteforce_window_secs,
                mdt: MdtTables::new(settings.mdt_max_entries),
                devices: Inventory::new(settings.max_sources),
                finishing: false,
            },
            counters: Counters::default(),
            events: Vec::new(),
            origin: Origin::default(),
            last_tick: None,
            finished: false,
        }
    }

    /// Names the source of the events the aggregator writes itself (worker mode).
    pub fn set_origin(&mut self, origin: Origin) {
        self.origin = origin;
    }

    /// Applies one observation of a worker, in the order of `at` (worker mode).
    pub fn observe(&mut self, at: At, obs: Observation) {
        let _ = at;
        match obs {
            Observation::Tick { now } => self.tick(now),
            Observation::Finish { now } => self.finish(now),
            obs => {
                let (tables, mut sink) = self.split();
                tables.observe(obs, &mut sink);
            }
        }
    }

    /// Periodic work at packet time `now`, once per tick time however many workers send it.
    pub fn tick(&mut self, now: Timestamp) {
        if self.last_tick == Some(now) || self.finished {
            return;
        }
        self.last_tick = Some(now);
        let (tables, mut sink) = self.split();
        tables.tick(now, &mut sink);
    }

    /// A periodic report (every `--stats-interval`): inventories, left as they are.
    pub fn report(&mut self, now: Timestamp) {
        let (tables, mut sink) = self.split();
        tables.report(now, &mut sink);
    }

    /// End of input: closes every window and reports the inventories, once.
    pub fn finish(&mut self, now: Timestamp) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let (tables, mut sink) = self.split();
        tables.finish(now, &mut sink);
    }

    /// Events written since the last call, in order (worker mode).
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// The aggregator's own counters (worker mode), to merge into the run's `stats`.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The tables and the aggregator's own sink (worker mode), borrowed apart.
    fn split(&mut self) -> (&mut Tables, Sink<'_>) {
        let sink = Sink {
            counters: &mut self.counters,
            events: &mut self.events,
            origin: &self.origin,
        };
        (&mut self.tables, sink)
    }

    /// One engine: the observation applied at once, its events among the engine's.
    pub(crate) fn observe_into(&mut self, obs: Observation, sink: &mut Sink<'_>) {
        match obs {
            Observation::Tick { now } => self.tables.tick(now, sink),
            Observation::Finish { now } => self.tables.finish(now, sink),
            obs => self.tables.observe(obs, sink),
        }
    }

    pub(crate) fn tick_into(&mut self, now: Timestamp, sink: &mut Sink<'_>) {
        self.tables.tick(now, sink);
    }

    pub(crate) fn report_into(&mut self, now: Timestamp, sink: &mut Sink<'_>) {
        self.tables.report(now, sink);
    }

    pub(crate) fn finish_into(&mut self, now: Timestamp, sink: &mut Sink<'_>) {
        self.tables.finish(now, sink);
    }

    /// [`Aggregator::finish_into`] in steps of about `max_events` events (the scan windows'
    /// held probes), so the caller can write each batch before the next is built; returns
    /// whether any are left.
    pub(crate) fn finish_some_into(
        &mut self,
        now: Timestamp,
        max_events: usize,
        sink: &mut Sink<'_>,
    ) -> bool {
        self.tables.finish_some(now, max_events, sink)
    }
}

impl Tables {
    fn observe(&mut self, obs: Observation, sink: &mut Sink<'_>) {
        match obs {
            Observation::Probe { probe, held_event } => {
                let left = self.scans.record(probe, held_event, &mut self.closed);
                if let Some(ev) = left {
                    sink.emit(ev.build());
                }
                self.flush_scans(sink);
            }
            Observation::AuthFailure {
                uploader,
                device_port,
                alert,
            } => self.auth_failure(uploader, device_port, *alert, sink),
            Observation::DeviceSeen { address, mac, ts } => self.devices.saw_mac(address, mac, ts),
            Observation::DeviceSession {
                device,
                port,
                auth,
                update,
            } => self.devices.session(device, port, auth, *update),
            Observation::DeviceAnnounced { announcement, ts } => {
                self.devices.announced(&announcement, ts)
            }
            Observation::DefaultMdtSeen { pe, p_group, event } => {
                self.mdt.default_mdt_seen(pe, p_group, *event, sink)
            }
            Observation::PimHello { base, hello, flow } => {
                self.mdt.hello(*base, *hello, *flow, sink)
            }
            Observation::PimJoinPrune {
                base,
                join_prune,
                flow,
            } => self.mdt.join_prune(*base, *join_prune, *flow, sink),
            Observation::DataMdtJoin { details, flow } => {
                self.mdt.data_mdt_join(*details, *flow, sink)
            }
            Observation::GroupTraffic {
                pe,
                group,
                inner,
                mpls,
                ts,
            } => self.mdt.group_traffic(pe, group, inner, mpls, ts, sink),
            Observation::GreError {
                pe,
                group,
                reason,
                event,
            } => self.mdt.gre_error(pe, group, reason, *event, sink),
            Observation::Tick { .. } | Observation::Finish { .. } => {
                unreachable!("clock observations are handled by the aggregator")
            }
        }
    }

    /// Counts the failure; at the threshold, completes and writes the alert.
    fn auth_failure(
        &mut self,
        uploader: IpAddr,
        device_port: u16,
        mut alert: Event,
        sink: &mut Sink<'_>,
    ) {
        let Body::Alert(a) = &mut alert.body else {
            debug_assert!(false, "AuthFailure carries an alert");
            return;
        };
        let Some(n) = self.failures[protocol_slot(a.protocol)].fail(uploader, alert.timestamp)
        else {
            return;
        };
        a.failures = Some(n);
        if a.protocol == OtaProtocol::ArduinoOta {
            let window = self.bruteforce_window_secs;
            a.detail = format!(
                "{n} failed OTA password answers from {uploader} within {window} s (last against {}:{device_port})",
                a.device
            );
            a.window_s = Some(window);
            sink.counters.arduino_ota.alerts += 1;
        } else {
            a.detail = format!(
                "{n} failed ESPHome OTA password answers from {uploader} within the window"
            );
        }
        sink.emit(alert);
    }

    fn tick(&mut self, now: Timestamp, sink: &mut Sink<'_>) {
        for f in &mut self.failures {
            f.expire(now);
        }
        self.mdt.expire_neighbors(now, sink);
        self.scans
            .expire(now, self.scan_grace_secs, &mut self.closed);
        self.flush_scans(sink);
        self.export_counters(sink);
    }

    fn report(&mut self, now: Timestamp, sink: &mut Sink<'_>) {
        report_devices(self.devices.snapshot(), now, sink);
        self.mdt.report_inventory(now, sink);
    }

    fn finish(&mut self, now: Timestamp, sink: &mut Sink<'_>) {
        while self.finish_some(now, usize::MAX, sink) {}
    }

    /// The end of input in steps: the inventories, then the scan windows, oldest first, about
    /// `max_events` held events at a time. Returns whether any windows are left.
    fn finish_some(&mut self, now: Timestamp, max_events: usize, sink: &mut Sink<'_>) -> bool {
        if !std::mem::replace(&mut self.finishing, true) {
            report_devices(self.devices.drain(), now, sink);
            self.mdt.report_inventory(now, sink);
        }
        let more = self.scans.finish_some(max_events, &mut self.closed);
        self.flush_scans(sink);
        if !more {
            self.export_counters(sink);
        }
        more
    }

    fn export_counters(&self, sink: &mut Sink<'_>) {
        if self.devices.evicted > 0 {
            sink.counters.aggregate.devices_evicted = self.devices.evicted;
        }
        let evicted: u64 = self.failures.iter().map(|f| f.evicted).sum();
        if evicted > 0 {
            sink.counters.aggregate.bruteforce_sources_evicted = evicted;
        }
        // Totals kept by the trackers: copied, not added.
        sink.counters.anomaly.scan_windows_evicted = self.scans.evicted;
    }

    fn silenced(
        &self,
        sink: &mut Sink<'_>,
        reason: Reason,
        s: &crate::event::anomaly::ScanDetails,
    ) -> bool {
        let Some(list) = &self.silencer else {
            return false;
        };
        let port = s.ports.first().copied().filter(|_| s.ports.len() == 1);
        if let Some(line) = list.silences(reason, &[s.src_ip], port, s.proto_number) {
            sink.counters.anomaly.silenced += 1;
            sink.counters.anomaly.silence(reason);
            tracing::debug!(
                line,
                reason = reason.name(),
                "anomaly silenced by the allowlist"
            );
            return true;
        }
        false
    }

    /// Writes what closed windows produced: released probe events, then the `scan` event.
    fn flush_scans(&mut self, sink: &mut Sink<'_>) {
        for c in std::mem::take(&mut self.closed) {
            for ev in c.released {
                sink.emit(ev);
            }
            let Some(s) = c.scan else { continue };
            if self.silenced(sink, Reason::Scan, &s) {
                let open = c.open_ports.len() as u64;
                sink.counters
                    .anomaly
                    .fold_probes(s.probes_folded.saturating_sub(open));
                for ev in c.open_ports {
                    sink.emit(ev);
                }
                continue;
            }
            sink.counters.anomaly.fold_probes(s.probes_folded);
            let detail = format!(
                "{} probed {} target(s) on {} host(s), port(s) {:?}, over {} in {} s: {} {} scan{}{}",
                s.src_ip,
                s.target_count,
                s.host_count,
                s.ports,
                s.proto,
                s.window_end.secs_since(s.window_start).round(),
                s.shape.as_str(),
                s.kind.as_str(),
                s.tool.map(|t| format!(" by {t}")).unwrap_or_default(),
                if s.answered > 0 {
                    format!(", {} open", s.answered)
                } else {
                    String::new()
                }
            );
            let mut reasons = vec!["one source probed many targets on watched ports"];
            if s.answered > 0 {
                reasons.push("some targets answered");
            }
            if s.tool.is_some() {
                reasons.push("probes carry a scanner's fingerprint");
            }
            let ts = s.window_end;
            let parties = Parties {
                src_ip: s.src_ip,
                dest_ip: s.only_host,
                proto: s.proto,
            };
            let d = AnomalyDetails {
                reason: Reason::Scan,
                report: Report::Window,
                evidence: Evidence::default(),
                summary: None,
                beacon: None,
                interactive: None,
                error: None,
                severity_reasons: reasons,
                detail,
                scan: Some(s),
            };
            let mut event = Event::global(
                ts,
                sink.origin.clone(),
                Reason::Scan,
                Severity::Medium,
                Body::Anomaly(Box::new(d)),
            );
            // The scanner is the event's source, so a search on its address finds the scan.
            event.parties = Some(parties);
            sink.emit(event);
        }
    }
}

/// One `device` `inventory` event per device, stamped with when it was last seen.
fn report_devices(devices: Vec<DeviceEntry>, now: Timestamp, sink: &mut Sink<'_>) {
    for d in devices {
        let ts = d.last_seen.max(Timestamp(0)).min(now.max(d.last_seen));
        sink.emit(Event::global(
            ts,
            sink.origin.clone(),
            DeviceKind::Inventory,
            Severity::Info,
            Body::Device(DeviceDetails::Inventory(Box::new(d))),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Config;
    use crate::event::alert::{AlertDetails, AlertKind};
    use crate::event::OtaOutcome;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn at(index: u64) -> At {
        At::new(index, Phase::Packet)
    }

    fn aggregator() -> Aggregator {
        let mut config = Config::default();
        config.ota.bruteforce_threshold = 3;
        config.ota.bruteforce_window_secs = 60;
        Aggregator::new(&config.aggregate_settings(120))
    }

    fn failed_answer(uploader: &str, device: &str, secs: i64) -> Observation {
        let alert = AlertDetails {
            protocol: OtaProtocol::ArduinoOta,
            detail: String::new(),
            session_id: None,
            flow_id: None,
            uploader: ip(uploader),
            device: ip(device),
            auth_scheme: None,
            failures: None,
            window_s: None,
        };
        Observation::AuthFailure {
            uploader: ip(uploader),
            device_port: 3232,
            alert: Box::new(Event::global(
                Timestamp::from_secs(secs),
                Origin::default(),
                AlertKind::OtaAuthBruteforce,
                Severity::High,
                Body::Alert(alert),
            )),
        }
    }

    #[test]
    fn failures_against_different_devices_count_for_one_uploader() {
        // Each device is another IP pair (another worker): the tracker sees all three.
        let mut agg = aggregator();
        for (i, device) in ["192.0.2.1", "192.0.2.2", "192.0.2.3"].iter().enumerate() {
            agg.observe(
                at(i as u64 + 1),
                failed_answer("198.51.100.9", device, 10 + i as i64),
            );
        }
        let events: Vec<Event> = agg.drain_events().collect();
        assert_eq!(events.len(), 1);
        let Body::Alert(a) = &events[0].body else {
            panic!("an alert")
        };
        assert_eq!((a.failures, a.window_s), (Some(3), Some(60)));
        assert!(a
            .detail
            .starts_with("3 failed OTA password answers from 198.51.100.9"));
        assert_eq!(agg.counters().arduino_ota.alerts, 1);
        assert_eq!(agg.counters().events.alert, 1);
    }

    #[test]
    fn device_facts_from_different_flows_make_one_entry_reported_once() {
        let mut agg = aggregator();
        let device = ip("192.0.2.50");
        let announcement = AnnouncementDetails {
            service: "_arduino._tcp",
            instance: "thermo".into(),
            hostname: Some("thermo.local".into()),
            address: device,
            ota_port: Some(3232),
            port: Some(3232),
            board: Some("esp32".into()),
            auth_upload: Some(true),
            txt: Default::default(),
            mac: None,
            vendor: None,
        };
        agg.observe(
            at(1),
            Observation::DeviceAnnounced {
                announcement: Box::new(announcement),
                ts: Timestamp::from_secs(1),
            },
        );
        agg.observe(
            at(2),
            Observation::DeviceSeen {
                address: device,
                mac: Some(("24:0a:c4:01:02:03".into(), Some("Espressif Inc."))),
                ts: Timestamp::from_secs(2),
            },
        );
        let update = LastUpdate {
            timestamp: Timestamp::from_secs(3),
            protocol: OtaProtocol::ArduinoOta,
            outcome: OtaOutcome::Complete,
            uploader: ip("192.0.2.10"),
            image_md5: None,
            project_name: None,
            version: None,
        };
        agg.observe(
            at(3),
            Observation::DeviceSession {
                device,
                port: 3232,
                auth: Some(AuthScheme::Md5),
                update: Box::new(update),
            },
        );
        // Every worker ends: the inventory is written once.
        for _ in 0..4 {
            agg.observe(
                At::new(u64::MAX, Phase::Clock),
                Observation::Finish {
                    now: Timestamp::from_secs(9),
                },
            );
        }
        let events: Vec<Event> = agg.drain_events().collect();
        assert_eq!(events.len(), 1, "{events:?}");
        let Body::Device(DeviceDetails::Inventory(d)) = &events[0].body else {
            panic!("a device inventory")
        };
        assert_eq!(d.hostname.as_deref(), Some("thermo.local"));
        assert_eq!(d.mac.as_deref(), Some("24:0a:c4:01:02:03"));
        assert_eq!((d.ota_sessions, d.ota_port), (1, Some(3232)));
        assert_eq!(d.first_seen, Timestamp::from_secs(1));
    }

    #[test]
    fn a_tick_time_is_acted_on_once() {
        let mut config = Config::default();
        config.anomaly.scan_hosts = 10;
        let mut agg = Aggregator::new(&config.aggregate_settings(0));
        let probe = |dst: &str| Observation::Probe {
            probe: Probe {
                src: ip("198.51.100.1"),
                dst: ip(dst),
                port: 3232,
                proto: 6,
                first_seen: Timestamp::from_secs(0),
                last_seen: Timestamp::from_secs(0),
                answered: false,
                method: crate::event::anomaly::ScanMethod::Syn,
                nmap: false,
            },
            held_event: Some(LazyEvent::ready(Event::global(
                Timestamp::from_secs(0),
                Origin::default(),
                Reason::UnknownProtocol,
                Severity::Info,
                Body::Stats(Box::default()),
            ))),
        };
        agg.observe(at(1), probe("192.0.2.1"));
        agg.observe(at(2), probe("192.0.2.2"));
        // Two workers tick at 100 s (past window + grace): the window is released once.
        let tick = Observation::Tick {
            now: Timestamp::from_secs(100),
        };
        agg.observe(At::new(3, Phase::Clock), tick);
        let tick = Observation::Tick {
            now: Timestamp::from_secs(100),
        };
        agg.observe(At::new(3, Phase::Clock), tick);
        assert_eq!(agg.drain_events().count(), 2, "both held probes, once");
        agg.finish(Timestamp::from_secs(100));
        agg.tick(Timestamp::from_secs(200));
        assert_eq!(agg.drain_events().count(), 0, "nothing after the end");
    }
}
