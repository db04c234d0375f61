//! `capture --workers 2` on a veth pair inside a network namespace this test creates: every
//! flow's packets reach exactly one worker (the workers' shares in the one summary,
//! `stats.workers[].flows.created`, add up to the number of flows sent), no event is lost, and an OTA invitation and its connect-back meet
//! on one worker. Needs root, `ip` and python3: `#[ignore]`d, and failing when run without them;
//! `.ci/test` runs them as root (`cargo test -- --ignored`).

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use watch3232_testgen::capture::{linktype, PcapWriter};
use watch3232_testgen::frame::{Link, ESPRESSIF_MAC, LAPTOP_MAC};
use watch3232_testgen::ota::{data_phase, esp32_image, invite, DataPhase};
use watch3232_testgen::rng::Rng;
use watch3232_testgen::scenarios::Timeline;

const FLOWS: u32 = 60;
const PER_FLOW: u32 = 2;
/// Workers pick a socket by IP pair: the flows come from this many source addresses.
const SOURCES: u32 = 8;

/// The test's namespace (`wa` → `wb`) with sources 10.99.0.11–18 on `wa`, and frames for
/// 10.99.0.2 addressed to `wb`, where watch3232 listens.
struct Netns(common::VethNamespace);

impl std::ops::Deref for Netns {
    type Target = common::VethNamespace;

    fn deref(&self) -> &common::VethNamespace {
        &self.0
    }
}

impl Netns {
    fn create(tag: &str) -> Netns {
        let python = Command::new("python3")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        common::require(python, "python3");
        let ns = common::VethNamespace::create(tag);
        for i in 1..=SOURCES {
            let addr = format!("10.99.0.{}/24", 10 + i);
            assert!(ns.ip(&["addr", "add", &addr, "dev", "wa"]));
        }
        let link = Command::new("ip")
            .args(["-n", &ns.name, "-o", "link", "show", "wb"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&link.stdout);
        let mac = text
            .split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .expect("wb's MAC")
            .to_string();
        assert!(ns.ip(&["neigh", "add", "10.99.0.2", "lladdr", &mac, "dev", "wa"]));
        Netns(ns)
    }

    fn events_path(&self) -> PathBuf {
        self.dir.path().join("events.json")
    }

    /// `watch3232 capture -i wb --workers N`, given 1.5 s to open its sockets.
    fn start(&self, workers: usize) -> Child {
        self.start_with(workers, &[])
    }

    /// [`Self::start`] with more options for `capture`.
    fn start_with(&self, workers: usize, options: &[&str]) -> Child {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.name, env!("CARGO_BIN_EXE_watch3232")])
            .args(["-q", "-o"])
            .arg(self.events_path())
            .args(["capture", "-i", "wb", "--workers", &workers.to_string()])
            .args(options)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        child
    }

    fn python(&self, script: &str) {
        let ran = Command::new("ip")
            .args(["netns", "exec", &self.name, "python3", "-c", script])
            .status()
            .unwrap();
        assert!(ran.success());
    }

    /// SIGINT after the link has been quiet for a second; the events written.
    fn stop(&self, mut child: Child) -> Vec<Value> {
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
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "SIGINT: 128 + 2; {stderr}");
        std::fs::read_to_string(self.events_path())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn summaries(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event_type"] == "stats" && e["kind"] == "summary")
        .collect()
}

#[test]
#[ignore = "needs root: network namespace, iproute2, python3"]
fn each_flow_stays_on_one_worker_and_no_event_is_lost() {
    invitations_in_netns(2);
}

/// An EVE timestamp's time of day in µs (`…T04:04:08.907000Z`).
fn micros_of_day(event: &Value) -> i64 {
    let ts = event["timestamp"].as_str().expect("a timestamp");
    let time = &ts[ts.find('T').expect("a time") + 1..ts.len() - 1];
    let (hms, frac) = time.split_once('.').expect("fractional seconds");
    let secs = hms
        .split(':')
        .map(|f| f.parse::<i64>().unwrap())
        .fold(0, |acc, f| acc * 60 + f);
    secs * 1_000_000 + frac.parse::<i64>().unwrap()
}

/// `--stats-interval` with workers: one periodic `stats` event an interval for the whole
/// capture (not one a worker, nor none), each listing every worker's share, counting up.
#[test]
#[ignore = "needs root: network namespace, iproute2, python3"]
fn periodic_stats_count_every_worker_once() {
    let ns = Netns::create("fanstats");
    let child = ns.start_with(2, &["--stats-interval", "1"]);
    let md5 = "0123456789abcdef0123456789abcdef";
    // 3 s of invitations from every source, so both workers have packets in every interval.
    ns.python(&format!(
        "import socket, time\nfor k in range(30):\n for i in range({SOURCES}):\n  \
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n  \
         s.bind(('10.99.0.%d' % (11 + i), 41000 + k))\n  \
         s.sendto(b'0 %d 4096 {md5}\\n' % (50000 + k), ('10.99.0.2', 3232))\n  s.close()\n \
         time.sleep(0.1)\n"
    ));
    let events = ns.stop(child);
    let periodic: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "stats" && e["kind"] == "periodic")
        .collect();
    // At least 4.5 s from start to stop: one a second for the capture, not one a worker (those
    // would come in pairs, at the same second).
    assert!(periodic.len() >= 3, "{} periodic stats", periodic.len());
    let times: Vec<i64> = periodic.iter().map(|p| micros_of_day(p)).collect();
    for pair in times.windows(2) {
        let apart = (pair[1] - pair[0]).rem_euclid(86_400_000_000);
        assert!(
            apart >= 800_000,
            "periodic stats less than a second apart: {times:?}"
        );
    }
    let mut last = 0;
    for (i, p) in periodic.iter().enumerate() {
        let stats = &p["stats"];
        let shares = stats["workers"].as_array().expect("each worker's share");
        assert_eq!(shares.len(), 2, "{stats}");
        let packets: u64 = shares.iter().map(|s| s["packets"].as_u64().unwrap()).sum();
        assert_eq!(stats["packets"].as_u64(), Some(packets), "{stats}");
        assert!(
            packets >= last,
            "counters never go back: {packets} after {last}"
        );
        last = packets;
        // The stats events written before this one.
        assert_eq!(stats["events"]["stats"].as_u64().unwrap_or(0), i as u64);
        assert!(stats["memory"]["rss_bytes"].as_u64().unwrap() > 0);
    }
    let summary = &summaries(&events)[0]["stats"];
    assert_eq!(
        summary["events"]["stats"].as_u64(),
        Some(periodic.len() as u64)
    );
    assert_eq!(
        summary["interesting_packets"].as_u64(),
        Some(30 * u64::from(SOURCES))
    );
    assert!(summary["packets"].as_u64().unwrap() >= last);
}

/// The single-threaded path in the same setup: it too stops on SIGINT after the link goes quiet.
#[test]
#[ignore = "needs root: network namespace, iproute2, python3"]
fn one_worker_captures_and_stops_on_a_quiet_link() {
    invitations_in_netns(1);
}

fn invitations_in_netns(workers: usize) {
    let ns = Netns::create(&format!("fanout{workers}"));
    let child = ns.start(workers);
    let md5 = "0123456789abcdef0123456789abcdef";
    ns.python(&format!(
        "import socket\nfor i in range({FLOWS}):\n s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n \
         s.bind(('10.99.0.%d' % (11 + i % {SOURCES}), 40000 + i))\n for j in range({PER_FLOW}):\n  \
         s.sendto(b'0 %d 4096 {md5}\\n' % (50000 + i), ('10.99.0.2', 3232))\n s.close()\n"
    ));
    let events = ns.stop(child);
    let invitations = events
        .iter()
        .filter(|e| e["event_type"] == "arduino_ota" && e["kind"] == "invitation")
        .count();
    assert_eq!(invitations as u32, FLOWS * PER_FLOW, "no invitation lost");
    let summaries = summaries(&events);
    assert_eq!(summaries.len(), 1, "one summary for the run");
    let summary = &summaries[0]["stats"];
    // One worker: no shares listed; several: one share a worker, in worker order.
    let shares: Vec<&Value> = match summary["workers"].as_array() {
        Some(shares) => shares.iter().collect(),
        None => vec![summary],
    };
    assert_eq!(shares.len(), workers, "one share per worker: {summary}");
    let created: Vec<u64> = shares
        .iter()
        .map(|s| s["flows"]["created"].as_u64().unwrap())
        .collect();
    assert_eq!(
        summary["flows"]["created"].as_u64(),
        Some(created.iter().sum::<u64>()),
        "the summary sums its shares"
    );
    assert_eq!(
        created.iter().sum::<u64>(),
        u64::from(FLOWS),
        "each flow on exactly one worker: {created:?}"
    );
    assert!(
        created.iter().all(|&c| c > 0),
        "the IP-pair hash spreads {SOURCES} sources over both workers: {created:?}"
    );
    let packets: u64 = shares
        .iter()
        .map(|s| s["interesting_packets"].as_u64().unwrap())
        .sum();
    assert_eq!(packets, u64::from(FLOWS * PER_FLOW));
    assert_eq!(summary["interesting_packets"].as_u64(), Some(packets));
}

/// Six uploads between six host pairs, replayed on the wire at their capture pace: each device's
/// TCP connection back reaches the worker that saw its invitation, which widened its own kernel
/// filter for it, so every transfer is followed to the end.
#[test]
#[ignore = "needs root: network namespace, iproute2, python3"]
fn ota_connect_backs_are_followed_by_the_worker_that_saw_the_invitation() {
    let ns = Netns::create("fanout-ota");
    const UPLOADS: u8 = 6;
    let mut t = Timeline::new(Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    });
    let mut rng = Rng::new(32);
    let image = esp32_image(&mut rng, 6000);
    for k in 0..UPLOADS {
        let uploader = format!("10.98.1.{}", 10 + k).parse().unwrap();
        let device = format!("10.98.2.{}", 20 + 7 * k).parse().unwrap();
        let host_port = 41000 + u16::from(k);
        let sport = invite(
            &mut t, &mut rng, uploader, device, 3232, 0, host_port, &image,
        );
        t.udp((device, 3232), (uploader, sport), b"OK", false);
        data_phase(
            &mut t,
            &mut rng,
            device,
            uploader,
            host_port,
            &image,
            1024,
            DataPhase::Complete,
        );
        t.advance_ms(50);
    }
    let pcap = ns.dir.path().join("uploads.pcap");
    write_pcap(&pcap, &t);
    let child = ns.start(2);
    ns.python(&common::replay_script(&pcap));
    let events = ns.stop(child);
    let transfers: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "arduino_ota" && e["kind"] == "transfer")
        .collect();
    assert_eq!(transfers.len(), usize::from(UPLOADS), "{events:#?}");
    for t in &transfers {
        let d = &t["arduino_ota"];
        assert_eq!(d["outcome"], "complete", "{t}");
        assert_eq!(d["bytes"], image.len() as u64, "{t}");
        assert_eq!(d["md5_match"], true, "{t}");
    }
    let updates: Vec<u64> = summaries(&events)
        .iter()
        .map(|s| {
            s["stats"]["classifiers"]["capture.filter_updates"]
                .as_u64()
                .unwrap_or(0)
        })
        .collect();
    assert!(
        updates.iter().sum::<u64>() >= 1,
        "the workers' own filters followed: {updates:?}"
    );
}

fn write_pcap(path: &Path, t: &Timeline) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::new(file, linktype::ETHERNET, 65535).unwrap();
    for r in &t.records {
        w.write(r).unwrap();
    }
}
