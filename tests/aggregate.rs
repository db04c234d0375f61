//! Workers that agree with one worker: the bundled captures run through one engine, and through
//! 2 and 4 worker engines (packets sharded by IP pair, as the fanout does) whose observations
//! are merged by stamp into one aggregator, give the same findings. And issue 12's case: a scan
//! over 40 hosts whose IP pairs hash to different workers is one scan with every host.

mod common;

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
    let mut aggregator =
        Aggregator::new(&config.classify.aggregate_settings(config.flow_timeout_secs));
    for (at, _, _, obs) in observations {
        aggregator.observe(at, obs);
    }
    events.extend(aggregator.drain_events());
    events
}

/// The findings as comparable lines: every field but the ids each engine numbers itself
/// (`session_id`; flow ids hash the flow and its start, so they agree, but for an `mdt` event:
/// one inner 5-tuple in GRE and bare is one flow to one engine and two parts on workers,
/// which are dealt packets by the outer IP pair), `stats` left out, sorted.
fn findings(events: &[Event]) -> Vec<String> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| !k.ends_with("session_id"));
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
            if e.event_type == "mdt" {
                v.as_object_mut().unwrap().remove("flow_id");
            }
            v.to_string()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn workers_find_what_one_engine_finds_on_every_bundled_capture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let captures: Vec<PathBuf> = common::bundled_captures(common::Captures::WithReal)
        .into_iter()
        .map(|c| root.join(c))
        .collect();
    assert!(captures.len() >= 40, "found only {captures:?}");
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
        assert_eq!(
            (scan["kind"].as_str(), scan["shape"].as_str()),
            (Some("syn"), Some("horizontal"))
        );
        // Every probe folded into the scan: nothing else is reported.
        assert_eq!(
            events.iter().filter(|e| e.event_type != "stats").count(),
            1,
            "{workers} workers"
        );
        assert_eq!(findings(&events), findings(&single));
    }
}

/// Issue 19: PE 10.32.32.101 speaks inside the default MDT as 10.32.32.201 (hellos and a join
/// in GRE), then sends bare joins from its in-MDT address, one moving a C-flow to another
/// P-group; PE 10.32.32.102 uses one address for both.
fn pe_with_another_address_in_the_mdt() -> Vec<Owned> {
    use watch3232_testgen::mdt::{hello_body, hello_packet, in_gre, join_v4, udp_ttl, GreOpts};
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let (pe1, inner1, pe2, mdt) = ("10.32.32.101", "10.32.32.201", "10.32.32.102", "239.1.1.1");
    let all_pim = ip("224.0.0.13");
    let join_from = |src: &str, c_source: &str, c_group: &str, p_group: &str| {
        udp_ttl(
            ip(src),
            all_pim,
            3232,
            3232,
            1,
            &join_v4(c_source, c_group, p_group),
        )
    };
    let plain = GreOpts::default();
    let packets = vec![
        in_gre(
            pe1,
            mdt,
            plain,
            &hello_packet(ip(inner1), &hello_body(105, 1, 41, &[])),
        ),
        in_gre(
            pe2,
            mdt,
            plain,
            &hello_packet(ip(pe2), &hello_body(105, 1, 42, &[])),
        ),
        in_gre(
            pe1,
            mdt,
            plain,
            &join_from(inner1, "10.1.1.10", "232.5.5.5", "239.1.2.0"),
        ),
        in_gre(
            pe2,
            mdt,
            plain,
            &join_from(pe2, "10.2.2.20", "232.6.6.6", "239.1.2.8"),
        ),
        join_from(inner1, "10.1.1.11", "232.5.5.6", "239.1.2.1"),
        join_from(inner1, "10.1.1.10", "232.5.5.5", "239.1.2.5"),
    ];
    packets
        .into_iter()
        .enumerate()
        .map(|(i, data)| Owned {
            ts: Timestamp(1_700_000_000_000_000 + i as i64 * 1_000_000),
            wire_len: data.len() as u32,
            data,
            link: LinkType::Raw,
            index: i as u64 + 1,
        })
        .collect()
}

#[test]
fn a_pe_is_its_tunnel_head_and_its_in_mdt_address_stays_linked() {
    let packets = pe_with_another_address_in_the_mdt();
    let single = one_engine(&packets);
    let value = |e: &Event| serde_json::to_value(e).unwrap();
    let joins: Vec<serde_json::Value> = single
        .iter()
        .filter(|e| e.kind == "data_mdt_join")
        .map(|e| value(e)["mdt"].clone())
        .collect();
    let pe_and_inner: Vec<(&str, &str)> = joins
        .iter()
        .map(|j| {
            (
                j["pe"].as_str().unwrap(),
                j["in_mdt_address"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        pe_and_inner,
        [
            ("10.32.32.101", "10.32.32.201"), // in GRE: the tunnel's head
            ("10.32.32.102", "-"),            // one address for both
            ("10.32.32.101", "10.32.32.201"), // bare, from the known in-MDT address
            ("10.32.32.101", "10.32.32.201"), // the C-flow moves P-group
        ]
    );
    assert_eq!(joins[3]["previous_p_group"], "239.1.2.0");
    let inventory = single
        .iter()
        .find(|e| e.event_type == "mdt" && e.kind == "inventory")
        .map(value)
        .expect("an MDT inventory");
    let pes = inventory["mdt"]["pes"].as_array().unwrap();
    let summary: Vec<String> = pes.iter().map(|p| p.to_string()).collect();
    assert_eq!(pes.len(), 2, "exactly the real PEs: {summary:?}");
    assert_eq!(pes[0]["pe"], "10.32.32.101");
    assert_eq!(
        pes[0]["in_mdt_addresses"],
        serde_json::json!(["10.32.32.201"])
    );
    assert_eq!(pes[0]["default_mdts"], serde_json::json!(["239.1.1.1"]));
    assert_eq!(pes[0]["data_mdts"], 2);
    assert_eq!(pes[1]["pe"], "10.32.32.102");
    assert!(pes[1].get("in_mdt_addresses").is_none());
    assert_eq!(pes[1]["data_mdts"], 1);
    let neighbors = inventory["mdt"]["pim_neighbors"].as_array().unwrap();
    let inner = neighbors
        .iter()
        .find(|n| n["neighbor"] == "10.32.32.201")
        .expect("the PE's hello neighbour");
    assert_eq!(inner["pe"], "10.32.32.101");
    // The bare joins and the tunnel travel different IP pairs: workers agree all the same.
    for workers in [2, 4] {
        assert_eq!(findings(&sharded(&packets, workers)), findings(&single));
    }
}
