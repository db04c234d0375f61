//! Every link layer a sensor gets (issue 15): the same reference OTA sessions on Linux cooked
//! captures of loopback, PPP, tun and GRE devices and on open-network 802.11 (radiotap, PPI,
//! bare WDS) give exactly the findings of the Ethernet capture (`testgen relink`), and tshark
//! reads the 802.11 captures' addresses and ports as our decoder does.

mod common;

use common::{run, testdata};
use serde_json::Value;
use std::process::Command;
use watch3232::decode::{decode, Outcome};
use watch3232::packet::LinkType;
use watch3232_testgen::capture::{linktype, PcapWriter};
use watch3232_testgen::relink::{self, Carrier};

/// What a finding says whatever link it came on: the event without the file name, and on a
/// link without hardware addresses (cooked loopback, PPP, tun, GRE) without the MACs and the
/// vendor their OUI names.
fn finding(e: &Value, has_macs: bool) -> Value {
    fn strip(v: &mut Value, has_macs: bool) {
        if let Value::Object(map) = v {
            map.retain(|k, _| {
                k != "pcap_filename" && (has_macs || !(k.contains("mac") || k == "vendor"))
            });
            map.values_mut().for_each(|v| strip(v, has_macs));
        }
        if let Value::Array(items) = v {
            items.iter_mut().for_each(|v| strip(v, has_macs));
        }
    }
    let mut e = e.clone();
    strip(&mut e, has_macs);
    e
}

fn findings(r: &common::Run, has_macs: bool) -> Vec<Value> {
    r.events
        .iter()
        .filter(|e| e["event_type"] != "stats")
        .map(|e| finding(e, has_macs))
        .collect()
}

fn reference_run(dir: &std::path::Path) -> common::Run {
    let path = dir.join("ethernet.pcap");
    let mut w = PcapWriter::new(
        std::fs::File::create(&path).unwrap(),
        linktype::ETHERNET,
        65535,
    )
    .unwrap();
    for r in relink::reference() {
        w.write(&r).unwrap();
    }
    drop(w);
    run(&["read", "-F", "eve", path.to_str().unwrap()])
}

#[test]
fn every_cooked_and_wifi_carrier_gives_the_findings_of_ethernet() {
    let dir = tempfile::tempdir().unwrap();
    let plain = reference_run(dir.path());
    assert_eq!(plain.code, Some(0), "{}", plain.stderr);
    assert_eq!(findings(&plain, true).len(), 12, "the reference's findings");
    for (name, carrier) in relink::variants() {
        let r = run(&[
            "read",
            "-F",
            "eve",
            testdata(&format!("links/{name}.pcap")).to_str().unwrap(),
        ]);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        let has_macs = !matches!(carrier, Carrier::Sll { .. } | Carrier::Sll2 { .. });
        let (got, want) = (findings(&r, has_macs), findings(&plain, has_macs));
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{name}: finding {i}");
        }
        assert_eq!(got.len(), want.len(), "{name}");
        let s = r.summary();
        assert_eq!(s["decode_errors"], 0, "{name}");
        assert_eq!(s["not_ip"], plain.summary()["not_ip"], "{name}: the ARPs");
        let skips: Vec<(&String, &Value)> = s["classifiers"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with("wifi.") || k.starts_with("link."))
            .collect();
        let want_skips: Vec<(String, Value)> = if carrier == Carrier::Radiotap {
            vec![
                ("wifi.encrypted".into(), 1.into()),
                ("wifi.management".into(), 1.into()),
                ("wifi.no_data".into(), 1.into()),
            ]
        } else {
            vec![]
        };
        assert_eq!(
            skips
                .into_iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>(),
            want_skips,
            "{name}"
        );
    }
}

#[test]
fn cooked_linux_protocol_numbers_are_counted_as_unsupported_not_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("llc.pcap");
    let mut w = PcapWriter::new(
        std::fs::File::create(&path).unwrap(),
        linktype::LINUX_SLL,
        65535,
    )
    .unwrap();
    // ETH_P_802_2 on an Ethernet device (an STP BPDU), and a netlink message.
    let mut llc = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x00, 0x04];
    llc.extend_from_slice(&[0x42, 0x42, 0x03, 0, 0, 0, 0]);
    let mut netlink = vec![0, 4, 0x03, 0x38, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00];
    netlink.extend_from_slice(&[20, 0, 0, 0, 16, 0, 0, 0]);
    w.write_raw(1_000_000, &llc, llc.len() as u32).unwrap();
    w.write_raw(1_000_001, &netlink, netlink.len() as u32)
        .unwrap();
    drop(w);
    let r = run(&["read", "-F", "eve", path.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let s = r.summary();
    assert_eq!(s["decode_errors"], 0);
    assert_eq!(s["classifiers"]["link.unsupported"], 2);
    assert_eq!(s["packets"], 2);
}

/// Per IP packet: source and destination MAC, IP and port, as the decoder reads them.
fn our_view(path: &std::path::Path, link: LinkType) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    relink::read_pcap(&bytes)
        .iter()
        .filter_map(|r| match decode(link, &r.data, 4) {
            Ok(Outcome::Ip(d)) => {
                let (sp, dp) = d.ports().unwrap_or((0, 0));
                let mac = |m: Option<[u8; 6]>| {
                    m.map(|m| {
                        m.iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<Vec<_>>()
                            .join(":")
                    })
                    .unwrap_or_default()
                };
                Some(format!(
                    "{}\t{}\t{}\t{}\t{sp}\t{dp}",
                    mac(d.link.src_mac),
                    mac(d.link.dst_mac),
                    d.net.src,
                    d.net.dst
                ))
            }
            _ => None,
        })
        .collect()
}

fn tshark_view(path: &std::path::Path) -> Vec<String> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-Y", "ip", "-T", "fields", "-E", "separator=/t"])
        .args([
            "-e", "wlan.sa", "-e", "wlan.da", "-e", "ip.src", "-e", "ip.dst",
        ])
        .args(["-e", "tcp.srcport", "-e", "udp.srcport"])
        .args(["-e", "tcp.dstport", "-e", "udp.dstport"])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let port = |a: &str, b: &str| {
                if a.is_empty() {
                    b.to_string()
                } else {
                    a.to_string()
                }
            };
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                f[0],
                f[1],
                f[2],
                f[3],
                port(f[4], f[5]),
                port(f[6], f[7])
            )
        })
        .collect()
}

#[test]
#[ignore = "needs tshark"]
fn tshark_reads_the_wifi_captures_as_we_do() {
    common::require(common::have("tshark", "--version"), "tshark");
    for (name, link) in [
        ("wifi-radiotap", LinkType::Radiotap),
        ("wifi-ppi", LinkType::Ppi),
        ("wifi-wds", LinkType::Ieee80211),
    ] {
        let path = testdata(&format!("links/{name}.pcap"));
        let ours = our_view(&path, link);
        let theirs = tshark_view(&path);
        assert_eq!(ours.len(), 56, "{name}: IP packets");
        assert_eq!(ours, theirs, "{name}");
    }
}

#[test]
fn pcapng_unsupported_interface_and_impossible_blocks_are_skipped_counted_and_named_once() {
    use watch3232_testgen::pcapng_skips::{BAD_BLOCKS, BLUETOOTH_PACKETS};
    let plain = run(&[
        "read",
        "-F",
        "eve",
        testdata("links/ethernet.pcap").to_str().unwrap(),
    ]);
    let want = findings(&plain, true);
    let path = testdata("pcapng/skips.pcapng");
    for workers in ["1", "2"] {
        let r = run(&[
            "read",
            "-F",
            "eve",
            "--workers",
            workers,
            path.to_str().unwrap(),
        ]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        // Sharded, events come in another order with other flow ids: the counts must agree.
        if workers == "1" {
            assert!(
                findings(&r, true) == want,
                "findings differ from links/ethernet.pcap"
            );
        } else {
            assert_eq!(findings(&r, true).len(), want.len());
        }
        let s = r.summary();
        assert_eq!(
            s["classifiers"]["capture.unsupported_link_packets"],
            BLUETOOTH_PACKETS
        );
        assert_eq!(s["classifiers"]["capture.bad_packet_blocks"], BAD_BLOCKS);
        assert_eq!(
            s["packets"],
            plain.summary()["packets"],
            "skipped packets never reach the engine"
        );
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "one warning per kind: {lines:?}");
        assert!(
            lines[0].contains("interface 1 is LINKTYPE_BLUETOOTH_HCI_H4 (187)"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("packet block after packet 59: wire length 808000000 exceeds 262144"),
            "{}",
            lines[1]
        );
    }
}

#[test]
fn an_unsupported_link_type_is_named_by_both_readers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bluetooth.pcap");
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap(), 187, 65535).unwrap();
    w.write_raw(1_000_000, &[4, 0x0e, 4, 1, 3, 0x0c, 0], 7)
        .unwrap();
    drop(w);
    for reader in ["native", "libpcap"] {
        let r = run(&["read", "--reader", reader, path.to_str().unwrap()]);
        assert_eq!(r.code, Some(1), "{reader}");
        assert!(
            r.stderr
                .contains("LINKTYPE_BLUETOOTH_HCI_H4 (187) is not supported; supported: Ethernet"),
            "{reader}: {}",
            r.stderr
        );
    }
}

/// `capture -i any` (Linux cooked): the default filter (whose `vlan` half libpcap refuses on
/// cooked links) is installed, and an invitation over loopback is decoded and reported.
#[test]
#[ignore = "needs root: live capture on any"]
fn capture_on_any_reads_cooked_loopback_with_the_default_filter() {
    use std::io::{BufRead, BufReader};
    use std::net::UdpSocket;
    use std::time::{Duration, Instant};
    common::require(common::is_root(), "root (live capture on any)");
    let device = UdpSocket::bind("127.0.0.1:0").unwrap();
    let device_port = device.local_addr().unwrap().port();
    let port = device_port.to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("any.json");
    let mut child = Command::new(common::bin())
        .args(["capture", "-i", "any", "-v", "--ota-ports", &port])
        .args(["--watch-ports", &port, "-o", out.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, log) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut lines: Vec<String> = Vec::new();
    while Instant::now() < deadline && !lines.iter().any(|l| l.contains("capturing")) {
        lines.extend(log.recv_timeout(Duration::from_millis(100)));
    }
    assert!(
        lines.iter().any(|l| l.contains("capturing")),
        "never started: {lines:?}"
    );
    let uploader = UdpSocket::bind("127.0.0.1:0").unwrap();
    let md5 = "1eaf36edb0f7f408b7f33c18eb4e85d4";
    let invitation = watch3232_testgen::espota::invitation(0, 40_123, 4096, md5);
    uploader
        .send_to(&invitation, device.local_addr().unwrap())
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // SIGTERM ends a capture cleanly, with 128 + 15 as for `read`.
    assert_eq!(child.wait().unwrap().code(), Some(143));
    let text = std::fs::read_to_string(&out).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let invitations: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "invitation" && e["dest_port"] == device_port)
        .collect();
    assert!(!invitations.is_empty(), "{text}");
    assert_eq!(invitations[0]["arduino_ota"]["host_port"], 40_123);
    let stats = events.iter().rfind(|e| e["event_type"] == "stats").unwrap();
    assert_eq!(stats["stats"]["decode_errors"], 0, "{stats}");
}
