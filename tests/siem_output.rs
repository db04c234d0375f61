//! SIEM outputs end to end (issue 6): formats, schema of every produced event, rotation and
//! SIGHUP reopen under a steady stream, SIGTERM flush, sockets and syslog, progress, errors.

mod common;

use common::{bin, run, signal, testdata, wait_with_timeout};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use watch3232_testgen::capture::{linktype, PcapWriter};
use watch3232_testgen::espota;
use watch3232_testgen::frame;

const UPLOADER: &str = "192.0.2.10";
const DEVICE: &str = "192.0.2.50";

/// A raw-IP invitation packet from a distinct uploader port (one flow, one event each).
fn invitation(i: u32) -> Vec<u8> {
    let src: IpAddr = UPLOADER.parse().unwrap();
    let dst: IpAddr = DEVICE.parse().unwrap();
    let payload = espota::invitation(0, 40000, 4096, "1eaf36edb0f7f408b7f33c18eb4e85d4");
    frame::udp(src, dst, 20000 + i as u16, 3232, &payload)
}

fn pcap_of(n: u32) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), linktype::RAW, 65535).unwrap();
    for i in 0..n {
        let data = invitation(i);
        w.write_raw(
            1_700_000_000_000_000 + i64::from(i) * 1000,
            &data,
            data.len() as u32,
        )
        .unwrap();
    }
    w.into_inner()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {l}", path.display()))
        })
        .collect()
}

#[test]
fn eve_is_the_default_in_a_pipe_and_ecs_and_text_map_the_same_event() {
    let eve = run(&["read", testdata("demo.pcapng").to_str().unwrap()]);
    assert_eq!(eve.code, Some(0));
    let first = &eve.events[0];
    assert_eq!(first["event_type"], "arduino_ota");
    assert_eq!(first["timestamp"], "2026-11-29T20:00:00.184000Z");
    assert_eq!(first["src_ip"], "192.0.2.10");
    assert_eq!(first["dest_port"], 3232);

    let ecs = run(&[
        "read",
        "--format",
        "ecs",
        "--sensor-name",
        "span1",
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(ecs.events.len(), eve.events.len());
    let e = &ecs.events[0];
    assert_eq!(e["@timestamp"], first["timestamp"]);
    assert_eq!(e["ecs"]["version"], "8.17.0");
    assert_eq!(e["event"]["kind"], "event");
    assert_eq!(e["event"]["category"], serde_json::json!(["network"]));
    assert_eq!(e["event"]["type"], serde_json::json!(["protocol", "info"]));
    assert_eq!(e["event"]["dataset"], "watch3232.arduino_ota");
    assert_eq!(e["event"]["module"], "watch3232");
    assert_eq!(e["event"]["action"], "invitation");
    assert_eq!(e["source"]["ip"], first["src_ip"]);
    assert_eq!(e["source"]["port"], first["src_port"]);
    assert_eq!(e["destination"]["ip"], first["dest_ip"]);
    assert_eq!(e["destination"]["port"], 3232);
    assert_eq!(e["network"]["transport"], "udp");
    assert_eq!(e["network"]["iana_number"], "17");
    assert_eq!(e["network"]["community_id"], first["community_id"]);
    assert_eq!(
        e["related"]["ip"],
        serde_json::json!(["192.0.2.10", "192.0.2.50"])
    );
    assert_eq!(e["observer"]["name"], "span1");
    assert_eq!(e["observer"]["vendor"], "watch3232");
    assert_eq!(e["watch3232"]["arduino_ota"], first["arduino_ota"]);
    assert_eq!(e["watch3232"]["flow_id"], first["flow_id"]);
    assert!(e.get("src_ip").is_none() && e["watch3232"].get("src_ip").is_none());
    let last = ecs.events.last().unwrap();
    assert_eq!(last["event"]["kind"], "metric");
    assert_eq!(last["watch3232"]["event_type"], "stats");

    let text = Command::new(bin())
        .args([
            "read",
            "--format",
            "text-full",
            testdata("demo.pcapng").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    let first_line = text.lines().next().unwrap();
    assert_eq!(
        first_line,
        format!(
            "2026-11-29T20:00:00.184000Z arduino_ota/invitation info UDP 192.0.2.10:{} -> 192.0.2.50:3232 \
             command=flash host_port={} image_md5=1eaf36edb0f7f408b7f33c18eb4e85d4 image_size=4096 \
             session_id={}",
            first["src_port"], first["arduino_ota"]["host_port"], first["arduino_ota"]["session_id"]
        )
    );
    assert_eq!(text.lines().count(), eve.events.len());
    let last_line = text.lines().last().unwrap();
    assert!(
        last_line.contains(" stats/summary info ") && last_line.contains(" packets="),
        "{last_line}"
    );
}

#[test]
fn sensor_name_is_eve_host() {
    let r = run(&[
        "read",
        "--sensor-name",
        "span1",
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    assert!(r.events.iter().all(|e| e["host"] == "span1"));
}

/// Every capture the test suite ships (the bundled ones and any added later under testdata/).
fn all_captures(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            all_captures(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("pcap" | "pcapng")
        ) {
            out.push(p);
        }
    }
}

#[test]
fn every_event_of_every_capture_validates_against_the_schema() {
    let schema_out = Command::new(bin()).arg("schema").output().unwrap();
    assert!(schema_out.status.success());
    let schema: Value = serde_json::from_slice(&schema_out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid JSON Schema");
    let mut captures = Vec::new();
    all_captures(&testdata(""), &mut captures);
    assert!(captures.len() >= 9, "{captures:?}");
    let mut checked = 0;
    let mut types = BTreeSet::new();
    for cap in &captures {
        let r = run(&[
            "read",
            "--stats-interval",
            "1",
            "--sensor-name",
            "t",
            cap.to_str().unwrap(),
        ]);
        for e in &r.events {
            let errors: Vec<String> = validator
                .iter_errors(e)
                .map(|err| format!("{err} at {}", err.instance_path))
                .collect();
            assert!(
                errors.is_empty(),
                "{}: {e}\n{}",
                cap.display(),
                errors.join("\n")
            );
            types.insert(e["event_type"].as_str().unwrap().to_string());
            checked += 1;
        }
    }
    assert!(
        types.contains("arduino_ota") && types.contains("stats"),
        "{types:?}"
    );
    assert!(checked > 20, "{checked}");
    // And the schema rejects what breaks the contract.
    let mut bad = run(&["read", testdata("demo.pcapng").to_str().unwrap()]).events[0].clone();
    bad["community_id"] = "2:xyz".into();
    assert!(!validator.is_valid(&bad));
    bad = run(&["read", testdata("demo.pcapng").to_str().unwrap()]).events[0].clone();
    bad.as_object_mut().unwrap().remove("arduino_ota");
    assert!(!validator.is_valid(&bad));
}

#[test]
fn periodic_stats_carry_flows_memory_and_output_counters() {
    let r = run(&[
        "read",
        "--stats-interval",
        "1",
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    let periodic: Vec<&Value> = r.of_kind("stats", "periodic");
    assert!(!periodic.is_empty());
    for p in &periodic {
        assert!(p["stats"]["memory"]["rss_bytes"].as_u64().unwrap() > 0);
        assert!(p["stats"]["flows"]["active"].is_u64());
        assert_eq!(p["stats"]["output"]["dropped"], 0);
    }
    // Periodic events are one second of packet time apart.
    let ts: Vec<&str> = periodic
        .iter()
        .map(|p| p["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = ts.clone();
    sorted.sort();
    assert_eq!(ts, sorted);
    let summary = r.summary();
    assert_eq!(
        summary["output"]["events"].as_u64().unwrap() as usize,
        r.events.len() - 1
    );
}

/// Rotation by size and logrotate-style move + SIGHUP while events stream in: every event is in
/// exactly one file.
#[test]
fn rotation_and_sighup_lose_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eve.json");
    let mut child = Command::new(bin())
        .args([
            "read",
            "-",
            "-o",
            out.to_str().unwrap(),
            "--rotate-size",
            "4K",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let total: u32 = 600;
    let capture = pcap_of(total);
    let header = 24;
    stdin.write_all(&capture[..header]).unwrap();
    let per_packet = (capture.len() - header) / total as usize;
    let mut moved = 0;
    for batch in 0..6 {
        let from = header + batch * 100 * per_packet;
        stdin
            .write_all(&capture[from..from + 100 * per_packet])
            .unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
        if batch % 2 == 1 {
            // What logrotate does: move the file away, then SIGHUP.
            moved += 1;
            std::fs::rename(&out, dir.path().join(format!("moved-{moved}"))).unwrap();
            signal(&child, "HUP");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    drop(stdin);
    let status = wait_with_timeout(&mut child, Duration::from_secs(30));
    assert!(status.success());
    let mut files = 0;
    let mut seen = Vec::new();
    let mut summaries = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        files += 1;
        for e in lines(&p) {
            if e["kind"] == "invitation" {
                seen.push(e["pcap_cnt"].as_u64().unwrap());
            } else if e["event_type"] == "stats" {
                summaries += 1;
            }
        }
    }
    assert!(files >= 5, "rotated and moved files: {files}");
    seen.sort();
    let want: Vec<u64> = (1..=u64::from(total)).collect();
    assert_eq!(seen, want, "every event exactly once");
    assert_eq!(summaries, 1);
    // Rotated files keep under the size limit.
    for i in 1.. {
        let p = dir.path().join(format!("eve.json.{i}"));
        if !p.exists() {
            assert!(i > 3, "size rotation happened");
            break;
        }
        assert!(std::fs::metadata(&p).unwrap().len() <= 4096);
    }
}

#[test]
fn sigterm_flushes_everything_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eve.json");
    let mut child = Command::new(bin())
        .args(["read", "-", "-o", out.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let capture = pcap_of(50);
    stdin.write_all(&capture).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // stdin stays open and silent: only the signal ends the run, and at once.
    let signalled = Instant::now();
    signal(&child, "TERM");
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    assert_eq!(
        status.code(),
        Some(143),
        "a read stopped by SIGTERM says so"
    );
    assert!(
        signalled.elapsed() < Duration::from_secs(2),
        "stopped {:?} after SIGTERM",
        signalled.elapsed()
    );
    let events = lines(&out);
    assert_eq!(
        events.iter().filter(|e| e["kind"] == "invitation").count(),
        50
    );
    let last = events.last().unwrap();
    assert_eq!(
        (last["event_type"].as_str(), last["kind"].as_str()),
        (Some("stats"), Some("summary"))
    );
    assert_eq!(last["stats"]["packets"], 50);
    drop(stdin);
}

#[test]
fn unix_sockets_and_syslog_reach_listeners() {
    let dir = tempfile::tempdir().unwrap();
    let dgram_path = dir.path().join("eve.dgram");
    let stream_path = dir.path().join("eve.stream");
    let log_path = dir.path().join("log");
    let dgram = UnixDatagram::bind(&dgram_path).unwrap();
    let log = UnixDatagram::bind(&log_path).unwrap();
    let listener = UnixListener::bind(&stream_path).unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_addr = udp.local_addr().unwrap();
    for s in [&dgram, &log] {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();

    let expected = run(&["read", testdata("demo.pcapng").to_str().unwrap()]).events;
    let n = expected.len();
    let recv_all = |s: UnixDatagram| {
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            (0..n)
                .map(|_| {
                    let k = s.recv(&mut buf).unwrap();
                    String::from_utf8(buf[..k].to_vec()).unwrap()
                })
                .collect::<Vec<_>>()
        })
    };
    let dgram_rx = recv_all(dgram);
    let log_rx = recv_all(log);
    let stream_rx = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut conn, &mut s).unwrap();
        s
    });
    let udp_rx = std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        (0..n)
            .map(|_| {
                let k = udp.recv(&mut buf).unwrap();
                String::from_utf8(buf[..k].to_vec()).unwrap()
            })
            .collect::<Vec<_>>()
    });
    let out = Command::new(bin())
        .args([
            "read",
            "-o",
            &format!("unix-dgram:{}", dgram_path.display()),
            "-o",
            &format!("unix-stream:{}", stream_path.display()),
            "-o",
            &format!("syslog:{}", log_path.display()),
            "-o",
            &format!("syslog:udp:{udp_addr}"),
            // The local socket gets RFC 3164 unless told (tests/syslog.rs checks that form).
            "--syslog-format",
            "rfc5424",
            "--syslog-facility",
            "local3",
            testdata("demo.pcapng").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let as_json = |lines: &[String]| {
        lines
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let dgrams = dgram_rx.join().unwrap();
    assert_eq!(as_json(&dgrams)[..n - 1], expected[..n - 1]);
    let stream: Vec<String> = stream_rx
        .join()
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(as_json(&stream)[..n - 1], expected[..n - 1]);
    for rx in [log_rx.join().unwrap(), udp_rx.join().unwrap()] {
        assert_eq!(rx.len(), n);
        for (msg, want) in rx.iter().zip(&expected) {
            // <PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG ; PRI = local3 (19) * 8 + the
            // syslog severity of the event's: info 6, low 5 (notice), medium 4, high 3.
            let parts: Vec<&str> = msg.splitn(8, ' ').collect();
            let code = match want["severity"].as_str().unwrap() {
                "info" => 6,
                "low" => 5,
                "medium" => 4,
                _ => 3,
            };
            assert_eq!(parts[0], format!("<{}>1", 19 * 8 + code));
            assert_eq!(parts[1], want["timestamp"]);
            assert_eq!(parts[3], "watch3232");
            assert!(parts[4].parse::<u32>().is_ok());
            assert_eq!(parts[5], want["event_type"]);
            assert_eq!(parts[6], "-");
            let body: Value = serde_json::from_str(parts[7]).unwrap();
            if want["event_type"] != "stats" {
                assert_eq!(&body, want);
            }
        }
    }
}

#[test]
fn socket_without_a_reader_counts_drops_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("nobody.sock");
    let file = dir.path().join("eve.json");
    let out = Command::new(bin())
        .args([
            "read",
            "--output-errors",
            "warn",
            "-o",
            &format!("unix-dgram:{}", nowhere.display()),
            "-o",
            file.to_str().unwrap(),
            testdata("demo.pcapng").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let events = lines(&file);
    let summary = &events.last().unwrap()["stats"];
    assert_eq!(
        summary["output"]["dropped"].as_u64().unwrap() as usize,
        events.len() - 1
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .matches("queueing events (at most 10000) until it is back")
            .count(),
        1
    );
}

#[test]
fn disk_full_is_a_one_line_error() {
    let out = Command::new(bin())
        .args([
            "read",
            "-o",
            "/dev/full",
            testdata("demo.pcapng").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err, "watch3232: error: cannot write events to /dev/full: No space left on device (os error 28)\n");
}

#[test]
fn no_progress_bar_or_table_when_stderr_is_not_a_terminal() {
    let r = run(&["read", testdata("demo.pcapng").to_str().unwrap()]);
    assert_eq!(r.stderr, "");
}

#[test]
fn write_matched_keeps_the_packets_of_flows_with_events() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("matched.pcap");
    let r = run(&[
        "read",
        "--write-matched",
        pcap.to_str().unwrap(),
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0));
    // Re-reading the evidence gives the same findings.
    let again = run(&["read", pcap.to_str().unwrap()]);
    let key = |e: &Value| {
        (
            e["src_port"].clone(),
            e["arduino_ota"].clone(),
            e["community_id"].clone(),
        )
    };
    let a: Vec<_> = r.of_type("arduino_ota").map(key).collect();
    let b: Vec<_> = again.of_type("arduino_ota").map(key).collect();
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert!(
        again.summary()["packets"].as_u64().unwrap() < r.summary()["packets"].as_u64().unwrap()
    );
}

#[test]
fn config_file_sets_flags_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "format = \"ecs\"\nsensor_name = \"from-file\"\n").unwrap();
    let r = run(&[
        "--config",
        cfg.to_str().unwrap(),
        "read",
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(r.events[0]["observer"]["name"], "from-file");
    let r = run(&[
        "--config",
        cfg.to_str().unwrap(),
        "read",
        "--format",
        "eve",
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(r.events[0]["host"], "from-file");
    std::fs::write(&cfg, "no_such_flag = 1\n").unwrap();
    let r = run(&[
        "--config",
        cfg.to_str().unwrap(),
        "read",
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("--no-such-flag"), "{}", r.stderr);
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let bash = Command::new(bin())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    let bash = String::from_utf8(bash.stdout).unwrap();
    assert!(bash.contains("--rotate-size") && bash.contains("--write-matched"));
    let man = Command::new(bin()).arg("manpage").output().unwrap();
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(man.starts_with(".ie \\n(.g .ds Aq"));
    assert!(man.contains(".TH watch3232 1"));
}

/// A live capture on loopback: privileges dropped after the handle is open, periodic stats on
/// wall time, and SIGTERM on a quiet link still ends the run with every event and the summary.
/// Needs root (to open the capture): `#[ignore]`d, failing without it; `.ci/test` runs it.
#[test]
#[ignore = "needs root: live capture on lo"]
fn live_capture_drops_privileges_and_flushes_on_sigterm() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root (a live capture); it is #[ignore]d for that reason"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let out = dir.path().join("eve.json");
    let mut child = Command::new(bin())
        .args([
            "capture",
            "-i",
            "lo",
            "--user",
            "nobody",
            "--stats-interval",
            "1",
        ])
        .args(["-o", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let payload = espota::invitation(0, 40000, 4096, "1eaf36edb0f7f408b7f33c18eb4e85d4");
    sock.send_to(&payload, "127.0.0.1:3232").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "TERM");
    let exit = wait_with_timeout(&mut child, Duration::from_secs(10));
    // SIGTERM ends a capture cleanly, with 128 + 15 as for `read`.
    assert_eq!(exit.code(), Some(143));
    assert_eq!(
        uid_line.split_whitespace().skip(1).collect::<Vec<_>>(),
        ["65534"; 4]
    );
    let events = lines(&out);
    let ours: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "invitation" && e["src_port"] == port)
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["in_iface"], "lo");
    assert!(events.iter().any(|e| e["kind"] == "periodic"));
    let last = events.last().unwrap();
    assert_eq!(
        (last["event_type"].as_str(), last["kind"].as_str()),
        (Some("stats"), Some("summary"))
    );
    assert!(last["stats"]["kernel"]["received"].as_u64().unwrap() >= 1);
}

#[test]
fn rotation_by_age_keeps_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eve.json");
    let mut child = Command::new(bin())
        .args([
            "read",
            "-",
            "-o",
            out.to_str().unwrap(),
            "--rotate-interval",
            "1s",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let total = 30;
    let capture = pcap_of(total);
    let per_packet = (capture.len() - 24) / total as usize;
    stdin.write_all(&capture[..24]).unwrap();
    for i in 0..total as usize {
        stdin
            .write_all(&capture[24 + i * per_packet..24 + (i + 1) * per_packet])
            .unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    assert!(wait_with_timeout(&mut child, Duration::from_secs(20)).success());
    let mut seen = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        files += 1;
        seen.extend(
            lines(&entry.unwrap().path())
                .iter()
                .filter(|e| e["kind"] == "invitation")
                .map(|e| e["pcap_cnt"].as_u64().unwrap()),
        );
    }
    assert!(files >= 3, "{files} files after ~3 s with a 1 s interval");
    seen.sort();
    assert_eq!(seen, (1..=u64::from(total)).collect::<Vec<_>>());
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("many.pcap");
    std::fs::write(&cap, pcap_of(20_000)).unwrap();
    let mut child = Command::new(bin())
        .args(["read", cap.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.contains("\"arduino_ota\""));
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Under a pseudo-terminal (util-linux `script`), stderr gets the progress bar and the summary
/// table. Needs util-linux `script`: `#[ignore]`d, failing without it; `.ci/test` runs it.
#[test]
#[ignore = "needs util-linux script (a pseudo-terminal)"]
fn progress_bar_and_summary_on_a_terminal() {
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "this test needs util-linux `script`; it is #[ignore]d for that reason"
    );
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("some.pcap");
    std::fs::write(&cap, pcap_of(50)).unwrap();
    let cmd = format!("{} read -o /dev/null {}", bin().display(), cap.display());
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("some.pcap [") && tty.contains("ETA"), "{tty}");
    assert!(tty.contains("watch3232 summary"), "{tty}");
    assert!(
        tty.contains("info    arduino_ota/invitation                 50  192.0.2.10→192.0.2.50"),
        "{tty}"
    );
    let quiet = Command::new("script")
        .args(["-qec", &format!("{cmd} --no-progress"), "/dev/null"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stdout).contains("ETA"));
}

#[test]
fn the_shipped_config_example_is_valid_and_flags_replace_its_lists() {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/config.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eve.json");
    let r = run(&[
        "--config",
        cfg.to_str().unwrap(),
        "read",
        "-o",
        out.to_str().unwrap(),
        testdata("demo.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let events = lines(&out);
    assert!(events.len() > 1 && events.iter().all(|e| e["host"] == "span-1"));
    // Its [capture] table names real options of `capture`.
    let help = Command::new(bin())
        .args(["--config", cfg.to_str().unwrap(), "capture", "--help"])
        .output()
        .unwrap();
    assert!(
        help.status.success(),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );
}

/// A stream reader that connects but never reads: after the write timeout the sensor gives up on
/// it, counts the rest as dropped, and the other outputs get everything.
#[test]
fn a_stalled_stream_reader_costs_drops_not_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("stuck.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let cap = dir.path().join("many.pcap");
    std::fs::write(&cap, pcap_of(20_000)).unwrap();
    let file = dir.path().join("eve.json");
    let started = Instant::now();
    let out = Command::new(bin())
        .args(["read", cap.to_str().unwrap(), "-o", file.to_str().unwrap()])
        // Best effort: the default (`fail`) would end the read at the first lost event.
        .args(["--output-errors", "warn"])
        .args(["-o", &format!("unix-stream:{}", sock.display())])
        .output()
        .unwrap();
    assert!(out.status.success());
    // Each reconnection to the stalled reader costs the 2 s write timeout, and the end of the
    // run waits 5 s for it (DRAIN_TIMEOUT): bounded, not hung.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let events = lines(&file);
    let invitations = events.iter().filter(|e| e["kind"] == "invitation").count();
    assert_eq!(invitations, 20_000, "the file sink gets every event");
    let dropped = events.last().unwrap()["stats"]["output"]["dropped"]
        .as_u64()
        .unwrap();
    assert!(dropped > 1000 && dropped < 20_001, "{dropped}");
    drop(listener);
}

#[test]
fn misplaced_service_and_evidence_flags_are_clear_errors() {
    let demo = testdata("demo.pcapng");
    let r = run(&["read", "--user", "nobody", demo.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "a usage mistake");
    assert_eq!(
        r.stderr,
        "watch3232: error: --user/--group apply to `capture` (privileges are dropped once the capture is open)\n"
    );
    let r = run(&["read", "--write-matched", "/tmp/never-written.pcap", "-"]);
    assert_eq!(r.code, Some(2), "a usage mistake");
    assert!(
        r.stderr.contains("--write-matched needs capture files"),
        "{}",
        r.stderr
    );
    assert!(r.events.is_empty());
}

/// `tcpdump -w - | watch3232 read -` on a quiet link: each event leaves as soon as its packet
/// arrives, not when a buffer fills.
#[test]
fn events_from_a_stdin_stream_are_not_held_back() {
    let mut child = Command::new(bin())
        .args(["read", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let capture = pcap_of(1);
    stdin.write_all(&capture).unwrap();
    stdin.flush().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        tx.send(line).unwrap();
    });
    // stdin stays open: only a flush per event can deliver the line now.
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the event arrives while stdin is open");
    let e: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(e["event_type"], "arduino_ota");
    drop(stdin);
    assert!(wait_with_timeout(&mut child, Duration::from_secs(10)).success());
}

/// A gap in a capture gives one periodic event, not one per packet after the gap.
#[test]
fn periodic_stats_after_a_gap_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("gap.pcap");
    let mut w = PcapWriter::new(Vec::new(), linktype::RAW, 65535).unwrap();
    let t0 = 1_700_000_000_000_000i64;
    for (i, t) in [0i64, 3_600_000_000, 3_600_500_000, 3_601_000_000]
        .iter()
        .enumerate()
    {
        let data = invitation(i as u32);
        w.write_raw(t0 + t, &data, data.len() as u32).unwrap();
    }
    std::fs::write(&cap, w.into_inner()).unwrap();
    let r = run(&["read", "--stats-interval", "60", cap.to_str().unwrap()]);
    let periodic = r.of_kind("stats", "periodic");
    assert_eq!(periodic.len(), 1);
    assert_eq!(periodic[0]["timestamp"], "2023-11-14T23:13:20.000000Z");
    assert_eq!(periodic[0]["stats"]["packets"], 2);
}

#[test]
fn ecs_alerts_carry_message_and_rule() {
    let cap = testdata("anomaly/mixed.pcap");
    let eve = run(&["read", cap.to_str().unwrap()]);
    let ecs = run(&["read", "--format", "ecs", cap.to_str().unwrap()]);
    assert_eq!(eve.events.len(), ecs.events.len());
    let mut alerts = 0;
    for (e, c) in eve.events.iter().zip(&ecs.events) {
        let t = e["event_type"].as_str().unwrap();
        if t == "alert" {
            alerts += 1;
            assert_eq!(c["event"]["kind"], "alert");
            assert_eq!(c["rule"]["name"], e["alert"]["signature"]);
            assert_eq!(
                c["rule"]["id"],
                e["alert"]["signature_id"].as_u64().unwrap().to_string()
            );
            assert_eq!(c["rule"]["category"], e["alert"]["category"]);
            assert_eq!(c["message"], e["alert"]["detail"]);
        } else if t == "anomaly" {
            assert_eq!(c["message"], e["anomaly"]["detail"]);
            // A high anomaly is an alert with its rule; the others are events without one.
            let high = e["severity"] == "high" || e["severity"] == "critical";
            assert_eq!(c["event"]["kind"], if high { "alert" } else { "event" });
            assert_eq!(c.get("rule").is_some(), high);
            if high {
                alerts += 1;
                assert_eq!(c["rule"]["id"], e["alert"]["signature_id"].to_string());
            }
            assert_eq!(
                c["event"]["category"],
                serde_json::json!(["intrusion_detection", "network"])
            );
        } else {
            // No sentence of its own: the head of its text line.
            let head = format!(
                "{t}/{} {}",
                e["kind"].as_str().unwrap(),
                e["severity"].as_str().unwrap()
            );
            assert!(c["message"].as_str().unwrap().starts_with(&head), "{c}");
        }
    }
    assert!(alerts > 0);
}
