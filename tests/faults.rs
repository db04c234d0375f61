//! Signals in the middle of a read: of a big capture file, and of a pipe whose writer has gone
//! quiet (not closed). Every event of the packets read so far is written, the summary follows
//! (marked `interrupted`), one stderr line says how far the read got, exit 130 (SIGINT) or 143
//! (SIGTERM) — without waiting for another packet. (Closed pipes and a full disk: siem_output.rs.)

mod common;

use common::{signal, wait_with_timeout};
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use watch3232_testgen::capture::{linktype, PcapWriter, Record};
use watch3232_testgen::{espota, frame};

const EPOCH_US: i64 = 1_795_982_400_000_000;

/// `n` invitations, each its own flow: one `invitation` event per packet.
fn invitation_records(n: u32) -> impl Iterator<Item = Record> {
    let md5 = espota::md5_hex(b"image");
    (0..n).map(move |i| {
        let uploader = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i / 50_000));
        let device = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 50));
        let port = 10_000 + (i % 50_000) as u16;
        let invitation = espota::invitation(0, port, 4096, &md5);
        let ip = frame::udp(uploader, device, port, 3232, &invitation);
        Record::new(EPOCH_US + i64::from(i) * 100, ip)
    })
}

fn write_capture(path: &Path, n: u32) {
    let file = BufWriter::new(File::create(path).unwrap());
    let mut w = PcapWriter::new(file, linktype::RAW, 65535).unwrap();
    for r in invitation_records(n) {
        w.write(&r).unwrap();
    }
    w.into_inner().flush().unwrap();
}

fn spawn_read(path: &Path) -> Child {
    Command::new(common::bin())
        .args(["read", path.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG")
        .spawn()
        .expect("spawn watch3232")
}

fn mkfifo(dir: &Path, name: &str) -> std::path::PathBuf {
    let fifo = dir.join(name);
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    fifo
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
    s
}

/// 128 + the signal's number, as a shell reports a command a signal stopped.
fn exit_code_of(sig: &str) -> Option<i32> {
    match sig {
        "INT" => Some(130),
        "TERM" => Some(143),
        _ => unreachable!("only INT and TERM are sent"),
    }
}

/// The one line a read stopped by `sig` prints.
fn interrupted_line(sig: &str, path: &Path, packets: u64) -> String {
    format!(
        "watch3232: interrupted by SIG{sig} while reading {}: {packets} packets read, their events written\n",
        path.display()
    )
}

fn parse(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn signal_during_a_big_read_flushes_everything_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.pcap");
    const N: u32 = 400_000;
    write_capture(&path, N);
    for sig in ["TERM", "INT"] {
        let mut child = spawn_read(&path);
        let out = child.stdout.take().unwrap();
        // Collect stdout on a thread; signal once the first events arrive (mid-read).
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for (i, line) in BufReader::new(out).lines().enumerate() {
                if i == 0 {
                    tx.send(()).unwrap();
                }
                lines.push(line.unwrap());
            }
            lines
        });
        rx.recv_timeout(Duration::from_secs(120))
            .expect("first event");
        signal(&child, sig);
        let status = wait_with_timeout(&mut child, Duration::from_secs(60));
        let events = parse(&reader.join().unwrap());
        let stderr = stderr_of(&mut child);
        assert_eq!(status.code(), exit_code_of(sig), "SIG{sig}: {stderr}");
        let last = events.last().unwrap();
        assert_eq!(last["kind"], "summary", "SIG{sig}");
        assert_eq!(last["stats"]["interrupted"], true, "SIG{sig}");
        let packets = last["stats"]["packets"].as_u64().unwrap();
        assert_eq!(stderr, interrupted_line(sig, &path, packets));
        assert!(
            packets < u64::from(N),
            "SIG{sig} arrived after the whole file was read"
        );
        // One invitation per packet: every packet read produced its event, none was lost.
        let invitations = events.iter().filter(|e| e["kind"] == "invitation").count();
        assert_eq!(invitations as u64, packets, "SIG{sig}");
    }
}

/// `tcpdump -w fifo` style: the writer keeps the FIFO open and goes quiet. The events of what
/// arrived are flushed without waiting for the end, and a signal stops the run at once.
#[test]
fn signal_while_a_fifo_is_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(dir.path(), "feed");
    for sig in ["TERM", "INT"] {
        let mut child = spawn_read(&fifo);
        // Opening for writing waits for the reader.
        let mut w = PcapWriter::new(File::create(&fifo).unwrap(), linktype::RAW, 65535).unwrap();
        for r in invitation_records(10) {
            w.write(&r).unwrap();
        }
        let mut writer = w.into_inner();
        writer.flush().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        for _ in 0..10 {
            let mut l = String::new();
            out.read_line(&mut l).unwrap();
            lines.push(l.trim_end().to_string());
        }
        let signalled = Instant::now();
        signal(&child, sig);
        let status = wait_with_timeout(&mut child, Duration::from_secs(20));
        assert!(
            signalled.elapsed() < Duration::from_secs(2),
            "SIG{sig} took {:?}",
            signalled.elapsed()
        );
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        drop(writer);
        let stderr = stderr_of(&mut child);
        assert_eq!(status.code(), exit_code_of(sig), "SIG{sig}: {stderr}");
        assert_eq!(stderr, interrupted_line(sig, &fifo, 10));
        lines.extend(rest.lines().map(str::to_string));
        let events = parse(&lines);
        let invitations = events.iter().filter(|e| e["kind"] == "invitation").count();
        assert_eq!(invitations, 10, "SIG{sig}");
        let last = events.last().unwrap();
        assert_eq!(
            (last["event_type"].as_str(), last["kind"].as_str()),
            (Some("stats"), Some("summary"))
        );
        assert_eq!(last["stats"]["packets"], 10);
        assert_eq!(last["stats"]["interrupted"], true);
        assert_eq!(last["pcap_filename"], fifo.to_str().unwrap());
    }
}

/// A signal before the capture header has arrived: nothing to report but the summary, exit 143.
#[test]
fn signal_before_a_fifo_sends_anything() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(dir.path(), "silent");
    let mut child = spawn_read(&fifo);
    // Open the write end and say nothing.
    let writer = File::create(&fifo).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    let status = wait_with_timeout(&mut child, Duration::from_secs(5));
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    drop(writer);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("watch3232: interrupted by SIGTERM while reading "),
        "{stderr}"
    );
    let lines: Vec<String> = out.lines().map(str::to_string).collect();
    let events = parse(&lines);
    assert_eq!(events.len(), 1, "{out}");
    assert_eq!(events[0]["kind"], "summary");
    assert_eq!(events[0]["stats"]["packets"], 0);
    assert_eq!(events[0]["stats"]["interrupted"], true);
    // No packet time to go by: the summary carries the wall clock, not 1970.
    assert!(
        !events[0]["timestamp"].as_str().unwrap().starts_with("1970"),
        "{}",
        events[0]["timestamp"]
    );
}
