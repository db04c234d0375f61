//! A million distinct flows through the engine: the table never holds more than its capacity,
//! every flow beyond it is an eviction that the stats count, and nothing is lost at the end.
//! (Memory per flow is measured by `FLOWS=1000000 benches/throughput.sh`, not here.)

use watch3232::engine::{Config, Engine};
use watch3232::event::stats::FlowStats;
use watch3232::event::Body;
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;

const FLOWS: u32 = 1_000_000;
const CAPACITY: usize = 50_000;

/// Ethernet / IPv4 10.(64+n)… → 10.20.0.1 / UDP port → 3232, 4 bytes that are not espota.
fn frame(buf: &mut Vec<u8>, n: u32) {
    buf.clear();
    buf.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    buf.extend_from_slice(&[0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0]);
    buf.extend_from_slice(&[
        10,
        64 | (n >> 22) as u8 & 0x3f,
        (n >> 14) as u8,
        (n >> 6) as u8,
    ]);
    buf.extend_from_slice(&[10, 20, 0, 1]);
    buf.extend_from_slice(&(1024 + (n & 0x3f) as u16).to_be_bytes());
    buf.extend_from_slice(&[0x0c, 0xa0, 0, 12, 0, 0, 0xff, 0xfe, 0xfd, 0xfc]);
}

fn flow_stats(engine: &mut Engine) -> FlowStats {
    match engine
        .stats_event(watch3232::event::stats::StatsKind::Periodic)
        .body
    {
        Body::Stats(s) => s.flows,
        _ => unreachable!("a stats event"),
    }
}

#[test]
fn a_million_flows_stay_within_capacity_with_evictions_counted() {
    let config = Config {
        max_flows: CAPACITY,
        ..Config::default()
    };
    let mut engine = Engine::new(config);
    let mut buf = Vec::with_capacity(64);
    let start = Timestamp::from_secs(1_795_982_400);
    for n in 0..FLOWS {
        frame(&mut buf, n);
        // 1 M packets in 50 s of packet time: well inside the 120 s idle timeout.
        let ts = Timestamp(start.micros() + i64::from(n) * 50);
        engine.process(&Packet {
            ts,
            wire_len: buf.len() as u32,
            data: &buf,
            link: LinkType::Ethernet,
            index: u64::from(n) + 1,
        });
        engine.drain_events().for_each(drop);
        if n % 100_000 == 0 {
            assert!(flow_stats(&mut engine).active <= CAPACITY);
        }
    }
    let s = flow_stats(&mut engine);
    assert_eq!(s.capacity, CAPACITY);
    assert_eq!(s.active, CAPACITY);
    assert_eq!(s.peak, CAPACITY);
    assert_eq!(s.created, u64::from(FLOWS));
    assert_eq!(s.evicted, u64::from(FLOWS) - CAPACITY as u64);
    assert_eq!(s.expired, 0);
    engine.finish();
    let summary = engine.drain_events().next_back().expect("the summary");
    let Body::Stats(details) = summary.body else {
        panic!("summary is a stats event")
    };
    assert_eq!(details.flows.active, 0);
    assert_eq!(details.flows.evicted, u64::from(FLOWS) - CAPACITY as u64);
    assert_eq!(details.interesting_packets, u64::from(FLOWS));
    // Every flow ended exactly once: evicted while running, flushed at the end.
    assert_eq!(
        details.classifiers.get("flows.unclassified").copied(),
        Some(u64::from(FLOWS))
    );
}
