//! Live capture on the loopback interface: real datagrams, the default kernel filter, SIGTERM.
//! Needs permission to capture (root or CAP_NET_RAW); says "skipped" without it.

mod common;

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn can_capture() -> bool {
    let out = Command::new(common::bin())
        .args(["capture", "-i", "lo", "-f", "udp port 1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = out else { return false };
    std::thread::sleep(Duration::from_millis(300));
    let alive = child.try_wait().ok().flatten().is_none();
    let _ = child.kill();
    let _ = child.wait();
    alive
}

#[test]
fn capture_on_loopback_until_sigterm() {
    if !can_capture() {
        eprintln!("live capture test skipped: no permission to capture on lo");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live.json");
    let mut child = Command::new(common::bin())
        .args(["capture", "-i", "lo", "-v", "-o", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the "capturing" log line: the handle is open and the filter installed.
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut lines = Vec::new();
    while Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            let ready = l.contains("capturing");
            lines.push(l);
            if ready {
                break;
            }
        }
    }
    assert!(
        lines.iter().any(|l| l.contains("capturing")),
        "never started: {lines:?}"
    );

    let md5 = "0c7a2b3b1e5e8b8d1f6a0b0a2d3c4e5f";
    let uploader = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..3u16 {
        let msg = format!("0 {} 204800 {md5}\n", 40000 + i);
        uploader.send_to(msg.as_bytes(), "127.0.0.1:3232").unwrap();
    }
    // Background the default filter must drop before it reaches us.
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    other.send_to(b"0 40000 1 x", "127.0.0.1:9").unwrap();
    std::thread::sleep(Duration::from_millis(500));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "SIGTERM is a clean stop");
    std::thread::sleep(Duration::from_millis(100));
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(
        rest.iter().any(|l| l.contains("dropped by kernel")),
        "kernel drop counts are printed: {rest:?}"
    );

    let text = std::fs::read_to_string(&out).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Other tests may use loopback at the same time: look at our socket's datagrams only.
    let ours = uploader.local_addr().unwrap().port();
    let inv: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "invitation" && e["src_port"] == ours)
        .collect();
    assert_eq!(inv.len(), 3, "{text}");
    for (i, e) in inv.iter().enumerate() {
        assert_eq!(e["in_iface"], "lo");
        assert_eq!(e["dest_port"], 3232);
        assert_eq!(e["arduino_ota"]["host_port"], 40000 + i as u64);
        assert_eq!(e["arduino_ota"]["image_size"], 204800);
    }
    let summary = events.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    assert!(summary["stats"]["kernel"]["received"].as_u64().unwrap() >= 3);
    assert!(
        events.iter().all(|e| e["dest_port"] != 9),
        "port 9 never passes the kernel filter"
    );
}

#[test]
fn missing_capture_permission_is_one_line() {
    // Drop to `nobody` (needs root to do so, and setpriv from util-linux).
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !is_root || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("permission test skipped: needs root and setpriv");
        return;
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(common::bin())
        .args(["capture", "-i", "lo"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("watch3232: error: lo: no permission to capture"),
        "{stderr}"
    );
    assert!(stderr.contains("CAP_NET_RAW"), "{stderr}");
}
