//! `--sensor-name NAME` (read and capture): Suricata's `host` on every EVE event, ECS's
//! `observer.name` on every document, absent when not set.

mod common;

use common::{bin, run, testdata};
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn every_event_names_the_sensor_only_when_asked() {
    let demo = testdata("demo.pcapng");
    let demo = demo.to_str().unwrap();
    let named = run(&["read", "--sensor-name", "span1", demo]);
    assert_eq!(named.events.len(), 41);
    assert!(named.events.iter().all(|e| e["host"] == "span1"));
    let ecs = run(&["read", "-F", "ecs", "--sensor-name", "span1", demo]);
    assert_eq!(ecs.events.len(), 41);
    assert!(ecs
        .events
        .iter()
        .all(|e| e["observer"]["name"] == "span1" && e.get("host").is_none()));
    let plain = run(&["read", demo]);
    assert!(plain.events.iter().all(|e| e.get("host").is_none()));
    let ecs = run(&["read", "-F", "ecs", demo]);
    assert!(ecs
        .events
        .iter()
        .all(|e| e["observer"].get("name").is_none()));
}

#[test]
fn an_empty_sensor_name_is_a_usage_error() {
    let r = run(&[
        "read",
        "--sensor-name",
        "",
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("--sensor-name"), "{}", r.stderr);
    assert!(r.events.is_empty());
}

#[test]
#[ignore = "needs root: live capture on lo"]
fn a_live_capture_names_the_sensor_on_every_event() {
    common::require(common::is_root(), "root (live capture on lo)");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live.json");
    let device = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = device.local_addr().unwrap().port().to_string();
    let mut child = Command::new(bin())
        .args(["capture", "-i", "lo", "-v", "--sensor-name", "live1"])
        .args(["--ota-ports", &port, "--watch-ports", &port])
        .args(["-o", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the line saying the capture is open (a failed start ends stderr instead).
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = stderr.any(|l| l.is_ok_and(|l| l.contains("capturing")));
    assert!(started, "the capture never started");
    let uploader = UdpSocket::bind("127.0.0.1:0").unwrap();
    let invitation = "0 40000 4096 0c7a2b3b1e5e8b8d1f6a0b0a2d3c4e5f\n";
    uploader
        .send_to(invitation.as_bytes(), format!("127.0.0.1:{port}"))
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    common::signal(&child, "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(143));
    let text = std::fs::read_to_string(&out).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours = uploader.local_addr().unwrap().port();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["kind"] == "invitation" && e["src_port"] == ours)
            .count(),
        1,
        "{text}"
    );
    assert_eq!(events.last().unwrap()["kind"], "summary");
    assert!(events.iter().all(|e| e["host"] == "live1"), "{text}");
}
