//! How a live capture ends (issue 14): SIGINT/SIGTERM end it as they end a read (every flow
//! ended, its events and the summary written, the summary marked `interrupted`, exit 130/143,
//! one stderr line), and an interface that goes away mid-capture is exit 1 with one line, after
//! what was captured is written. On a veth pair in a namespace of the test's own (root).

mod common;

use common::{replay_script, signal, testdata, wait_with_timeout, VethNamespace};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use watch3232::capture::savefile::PcapWriter;
use watch3232::capture::{NativeSource, Next};

/// The first second of the bundled Ethernet capture (DNS, HTTP and six OTA invitations).
fn first_second(out: &Path) {
    let file = std::fs::File::open(testdata("links/ethernet.pcap")).unwrap();
    let mut src = NativeSource::open("eth", Box::new(file)).unwrap().unwrap();
    let mut w = PcapWriter::new(std::fs::File::create(out).unwrap(), 1, 65535).unwrap();
    let mut start = None;
    while let Next::Packet(p) = src.next_packet().unwrap() {
        let t0 = *start.get_or_insert(p.ts.micros());
        if p.ts.micros() - t0 < 1_000_000 {
            w.write(p.ts, p.wire_len, p.data).unwrap();
        }
    }
    w.finish().unwrap();
}

/// `watch3232 capture -i wb -v -o DIR/eve.json [OPTIONS]` in the namespace, its stderr lines on
/// a channel, started once it says it is capturing.
fn start(
    ns: &VethNamespace,
    options: &[&str],
) -> (Child, PathBuf, mpsc::Receiver<String>, Vec<String>) {
    let eve = ns.dir.path().join("eve.json");
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(common::bin())
        .args(["capture", "-i", "wb", "-v", "-o", eve.to_str().unwrap()])
        .args(options)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = common::stderr_lines(&mut child);
    let mut lines = Vec::new();
    common::wait_for_line(&log, &mut lines, "capturing");
    (child, eve, log, lines)
}

/// Sends the first second of OTA traffic out of `wa` and waits for it to be sent.
fn replay(ns: &VethNamespace) {
    let pcap = ns.dir.path().join("first-second.pcap");
    first_second(&pcap);
    let mut sender = ns.spawn("python3", &["-c", &replay_script(&pcap)]);
    assert!(wait_with_timeout(&mut sender, Duration::from_secs(10)).success());
    std::thread::sleep(Duration::from_millis(500));
}

fn events(eve: &Path) -> Vec<Value> {
    std::fs::read_to_string(eve)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The invitations written, and the last event (which must be the summary).
fn invitations_and_last(eve: &Path) -> (usize, Value) {
    let events = events(eve);
    let invitations = events
        .iter()
        .filter(|e| e["event_type"] == "arduino_ota" && e["kind"] == "invitation")
        .count();
    (invitations, events.last().cloned().expect("events"))
}

/// Waits (10 s at most) for watch3232 to exit; its exit status, and every stderr line.
fn exit_of(
    child: &mut Child,
    log: &mpsc::Receiver<String>,
    lines: &mut Vec<String>,
) -> std::process::ExitStatus {
    let status = wait_with_timeout(child, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(100));
    lines.extend(log.try_iter());
    status
}

/// The lines watch3232 itself printed, besides the kernel's counters (not the `-v` log).
fn own_lines(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|l| l.starts_with("watch3232:"))
        .filter(|l| !l.contains("packets received by filter"))
        .collect()
}

#[test]
#[ignore = "needs root: network namespace, iproute2, python3"]
fn sigint_and_sigterm_end_a_capture_as_they_end_a_read() {
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let ns = VethNamespace::create(&format!("sig{name}"));
        let (mut child, eve, log, mut lines) = start(&ns, &[]);
        replay(&ns);
        signal(&child, name);
        let status = exit_of(&mut child, &log, &mut lines);
        assert_eq!(status.code(), Some(code), "SIG{name}: {lines:?}");
        assert_eq!(
            own_lines(&lines),
            [&format!(
                "watch3232: interrupted by SIG{name}: capture on wb stopped, every flow ended and its events written"
            )],
            "{lines:?}"
        );
        let (invitations, summary) = invitations_and_last(&eve);
        assert_eq!(invitations, 6, "SIG{name}");
        assert_eq!(summary["kind"], "summary");
        assert_eq!(summary["stats"]["interrupted"], true);
    }
}

/// One engine or two workers: exit 1 and one line, after every event and the summary (with
/// workers: every worker's flows ended and its counters in the one summary).
#[test]
#[ignore = "needs root: network namespace, iproute2, python3"]
fn an_interface_that_goes_away_is_exit_1_with_one_line_after_its_events() {
    for (label, options) in [("gone", &[][..]), ("gone2", &["--workers", "2"][..])] {
        let ns = VethNamespace::create(label);
        let (mut child, eve, log, mut lines) = start(&ns, options);
        replay(&ns);
        assert!(ns.ip(&["link", "del", "wa"]), "veth deleted");
        let status = exit_of(&mut child, &log, &mut lines);
        assert_eq!(status.code(), Some(1), "{options:?}: {lines:?}");
        let own = own_lines(&lines);
        assert_eq!(own.len(), 1, "{options:?}: {lines:?}");
        assert!(
            own[0].starts_with("watch3232: error: ")
                && own[0].contains("wb: read failed after packet ")
                && own[0].ends_with("The interface disappeared"),
            "{options:?}: {}",
            own[0]
        );
        let (invitations, summary) = invitations_and_last(&eve);
        assert_eq!(invitations, 6, "{options:?}");
        assert_eq!(summary["kind"], "summary", "{options:?}");
        assert_eq!(summary["stats"].get("interrupted"), None);
        assert!(
            summary["stats"]["packets"].as_u64().unwrap() > 0,
            "{summary}"
        );
        if !options.is_empty() {
            let shares = summary["stats"]["workers"].as_array().expect("shares");
            let numbers: Vec<u64> = shares
                .iter()
                .map(|s| s["worker"].as_u64().unwrap())
                .collect();
            assert_eq!(numbers, [0, 1], "both workers ended their flows: {summary}");
        }
    }
}
