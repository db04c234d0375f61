//! End to end: the binary on the bundled captures and on damaged inputs (issue: the sensor pipeline).

mod common;

use common::{run, run_with_stdin, testdata};
use serde_json::Value;
use std::fs;
use std::io::Write;
use watch3232_testgen::capture::{linktype, PcapWriter, PcapngWriter, Record};
use watch3232_testgen::frame::{Link, ESPRESSIF_MAC, LAPTOP_MAC};
use watch3232_testgen::scenarios::{self, ExpectedInvitation};

fn invitations(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event_type"] == "arduino_ota" && e["kind"] == "invitation")
        .collect()
}

fn assert_invitations_match(got: &[&Value], expected: &[ExpectedInvitation]) {
    assert_eq!(
        got.len(),
        expected.len(),
        "one event per invitation datagram"
    );
    for (e, x) in got.iter().zip(expected) {
        assert_eq!(e["src_ip"], x.uploader.to_string());
        assert_eq!(e["dest_ip"], x.device.to_string());
        assert_eq!(e["dest_port"], x.device_port);
        assert_eq!(e["proto"], "UDP");
        assert_eq!(e["severity"], "info");
        let d = &e["arduino_ota"];
        assert_eq!(d["command"], x.command);
        assert_eq!(d["host_port"], x.host_port);
        assert_eq!(d["image_size"], x.image_size);
        assert_eq!(d["image_md5"], x.image_md5);
        // Community ID of the UDP flow, computed independently of the flow table.
        let sport = e["src_port"].as_u64().unwrap() as u16;
        let cid = watch3232::flow::community_id::community_id_v1(
            0,
            x.uploader,
            x.device,
            sport,
            x.device_port,
            17,
        );
        assert_eq!(e["community_id"], cid);
        assert!(e["flow_id"].as_u64().unwrap() > 0);
        assert!(e["pcap_cnt"].as_u64().unwrap() > 0);
        assert!(e["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}

#[test]
fn bundled_captures_are_what_the_generator_writes() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO"))
        .args(["run", "-q", "-p", "watch3232-testgen", "--"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    for rel in [
        "demo.pcapng",
        "tour.pcapng",
        "links/ethernet.pcap",
        "links/sll2.pcap",
        "links/two-interfaces.pcapng",
        "links/cooked-loopback.pcap",
        "links/wifi-radiotap.pcap",
        "pcapng/skips.pcapng",
        "tunnels/erspan3.pcap",
        "tunnels/vxlan_in_gre.pcap",
        "tunnels/pptp.pcap",
    ] {
        assert_eq!(
            fs::read(dir.path().join(rel)).unwrap(),
            fs::read(testdata(rel)).unwrap(),
            "{rel} is stale: run `cargo run -p watch3232-testgen -- testdata`"
        );
    }
}

#[test]
fn every_link_type_yields_the_same_invitations() {
    for (name, link) in scenarios::link_variants() {
        let (_, expected) = scenarios::ota_invitations(link);
        let path = testdata(&format!("links/{name}.pcap"));
        let r = run(&["read", path.to_str().unwrap()]);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        assert_invitations_match(&invitations(&r.events), &expected);
        let s = r.summary();
        assert_eq!(s["decode_errors"], 0, "{name}");
        assert_eq!(s["classifiers"]["arduino_ota.invitations"], 9, "{name}");
        assert_eq!(s["classifiers"]["arduino_ota.replies_ok"], 5, "{name}");
        assert_eq!(s["classifiers"]["arduino_ota.replies_auth"], 2, "{name}");
        assert_eq!(
            s["classifiers"]["arduino_ota.replies_auth_failed"], 1,
            "{name}"
        );
        assert_eq!(s["classifiers"]["arduino_ota.auth_answers"], 2, "{name}");
        assert_eq!(
            s["classifiers"]["arduino_ota.malformed_invitations"], 2,
            "{name}: 31-digit MD5 and non-numeric fields"
        );
        assert_eq!(
            s["classifiers"]["flows.unclassified"], 3,
            "{name}: the malformed datagrams and the junk"
        );
    }
}

#[test]
fn vlan_tags_do_not_change_flows_or_ids() {
    let plain = run(&["read", testdata("links/ethernet.pcap").to_str().unwrap()]);
    let qinq = run(&["read", testdata("links/qinq.pcap").to_str().unwrap()]);
    let ids = |r: &common::Run| {
        invitations(&r.events)
            .iter()
            .map(|e| e["community_id"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&plain), ids(&qinq));
}

#[test]
fn pcapng_with_two_link_types_and_file_order() {
    let (_, expected) = scenarios::ota_invitations(Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    });
    let both = [expected.clone(), expected].concat();
    let r = run(&[
        "read",
        testdata("links/two-interfaces.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_invitations_match(&invitations(&r.events), &both);

    // Several files: read in the order given, each event names its file.
    let a = testdata("links/raw.pcap");
    let b = testdata("demo.pcapng");
    let r = run(&["read", a.to_str().unwrap(), b.to_str().unwrap()]);
    let inv = invitations(&r.events);
    assert_eq!(inv.len(), 18);
    assert!(inv[..9]
        .iter()
        .all(|e| e["pcap_filename"] == a.to_str().unwrap()));
    assert!(inv[9..]
        .iter()
        .all(|e| e["pcap_filename"] == b.to_str().unwrap()));
    assert_eq!(r.summary()["files"]["read"], 2);
}

#[test]
fn standard_input() {
    let bytes = fs::read(testdata("demo.pcapng")).unwrap();
    let r = run_with_stdin(&["read", "-"], Some(&bytes));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(invitations(&r.events).len(), 9);
    assert_eq!(invitations(&r.events)[0]["pcap_filename"], "<stdin>");
}

#[test]
fn output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.json");
    let demo = testdata("demo.pcapng");
    let r = run(&["read", demo.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, Some(0));
    assert!(r.events.is_empty(), "nothing on stdout with -o");
    let text = fs::read_to_string(out).unwrap();
    assert!(text.ends_with('\n'));
    let from_file: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let to_stdout = run(&["read", demo.to_str().unwrap()]);
    // The same findings in the same order; the summaries differ only in memory and output
    // counters, which belong to each run.
    let findings = |v: &[Value]| {
        v.iter()
            .filter(|e| e["event_type"] != "stats")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(findings(&from_file), findings(&to_stdout.events));
    let packets = |v: &[Value]| v.last().unwrap()["stats"]["packets"].clone();
    assert_eq!(packets(&from_file), packets(&to_stdout.events));
    assert_eq!(invitations(&from_file).len(), 9);
}

fn write_pcap(path: &std::path::Path, records: &[Record], snaplen: u32) {
    let mut w =
        PcapWriter::new(fs::File::create(path).unwrap(), linktype::ETHERNET, snaplen).unwrap();
    for r in records {
        w.write(r).unwrap();
    }
}

fn demo_records() -> (Vec<Record>, Vec<ExpectedInvitation>) {
    scenarios::ota_invitations(Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    })
}

#[test]
fn missing_file_and_non_capture_fail_with_one_line_but_later_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    fs::write(&text, "this is not a capture\n").unwrap();
    let empty = dir.path().join("empty.pcap");
    fs::write(&empty, b"").unwrap();
    let good = testdata("demo.pcapng");
    let r = run(&[
        "read",
        "/nonexistent/x.pcap",
        text.to_str().unwrap(),
        empty.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(1), "input errors give exit 1");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "one line per bad input: {}", r.stderr);
    assert!(
        lines[0].starts_with("watch3232: error: /nonexistent/x.pcap: ")
            && lines[0].contains("no such file"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("notes.txt: not a pcap or pcapng capture"),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("empty.pcap"), "{}", lines[2]);
    assert_eq!(
        invitations(&r.events).len(),
        9,
        "the good file after them is still read"
    );
    assert_eq!(r.summary()["files"]["failed"], 3);
    assert!(!r.stderr.contains("panicked"));
}

#[test]
fn truncated_capture_keeps_every_packet_before_the_cut() {
    let (records, expected) = demo_records();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    write_pcap(&path, &records, 65535);
    let bytes = fs::read(&path).unwrap();
    // Cut in the middle of the last record's data: every invitation precedes it.
    fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let r = run(&["read", path.to_str().unwrap()]);
    assert_eq!(
        r.code,
        Some(0),
        "a cut-off file is a warning, not a failure: {}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("capture ends in the middle of a record"),
        "{}",
        r.stderr
    );
    assert_invitations_match(&invitations(&r.events), &expected);
    assert_eq!(r.summary()["files"]["truncated"], 1);
    assert_eq!(r.summary()["packets"], records.len() as u64 - 1);
}

#[test]
fn odd_records_are_counted_not_fatal() {
    let (mut records, expected) = demo_records();
    // A zero-length packet, a frame cut inside the IP header, and an IP header with a bad
    // version, inserted before everything else.
    let mut bad_ip = records[0].data.clone();
    bad_ip[14] = 0x35;
    let cut = records[0].data[..20].to_vec();
    let mut garbage_udp = records[0].data.clone();
    garbage_udp[14 + 20 + 4..14 + 20 + 6].copy_from_slice(&0xFFFFu16.to_be_bytes());
    let ts = records[0].ts_us;
    for data in [Vec::new(), cut, bad_ip, garbage_udp] {
        records.insert(0, Record::new(ts, data));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.pcap");
    write_pcap(&path, &records, 65535);
    let r = run(&["read", path.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_invitations_match(&invitations(&r.events), &expected);
    let s = r.summary();
    assert_eq!(s["decode_errors"], 4, "{s}");
    assert_eq!(s["decode_error_kinds"]["link.truncated"], 1);
    assert_eq!(s["decode_error_kinds"]["ip.truncated"], 1);
    assert_eq!(s["decode_error_kinds"]["ip.malformed"], 1);
    assert_eq!(s["decode_error_kinds"]["udp.malformed"], 1);
}

#[test]
fn record_longer_than_the_snaplen() {
    let (records, expected) = demo_records();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.pcap");
    // A file header declaring a snaplen of 64 while records are longer: libpcap (as tcpdump)
    // keeps the first 64 bytes of each record. The cut invitations cannot be read, and are
    // counted as cut by the snap length rather than lost silently; nothing fails.
    write_pcap(&path, &records, 64);
    let r = run(&["read", path.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert!(invitations(&r.events).is_empty());
    let s = r.summary();
    assert_eq!(s["packets"], records.len() as u64);
    let long = records.iter().filter(|r| r.data.len() > 64).count() as u64;
    assert_eq!(s["snaplen_cut"], long, "{s}");
    assert_eq!(expected.len(), 9);
}

#[test]
fn pcapng_mixing_link_types() {
    // Ethernet packets on interface 0, Linux SLL2 on interface 1, in one section.
    let (a, expected) = demo_records();
    let (mut b, _) = scenarios::ota_invitations(Link::Sll2);
    for r in &mut b {
        r.interface = 1;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.pcapng");
    let interfaces = [linktype::ETHERNET, linktype::LINUX_SLL2];
    let mut w = PcapngWriter::new(fs::File::create(&path).unwrap(), &interfaces).unwrap();
    for r in a.iter().chain(&b) {
        w.write(r).unwrap();
    }
    w.into_inner().flush().unwrap();
    let file = path.to_str().unwrap();

    // Our reader decodes each packet with its own interface's link type.
    let r = run(&["read", file]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let both = [expected.clone(), expected].concat();
    assert_invitations_match(&invitations(&r.events), &both);

    // libpcap reads a section only when all its interfaces share one link type: one line.
    let r = run(&["read", "--reader", "libpcap", file]);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("mixed.pcapng"), "{}", r.stderr);
}

#[test]
fn pcapng_with_an_unknown_block() {
    let (records, expected) = demo_records();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custom.pcapng");
    let mut w = PcapngWriter::new(fs::File::create(&path).unwrap(), &[linktype::ETHERNET]).unwrap();
    w.write_block(0x0BAD_0001, b"a block nobody knows").unwrap();
    for r in &records {
        w.write(r).unwrap();
    }
    w.into_inner().flush().unwrap();
    let r = run(&["read", path.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_invitations_match(&invitations(&r.events), &expected);
}

#[test]
fn missing_interface_is_one_line() {
    let r = run(&["capture", "-i", "nosuchif0"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("watch3232: error: nosuchif0: "),
        "{}",
        r.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let r = run(&["read"]);
    assert_eq!(r.code, Some(2));
    let r = run(&["read", "x.pcap", "--ota-ports", "3232,notaport"]);
    assert_eq!(r.code, Some(2));
}

#[test]
fn the_tour_shows_every_event_type_and_decodes_cleanly() {
    // testdata/tour.pcapng is what `.ci/demo` reads: every scenario, an hour apart.
    let r = run(&["read", testdata("tour.pcapng").to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let types: std::collections::BTreeSet<&str> = r
        .events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    let want = [
        "alert",
        "anomaly",
        "arduino_ota",
        "device",
        "esphome_ota",
        "mdt",
        "stats",
    ];
    assert_eq!(types.into_iter().collect::<Vec<_>>(), want);
    assert_eq!(r.summary()["decode_errors"], 0);
    // The legitimate traffic of the tour raises no anomaly: its anomalies are exactly those of
    // the anomaly scenario plus the demo's planted malformed datagrams.
    let count = |rel: &str| {
        run(&["read", testdata(rel).to_str().unwrap()])
            .of_type("anomaly")
            .count()
    };
    assert_eq!(
        r.of_type("anomaly").count(),
        count("anomaly/mixed.pcap") + count("demo.pcapng")
    );
}
