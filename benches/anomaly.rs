//! Protocol guessers of the anomaly path on typical first bytes (512-byte samples).
//! `cargo bench --bench anomaly`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use watch3232::classify::anomaly::guess::{self, http, simple, tls};

fn samples() -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let mut rng: u64 = 0x3232;
    let mut random = vec![0u8; 512];
    for b in random.iter_mut() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        *b = rng as u8;
    }
    let mut r = watch3232_testgen::rng::Rng::new(7);
    let hello = watch3232_testgen::anomaly::client_hello("update.c2-example.net", &mut r);
    let server = watch3232_testgen::anomaly::server_hello(&mut r);
    let req = b"GET /cmd?id=7 HTTP/1.1\r\nHost: 192.0.2.61:3232\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n".to_vec();
    let resp = b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.12.3\r\n\r\n".to_vec();
    vec![
        ("tls", hello, server),
        ("http", req, resp),
        (
            "ssh",
            b"SSH-2.0-OpenSSH_9.2p1\r\n".to_vec(),
            b"SSH-2.0-OpenSSH_9.6p1\r\n".to_vec(),
        ),
        (
            "text",
            b"uname -a\n".to_vec(),
            b"Linux cam-7 4.9.37 armv7l\n# ".to_vec(),
        ),
        ("binary", random.clone(), Vec::new()),
        ("empty", Vec::new(), Vec::new()),
    ]
}

fn guessers(c: &mut Criterion) {
    let s = samples();
    for (name, up, down) in &s {
        c.bench_function(&format!("guess_flow/{name}"), |b| {
            b.iter(|| guess::guess_flow(black_box(up), black_box(down), true))
        });
    }
    let (_, hello, _) = &s[0];
    c.bench_function("tls/client_hello+ja3+ja4", |b| {
        b.iter(|| tls::parse_client_hello(black_box(hello)))
    });
    let (_, req, _) = &s[1];
    c.bench_function("http/request", |b| {
        b.iter(|| http::parse_request(black_box(req)))
    });
    let (_, random, _) = &s[4];
    c.bench_function("entropy/512", |b| {
        b.iter(|| simple::entropy(black_box(random)))
    });
}

criterion_group!(benches, guessers);
criterion_main!(benches);
