//! Mirror and overlay tunnels (testdata/tunnels/, written by testdata/gen/src/tunnels.rs): the
//! real OTA sessions inside ERSPAN I/II/III, GRE bridging, VXLAN, GENEVE and VXLAN-in-GRE give
//! exactly the findings of the captures they wrap, with the outer hop in `tunnel`; PPTP's GRE
//! is counted, not an error; tshark (where installed) reads the same outer and inner headers.

mod common;

use common::{run, testdata, Run};
use serde_json::{json, Value};
use std::process::Command;

/// Each tunnel capture, the capture it wraps, and the `tunnel` object of its flows' events.
fn cases() -> Vec<(&'static str, &'static str, Value)> {
    let mirror = |extra: Value| {
        let mut t = json!({"src_ip": "192.0.2.250", "dest_ip": "192.0.2.251", "depth": 1});
        t.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        t
    };
    vec![
        (
            "erspan1",
            "real/ota/esp32_pbkdf2_aborted.pcap",
            mirror(json!({"proto": "GRE", "type": "erspan", "erspan_type": 1})),
        ),
        (
            "erspan2",
            "real/ota/esp32_md5_ok.pcap",
            mirror(
                json!({"proto": "GRE", "type": "erspan", "erspan_type": 2, "erspan_session_id": 42}),
            ),
        ),
        (
            "erspan3",
            "real/ota/esp8266_ok.pcap",
            mirror(
                json!({"proto": "GRE", "type": "erspan", "erspan_type": 3, "erspan_session_id": 42}),
            ),
        ),
        (
            "gre_teb",
            "real/ota/esp32_noauth_filesystem.pcap",
            mirror(json!({"proto": "GRE", "type": "gre_teb", "gre_key": 100})),
        ),
        (
            "vxlan",
            "real/ota/esphome_2026_sha256_ok.pcap",
            mirror(json!({"proto": "UDP", "type": "vxlan", "vni": 5001})),
        ),
        (
            "geneve",
            "real/ota/esp32_pbkdf2_ok.pcap",
            mirror(json!({"proto": "UDP", "type": "geneve", "vni": 7001})),
        ),
        (
            // The outer hop is the IP-in-GRE between two routers (written as GRE always was),
            // the VNI the VXLAN's inside it.
            "vxlan_in_gre",
            "real/ota/esp32_md5_aborted.pcap",
            json!({"src_ip": "198.51.100.1", "dest_ip": "198.51.100.2", "proto": "GRE",
                   "gre_key": 7, "vni": 5001, "depth": 2}),
        ),
    ]
}

fn read(path: &str, extra: &[&str]) -> Run {
    let path = testdata(path);
    let mut args = vec!["read", "-F", "eve"];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    let r = run(&args);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r
}

/// The events without what tells the two captures apart: the tunnel object, the file name,
/// and the byte count (the encapsulation's bytes).
fn without_tunnel(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            let o = e.as_object_mut().unwrap();
            o.remove("tunnel");
            o.remove("pcap_filename");
            if let Some(stats) = o.get_mut("stats").and_then(Value::as_object_mut) {
                stats.remove("bytes");
            }
            e
        })
        .collect()
}

#[test]
fn each_tunnel_gives_exactly_the_findings_of_the_capture_it_wraps() {
    for (name, plain, tunnel) in cases() {
        let wrapped = read(&format!("tunnels/{name}.pcap"), &[]);
        let bare = read(plain, &[]);
        let findings = bare
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e["event_type"].as_str(),
                    Some("arduino_ota" | "esphome_ota")
                )
            })
            .count();
        assert!(findings >= 1, "{plain}: {findings} OTA events");
        assert_eq!(
            without_tunnel(&wrapped.events),
            without_tunnel(&bare.events),
            "{name}"
        );
        for e in &wrapped.events {
            let expected = if e.get("flow_id").is_some() {
                &tunnel
            } else {
                &Value::Null
            };
            assert_eq!(&e["tunnel"], expected, "{name}: {e}");
        }
        assert_eq!(wrapped.summary()["decode_errors"], 0, "{name}");
    }
}

#[test]
fn pptp_enhanced_gre_is_counted_not_a_decode_error() {
    // A bare OTA exchange, then a day later four PPTP packets.
    let r = read("tunnels/pptp.pcap", &[]);
    let stats = r.summary();
    assert_eq!(stats["decode_errors"], 0);
    assert_eq!(stats["decode_error_kinds"], Value::Null);
    assert_eq!(stats["classifiers"]["mdt.gre_pptp"], 4);
    let bare = read("real/ota/esp32_md5_wrong_password.pcap", &[]);
    let findings = |run: &Run| {
        let all = without_tunnel(&run.events);
        all[..all.len() - 1].to_vec()
    };
    assert!(!findings(&bare).is_empty());
    assert_eq!(
        findings(&r),
        findings(&bare),
        "the PPTP packets add nothing"
    );
}

/// vxlan.pcap with the outer UDP destination port rewritten (checksums are not verified).
fn vxlan_on_port(port: u16, dir: &std::path::Path) -> std::path::PathBuf {
    let mut bytes = std::fs::read(testdata("tunnels/vxlan.pcap")).unwrap();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        // Ethernet 14 + IPv4 20: the UDP destination port is 2 bytes into the UDP header.
        let dport = at + 16 + 14 + 20 + 2;
        assert_eq!(&bytes[dport..dport + 2], &4789u16.to_be_bytes());
        bytes[dport..dport + 2].copy_from_slice(&port.to_be_bytes());
        at += 16 + caplen;
    }
    let path = dir.join("vxlan-8472.pcap");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn vxlan_on_another_port_is_opened_only_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let moved = vxlan_on_port(8472, dir.path());
    let moved = moved.to_str().unwrap();
    let plain = read("tunnels/vxlan.pcap", &[]);
    let default = run(&["read", "-F", "eve", moved]);
    assert_eq!(default.code, Some(0));
    assert_eq!(
        default.events.len(),
        1,
        "only the summary: plain UDP nobody wants"
    );
    assert_eq!(default.summary()["interesting_packets"], 0);
    let configured = run(&["read", "-F", "eve", "--vxlan-ports", "4789,8472", moved]);
    assert_eq!(configured.code, Some(0), "{}", configured.stderr);
    assert_eq!(
        without_tunnel(&configured.events),
        without_tunnel(&plain.events)
    );
    assert_eq!(configured.events[0]["tunnel"]["vni"], 5001);
}

const TSHARK_FIELDS: &[&str] = &[
    "frame.number",
    "ip.src",
    "ip.dst",
    "gre.key",
    "erspan.version",
    "erspan.spanid",
    "vxlan.vni",
    "geneve.vni",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
];

fn number(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

/// tshark agrees with every event of a flow on the outer hop (addresses, GRE key, VNI,
/// ERSPAN version and session) and on the inner flow (addresses and ports).
#[test]
#[ignore = "needs tshark"]
fn tshark_reads_the_same_outer_and_inner_headers() {
    let column = |name: &str| TSHARK_FIELDS.iter().position(|f| *f == name).unwrap();
    let mut checked = 0;
    for (name, _, _) in cases() {
        let path = testdata(&format!("tunnels/{name}.pcap"));
        let frames = common::tshark_fields(path.to_str().unwrap(), TSHARK_FIELDS);
        let ours = read(&format!("tunnels/{name}.pcap"), &[]);
        for e in ours.events.iter().filter(|e| e["pcap_cnt"].is_u64()) {
            let f = &frames[e["pcap_cnt"].as_u64().unwrap() as usize - 1];
            let field = |n: &str| &f[column(n)];
            let t = &e["tunnel"];
            let (src, dst) = (field("ip.src"), field("ip.dst"));
            assert_eq!(
                (&src[0], &dst[0]),
                (
                    &t["src_ip"].as_str().unwrap().to_string(),
                    &t["dest_ip"].as_str().unwrap().to_string()
                ),
                "{name}: {e}"
            );
            let mut inner = [src.last().unwrap().clone(), dst.last().unwrap().clone()];
            let mut flow = [
                e["src_ip"].as_str().unwrap().to_string(),
                e["dest_ip"].as_str().unwrap().to_string(),
            ];
            inner.sort();
            flow.sort();
            assert_eq!(inner, flow, "{name}: inner addresses");
            let vni = field("vxlan.vni").first().or(field("geneve.vni").first());
            assert_eq!(vni.map(|v| number(v)), t["vni"].as_u64(), "{name}: VNI");
            assert_eq!(
                field("gre.key").last().map(|k| number(k)),
                t["gre_key"].as_u64(),
                "{name}: key"
            );
            assert_eq!(
                field("erspan.spanid").first().map(|s| number(s)),
                t["erspan_session_id"].as_u64(),
                "{name}"
            );
            // Wireshark's ERSPAN version: 1 is type II, 2 type III (type I has no header).
            let version = field("erspan.version").first().map(|v| number(v) + 1);
            let ours_with_header = t["erspan_type"].as_u64().filter(|&v| v > 1);
            assert_eq!(version, ours_with_header, "{name}: ERSPAN type");
            // The innermost transport's ports, as a pair either way round.
            let transport = if e["proto"] == "TCP" { "tcp" } else { "udp" };
            let sport = field(&format!("{transport}.srcport"))
                .last()
                .unwrap()
                .clone();
            let dport = field(&format!("{transport}.dstport"))
                .last()
                .unwrap()
                .clone();
            let mut ports = [number(&sport), number(&dport)];
            let mut flow_ports = [
                e["src_port"].as_u64().unwrap(),
                e["dest_port"].as_u64().unwrap(),
            ];
            ports.sort();
            flow_ports.sort();
            assert_eq!(ports, flow_ports, "{name}: ports");
            checked += 1;
        }
    }
    assert!(checked >= 25, "{checked} events checked");
}

#[test]
fn the_text_format_names_the_mirror_tunnel() {
    let out = Command::new(common::bin())
        .args(["read", "-F", "text-full"])
        .arg(testdata("tunnels/vxlan.pcap"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.contains(
            "esphome_ota/session info TCP 10.32.32.1:58044 -> 10.32.32.2:3232 \
             (in vxlan 192.0.2.250 -> 192.0.2.251)"
        ),
        "{first}"
    );
}
