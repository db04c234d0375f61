//! Dense and hostile espota traffic (issue 16), in ns/packet (`cargo bench --bench dense`):
//!
//! - `held_port/*`: a background TCP packet whose port equals a connect-back port that one of
//!   4 000 answered sessions holds, between two other hosts — the collision that used to cost a
//!   decode and a flow — next to the same packet when nothing is held.
//! - `flood/<n>`: one more spoofed invitation (a new device each time) into a session table
//!   full at `n` sessions (`--max-ota-sessions n`): flat from 100 to 100 000 is O(1).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};
use watch3232::engine::{Config, Engine};
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;
use watch3232_testgen::espota;
use watch3232_testgen::frame::{self, tcp_flags, Link, ESPRESSIF_MAC, LAPTOP_MAC};

const TO_DEVICE: Link = Link::Ethernet {
    src: LAPTOP_MAC,
    dst: ESPRESSIF_MAC,
};
/// Where the destination IPv4 address sits in an Ethernet frame.
const DST_IP: usize = 14 + 16;

fn v4(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

fn invitation(uploader: IpAddr, device: IpAddr, host_port: u16) -> Vec<u8> {
    let md5 = espota::md5_hex(b"image");
    let payload = espota::invitation(espota::FLASH, host_port, 1_048_576, &md5);
    TO_DEVICE.wrap(&frame::udp(uploader, device, 40000, 3232, &payload))
}

/// Feeds one packet at `ts` and drops its events.
fn feed(engine: &mut Engine, data: &[u8], ts: Timestamp, index: u64) {
    let p = Packet {
        ts,
        wire_len: data.len() as u32,
        data,
        link: LinkType::Ethernet,
        index,
    };
    engine.process(&p);
    engine.drain_events().for_each(drop);
}

fn held_port(c: &mut Criterion) {
    let mut g = c.benchmark_group("held_port");
    g.throughput(Throughput::Elements(1));
    let start = Timestamp::from_secs(1_795_982_400);
    let uploader = v4(0x0a01_0001);
    let mut busy = Engine::new(Config::default());
    for i in 0..4000u32 {
        let device = v4(0x0a14_0000 + i);
        let port = 10_000 + i as u16;
        let ts = Timestamp(start.micros() + i64::from(i) * 2);
        feed(&mut busy, &invitation(uploader, device, port), ts, 0);
        let ok = TO_DEVICE
            .reversed()
            .wrap(&frame::udp(device, uploader, 3232, 40000, b"OK"));
        feed(&mut busy, &ok, Timestamp(ts.micros() + 1), 0);
    }
    // An ACK between two hosts no session names, to a port a session holds.
    let ack = TO_DEVICE.wrap(&frame::tcp(
        v4(0xcb00_7101),
        v4(0x0a00_0001),
        443,
        10_123,
        1,
        1,
        tcp_flags::ACK,
        &[],
    ));
    let mut quiet = Engine::new(Config::default());
    for (name, engine) in [
        ("collision_4000_held", &mut busy),
        ("none_held", &mut quiet),
    ] {
        let mut ts = Timestamp(start.micros() + 10_000);
        g.bench_function(name, |b| {
            b.iter(|| {
                ts = Timestamp(ts.micros() + 1);
                feed(engine, black_box(&ack), ts, 0);
            })
        });
    }
    g.finish();
}

fn flood(c: &mut Criterion) {
    let mut g = c.benchmark_group("flood");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(2));
    for sessions in [100u32, 1_000, 10_000, 100_000] {
        let mut config = Config::default();
        config.classify.ota.max_sessions = sessions as usize;
        let mut engine = Engine::new(config);
        let mut frame = invitation(v4(0x0a01_0001), v4(0), 20_000);
        let mut ts = Timestamp::from_secs(1_795_982_400).micros();
        let mut device = 0x0b00_0000u32;
        // Fill the table, then time one more invitation to a new device each.
        let mut next = |engine: &mut Engine, frame: &mut Vec<u8>| {
            device += 1;
            ts += 1;
            frame[DST_IP..DST_IP + 4].copy_from_slice(&device.to_be_bytes());
            feed(engine, frame, Timestamp(ts), 0);
        };
        for _ in 0..sessions {
            next(&mut engine, &mut frame);
        }
        g.bench_function(sessions.to_string(), |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    next(&mut engine, &mut frame);
                }
                t.elapsed()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, held_port, flood);
criterion_main!(benches);
