//! Scan detection over *probe* flows: flows on a watched port that carried no payload either
//! way (TCP, answered or not: an open port is a probe too) or only the prober's datagrams with
//! no answer (UDP), as nmap `-sS`/`-sU` leave; and *service probes*, connections whose first
//! bytes are nmap's `-sV` probes (a version scan from [`MIN_SERVICE_PROBES`] on).
//!
//! Probes are recorded when their flow ends, per source and transport, in windows of
//! `window` seconds starting at the first probe's first packet. A window is a **horizontal**
//! scan when it touched at least `hosts` distinct hosts, **vertical** when one host was probed
//! on at least `ports` distinct watched ports. A window closes when a later probe falls past
//! it, when packet time passes its end plus the flow timeout (every probe of the window has
//! ended by then), or at the end of input. A scan window yields one `scan` event; the anomaly
//! events its probes would have produced are *folded* into it (counted, not written). A window
//! below the thresholds releases those events unchanged, so each probe is still reported once.
//!
//! Bounds: at most `max_sources` open windows (the oldest is closed early past it, counted as
//! `anomaly.scan_windows_evicted`), at most [`MAX_TARGETS`] distinct targets remembered per
//! window (the count goes on), and at most max(`hosts`, `ports`) held events per window.

use super::LazyEvent;
use crate::event::anomaly::Reason;
use crate::event::anomaly::{ScanDetails, ScanMethod, ScanShape};
use crate::event::{Body, Event, Severity};
use crate::flow::BoundedMap;
use crate::time::Timestamp;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;

/// Distinct (host, port) targets remembered per window.
pub const MAX_TARGETS: usize = 4096;
/// Targets listed in a `scan` event.
pub const SAMPLE_TARGETS: usize = 10;
/// Fingerprinted service probes (nmap `-sV`) from one source that make a version scan.
pub const MIN_SERVICE_PROBES: u64 = 2;

#[derive(Clone, Debug)]
pub struct ScanConfig {
    pub hosts: usize,
    pub ports: usize,
    pub window_secs: u64,
    pub max_sources: usize,
}

/// One probe flow as it ended.
#[derive(Clone, Debug)]
pub struct Probe {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub port: u16,
    pub proto: u8,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// The target answered (SYN-ACK, no data): an open port.
    pub answered: bool,
    /// How it probed (`Syn`: half-open or unanswered; `Connect`: handshake completed; `Udp`).
    pub method: ScanMethod,
    /// Its SYN carried nmap's fingerprint (`anomaly::fingerprint`).
    pub nmap: bool,
}

struct Window {
    start: Timestamp,
    last: Timestamp,
    targets: HashSet<(IpAddr, u16)>,
    /// Distinct ports remembered per host, and the most on one host.
    per_host: HashMap<IpAddr, usize>,
    max_ports_per_host: usize,
    target_count: u64,
    truncated: bool,
    answered: u64,
    /// The first answered targets (open ports), at most [`SAMPLE_TARGETS`].
    answered_targets: Vec<(IpAddr, u16)>,
    /// TCP probes by method, and those with nmap's fingerprint.
    syn: u64,
    connect: u64,
    nmap: u64,
    /// Fingerprinted service probes.
    version: u64,
    /// Events waiting for the window's verdict.
    held: Vec<Held>,
    /// Held events dropped once the window already counted as a scan.
    folded_early: u64,
}

/// A probe's event waiting in its window.
struct Held {
    /// Its target answered (an open port).
    answered: bool,
    /// It carried nmap's fingerprint.
    nmap: bool,
    event: LazyEvent,
}

/// What closing a window produced.
pub struct Closed {
    /// The `scan` details, when the window was a scan.
    pub scan: Option<ScanDetails>,
    /// Events to write after all (the window was no scan).
    pub released: Vec<Event>,
    /// The events of the scan's open ports, folded into it: written only if the scan is
    /// silenced (the allowlist silences the scan, not what it found).
    pub open_ports: Vec<Event>,
}

pub struct ScanTracker {
    cfg: ScanConfig,
    /// The open windows. A window's life is set by its start, not by when it was last seen,
    /// so the map never evicts or expires on its own: `order` picks the victim first.
    windows: BoundedMap<(IpAddr, u8), Window>,
    /// The open windows by start time: eviction and expiry without scanning them all.
    order: BTreeSet<(Timestamp, IpAddr, u8)>,
    pub evicted: u64,
}

/// A lone probe's own event renamed `probe`: what it is, by its fingerprint.
fn as_probe(mut event: Event, answered: bool) -> Event {
    if let Body::Anomaly(d) = &mut event.body {
        let (client, server) = match &event.flow {
            Some(f) => (
                f.src_ip.to_string(),
                format!("{} {}:{}", f.proto, f.dest_ip, f.dest_port.unwrap_or(0)),
            ),
            None => (String::from("?"), String::from("?")),
        };
        d.reason = Reason::Probe;
        d.severity_reasons = vec!["nmap's SYN-scan fingerprint (window, MSS as the only option)"];
        d.detail = format!(
            "{client} sent nmap's SYN-scan probe to {server}: {}",
            if answered { "open" } else { "no service" }
        );
        event.kind = Reason::Probe.name();
        event.severity = Severity::Low;
    }
    event
}

/// `host:port`, `[v6]:port`.
fn target_name(&(ip, port): &(IpAddr, u16)) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

fn proto_name(p: u8) -> &'static str {
    crate::decode::proto_name(p)
}

impl ScanTracker {
    pub fn new(cfg: ScanConfig) -> Self {
        ScanTracker {
            windows: BoundedMap::new(cfg.max_sources, Duration::MAX),
            cfg,
            order: BTreeSet::new(),
            evicted: 0,
        }
    }

    fn window_us(&self) -> i64 {
        (self.cfg.window_secs as i64).saturating_mul(1_000_000)
    }

    /// (horizontal, vertical, version) thresholds reached.
    fn is_scan(&self, w: &Window) -> (bool, bool, bool) {
        (
            w.per_host.len() >= self.cfg.hosts,
            w.max_ports_per_host >= self.cfg.ports,
            w.version >= MIN_SERVICE_PROBES,
        )
    }

    /// Records a probe. `event` is the probe's own anomaly event (None when it is silenced or
    /// answered, i.e. written anyway). Returns windows closed on the way.
    pub fn record(
        &mut self,
        p: Probe,
        event: Option<LazyEvent>,
        out: &mut Vec<Closed>,
    ) -> Option<LazyEvent> {
        let key = (p.src, p.proto);
        if p.method == ScanMethod::Version && !p.nmap {
            // A connection without a fingerprint: part of a version scan of its target already
            // under way (folded), else no probe at all (its event goes out now).
            let target = (p.dst, p.port);
            let wus = self.window_us();
            if let Some(w) = self.windows.get_mut(&key) {
                if w.version >= MIN_SERVICE_PROBES
                    && w.targets.contains(&target)
                    && p.first_seen.micros() < w.start.micros().saturating_add(wus)
                {
                    w.last = w.last.max(p.last_seen);
                    if event.is_some() {
                        w.folded_early += 1;
                    }
                    return None;
                }
            }
            return event;
        }
        let wus = self.window_us();
        if let Some(w) = self.windows.get(&key) {
            if p.first_seen.micros() >= w.start.micros().saturating_add(wus) {
                let w = self.take(key);
                out.push(self.close(key, w));
            }
        }
        if !self.windows.contains_key(&key) && self.windows.len() >= self.cfg.max_sources {
            if let Some(&(_, ip, proto)) = self.order.first() {
                let w = self.take((ip, proto));
                self.evicted += 1;
                out.push(self.close((ip, proto), w));
            }
        }
        if !self.windows.contains_key(&key) {
            self.order.insert((p.first_seen, key.0, key.1));
        } else if let Some(w) = self.windows.get_mut(&key) {
            // Probes reach the window in the order their flows end (per worker when sharded):
            // the window starts at the earliest probe's first packet, whichever ended first.
            if p.first_seen < w.start {
                self.order.remove(&(w.start, key.0, key.1));
                w.start = p.first_seen;
                self.order.insert((w.start, key.0, key.1));
            }
        }
        let (w, displaced) = self
            .windows
            .touch_or_insert_with(key, p.last_seen, || Window {
                start: p.first_seen,
                last: p.last_seen,
                targets: HashSet::new(),
                per_host: HashMap::new(),
                max_ports_per_host: 0,
                target_count: 0,
                truncated: false,
                answered: 0,
                answered_targets: Vec::new(),
                syn: 0,
                connect: 0,
                nmap: 0,
                version: 0,
                held: Vec::new(),
                folded_early: 0,
            });
        debug_assert!(displaced.is_none(), "room was made by window start above");
        w.last = w.last.max(p.last_seen);
        let target = (p.dst, p.port);
        if !w.targets.contains(&target) {
            if w.targets.len() < MAX_TARGETS {
                w.targets.insert(target);
                let n = w.per_host.entry(target.0).or_default();
                *n += 1;
                w.max_ports_per_host = w.max_ports_per_host.max(*n);
            } else {
                w.truncated = true;
            }
            w.target_count += 1;
        }
        if p.answered {
            w.answered += 1;
            if w.answered_targets.len() < SAMPLE_TARGETS && !w.answered_targets.contains(&target) {
                w.answered_targets.push(target);
            }
        }
        match p.method {
            ScanMethod::Syn => w.syn += 1,
            ScanMethod::Connect => w.connect += 1,
            ScanMethod::Version => w.version += 1,
            ScanMethod::Udp => {}
        }
        w.nmap += u64::from(p.nmap);
        let event = event?;
        let hold_cap = self.cfg.hosts.max(self.cfg.ports);
        let w = self.windows.get(&key).expect("inserted above");
        let (h, v, s) = self.is_scan(w);
        let w = self.windows.get_mut(&key).expect("inserted above");
        if (h || v || s) && !p.answered {
            // Already a scan: fold straight away.
            w.folded_early += 1;
            None
        } else if w.held.len() < hold_cap {
            // (An open port's event is kept even then: a silenced scan releases it.)
            w.held.push(Held {
                answered: p.answered,
                nmap: p.nmap,
                event,
            });
            None
        } else {
            Some(event)
        }
    }

    fn close(&self, key: (IpAddr, u8), w: Window) -> Closed {
        let (h, v, s) = self.is_scan(&w);
        if !(h || v || s) {
            // One probe alone with a scanner's fingerprint: a `probe`, not an unknown protocol.
            let single = w.held.len() == 1 && w.target_count == 1;
            return Closed {
                scan: None,
                released: w
                    .held
                    .into_iter()
                    .map(|h| {
                        if single && h.nmap {
                            as_probe(h.event.build(), h.answered)
                        } else {
                            h.event.build()
                        }
                    })
                    .collect(),
                open_ports: Vec::new(),
            };
        }
        let mut ports: Vec<u16> = w
            .targets
            .iter()
            .map(|t| t.1)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        ports.sort_unstable();
        let method = if key.1 == crate::decode::IPPROTO_UDP {
            ScanMethod::Udp
        } else if s {
            ScanMethod::Version
        } else if w.connect > w.syn {
            ScanMethod::Connect
        } else {
            ScanMethod::Syn
        };
        // Every TCP probe carried nmap's SYN: the tool is named.
        let tcp_probes = w.syn + w.connect;
        let tool = (s || tcp_probes > 0 && w.nmap == tcp_probes).then_some("nmap");
        let mut answered_targets = w.answered_targets.clone();
        answered_targets.sort_unstable();
        let mut sample: Vec<(IpAddr, u16)> = w.targets.iter().copied().collect();
        sample.sort_unstable();
        sample.truncate(SAMPLE_TARGETS);
        let scan = ScanDetails {
            src_ip: key.0,
            proto: proto_name(key.1),
            proto_number: key.1,
            only_host: match (w.per_host.len(), w.per_host.keys().next()) {
                (1, Some(&host)) if !w.truncated => Some(host),
                _ => None,
            },
            kind: method,
            tool,
            shape: match (h, v) {
                (true, true) => ScanShape::HorizontalAndVertical,
                (true, false) => ScanShape::Horizontal,
                (false, true) => ScanShape::Vertical,
                (false, false) => ScanShape::Single,
            },
            target_count: w.target_count,
            host_count: w.per_host.len(),
            ports,
            sample_targets: sample.iter().map(target_name).collect(),
            answered: w.answered,
            answered_targets: answered_targets.iter().map(target_name).collect(),
            probes_folded: w.held.len() as u64 + w.folded_early,
            window_start: w.start,
            window_end: w.last,
            window_s: self.cfg.window_secs,
            targets_truncated: w.truncated,
        };
        Closed {
            scan: Some(scan),
            released: Vec::new(),
            open_ports: w
                .held
                .into_iter()
                .filter_map(|h| h.answered.then(|| h.event.build()))
                .collect(),
        }
    }

    /// Closes windows whose every probe has ended: `now` past start + window + `grace_secs`.
    pub fn expire(&mut self, now: Timestamp, grace_secs: u64, out: &mut Vec<Closed>) {
        let limit = self
            .window_us()
            .saturating_add((grace_secs as i64).saturating_mul(1_000_000));
        while let Some(&(start, ip, proto)) = self.order.first() {
            if now.micros() < start.micros().saturating_add(limit) {
                break;
            }
            let w = self.take((ip, proto));
            out.push(self.close((ip, proto), w));
        }
    }

    /// Closes every window (end of input), oldest first.
    pub fn finish(&mut self, out: &mut Vec<Closed>) {
        while self.finish_some(usize::MAX, out) {}
    }

    /// [`ScanTracker::finish`] in steps: closes windows, oldest first, until they held
    /// `max_events` events (at least one window); returns whether any are left. The end of a
    /// run writes a full tracker's held events in batches, not all at once.
    pub fn finish_some(&mut self, max_events: usize, out: &mut Vec<Closed>) -> bool {
        let mut events = 0;
        while let Some(&(_, ip, proto)) = self.order.first() {
            if events > 0 && events >= max_events {
                return true;
            }
            let w = self.take((ip, proto));
            events += w.held.len().max(1);
            out.push(self.close((ip, proto), w));
        }
        false
    }

    /// Removes an open window from both indexes.
    fn take(&mut self, key: (IpAddr, u8)) -> Window {
        let w = self.windows.remove(&key).expect("an open window").value;
        self.order.remove(&(w.start, key.0, key.1));
        w
    }

    pub fn open_windows(&self) -> usize {
        self.windows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(src: &str, dst: &str, port: u16, t: i64) -> Probe {
        Probe {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            port,
            proto: 6,
            first_seen: Timestamp(t * 1_000_000),
            last_seen: Timestamp(t * 1_000_000),
            answered: false,
            method: ScanMethod::Syn,
            nmap: false,
        }
    }

    fn ev(t: i64) -> LazyEvent {
        use crate::event::{Body, Origin, Severity};
        LazyEvent::ready(Event::global(
            Timestamp(t),
            Origin::default(),
            crate::event::stats::StatsKind::Periodic,
            Severity::Info,
            Body::Stats(Box::default()),
        ))
    }

    fn tracker() -> ScanTracker {
        ScanTracker::new(ScanConfig {
            hosts: 4,
            ports: 3,
            window_secs: 60,
            max_sources: 2,
        })
    }

    #[test]
    fn horizontal_scan_folds_its_probes() {
        let mut t = tracker();
        let mut out = Vec::new();
        for i in 1..=6 {
            assert!(t
                .record(
                    probe("10.0.0.1", &format!("10.0.1.{i}"), 3232, i),
                    Some(ev(i)),
                    &mut out
                )
                .is_none());
        }
        t.finish(&mut out);
        assert_eq!(out.len(), 1);
        let s = out[0].scan.as_ref().unwrap();
        assert_eq!(
            (s.shape, s.target_count, s.host_count, s.probes_folded),
            (ScanShape::Horizontal, 6, 6, 6)
        );
        assert_eq!(s.sample_targets[0], "10.0.1.1:3232");
        assert!(out[0].released.is_empty());
    }

    #[test]
    fn below_threshold_releases_and_windows_roll() {
        let mut t = tracker();
        let mut out = Vec::new();
        t.record(
            probe("10.0.0.1", "10.0.1.1", 3232, 0),
            Some(ev(0)),
            &mut out,
        );
        t.record(
            probe("10.0.0.1", "10.0.1.2", 3232, 1),
            Some(ev(1)),
            &mut out,
        );
        // 61 s later: a new window; the first closes with its two events released.
        t.record(
            probe("10.0.0.1", "10.0.1.3", 3232, 61),
            Some(ev(61)),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].scan.is_none(), out[0].released.len()), (true, 2));
        // Vertical: three watched ports on one host.
        for (i, port) in [3232, 8266, 2040].into_iter().enumerate() {
            t.record(
                probe("10.0.0.9", "10.0.1.50", port, 70 + i as i64),
                Some(ev(0)),
                &mut out,
            );
        }
        t.expire(Timestamp(70_000_000), 120, &mut out);
        assert_eq!(out.len(), 1);
        t.expire(Timestamp(251_000_000), 120, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[1].released.len(), 1);
        assert_eq!(out[2].scan.as_ref().unwrap().shape, ScanShape::Vertical);
        assert_eq!(out[2].scan.as_ref().unwrap().ports, [2040, 3232, 8266]);
    }

    #[test]
    fn sources_are_bounded() {
        let mut t = tracker();
        let mut out = Vec::new();
        for i in 0..5 {
            t.record(
                probe(&format!("10.9.0.{i}"), "10.0.1.1", 3232, i),
                Some(ev(i)),
                &mut out,
            );
            assert!(t.open_windows() <= 2);
        }
        assert_eq!((t.evicted, out.len()), (3, 3));
        assert!(out.iter().all(|c| c.released.len() == 1));
    }

    #[test]
    fn service_probes_make_a_version_scan_that_folds_its_targets_connections() {
        let mut t = tracker();
        let mut out = Vec::new();
        let service = |port: u16, t: i64, nmap: bool| Probe {
            method: ScanMethod::Version,
            nmap,
            ..probe("10.0.0.1", "10.0.1.1", port, t)
        };
        // Without a version scan under way, an unfingerprinted connection is written at once.
        assert!(t
            .record(service(3232, 0, false), Some(ev(0)), &mut out)
            .is_some());
        assert!(t
            .record(service(3232, 1, true), Some(ev(1)), &mut out)
            .is_none());
        assert!(t
            .record(service(3232, 2, true), Some(ev(2)), &mut out)
            .is_none());
        // Now one is: the same target's other connections fold, another target's do not.
        assert!(t
            .record(service(3232, 3, false), Some(ev(3)), &mut out)
            .is_none());
        assert!(t
            .record(service(8266, 4, false), Some(ev(4)), &mut out)
            .is_some());
        t.finish(&mut out);
        let s = out[0].scan.as_ref().unwrap();
        assert_eq!(
            (s.kind, s.shape, s.tool, s.target_count, s.probes_folded),
            (ScanMethod::Version, ScanShape::Single, Some("nmap"), 1, 3)
        );
    }

    #[test]
    fn an_open_port_is_folded_but_kept_for_a_silenced_scan() {
        let mut t = tracker();
        let mut out = Vec::new();
        for (i, port) in [3230, 3231, 3232].into_iter().enumerate() {
            let p = Probe {
                answered: port == 3232,
                nmap: true,
                ..probe("10.0.0.1", "10.0.1.1", port, i as i64)
            };
            assert!(t.record(p, Some(ev(i as i64)), &mut out).is_none());
        }
        t.finish(&mut out);
        let s = out[0].scan.as_ref().unwrap();
        assert_eq!(
            (s.kind, s.tool, s.answered, s.probes_folded),
            (ScanMethod::Syn, Some("nmap"), 1, 3)
        );
        assert_eq!(s.answered_targets, ["10.0.1.1:3232"]);
        assert_eq!((out[0].released.len(), out[0].open_ports.len()), (0, 1));
    }
}
