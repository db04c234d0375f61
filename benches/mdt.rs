//! PIM and Data-MDT Join parsers on the mdt.md §5 examples: `cargo bench --bench mdt`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::net::IpAddr;
use watch3232::classify::mdt::join::parse_joins;
use watch3232::classify::mdt::pim::PimPacket;
use watch3232::event::mdt::{Hello, JoinPrune};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn pim(c: &mut Criterion) {
    // mdt.md §5 Ex. 1: the Hello in the default MDT (5 options).
    let hello = hex(
        "200051da 00010002 0069 0002000401f409c4 0013000400000001 001400041a2b3c4d \
         001800060100c6336401",
    );
    let (src, dst): (IpAddr, IpAddr) =
        ("192.0.2.1".parse().unwrap(), "224.0.0.13".parse().unwrap());
    let mut g = c.benchmark_group("pim");
    g.throughput(Throughput::Bytes(hello.len() as u64));
    g.bench_function("hello_checksum_and_options", |b| {
        b.iter(|| {
            let p = PimPacket::new_checked(black_box(&hello[..])).unwrap();
            p.verify_checksum(src, dst).unwrap();
            Hello::parse(p.body()).unwrap()
        })
    });
    // Join/Prune body: upstream 192.0.2.2, one group, one join and one prune.
    let jp = hex(
        "0100c0000202 00 01 00d2 0100 0020 e8050505 0001 0001 0100 0420 0a01010a 0100 0720 0a090909",
    );
    g.throughput(Throughput::Bytes(jp.len() as u64));
    g.bench_function("join_prune", |b| {
        b.iter(|| JoinPrune::parse(black_box(&jp)).unwrap())
    });
    g.finish();
}

fn joins(c: &mut Criterion) {
    // mdt.md §5 Ex. 2 TLV, and a datagram of 8 of them.
    let one = hex("01 0010 00 0a01010a e8050505 ef010200");
    let eight = one.repeat(8);
    let mut g = c.benchmark_group("data_mdt_join");
    g.throughput(Throughput::Bytes(one.len() as u64));
    g.bench_function("one_tlv", |b| {
        b.iter(|| parse_joins(black_box(&one)).unwrap())
    });
    g.throughput(Throughput::Bytes(eight.len() as u64));
    g.bench_function("eight_tlvs", |b| {
        b.iter(|| parse_joins(black_box(&eight)).unwrap())
    });
    g.bench_function("reject_random", |b| {
        let junk = hex("47455420 2f20 4854 5450");
        b.iter(|| parse_joins(black_box(&junk)).is_err())
    });
    g.finish();
}

criterion_group!(benches, pim, joins);
criterion_main!(benches);
