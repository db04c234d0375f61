//! Per-packet cost of the hot paths, in ns/packet: the reject path for background traffic,
//! the ArduinoOTA invitation path, and the parsers on their own.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use watch3232::classify::arduino_ota::parser::{parse_device_reply, parse_invitation};
use watch3232::decode::decode;
use watch3232::engine::{Config, Engine};
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;
use watch3232_testgen::frame::{self, Link, ESPRESSIF_MAC, LAPTOP_MAC};
use watch3232_testgen::scenarios::{ip, ota_invitations};

const ETH: Link = Link::Ethernet {
    src: LAPTOP_MAC,
    dst: ESPRESSIF_MAC,
};

fn background_frames() -> Vec<Vec<u8>> {
    let (a, b) = (ip("198.51.100.20"), ip("203.0.113.80"));
    vec![
        ETH.wrap(&frame::tcp(
            a,
            b,
            40000,
            443,
            1,
            1,
            frame::tcp_flags::ACK,
            &[0u8; 1400],
        )),
        ETH.wrap(&frame::udp(a, b, 40000, 53, &[0u8; 40])),
        ETH.wrap(&frame::tcp(
            ip("2001:db8::1"),
            ip("2001:db8::2"),
            40000,
            80,
            1,
            1,
            frame::tcp_flags::ACK,
            &[0u8; 200],
        )),
    ]
}

fn packet(data: &[u8], index: u64) -> Packet<'_> {
    Packet {
        ts: Timestamp::from_secs(1_795_982_400),
        wire_len: data.len() as u32,
        data,
        link: LinkType::Ethernet,
        index,
    }
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(1));
    let background = background_frames();
    let mut engine = Engine::new(Config::default());
    let mut i = 0;
    group.bench_function("reject_background", |b| {
        b.iter(|| {
            i += 1;
            let f = &background[i % background.len()];
            engine.process(black_box(&packet(f, i as u64)));
        })
    });
    let (records, _) = ota_invitations(ETH);
    let mut engine = Engine::new(Config::default());
    let mut n = 0u64;
    group.bench_function("ota_scenario_packet", |b| {
        b.iter(|| {
            let r = &records[n as usize % records.len()];
            n += 1;
            engine.process(black_box(&packet(&r.data, n)));
            engine.drain_events().count()
        })
    });
    group.finish();
}

fn parsers(c: &mut Criterion) {
    let mut group = c.benchmark_group("parsers");
    group.throughput(Throughput::Elements(1));
    let frames = background_frames();
    group.bench_function("decode_eth_ipv4_tcp", |b| {
        b.iter(|| decode(LinkType::Ethernet, black_box(&frames[0]), 4).is_ok())
    });
    let inv = b"0 48266 1048576 0c7a2b3b1e5e8b8d1f6a0b0a2d3c4e5f\n";
    group.bench_function("espota_invitation", |b| {
        b.iter(|| parse_invitation(black_box(inv)).is_ok())
    });
    let auth = b"AUTH 0c7a2b3b1e5e8b8d1f6a0b0a2d3c4e5f";
    group.bench_function("espota_device_reply", |b| {
        b.iter(|| parse_device_reply(black_box(auth)).is_ok())
    });
    group.finish();
}

criterion_group!(benches, pipeline, parsers);
criterion_main!(benches);
