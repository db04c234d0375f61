//! OTA parser throughput: espota UDP messages, the device's count stream, TCP reassembly with
//! MD5, the ESPHome handshake follower, and whole generated sessions through the engine.
//! `cargo bench --bench ota`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use md5::{Digest, Md5};
use std::hint::black_box;
use watch3232::capture::{Next, OfflineSource};
use watch3232::classify::arduino_ota::acks::Acks;
use watch3232::classify::arduino_ota::parser;
use watch3232::classify::esphome::parser as esphome;
use watch3232::classify::ota::firmware;
use watch3232::engine::{Config, Engine};
use watch3232::flow::reasm::Stream;
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;

const MD5: &str = "f8b89d852df85a9e4e44fe40f68a00e6";

fn espota_messages(c: &mut Criterion) {
    let inv = format!("0 40123 204800 {MD5}\n");
    let auth = format!("AUTH {MD5}{MD5}");
    let answer = format!("200 {MD5}{MD5} {MD5}{MD5}\n");
    let mut g = c.benchmark_group("espota");
    g.bench_function("invitation", |b| {
        b.iter(|| parser::parse_invitation(black_box(inv.as_bytes())))
    });
    g.bench_function("device_reply", |b| {
        b.iter(|| parser::parse_device_reply(black_box(auth.as_bytes())))
    });
    g.bench_function("auth_answer", |b| {
        b.iter(|| parser::parse_auth_answer(black_box(answer.as_bytes())))
    });
    // 200 running-total counts, two per segment (coalesced), then OK.
    let segs: Vec<(Vec<u8>, u64)> = (1..=100u64)
        .map(|i| {
            (
                format!("{}{}", (2 * i - 1) * 1024, 2 * i * 1024).into_bytes(),
                2 * i * 1024,
            )
        })
        .collect();
    g.throughput(Throughput::Elements(200));
    g.bench_function("acks_200_coalesced", |b| {
        b.iter(|| {
            let mut a = Acks::new();
            for (s, sent) in &segs {
                a.feed(s, *sent);
            }
            a.feed(b"OK", 204_800);
            black_box(a.acked())
        })
    });
    g.finish();
}

fn image() -> Vec<u8> {
    (0..204_800u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn reassembly(c: &mut Criterion) {
    let img = image();
    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Bytes(img.len() as u64));
    g.bench_function("in_order_1024_md5", |b| {
        b.iter(|| {
            let mut s = Stream::new(1 << 20);
            let mut h = Md5::new();
            for (i, chunk) in img.chunks(1024).enumerate() {
                s.segment(1000 + (i * 1024) as u32, chunk, &mut |d| h.update(d));
            }
            black_box(h.finalize())
        })
    });
    g.bench_function("pairs_swapped_1024_md5", |b| {
        b.iter(|| {
            let mut s = Stream::new(1 << 20);
            let mut h = Md5::new();
            let chunks: Vec<_> = img.chunks(1024).enumerate().collect();
            for pair in chunks.chunks(2) {
                for &(i, chunk) in pair.iter().rev() {
                    s.segment(1000 + (i * 1024) as u32, chunk, &mut |d| h.update(d));
                }
            }
            black_box(h.finalize())
        })
    });
    g.bench_function("firmware_header", |b| {
        b.iter(|| firmware::parse(black_box(&img[..firmware::HEAD_LEN])))
    });
    g.finish();
}

fn esphome_session(c: &mut Criterion) {
    let img = image();
    let md5 = format!("{:x}", Md5::digest(&img));
    let mut g = c.benchmark_group("esphome");
    g.throughput(Throughput::Bytes(img.len() as u64));
    g.bench_function("md5_auth_upload", |b| {
        b.iter(|| {
            let mut s = esphome::Session::default();
            s.client_bytes(&esphome::MAGIC);
            s.device_bytes(&[0, 2]);
            s.client_bytes(&[1]);
            s.device_bytes(&[0x40, 0x01]);
            s.device_bytes(MD5.as_bytes());
            s.client_bytes(MD5.as_bytes());
            s.client_bytes(MD5.as_bytes());
            s.device_bytes(&[0x41]);
            s.client_bytes(&(img.len() as u32).to_be_bytes());
            s.device_bytes(&[0x42]);
            s.client_bytes(md5.as_bytes());
            s.device_bytes(&[0x43]);
            for block in img.chunks(1448) {
                s.client_bytes(block);
            }
            s.device_bytes(&[0x44, 0x45]);
            black_box(s.outcome())
        })
    });
    g.finish();
}

/// Every packet of a generated capture, in memory.
fn load(path: &str) -> Vec<(Timestamp, LinkType, Vec<u8>)> {
    let mut src =
        OfflineSource::open(path).expect("run `cargo run -p watch3232-testgen -- testdata` first");
    let mut out = Vec::new();
    while let Ok(Next::Packet(p)) = src.next_packet() {
        out.push((p.ts, p.link, p.data.to_vec()));
    }
    out
}

fn engine_sessions(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    for name in ["esp32_pbkdf2_reordered", "esphome_sha256"] {
        let pkts = load(&format!(
            "{}/testdata/ota/{name}.pcap",
            env!("CARGO_MANIFEST_DIR")
        ));
        g.throughput(Throughput::Elements(pkts.len() as u64));
        g.bench_function(name, |b| {
            b.iter_batched(
                || Engine::new(Config::default()),
                |mut e| {
                    for (i, (ts, link, data)) in pkts.iter().enumerate() {
                        let p = Packet {
                            ts: *ts,
                            wire_len: data.len() as u32,
                            data,
                            link: *link,
                            index: i as u64 + 1,
                        };
                        e.process(&p);
                    }
                    e.finish();
                    black_box(e.drain_events().count())
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    espota_messages,
    reassembly,
    esphome_session,
    engine_sessions
);
criterion_main!(benches);
