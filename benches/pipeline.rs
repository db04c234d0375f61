//! Per-packet cost of each path through the engine, and of each decoder and reader, in
//! ns/packet (`cargo bench --bench pipeline`; baselines in docs/performance.md).
//!
//! - `reject/*`: background traffic nobody wants (the fast pre-filter's job).
//! - `engine/*`: interesting packets through decode, flow table and classifiers.
//! - `decode/*`: the full decoder on one invitation per link type.
//! - `read/*`: our pcap/pcapng reader, from memory.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::net::IpAddr;
use watch3232::capture::{NativeSource, Next};
use watch3232::decode;
use watch3232::engine::{Config, Engine};
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;
use watch3232_testgen::capture::{PcapWriter, PcapngWriter};
use watch3232_testgen::espota;
use watch3232_testgen::frame::{self, Link, ESPRESSIF_MAC, LAPTOP_MAC};
use watch3232_testgen::scenarios;

const ETH: Link = Link::Ethernet {
    src: LAPTOP_MAC,
    dst: ESPRESSIF_MAC,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn link_type(link: Link) -> LinkType {
    LinkType::from_linktype(link.linktype() as i32).unwrap()
}

fn invitation(link: Link) -> Vec<u8> {
    let md5 = espota::md5_hex(b"image");
    let payload = espota::invitation(espota::FLASH, 48266, 1_048_576, &md5);
    link.wrap(&frame::udp(
        ip("192.0.2.10"),
        ip("192.0.2.50"),
        40000,
        3232,
        &payload,
    ))
}

fn gre(inner: &[u8]) -> Vec<u8> {
    let mut g = vec![0, 0, 0x08, 0x00];
    g.extend_from_slice(inner);
    ETH.wrap(&frame::ip_raw(
        ip("192.0.2.1"),
        ip("239.1.1.1"),
        47,
        255,
        &g,
    ))
}

/// Runs `frame` through a fresh engine's `process` over and over, draining events.
fn engine_bench(c: &mut Criterion, name: &str, frame: &[u8], link: LinkType) {
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));
    let mut engine = Engine::new(Config::default());
    let mut ts = Timestamp::from_secs(1_795_982_400);
    let mut index = 0;
    g.bench_function(name, |b| {
        b.iter(|| {
            ts = Timestamp(ts.micros() + 10);
            index += 1;
            let p = Packet {
                ts,
                wire_len: frame.len() as u32,
                data: frame,
                link,
                index,
            };
            engine.process(black_box(&p));
            engine.drain_events().count()
        })
    });
    g.finish();
}

fn reject(c: &mut Criterion) {
    let https = ETH.wrap(&frame::tcp(
        ip("10.0.0.1"),
        ip("203.0.113.5"),
        50000,
        443,
        1,
        1,
        frame::tcp_flags::ACK,
        &[0; 1448],
    ));
    let dns = ETH.wrap(&frame::udp(
        ip("10.0.0.1"),
        ip("198.51.100.53"),
        50000,
        53,
        &[0; 40],
    ));
    let v6 = ETH.wrap(&frame::tcp(
        ip("2001:db8::1"),
        ip("2001:db8::2"),
        50000,
        443,
        1,
        1,
        frame::tcp_flags::ACK,
        &[],
    ));
    let vlan = Link::Vlan {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
        vids: [42, 0],
        tags: 1,
    };
    let tagged = vlan.wrap(&frame::udp(
        ip("10.0.0.1"),
        ip("198.51.100.53"),
        50000,
        53,
        &[0; 40],
    ));
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&LAPTOP_MAC);
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.resize(60, 0);
    let mut g = c.benchmark_group("reject");
    g.throughput(Throughput::Elements(1));
    for (name, frame) in [
        ("tcp4_1514", &https),
        ("udp4_dns", &dns),
        ("tcp6_ack", &v6),
        ("vlan_udp4", &tagged),
        ("arp", &arp),
    ] {
        let mut engine = Engine::new(Config::default());
        let p = Packet {
            ts: Timestamp::from_secs(1_795_982_400),
            wire_len: frame.len() as u32,
            data: frame,
            link: LinkType::Ethernet,
            index: 1,
        };
        g.bench_function(name, |b| b.iter(|| engine.process(black_box(&p))));
    }
    // Without the pre-filter: what the decoder alone costs on the same frame.
    g.bench_function("tcp4_1514_full_decode", |b| {
        b.iter(|| decode::decode(LinkType::Ethernet, black_box(&https), 4).is_ok())
    });
    g.finish();
}

fn paths(c: &mut Criterion) {
    engine_bench(c, "ota_invitation", &invitation(ETH), LinkType::Ethernet);
    let reply = ETH.reversed().wrap(&frame::udp(
        ip("192.0.2.50"),
        ip("192.0.2.10"),
        3232,
        40000,
        b"OK",
    ));
    engine_bench(c, "ota_reply", &reply, LinkType::Ethernet);
    let mut pim = vec![
        0x20, 0, 0, 0, 0, 1, 0, 2, 0, 105, 0, 19, 0, 4, 0, 0, 0, 1, 0, 20, 0, 4, 1, 2, 3, 4,
    ];
    let sum = watch3232::decode::checksum::internet_checksum(&pim);
    pim[2..4].copy_from_slice(&sum.to_be_bytes());
    let hello = gre(&frame::ip_raw(
        ip("192.0.2.1"),
        ip("224.0.0.13"),
        103,
        1,
        &pim,
    ));
    engine_bench(c, "gre_pim_hello", &hello, LinkType::Ethernet);
    let tlv = [1, 0, 16, 0, 10, 1, 1, 10, 232, 5, 5, 5, 239, 1, 2, 0];
    let join = gre(&frame::udp(
        ip("192.0.2.1"),
        ip("224.0.0.13"),
        3232,
        3232,
        &tlv,
    ));
    engine_bench(c, "gre_data_mdt_join", &join, LinkType::Ethernet);
    let junk = ETH.wrap(&frame::udp(
        ip("172.16.0.9"),
        ip("192.0.2.50"),
        5555,
        3232,
        &[0xde; 64],
    ));
    engine_bench(c, "unknown_udp_3232", &junk, LinkType::Ethernet);
}

fn decoders(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));
    for (name, link) in scenarios::link_variants() {
        let f = invitation(link);
        let lt = link_type(link);
        g.bench_function(name, |b| {
            b.iter(|| decode::decode(lt, black_box(&f), 4).is_ok())
        });
    }
    g.finish();
}

fn readers(c: &mut Criterion) {
    let (records, _) = scenarios::ota_invitations(ETH);
    let n = 10_000;
    let mut pcap = PcapWriter::new(Vec::new(), 1, 65535).unwrap();
    let mut ng = PcapngWriter::new(Vec::new(), &[1]).unwrap();
    for i in 0..n {
        let r = &records[i % records.len()];
        pcap.write_raw(r.ts_us, &r.data, r.orig_len).unwrap();
        ng.write_raw(0, r.ts_us, &r.data, r.orig_len).unwrap();
    }
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Elements(n as u64));
    for (name, bytes) in [("pcap", pcap.into_inner()), ("pcapng", ng.into_inner())] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || Box::new(std::io::Cursor::new(bytes.clone())),
                |input| {
                    let mut s = NativeSource::open("bench", input).unwrap().unwrap();
                    let mut total = 0usize;
                    while let Ok(Next::Packet(p)) = s.next_packet() {
                        total += p.data.len();
                    }
                    total
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, reject, paths, decoders, readers);
criterion_main!(benches);
