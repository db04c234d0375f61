//! `--write-matched` (issue 14): every matched packet of every input interface reaches the
//! file, in pcapng when the inputs have several link types, in pcap when they share one; a
//! write error is fatal, after every event is out.

mod common;

use common::{have, require, run, testdata};
use std::path::Path;
use watch3232::capture::{NativeSource, Next, Origin};
use watch3232::packet::LinkType;
use watch3232::time::Timestamp;

/// Each packet of a capture as our reader returns it: where from, when, link type, bytes.
fn packets(path: &Path) -> Vec<(Origin, Timestamp, LinkType, Vec<u8>)> {
    let file = std::fs::File::open(path).unwrap();
    let mut src = NativeSource::open("out", Box::new(file))
        .unwrap()
        .expect("a pcap or pcapng file");
    let mut out = Vec::new();
    loop {
        let (ts, link, data) = match src.next_packet().unwrap() {
            Next::Packet(p) => (p.ts, p.link, p.data.to_vec()),
            Next::End => return out,
            Next::Idle => unreachable!("files never idle"),
        };
        out.push((src.origin(), ts, link, data));
    }
}

fn magic(path: &Path) -> [u8; 4] {
    std::fs::read(path).unwrap()[..4].try_into().unwrap()
}

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAP_MAGIC: [u8; 4] = [0xd4, 0xc3, 0xb2, 0xa1];

#[test]
fn a_two_interface_pcapng_keeps_both_interfaces_and_every_matched_packet() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("matched.pcapng");
    let input = testdata("links/two-interfaces.pcapng");
    let r = run(&[
        "read",
        "--write-matched",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!((r.code, r.stderr.as_str()), (Some(0), ""));
    assert_eq!(magic(&out), PCAPNG_MAGIC);
    let written = packets(&out);
    let on = |link| written.iter().filter(|p| p.2 == link).count();
    // 22 packets of the OTA flows on each interface (the rest are other traffic).
    assert_eq!((on(LinkType::Ethernet), on(LinkType::LinuxSll2)), (22, 22));
    assert_eq!(written.len(), 44);
    let interfaces: Vec<(u32, i32)> = written
        .iter()
        .map(|p| (p.0.interface, p.0.linktype))
        .collect();
    assert!(interfaces.contains(&(0, 1)) && interfaces.contains(&(1, 276)));
    // Each written packet is an input packet, bytes and time exactly.
    let inputs = packets(&input);
    for (_, ts, link, data) in &written {
        assert!(inputs
            .iter()
            .any(|p| (&p.1, &p.2, &p.3) == (ts, link, data)));
    }
    // And reading the evidence again finds the same OTA events.
    let again = run(&["read", out.to_str().unwrap()]);
    let ota = |r: &common::Run| r.of_type("arduino_ota").count();
    assert_eq!((ota(&again), ota(&r)), (52, 52));
}

#[test]
fn inputs_of_two_link_types_go_to_one_pcapng() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("matched");
    let eth = testdata("links/ethernet.pcap");
    let sll = testdata("links/sll.pcap");
    let r = run(&[
        "read",
        "--write-matched",
        out.to_str().unwrap(),
        eth.to_str().unwrap(),
        sll.to_str().unwrap(),
    ]);
    assert_eq!((r.code, r.stderr.as_str()), (Some(0), ""));
    assert_eq!(magic(&out), PCAPNG_MAGIC);
    let written = packets(&out);
    let on = |link| written.iter().filter(|p| p.2 == link).count();
    assert_eq!((on(LinkType::Ethernet), on(LinkType::LinuxSll)), (22, 22));
}

#[test]
fn inputs_of_one_link_type_still_give_a_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("matched.pcap");
    let r = run(&[
        "read",
        "--write-matched",
        out.to_str().unwrap(),
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0));
    assert_eq!(magic(&out), PCAP_MAGIC);
    assert!(!packets(&out).is_empty());
}

#[test]
fn a_write_error_is_fatal_after_every_event_is_out() {
    let input = testdata("links/two-interfaces.pcapng");
    let all = run(&["read", input.to_str().unwrap()]);
    for input in [input, testdata("demo.pcapng")] {
        let r = run(&[
            "read",
            "--write-matched",
            "/dev/full",
            input.to_str().unwrap(),
        ]);
        assert_eq!(r.code, Some(1), "{}", input.display());
        assert_eq!(
            r.stderr,
            "watch3232: error: cannot write /dev/full: No space left on device (os error 28)\n"
        );
        if input.ends_with("two-interfaces.pcapng") {
            assert_eq!(r.events.len(), all.events.len());
            assert_eq!(r.summary(), all.summary());
        }
    }
}

#[test]
#[ignore = "needs tshark"]
fn tshark_reads_the_two_interface_file_as_we_do() {
    require(have("tshark", "-v"), "tshark");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("matched.pcapng");
    let r = run(&[
        "read",
        "--write-matched",
        out.to_str().unwrap(),
        testdata("links/two-interfaces.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0));
    let t = std::process::Command::new("tshark")
        .args(["-r", out.to_str().unwrap(), "-T", "fields"])
        .args(["-e", "frame.interface_id", "-e", "frame.time_epoch"])
        .args(["-e", "frame.len", "-e", "frame.cap_len"])
        .output()
        .unwrap();
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let theirs: Vec<String> = String::from_utf8(t.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let ours: Vec<String> = packets(&out)
        .iter()
        .map(|(o, ts, _, data)| {
            let (s, us) = (ts.micros() / 1_000_000, ts.micros() % 1_000_000);
            format!(
                "{}\t{s}.{us:06}000\t{}\t{}",
                o.interface,
                data.len(),
                data.len()
            )
        })
        .collect();
    assert_eq!(theirs.len(), 44);
    assert_eq!(theirs, ours);
}
