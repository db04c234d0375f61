//! Workers agree with one worker: every bundled capture gives the same findings with `read`,
//! `read --workers 2` and `read --workers 4` (all fields but session numbering, in any
//! order; `stats` events aside; the numbers stay unique in the run), and a live `capture --workers 2` of the same packets replayed
//! over a veth pair gives the findings `read` gives of what was captured.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

/// `(event_type, kind)`.
type EventKind = (&'static str, &'static str);

/// Captures whose findings depend on state shared across flows that workers would each keep
/// for themselves: only these event kinds may differ, and they must differ for at least one
/// worker count. The aggregator (`src/aggregate/`) merges that state, so none is left: a
/// capture listed here that agrees fails the test.
const KNOWN_CROSS_FLOW: &[(&str, &str, &[EventKind])] = &[];

/// Drops what numbering may change (`session_id`, a counter of each engine's) and the fields
/// in `also`, at every depth. Flow ids are kept: they hash the flow and its start, so every
/// worker gives a flow the id one engine gives it.
fn normalise(v: &mut Value, also: &[&str]) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| {
                !(k == "session_id" || k.ends_with("_session_id") || also.contains(&k.as_str()))
            });
            map.values_mut().for_each(|v| normalise(v, also));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| normalise(v, also)),
        _ => {}
    }
}

/// An `mdt` event's flow may be split between workers: one inner 5-tuple seen in GRE and bare
/// (or in two tunnels) is one flow to one engine, but workers are dealt packets by the outer IP
/// pair, so each keeps its own part, started at its own first packet (a different id).
fn drop_split_flow_id(e: &mut Value) {
    if e["event_type"] == "mdt" {
        if let Value::Object(map) = e {
            map.remove("flow_id");
        }
    }
}

/// The findings as a multiset: normalised line → count, `stats` events left out.
type Findings = BTreeMap<String, usize>;

fn findings(events: &[Value], also: &[&str]) -> Findings {
    let mut set = Findings::new();
    for e in events.iter().filter(|e| e["event_type"] != "stats") {
        let mut e = e.clone();
        normalise(&mut e, also);
        drop_split_flow_id(&mut e);
        *set.entry(e.to_string()).or_default() += 1;
    }
    set
}

fn read(capture: &Path, workers: usize) -> Vec<Value> {
    read_with(capture, workers, &[])
}

/// [`read`] with more options for `read`.
fn read_with(capture: &Path, workers: usize, options: &[&str]) -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(common::bin())
        .current_dir(root)
        .args(["read", "-F", "eve", "--workers", &workers.to_string()])
        .args(options)
        .arg(capture)
        .output()
        .expect("run watch3232");
    assert!(
        out.status.success(),
        "{} --workers {workers}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The (event_type, kind) of every finding one side has and the other has not.
fn differing_kinds(a: &Findings, b: &Findings) -> Vec<(String, String)> {
    let mut kinds = Vec::new();
    for (line, n) in a.iter().chain(b.iter()) {
        let (in_a, in_b) = (a.get(line), b.get(line));
        if in_a == in_b {
            continue;
        }
        let _ = n;
        let v: Value = serde_json::from_str(line).unwrap();
        let kind = (
            v["event_type"].as_str().unwrap_or("").to_string(),
            v["kind"].as_str().unwrap_or("").to_string(),
        );
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

#[test]
fn workers_give_the_findings_of_one_worker() {
    let captures = common::bundled_captures(common::Captures::WithReal);
    assert!(captures.len() >= 40, "found only {captures:?}");
    for (known, _, _) in KNOWN_CROSS_FLOW {
        assert!(
            captures.iter().any(|c| c == Path::new(known)),
            "{known} is listed as cross-flow but is not bundled"
        );
    }
    let mut problems = Vec::new();
    for capture in &captures {
        let one = findings(&read(capture, 1), &[]);
        assert!(!one.is_empty(), "{}: no findings at all", capture.display());
        let cross_flow = KNOWN_CROSS_FLOW
            .iter()
            .find(|(c, _, _)| Path::new(c) == capture);
        let mut differed = false;
        for workers in [2, 4] {
            let many = findings(&read(capture, workers), &[]);
            let kinds = differing_kinds(&one, &many);
            differed |= !kinds.is_empty();
            let allowed: &[EventKind] = cross_flow.map_or(&[], |(_, _, k)| k);
            let unexpected: Vec<_> = kinds
                .iter()
                .filter(|(t, k)| !allowed.contains(&(t.as_str(), k.as_str())))
                .collect();
            if !unexpected.is_empty() {
                problems.push(format!(
                    "{} --workers {workers}: findings differ in {unexpected:?}",
                    capture.display()
                ));
            }
        }
        if let Some((_, reason, _)) = cross_flow {
            if !differed {
                problems.push(format!(
                    "{}: listed in KNOWN_CROSS_FLOW ({reason}) but workers now agree: remove it",
                    capture.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The hosts of each `session_id`'s invitations: one pair an id when the ids are unique.
fn session_hosts(events: &[Value]) -> BTreeMap<u64, std::collections::BTreeSet<String>> {
    let mut hosts: BTreeMap<u64, std::collections::BTreeSet<String>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e["event_type"] == "arduino_ota" && e["kind"] == "invitation")
    {
        let id = e["arduino_ota"]["session_id"]
            .as_u64()
            .expect("a session id");
        hosts
            .entry(id)
            .or_default()
            .insert(format!("{} -> {}", e["src_ip"], e["dest_ip"]));
    }
    hosts
}

/// Each worker numbers its sessions in its own residue class, so a `session_id` names one
/// session in the whole run, as with one engine (the findings test above ignores numbering).
#[test]
fn session_ids_stay_unique_across_workers() {
    let mut checked = 0;
    for capture in common::bundled_captures(common::Captures::WithReal) {
        let one = session_hosts(&read(&capture, 1));
        for workers in [2, 4] {
            let many = session_hosts(&read(&capture, workers));
            let shared: Vec<_> = many.iter().filter(|(_, h)| h.len() > 1).collect();
            assert!(
                shared.is_empty(),
                "{} --workers {workers}: ids shared by sessions of other hosts: {shared:?}",
                capture.display()
            );
            assert_eq!(
                many.len(),
                one.len(),
                "{} --workers {workers}: as many sessions as one engine",
                capture.display()
            );
        }
        checked += usize::from(!one.is_empty());
    }
    assert!(checked >= 5, "only {checked} captures with espota sessions");
}

/// The summary of a sharded read is one `stats` event whose counters add up to one worker's.
#[test]
fn a_sharded_read_ends_with_one_summary_of_every_packet() {
    let capture = Path::new("testdata/tour.pcapng");
    let summary = |events: &[Value]| {
        let s: Vec<Value> = events
            .iter()
            .filter(|e| e["event_type"] == "stats" && e["kind"] == "summary")
            .cloned()
            .collect();
        assert_eq!(s.len(), 1, "one summary");
        s[0]["stats"].clone()
    };
    let one = summary(&read(capture, 1));
    let four = summary(&read(capture, 4));
    for field in [
        "packets",
        "bytes",
        "not_ip",
        "decode_errors",
        "decode_error_kinds",
        "fragments",
        "snaplen_cut",
        "interesting_packets",
    ] {
        assert_eq!(one[field], four[field], "{field}");
    }
    assert_eq!(one["files"], four["files"]);
    // Four tables sharing one bound: --max-flows holds for the run, not for each worker.
    assert_eq!(four["flows"]["capacity"], one["flows"]["capacity"]);
    assert_eq!(one["flows"]["capacity"], 100_000);
    // Each shard's share, in shard order, adding up to the whole; one engine lists none.
    assert!(one.get("workers").is_none(), "{one}");
    let shares = four["workers"].as_array().expect("the shards' shares");
    assert_eq!(shares.len(), 4);
    let sum = |field: &str| {
        shares
            .iter()
            .map(|s| s[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(Some(sum("packets")), one["packets"].as_u64());
    assert_eq!(
        Some(sum("interesting_packets")),
        one["interesting_packets"].as_u64()
    );
    let capacities: Vec<u64> = shares
        .iter()
        .map(|s| s["flows"]["capacity"].as_u64().unwrap())
        .collect();
    assert_eq!(capacities, [25_000; 4]);
}

/// `--max-flows` bounds a sharded read as a whole: four workers share ten flows, and the flows
/// past them are ended early and counted, as with one worker.
#[test]
fn workers_share_the_flow_bound() {
    let flows = |workers: usize| {
        let events = read_with(
            Path::new("testdata/tour.pcapng"),
            workers,
            &["--max-flows", "10"],
        );
        let summary = events
            .iter()
            .find(|e| e["event_type"] == "stats" && e["kind"] == "summary")
            .expect("a summary");
        summary["stats"]["flows"].clone()
    };
    let (one, four) = (flows(1), flows(4));
    assert_eq!(one["capacity"], 10);
    assert_eq!(four["capacity"], 10, "{four}");
    assert!(four["peak"].as_u64().unwrap() <= 10, "{four}");
    assert!(
        one["evicted"].as_u64().unwrap() > 0,
        "the tour has more than ten flows: {one}"
    );
    assert!(four["evicted"].as_u64().unwrap() > 0, "{four}");
}

fn interrupt(child: &mut Child) {
    // `ip netns exec` execs the program: the child's pid is its own.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    for _ in 0..100 {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("did not stop within 10 s of SIGINT");
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Replays `captures` over a veth pair into `capture --workers 2` while tcpdump records what
/// crossed it; returns the live events and those of `read` over the recording.
fn capture_with_two_workers_and_read_back(
    label: &str,
    captures: &[&str],
) -> (Vec<Value>, Vec<Value>) {
    let ns = common::VethNamespace::create(label);
    let recorded = ns.dir.path().join("recorded.pcap");
    let events = ns.dir.path().join("events.json");
    let mut tcpdump = ns.spawn(
        "tcpdump",
        &["-i", "wb", "-U", "-w", recorded.to_str().unwrap()],
    );
    let bin = common::bin();
    let mut watch = ns.spawn(
        bin.to_str().unwrap(),
        &[
            "-q",
            "-F",
            "eve",
            "-o",
            events.to_str().unwrap(),
            "capture",
            "-i",
            "wb",
            "--workers",
            "2",
        ],
    );
    std::thread::sleep(Duration::from_millis(1500));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for capture in captures {
        let script = common::replay_script(&root.join(capture));
        let sent = Command::new("ip")
            .args(["netns", "exec", &ns.name, "python3", "-c", &script])
            .status()
            .unwrap();
        assert!(sent.success(), "replay {capture}");
    }
    std::thread::sleep(Duration::from_millis(1000));
    interrupt(&mut watch);
    interrupt(&mut tcpdump);
    let out = Command::new(common::bin())
        .args(["read", "-F", "eve"])
        .arg(&recorded)
        .output()
        .unwrap();
    assert!(out.status.success());
    let read: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines(&events), read)
}

// Where the packets came from, and their position in it, differ by design; and each socket
// stamps its copy of a packet itself, microseconds apart, so times (and what is computed from
// them, a scan window's bounds and flow ids too) are left out.
const SOURCE_FIELDS: [&str; 13] = [
    "flow_id",
    "invitation_flow_id",
    "transfer_flow_id",
    "pcap_filename",
    "in_iface",
    "pcap_cnt",
    "timestamp",
    "first_seen",
    "last_seen",
    "duration_s",
    "throughput_bps",
    "window_start",
    "window_end",
];

#[test]
#[ignore = "needs root and network namespaces"]
fn a_live_capture_with_workers_gives_the_findings_of_reading_what_was_captured() {
    let (live, read) = capture_with_two_workers_and_read_back(
        "ota",
        &[
            "testdata/ota/esp32_pbkdf2_reordered.pcap",
            "testdata/ota/esp8266_md5_failed.pcap",
            "testdata/ota/esp32_noauth_aborted.pcap",
            "testdata/ota/esphome_sha256.pcap",
        ],
    );
    let live = findings(&live, &SOURCE_FIELDS);
    let offline = findings(&read, &SOURCE_FIELDS);
    assert!(!offline.is_empty(), "nothing was recorded");
    assert_eq!(
        live,
        offline,
        "differ in {:?}",
        differing_kinds(&live, &offline)
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_live_scan_spread_over_workers_is_one_scan_with_every_host() {
    // nmap -sS of port 3232 on 20 hosts: the fanout by IP pair deals the hosts to both workers.
    let (live, read) = capture_with_two_workers_and_read_back(
        "scan",
        &["testdata/real/anomaly/nmap_syn_horizontal.pcap"],
    );
    let summaries: Vec<&Value> = live
        .iter()
        .filter(|e| e["event_type"] == "stats" && e["kind"] == "summary")
        .collect();
    assert_eq!(summaries.len(), 1, "one summary for the run");
    let worker_packets: Vec<u64> = summaries[0]["stats"]["workers"]
        .as_array()
        .expect("each worker's share")
        .iter()
        .map(|s| s["packets"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(worker_packets.len(), 2, "one share per worker");
    assert!(
        worker_packets.iter().all(|&p| p > 0),
        "the probes reached both workers: {worker_packets:?}"
    );
    let scans = |events: &[Value]| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["event_type"] == "anomaly" && e["kind"] == "scan")
            .cloned()
            .collect()
    };
    let (live_scans, read_scans) = (scans(&live), scans(&read));
    assert_eq!(
        live_scans.len(),
        1,
        "one scan, not one per worker: {live_scans:?}"
    );
    assert_eq!(live_scans[0]["anomaly"]["scan"]["host_count"], 20);
    assert_eq!(
        findings(&live_scans, &SOURCE_FIELDS),
        findings(&read_scans, &SOURCE_FIELDS),
        "the scan read back from the recording"
    );
    let live = findings(&live, &SOURCE_FIELDS);
    let offline = findings(&read, &SOURCE_FIELDS);
    assert_eq!(
        live,
        offline,
        "differ in {:?}",
        differing_kinds(&live, &offline)
    );
}
