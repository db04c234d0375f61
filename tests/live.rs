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

/// An ESP32 as ArduinoOTA.cpp behaves (arduino-ota.md §1.1–1.6), on loopback: answers the
/// invitation with `OK`, waits as a device preparing its flash does, connects back to the
/// uploader's port, acknowledges each read with the running byte count, ends with `OK`.
fn fake_esp32(device: std::net::UdpSocket) {
    use std::io::{Read, Write};
    let mut buf = [0u8; 128];
    let (n, uploader) = device.recv_from(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    let fields: Vec<&str> = text.split_whitespace().collect();
    let (host_port, size): (u16, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    device.send_to(b"OK", uploader).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", host_port)).unwrap();
    let (mut got, mut chunk) = (0usize, [0u8; 1460]);
    while got < size {
        let r = tcp.read(&mut chunk).unwrap();
        if r == 0 {
            break;
        }
        got += r;
        tcp.write_all(got.to_string().as_bytes()).unwrap();
    }
    tcp.write_all(b"OK").unwrap();
}

#[test]
fn live_ota_upload_is_followed_through_the_run_time_filter() {
    use std::io::{Read, Write};
    if !can_capture() {
        eprintln!("live OTA test skipped: no permission to capture on lo");
        return;
    }
    // A device port of our own, so other tests' traffic to 3232 cannot interfere.
    let device = UdpSocket::bind("127.0.0.1:0").unwrap();
    let device_port = device.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ota.json");
    let ports = device_port.to_string();
    let mut child = Command::new(common::bin())
        .args([
            "capture",
            "-i",
            "lo",
            "-v",
            "--ota-ports",
            &ports,
            "--watch-ports",
            &ports,
        ])
        .args(["-o", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if rx
            .recv_timeout(Duration::from_millis(100))
            .is_ok_and(|l| l.contains("capturing"))
        {
            break;
        }
    }

    // The uploader, as espota.py: listen first, invite, then send 1024-byte chunks lock-step.
    let mut rng = watch3232_testgen::rng::Rng::new(7);
    let image = watch3232_testgen::ota::esp32_image(&mut rng, 16 * 1024);
    let md5 = watch3232_testgen::espota::md5_hex(&image);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host_port = listener.local_addr().unwrap().port();
    let esp = std::thread::spawn(move || fake_esp32(device));
    let uploader = UdpSocket::bind("127.0.0.1:0").unwrap();
    let invitation = watch3232_testgen::espota::invitation(0, host_port, image.len(), &md5);
    uploader
        .send_to(&invitation, ("127.0.0.1", device_port))
        .unwrap();
    let mut reply = [0u8; 16];
    uploader
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let n = uploader.recv(&mut reply).unwrap();
    assert_eq!(&reply[..n], b"OK");
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut last = Vec::new();
    for chunk in image.chunks(1024) {
        conn.write_all(chunk).unwrap();
        let mut ack = [0u8; 10];
        let k = conn.read(&mut ack).unwrap();
        last = ack[..k].to_vec();
    }
    // The last count and the final OK may come together or apart.
    while !last.ends_with(b"OK") {
        let mut more = [0u8; 16];
        let k = conn.read(&mut more).unwrap();
        assert!(k > 0, "device closed without OK");
        last.extend_from_slice(&more[..k]);
    }
    drop(conn);
    esp.join().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));

    let text = std::fs::read_to_string(&out).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let transfer: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "transfer" && e["dest_port"] == host_port)
        .collect();
    assert_eq!(
        transfer.len(),
        1,
        "the connect-back on a port no static filter passes was seen: {text}"
    );
    let d = &transfer[0]["arduino_ota"];
    assert_eq!(d["outcome"], "complete", "{text}");
    assert_eq!(d["bytes"], image.len() as u64);
    assert_eq!(d["md5_match"], true);
    assert_eq!(d["device_message"], "OK");
    assert!(
        events.iter().all(|e| e["event_type"] != "anomaly"),
        "no anomaly from a legitimate upload: {text}"
    );
}
