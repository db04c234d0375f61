//! The anomaly module's protocol guessers (guess/): TLS ClientHello/ServerHello and JA3/JA4,
//! HTTP request/response, SSH banner, DNS, SMB, text/entropy, previews, and `guess_flow`
//! over both directions. Byte 0: bit 0 = TCP, the rest picks where the input splits into
//! to-server and to-client bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watch3232::classify::anomaly::guess::{guess_flow, http, preview, simple, tls, PREVIEW_BYTES};

fn one_way(d: &[u8], tcp: bool) {
    match tls::record_len(d) {
        Ok(n) => assert!(n > 5 && n <= 5 + 16384 + 2048),
        Err(e) => {
            let _ = format!("{e:?}");
        }
    }
    if let Ok(ch) = tls::parse_client_hello(d) {
        assert_eq!(ch.ja3_hash.len(), 32);
        assert!(ch.ja4.starts_with('t'));
        assert_eq!(ch.ja4.split('_').count(), 3);
        let _ = serde_json::to_string(&ch).unwrap();
    }
    if let Ok(sh) = tls::parse_server_hello(d) {
        assert!(sh.cipher_suite.starts_with("0x") && sh.cipher_suite.len() == 6);
    }
    if let Some(r) = http::parse_request(d) {
        assert!(!r.method.is_empty() && !r.path.is_empty());
        let _ = serde_json::to_string(&r).unwrap();
    }
    if let Some(r) = http::parse_response(d) {
        assert!(r.status <= 999);
    }
    if let Some(b) = simple::ssh_banner(d) {
        assert!(b.starts_with("SSH-") && b.len() <= 255);
    }
    for t in [tcp, !tcp] {
        if let Some(i) = simple::dns(d, t) {
            assert!(i.kind == "query" || i.kind == "response");
        }
    }
    let _ = simple::smb(d);
    let _ = watch3232::classify::esphome::probe::is_esphome_ota(d);
    let _ = watch3232::classify::mdt::probe::is_join_tlvs_only(d);
    let r = simple::printable_ratio(d);
    assert!((0.0..=1.0).contains(&r));
    if simple::is_text(d) {
        assert!(d.len() >= 4);
    }
    let h = simple::entropy(d);
    assert!((0.0..=8.0 + 1e-9).contains(&h), "entropy {h}");
    match preview(d) {
        Some(p) => {
            let n = d.len().min(PREVIEW_BYTES);
            assert_eq!(p.hex.len(), 2 * n);
            assert_eq!(p.printable.len(), n);
        }
        None => assert!(d.is_empty()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&b0, rest)) = data.split_first() else {
        return;
    };
    let tcp = b0 & 1 != 0;
    let split = (usize::from(b0 >> 1) * rest.len() / 127).min(rest.len());
    let (to_server, to_client) = rest.split_at(split);
    one_way(rest, tcp);
    one_way(to_server, tcp);
    one_way(to_client, tcp);
    let e = guess_flow(to_server, to_client, tcp);
    assert!(e.protocol_guess.is_some());
    let _ = serde_json::to_string(&e).unwrap();

    // JA4 from arbitrary parts (the ClientHello parser only passes well-formed ones).
    let words: Vec<u16> = rest
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    let (ciphers, more) = words.split_at(words.len() / 3);
    let (exts, sigalgs) = more.split_at(more.len() / 2);
    let alpn = if b0 & 2 != 0 { Some(to_client) } else { None };
    let j = tls::ja4(
        words.first().copied().unwrap_or(0),
        tcp,
        ciphers,
        exts,
        alpn,
        sigalgs,
    );
    assert_eq!(j.split('_').count(), 3);
    for &w in &words {
        let _ = (tls::is_grease(w), tls::version_name(w));
    }
});
