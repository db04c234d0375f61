//! Live capture on the loopback interface: real datagrams, the default kernel filter, SIGTERM.
//! Needs permission to capture (root or CAP_NET_RAW): these tests are `#[ignore]`d and fail
//! when run without it; `.ci/test` runs them as root (`cargo test -- --ignored`).

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

/// A `watch3232 capture -i lo` child, started and ready (its "capturing" line seen), with its
/// stderr lines arriving on `log`.
struct LiveRun {
    child: std::process::Child,
    log: mpsc::Receiver<String>,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Reads the child's stderr on a thread, one line a message, and waits (at most 10 s) for the
/// line saying the capture is open (fails with what it said otherwise). Returns the rest of
/// the log and the lines read so far.
fn follow_until_capturing(
    child: &mut std::process::Child,
) -> (mpsc::Receiver<String>, Vec<String>) {
    let (tx, log) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut lines = Vec::new();
    while Instant::now() < deadline && !lines.iter().any(|l: &String| l.contains("capturing")) {
        lines.extend(log.recv_timeout(Duration::from_millis(100)));
    }
    assert!(
        lines.iter().any(|l| l.contains("capturing")),
        "never started: {lines:?}"
    );
    (log, lines)
}

impl LiveRun {
    fn start(args: &[&str]) -> LiveRun {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("live.json");
        let mut child = Command::new(common::bin())
            .args(["capture", "-i", "lo", "-v"])
            .args(args)
            .args(["-o", out.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (log, _) = follow_until_capturing(&mut child);
        LiveRun {
            child,
            log,
            out,
            _dir: dir,
        }
    }

    /// A capture that treats a fresh UDP port of ours as the OTA device port (so other tests'
    /// traffic to 3232 cannot interfere); the socket holding it, and its number.
    fn with_device_port() -> (UdpSocket, u16, LiveRun) {
        let device = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = device.local_addr().unwrap().port();
        let ports = port.to_string();
        let live = LiveRun::start(&["--ota-ports", &ports, "--watch-ports", &ports]);
        (device, port, live)
    }

    /// SIGTERM, a clean exit, then the events written and the log lines not read yet.
    fn stop(mut self) -> (Vec<serde_json::Value>, Vec<String>) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert_eq!(exit.code(), Some(143), "SIGTERM: a clean stop, 128 + 15");
        std::thread::sleep(Duration::from_millis(100));
        let rest: Vec<String> = self.log.try_iter().collect();
        let text = std::fs::read_to_string(&self.out).unwrap();
        let events = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (events, rest)
    }
}

#[test]
#[ignore = "needs root: live capture on lo"]
fn capture_on_loopback_until_sigterm() {
    common::require(
        can_capture(),
        "permission to capture on lo (root or CAP_NET_RAW)",
    );
    let live = LiveRun::start(&[]);
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

    let (events, rest) = live.stop();
    assert!(
        rest.iter().any(|l| l.contains("dropped by kernel")),
        "kernel drop counts are printed: {rest:?}"
    );
    let text = format!("{events:#?}");
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
#[ignore = "needs root and setpriv"]
fn missing_capture_permission_is_one_line() {
    // Drop to `nobody` (needs root to do so, and setpriv from util-linux).
    common::require(common::is_root(), "root (to drop to nobody)");
    common::require(common::have("setpriv", "--version"), "setpriv (util-linux)");
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
#[ignore = "needs root: live capture on lo"]
fn live_ota_upload_is_followed_through_the_run_time_filter() {
    use std::io::{Read, Write};
    common::require(
        can_capture(),
        "permission to capture on lo (root or CAP_NET_RAW)",
    );
    // A device port of our own, so other tests' traffic to 3232 cannot interfere.
    let (device, device_port, live) = LiveRun::with_device_port();

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
    let (events, log) = live.stop();
    let text = format!("{events:#?}");
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
    // The filter was replaced in place (no libpcap drain window), and counted.
    assert!(
        log.iter().any(|l| l.contains("capture filter updated")),
        "{log:?}"
    );
    assert!(
        !log.iter().any(|l| l.contains("using libpcap's")),
        "direct attach failed: {log:?}"
    );
    let stats = events.iter().rfind(|e| e["event_type"] == "stats").unwrap();
    assert!(
        stats["stats"]["classifiers"]["capture.filter_updates"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "{stats}"
    );
}

/// A flood of invitations, each naming a new connect-back port (ascending, so each lies outside
/// the ranges already passed): the filter stays a few ranges and changes at most every 50 ms, so
/// the capture keeps up and stops at once. Holding one `port` term per invitation compiled a
/// 400-port filter in 12 s; this flood would have stalled the capture for hours.
#[test]
#[ignore = "needs root: live capture on lo"]
fn invitation_flood_keeps_the_live_filter_small() {
    common::require(
        can_capture(),
        "permission to capture on lo (root or CAP_NET_RAW)",
    );
    // A device port nobody else uses, answering `OK` to the first invitations: a connect-back
    // port is held only once its device has answered (at most 4 per device), so the rest of the
    // flood is a spray that holds nothing and must not widen the filter.
    let (device, device_port, live) = LiveRun::with_device_port();
    let answering = device.try_clone().unwrap();
    answering
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        for _ in 0..20 {
            let Ok((_, uploader)) = answering.recv_from(&mut buf) else {
                break;
            };
            let _ = answering.send_to(b"OK", uploader);
        }
    });
    let uploader = UdpSocket::bind("127.0.0.1:0").unwrap();
    let md5 = "0c7a2b3b1e5e8b8d1f6a0b0a2d3c4e5f";
    const INVITATIONS: u16 = 3000;
    let started = Instant::now();
    for i in 0..INVITATIONS {
        let msg = format!("0 {} 204800 {md5}\n", 20000 + 7 * i);
        uploader
            .send_to(msg.as_bytes(), ("127.0.0.1", device_port))
            .unwrap();
        if i % 100 == 99 {
            // Spread over about a second, as a scripted flood would.
            std::thread::sleep(Duration::from_millis(30));
        }
    }
    let sending = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let stopping = Instant::now();
    let (events, log) = live.stop();
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "SIGTERM answered in {:?}",
        stopping.elapsed()
    );
    let ours = uploader.local_addr().unwrap().port();
    let invitations = events
        .iter()
        .filter(|e| e["kind"] == "invitation" && e["src_port"] == ours)
        .count();
    assert_eq!(invitations, usize::from(INVITATIONS), "{log:?}");
    let summary = events.last().unwrap();
    assert_eq!(summary["stats"]["kernel"]["dropped"], 0, "{summary}");
    let updates = summary["stats"]["classifiers"]["capture.filter_updates"]
        .as_u64()
        .unwrap();
    let bound = (sending + Duration::from_millis(600)).as_millis() as u64 / 50 + 2;
    assert!(
        (1..=bound).contains(&updates),
        "{updates} filter updates in {sending:?} (at most one per 50 ms)"
    );
    let widest = log
        .iter()
        .filter(|l| l.contains("capture filter updated"))
        .map(|l| l.matches("portrange").count() + l.matches(" port ").count())
        .max()
        .unwrap_or(0);
    assert!(widest <= 2 * 32 + 8, "terms in the widest filter: {widest}");
    drop(device);
}

/// An espota-style uploader (MD5 auth, 1024-byte lock-step chunks), run inside the uploader's
/// namespace: argv = device IP, uploader IP, host port, password, image path.
const NETNS_UPLOADER: &str = r#"
import hashlib, socket, sys
dev, me, port, pw, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
img = open(path, "rb").read()
md5 = hashlib.md5(img).hexdigest()
srv = socket.socket(); srv.bind((me, port)); srv.listen(1); srv.settimeout(10)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(10)
u.sendto(b"0 %d %d %s\n" % (port, len(img), md5.encode()), (dev, 3232))
nonce = u.recv(69).decode().split()[1]
cnonce = hashlib.md5(("%s%d%s%s" % (path, len(img), md5, dev)).encode()).hexdigest()
resp = hashlib.md5(("%s:%s:%s" % (hashlib.md5(pw.encode()).hexdigest(), nonce, cnonce)).encode()).hexdigest()
u.sendto(("200 %s %s\n" % (cnonce, resp)).encode(), (dev, 3232))
assert u.recv(32) == b"OK"
c, _ = srv.accept(); c.settimeout(10)
for i in range(0, len(img), 1024):
    c.sendall(img[i:i + 1024]); last = c.recv(10)
while b"OK" not in last:
    last = c.recv(32)
print("uploaded", len(img))
"#;

/// Two network namespaces joined by a veth pair: `watch3232 capture` with the DEFAULT kernel
/// filter on the uploader's side, the device simulator of the reference captures
/// (testdata/real/make/fake_esp.py, MD5 era, password) on the other. The device's connection
/// back to the uploader's port (random, known only from the invitation) is seen only if
/// watch3232 widens its kernel filter at run time; the upload is followed to the end.
/// (tests/tools/live_netns_ota.sh does the same by hand with the real espota.py.)
#[test]
#[ignore = "needs root: network namespaces, iproute2, python3"]
fn live_ota_upload_between_namespaces_with_the_default_filter() {
    common::require(common::is_root(), "root (network namespaces)");
    common::require(common::have("ip", "-V"), "iproute2 (ip)");
    common::require(common::have("python3", "-V"), "python3");
    let tag = std::process::id() % 100_000;
    let (up, dev) = (format!("w3u{tag}"), format!("w3d{tag}"));
    let ip = |args: &[&str]| {
        let ok = Command::new("ip")
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "ip {args:?}");
    };
    struct Cleanup(Vec<String>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            for ns in &self.0 {
                let _ = Command::new("ip").args(["netns", "del", ns]).status();
            }
        }
    }
    ip(&["netns", "add", &up]);
    let _cleanup = Cleanup(vec![up.clone()]);
    ip(&["netns", "add", &dev]);
    let _cleanup2 = Cleanup(vec![dev.clone()]);
    let (a, b) = (format!("w3a{tag}"), format!("w3b{tag}"));
    ip(&["link", "add", &a, "type", "veth", "peer", "name", &b]);
    ip(&["link", "set", &a, "netns", &up]);
    ip(&["link", "set", &b, "netns", &dev]);
    ip(&["-n", &up, "addr", "add", "10.233.0.1/24", "dev", &a]);
    ip(&["-n", &dev, "addr", "add", "10.233.0.2/24", "dev", &b]);
    for (ns, link) in [(&up, &a), (&dev, &b)] {
        ip(&["-n", ns, "link", "set", link, "up"]);
        ip(&["-n", ns, "link", "set", "lo", "up"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.json");
    let mut watch = Command::new("ip")
        .args(["netns", "exec", &up])
        .arg(common::bin())
        .args(["-v", "capture", "-i", &a, "-o", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (log, lines) = follow_until_capturing(&mut watch);
    let fake_esp = common::testdata("real/make/fake_esp.py");
    let mut device = Command::new("ip")
        .args(["netns", "exec", &dev, "python3"])
        .arg(&fake_esp)
        .args([
            "--mode",
            "esp32-md5",
            "--bind",
            "10.233.0.2",
            "--password",
            "secret",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut rng = watch3232_testgen::rng::Rng::new(11);
    let image = watch3232_testgen::ota::esp32_image(&mut rng, 20 * 1024);
    let image_path = dir.path().join("app.bin");
    std::fs::write(&image_path, &image).unwrap();
    let host_port = 20_000 + (tag % 30_000) as u16;
    let upload = Command::new("ip")
        .args(["netns", "exec", &up, "python3", "-c", NETNS_UPLOADER])
        .args(["10.233.0.2", "10.233.0.1", &host_port.to_string(), "secret"])
        .arg(&image_path)
        .output()
        .unwrap();
    assert!(
        upload.status.success(),
        "uploader: {}",
        String::from_utf8_lossy(&upload.stderr)
    );
    let _ = common::wait_with_timeout(&mut device, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    common::signal(&watch, "TERM");
    let status = common::wait_with_timeout(&mut watch, Duration::from_secs(10));
    assert_eq!(status.code(), Some(143));
    let rest: Vec<String> = log.try_iter().collect();
    let events: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let t: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event_type"] == "arduino_ota" && e["kind"] == "transfer")
        .collect();
    assert_eq!(t.len(), 1, "{events:?}");
    let d = &t[0]["arduino_ota"];
    assert_eq!(d["outcome"], "complete", "{d}");
    assert_eq!(d["bytes"], image.len());
    assert_eq!(d["acked_bytes"], image.len());
    assert_eq!(d["md5_match"], true);
    assert_eq!(d["auth_scheme"], "md5");
    assert_eq!(t[0]["dest_port"], host_port);
    assert!(
        lines.iter().chain(&rest).any(|l| l.contains("filter")),
        "the run-time filter change is logged: {lines:?} {rest:?}"
    );
    assert!(
        events.iter().all(|e| e["event_type"] != "anomaly"),
        "{events:?}"
    );
}
