//! Workers that agree with one worker: the bundled captures run through one engine, and through
//! 2 and 4 worker engines (packets sharded by IP pair, as the fanout does) whose observations
//! are merged by stamp into one aggregator, give the same findings. And issue 12's case: a scan
//! over 40 hosts whose IP pairs hash to different workers is one scan with every host.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use watch3232::aggregate::{Aggregator, At, Observation};
use watch3232::capture::{FileSource, Next, Reader};
use watch3232::decode::{self, Outcome};
use watch3232::engine::{Config, Engine};
use watch3232::event::Event;
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;
use watch3232_testgen::frame::{self, tcp_flags};

struct Owned {
    ts: Timestamp,
    wire_len: u32,
    data: Vec<u8>,
    link: LinkType,
    index: u64,
}

impl Owned {
    fn packet(&self) -> Packet<'_> {
        Packet {
            ts: self.ts,
            wire_len: self.wire_len,
            data: &self.data,
            link: self.link,
            index: self.index,
        }
    }
}

fn read_capture(path: &Path) -> Vec<Owned> {
    let mut source = FileSource::open(path.to_str().unwrap(), Reader::Native).expect("open");
    let mut out = Vec::new();
    loop {
        match source.next_packet() {
            Ok(Next::Packet(p)) => out.push(Owned {
                ts: p.ts,
                wire_len: p.wire_len,
                data: p.data.to_vec(),
                link: p.link,
                index: p.index,
            }),
            Ok(Next::Idle) => {}
            Ok(Next::End) | Err(_) => break,
        }
    }
    out
}

/// The worker of a packet: a hash of its outermost IP pair, the same both ways (the fanout's
/// rule); what has no IP pair goes to worker 0.
fn worker_of(p: &Owned, workers: usize) -> usize {
    let pair = match decode::decode(p.link, &p.data, decode::DEFAULT_MAX_TUNNEL_DEPTH) {
        Ok(Outcome::Ip(d)) => Some(match d.tunnel {
            Some(t) => (t.outer_src, t.outer_dst),
            None => (d.net.src, d.net.dst),
        }),
        _ => None,
    };
    let Some((a, b)) = pair else { return 0 };
    let mut h = DefaultHasher::new();
    (a.min(b), a.max(b)).hash(&mut h);
    (h.finish() % workers as u64) as usize
}

fn one_engine(packets: &[Owned]) -> Vec<Event> {
    let mut engine = Engine::new(Config::default());
    let mut events = Vec::new();
    for p in packets {
        engine.process(&p.packet());
        events.extend(engine.drain_events());
    }
    engine.finish();
    events.extend(engine.drain_events());
    events
}

/// `workers` worker engines, every one advanced to each packet's time (so all tick where one
/// engine would), their observations merged by stamp into one aggregator.
fn sharded(packets: &[Owned], workers: usize) -> Vec<Event> {
    let config = Config::default();
    let mut engines: Vec<Engine> = (0..workers)
        .map(|_| Engine::new_worker(config.clone()))
        .collect();
    let mut events = Vec::new();
    let mut observations: Vec<(At, usize, usize, Observation)> = Vec::new();
    let mut collect = |engines: &mut [Engine], events: &mut Vec<Event>| {
        for (w, e) in engines.iter_mut().enumerate() {
            events.extend(e.drain_events());
            for obs in e.drain_observations() {
                let seq = observations.len();
                observations.push((obs.0, w, seq, obs.1));
            }
        }
    };
    for p in packets {
        for e in &mut engines {
            e.advance_at(p.ts, p.index);
        }
        engines[worker_of(p, workers)].process(&p.packet());
        collect(&mut engines, &mut events);
    }
    for e in &mut engines {
        e.finish();
    }
    collect(&mut engines, &mut events);
    observations.sort_by_key(|o| (o.0, o.1, o.2));
    let mut aggregator = Aggregator::new(&config.classify, config.flow_timeout_secs);
    for (at, _, _, obs) in observations {
        aggregator.observe(at, obs);
    }
    events.extend(aggregator.drain_events());
    events
}

/// The findings as comparable lines: every field but the ids each engine numbers itself
/// (`flow_id`, `session_id`), `stats` left out, sorted.
fn findings(events: &[Event]) -> Vec<String> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| !k.ends_with("flow_id") && !k.ends_with("session_id"));
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut out: Vec<String> = events
        .iter()
        .filter(|e| e.event_type != "stats")
        .map(|e| {
            let mut v = serde_json::to_value(e).unwrap();
            strip(&mut v);
            v.to_string()
        })
        .collect();
    out.sort();
    out
}

fn bundled_captures(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.join("testdata")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_string_lossy();
                if !matches!(name.as_ref(), "gen" | "golden" | "real") {
                    dirs.push(path);
                }
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            ) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn workers_find_what_one_engine_finds_on_every_bundled_capture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let captures = bundled_captures(root);
    assert!(captures.len() >= 15, "found only {captures:?}");
    let mut differ = Vec::new();
    for capture in &captures {
        let packets = read_capture(capture);
        let want = findings(&one_engine(&packets));
        for workers in [1, 2, 4] {
            let got = findings(&sharded(&packets, workers));
            if got != want {
                let missing: Vec<_> = want.iter().filter(|l| !got.contains(l)).collect();
                let extra: Vec<_> = got.iter().filter(|l| !want.contains(l)).collect();
                differ.push(format!(
                    "{} with {workers} workers: {} findings, one engine {}\n  missing: {:.600?}\n  extra: {:.600?}",
                    capture.display(),
                    got.len(),
                    want.len(),
                    missing.first(),
                    extra.first()
                ));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// One SYN to port 3232 of each of 40 hosts, 100 ms apart, no answer.
fn scan_over_40_hosts() -> Vec<Owned> {
    let scanner: IpAddr = "198.51.100.66".parse().unwrap();
    (0..40u8)
        .map(|i| {
            let target: IpAddr = format!("192.0.2.{}", i + 1).parse().unwrap();
            let ip = frame::tcp(
                scanner,
                target,
                40000 + u16::from(i),
                3232,
                1000,
                0,
                tcp_flags::SYN,
                b"",
            );
            Owned {
                ts: Timestamp(1_700_000_000_000_000 + i64::from(i) * 100_000),
                wire_len: ip.len() as u32,
                data: ip,
                link: LinkType::Raw,
                index: u64::from(i) + 1,
            }
        })
        .collect()
}

fn scans(events: &[Event]) -> Vec<serde_json::Value> {
    events
        .iter()
        .filter(|e| e.kind == "scan")
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

#[test]
fn a_scan_over_hosts_on_different_workers_is_one_scan_with_every_host() {
    let packets = scan_over_40_hosts();
    let single = one_engine(&packets);
    for workers in [1, 2, 4] {
        let used: std::collections::BTreeSet<usize> =
            packets.iter().map(|p| worker_of(p, workers)).collect();
        assert_eq!(used.len(), workers, "the hosts spread over every worker");
        let events = sharded(&packets, workers);
        let found = scans(&events);
        assert_eq!(found.len(), 1, "{workers} workers: {found:?}");
        let scan = &found[0]["anomaly"]["scan"];
        assert_eq!(scan["host_count"], 40, "{workers} workers: {scan}");
        assert_eq!(scan["target_count"], 40);
        assert_eq!(scan["probes_folded"], 40);
        assert_eq!(scan["kind"], "horizontal");
        // Every probe folded into the scan: nothing else is reported.
        assert_eq!(
            events.iter().filter(|e| e.event_type != "stats").count(),
            1,
            "{workers} workers"
        );
        assert_eq!(findings(&events), findings(&single));
    }
}
