//! Floods, driven through the engine directly (no capture file): the flow table stays within
//! its bound, evictions are counted, and the events that matter still come out.

use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr};
use watch3232::engine::{Config, Engine};
use watch3232::event::Event;
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;
use watch3232_testgen::espota;
use watch3232_testgen::frame::{self, tcp_flags};

const EPOCH: i64 = 1_795_982_400;
const DEVICE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 50));

fn addr(n: u32) -> IpAddr {
    // 10.0.0.0/8 plus 100.64.0.0/10: 2^24 + 2^22 distinct sources.
    IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + n))
}

struct Run {
    engine: Engine,
    index: u64,
    events: Vec<Value>,
    max_active: usize,
}

impl Run {
    fn new(max_flows: usize) -> Self {
        let config = Config {
            max_flows,
            flow_timeout_secs: 120,
            ..Config::default()
        };
        Run {
            engine: Engine::new(config),
            index: 0,
            events: Vec::new(),
            max_active: 0,
        }
    }

    /// Feeds one raw-IP packet at `micros` after the epoch.
    fn feed(&mut self, micros: i64, ip: &[u8]) {
        self.index += 1;
        let p = Packet {
            ts: Timestamp(EPOCH * 1_000_000 + micros),
            wire_len: ip.len() as u32,
            data: ip,
            link: LinkType::Raw,
            index: self.index,
        };
        self.engine.process(&p);
        let drained: Vec<Event> = self.engine.drain_events().collect();
        self.events
            .extend(drained.iter().map(|e| serde_json::to_value(e).unwrap()));
        if self.index % 1024 == 0 {
            let s = self
                .engine
                .stats_event(watch3232::event::stats::StatsKind::Periodic);
            let active = serde_json::to_value(&s).unwrap()["stats"]["flows"]["active"]
                .as_u64()
                .unwrap();
            self.max_active = self.max_active.max(active as usize);
        }
    }

    fn finish(mut self) -> (Vec<Value>, Value, usize) {
        self.engine.finish();
        self.events.extend(
            self.engine
                .drain_events()
                .map(|e| serde_json::to_value(&e).unwrap()),
        );
        let summary = self.events.last().unwrap()["stats"].clone();
        (self.events, summary, self.max_active)
    }
}

fn invitations(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event_type"] == "arduino_ota" && e["kind"] == "invitation")
        .collect()
}

/// 1 M distinct UDP flows to port 3232 (not espota: random payloads), with a real invitation
/// every 10 000 packets, against a 50 000-flow table.
#[test]
fn a_million_distinct_flows_stay_within_the_bound() {
    const FLOWS: u32 = 1_000_000;
    const CAP: usize = 50_000;
    let mut run = Run::new(CAP);
    let md5 = espota::md5_hex(b"firmware");
    let mut expected = 0;
    for n in 0..FLOWS {
        let t = i64::from(n); // 1 µs apart: nothing expires, everything past the bound is evicted
        if n % 10_000 == 5_000 {
            let inv = espota::invitation(0, 40_000 + (n / 10_000) as u16, 1024, &md5);
            let sport = 50_000 + (n / 10_000) as u16;
            let uploader = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
            run.feed(t, &frame::udp(uploader, DEVICE, sport, 3232, &inv));
            expected += 1;
        }
        let port = 1024 + (n % 60_000) as u16;
        run.feed(
            t,
            &frame::udp(addr(n), DEVICE, port, 3232, &n.to_be_bytes()),
        );
    }
    let (events, summary, max_active) = run.finish();
    let flows = &summary["flows"];
    assert!(max_active <= CAP, "active flows {max_active} > {CAP}");
    assert_eq!(flows["peak"], CAP as u64);
    assert_eq!(flows["capacity"], CAP as u64);
    let created = u64::from(FLOWS) + expected;
    assert_eq!(flows["created"], created);
    assert_eq!(flows["evicted"], created - CAP as u64);
    assert_eq!(flows["active"], 0);
    assert_eq!(summary["packets"], created);
    assert_eq!(invitations(&events).len() as u64, expected);
    println!(
        "flood: {FLOWS} flows through a {CAP}-flow table: {} evicted, {} invitations reported",
        flows["evicted"], expected
    );
}

/// 100 000 OTA invitations in parallel (each from its own uploader port), none followed by a
/// device connecting back: every invitation is reported, the table stays bounded, and the
/// connect-back ports the classifier may hold are all released at the end.
#[test]
fn a_hundred_thousand_parallel_invitations_without_connect_back() {
    const N: u32 = 100_000;
    const CAP: usize = 20_000;
    let mut run = Run::new(CAP);
    let md5 = espota::md5_hex(b"image");
    for n in 0..N {
        let uploader = addr(n / 50_000);
        let inv = espota::invitation(0, 10_000 + (n % 50_000) as u16, 4096, &md5);
        run.feed(
            i64::from(n) * 10,
            &frame::udp(uploader, DEVICE, 10_000 + (n % 50_000) as u16, 3232, &inv),
        );
    }
    let (events, summary, max_active) = run.finish();
    assert!(max_active <= CAP);
    assert_eq!(invitations(&events).len() as u64, u64::from(N));
    assert_eq!(
        summary["classifiers"]["arduino_ota.invitations"],
        u64::from(N)
    );
    assert_eq!(summary["flows"]["evicted"], u64::from(N) - CAP as u64);
    assert_eq!(summary["flows"]["peak"], CAP as u64);
}

/// A SYN flood on TCP 3232 (200 000 spoofed sources) with espota traffic in the middle: the
/// table stays bounded, packets are counted, and the invitation is still reported.
#[test]
fn syn_flood_on_3232() {
    const N: u32 = 200_000;
    const CAP: usize = 10_000;
    let mut run = Run::new(CAP);
    let md5 = espota::md5_hex(b"x");
    for n in 0..N {
        if n == N / 2 {
            let inv = espota::invitation(0, 45_000, 2048, &md5);
            run.feed(
                i64::from(n),
                &frame::udp(addr(7), DEVICE, 51_000, 3232, &inv),
            );
        }
        let syn = frame::tcp(
            addr(n),
            DEVICE,
            1024 + (n % 60_000) as u16,
            3232,
            n,
            0,
            tcp_flags::SYN,
            &[],
        );
        run.feed(i64::from(n), &syn);
    }
    let (events, summary, max_active) = run.finish();
    assert!(max_active <= CAP);
    assert!(summary["flows"]["peak"].as_u64().unwrap() <= CAP as u64);
    assert_eq!(summary["packets"], u64::from(N) + 1);
    assert_eq!(summary["decode_errors"], 0);
    assert_eq!(invitations(&events).len(), 1);
    let created = summary["flows"]["created"].as_u64().unwrap();
    let evicted = summary["flows"]["evicted"].as_u64().unwrap();
    assert_eq!(evicted, created.saturating_sub(CAP as u64));
}

/// Regressions found by tests/corrupt.rs and the fuzzers: packets at the ends of time.
#[test]
fn timestamps_at_the_ends_of_time() {
    let mut engine = Engine::new(Config::default());
    let ip = frame::udp(addr(1), DEVICE, 50_000, 3232, b"0 1 2 3");
    for (i, ts) in [i64::MAX, i64::MIN, 0, i64::MAX - 1, -1]
        .into_iter()
        .enumerate()
    {
        let p = Packet {
            ts: Timestamp(ts),
            wire_len: ip.len() as u32,
            data: &ip,
            link: LinkType::Raw,
            index: i as u64 + 1,
        };
        engine.process(&p);
        engine.advance_to(Timestamp(ts));
    }
    engine.finish();
    let events: Vec<Event> = engine.drain_events().collect();
    let summary = serde_json::to_value(events.last().unwrap()).unwrap();
    assert_eq!(summary["stats"]["packets"], 5);
}
