//! `capture --workers 2` on a veth pair inside a network namespace this test creates: every
//! flow's packets reach exactly one worker (the per-worker summaries' `flows.created` add up to
//! the number of flows sent) and no event is lost. Needs root and `ip`; skipped otherwise.

use std::process::{Command, Stdio};
use std::time::Duration;

const FLOWS: u32 = 60;
const PER_FLOW: u32 = 2;

struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn each_flow_stays_on_one_worker_and_no_event_is_lost() {
    capture_in_netns(2);
}

/// The single-threaded path in the same setup: it too stops on SIGINT after the link goes quiet.
#[test]
fn one_worker_captures_and_stops_on_a_quiet_link() {
    capture_in_netns(1);
}

fn capture_in_netns(workers: usize) {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let python = Command::new("python3")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !root || !python || !ip(&["-V"]) {
        eprintln!("skipped: needs root, iproute2 and python3");
        return;
    }
    let name = format!("w3232-fanout-{}-{workers}", std::process::id());
    if !ip(&["netns", "add", &name]) {
        eprintln!("skipped: cannot create a network namespace");
        return;
    }
    let ns = Netns(name.clone());
    for args in [
        vec![
            "-n", &name, "link", "add", "wa", "type", "veth", "peer", "name", "wb",
        ],
        vec!["-n", &name, "link", "set", "wa", "up"],
        vec!["-n", &name, "link", "set", "wb", "up"],
        vec!["-n", &name, "addr", "add", "10.99.0.1/24", "dev", "wa"],
    ] {
        assert!(ip(&args), "ip {args:?}");
    }
    // Frames for 10.99.0.2 leave `wa` addressed to `wb`, where watch3232 listens.
    let link = Command::new("ip")
        .args(["-n", &name, "-o", "link", "show", "wb"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&link.stdout);
    let mac = text
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .expect("wb's MAC")
        .to_string();
    assert!(ip(&[
        "-n",
        &name,
        "neigh",
        "add",
        "10.99.0.2",
        "lladdr",
        &mac,
        "dev",
        "wa"
    ]));

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.json");
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &name,
            env!("CARGO_BIN_EXE_watch3232"),
            "-q",
            "-o",
        ])
        .arg(&out)
        .args(["capture", "-i", "wb", "--workers", &workers.to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let md5 = "0123456789abcdef0123456789abcdef";
    let script = format!(
        "import socket\nfor i in range({FLOWS}):\n s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n \
         s.bind(('10.99.0.1', 40000 + i))\n for j in range({PER_FLOW}):\n  \
         s.sendto(b'0 %d 4096 {md5}\\n' % (50000 + i), ('10.99.0.2', 3232))\n s.close()\n"
    );
    let sent = Command::new("ip")
        .args(["netns", "exec", &name, "python3", "-c", &script])
        .status()
        .unwrap();
    assert!(sent.success());
    std::thread::sleep(Duration::from_millis(1000));
    // `ip netns exec` execs watch3232: the child's pid is watch3232's.
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    // It must stop within a few poll intervals, quiet link or not.
    let mut waited = 0;
    while child.try_wait().unwrap().is_none() {
        if waited > 100 {
            let _ = child.kill();
            panic!("watch3232 --workers did not stop within 10 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    drop(ns);

    let events: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let invitations = events
        .iter()
        .filter(|e| e["event_type"] == "arduino_ota" && e["kind"] == "invitation")
        .count();
    assert_eq!(invitations as u32, FLOWS * PER_FLOW, "no invitation lost");
    let summaries: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event_type"] == "stats" && e["kind"] == "summary")
        .collect();
    assert_eq!(summaries.len(), workers, "one summary per worker");
    let created: Vec<u64> = summaries
        .iter()
        .map(|s| s["stats"]["flows"]["created"].as_u64().unwrap())
        .collect();
    assert_eq!(
        created.iter().sum::<u64>(),
        u64::from(FLOWS),
        "each flow on exactly one worker: {created:?}"
    );
    assert!(
        created.iter().all(|&c| c > 0),
        "the hash spreads flows over both workers: {created:?}"
    );
    let packets: u64 = summaries
        .iter()
        .map(|s| s["stats"]["interesting_packets"].as_u64().unwrap())
        .sum();
    assert_eq!(packets, u64::from(FLOWS * PER_FLOW));
}
