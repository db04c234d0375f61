//! Damaged and hostile captures: the binary never panics, exits with the documented code, says
//! what went wrong in one line, and still reports every event of the packets before the damage.
//!
//! The corpus is made at test time from the bundled captures (`watch3232_testgen::corrupt`).
//! `WATCH3232_CORRUPT_DEPTH=every` cuts at every byte offset instead of a few of each class.
//! Run with `-- --nocapture` to see the report line.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use watch3232_testgen::capture::Record;
use watch3232_testgen::corrupt::{self, Case, Content, Depth, Expect};

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(path: &Path) -> Outcome {
    let out = Command::new(common::bin())
        .arg("read")
        .arg(path)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("spawn watch3232");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The identity of an event, without what legitimately changes between variants of one
/// capture: the file name and the packet's position (zero-length records shift it).
fn identity(e: &Value) -> String {
    let mut e = e.clone();
    let m = e.as_object_mut().expect("event object");
    m.remove("pcap_filename");
    m.remove("pcap_cnt");
    e.to_string()
}

/// Every non-`stats` event of a valid capture, with the 1-based index of its packet.
fn reference(path: &Path) -> Vec<(u64, String)> {
    let out = run(path);
    assert_eq!(
        out.code,
        Some(0),
        "{}: reference run failed: {}",
        path.display(),
        out.stderr
    );
    parse_events(&out.stdout)
        .expect("reference output is JSON Lines")
        .iter()
        .filter(|e| e["event_type"] != "stats")
        .map(|e| {
            (
                e["pcap_cnt"].as_u64().expect("pcap_cnt on a packet event"),
                identity(e),
            )
        })
        .collect()
}

fn parse_events(stdout: &str) -> Result<Vec<Value>, String> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("not JSON ({e}): {l}")))
        .collect()
}

/// Checks one case; `Err` says what is wrong. `panicked` is set when the binary panicked.
fn check(
    case: &Case,
    path: &Path,
    reference: &[(u64, String)],
    panicked: &mut bool,
) -> Result<(), String> {
    let out = run(path);
    *panicked = out.stderr.contains("panicked") || out.code == Some(101) || out.code.is_none();
    if *panicked {
        return Err(format!(
            "panic or signal (exit {:?}): {}",
            out.code, out.stderr
        ));
    }
    let lines: Vec<&str> = out.stderr.lines().collect();
    let events = parse_events(&out.stdout)?;
    let summary = events
        .last()
        .filter(|e| e["event_type"] == "stats" && e["kind"] == "summary");
    let Some(summary) = summary else {
        return Err("no stats summary at the end".into());
    };
    let files = &summary["stats"]["files"];
    let max_lines = if matches!(case.expect, Expect::Clean { .. }) {
        0
    } else {
        1
    };
    if lines.len() > max_lines {
        return Err(format!(
            "{} stderr lines, want at most {max_lines}: {:?}",
            lines.len(),
            lines
        ));
    }
    let intact = match case.expect {
        Expect::Clean { intact } | Expect::Truncated { intact } | Expect::Damaged { intact } => {
            intact
        }
        Expect::Unreadable => 0,
    };
    match case.expect {
        Expect::Clean { .. } if out.code != Some(0) => {
            return Err(format!("exit {:?}, want 0", out.code))
        }
        Expect::Truncated { .. } => {
            if out.code != Some(0) || files["truncated"] != 1 {
                return Err(format!(
                    "exit {:?}, files {files}; want exit 0, truncated 1: {:?}",
                    out.code, lines
                ));
            }
            if !lines[0].contains("capture ends in the middle of a record") {
                return Err(format!(
                    "warning does not say the capture is cut: {:?}",
                    lines[0]
                ));
            }
        }
        Expect::Damaged { .. } if !matches!(out.code, Some(0 | 1)) => {
            return Err(format!("exit {:?}, want 0 or 1", out.code));
        }
        Expect::Unreadable => {
            let prefix = format!("watch3232: error: {}: ", path.display());
            if out.code != Some(1)
                || files["failed"] != 1
                || lines.len() != 1
                || !lines[0].starts_with(&prefix)
            {
                return Err(format!(
                    "exit {:?}, files {files}, stderr {:?}; want exit 1, one `{prefix}…` line",
                    out.code, lines
                ));
            }
        }
        _ => {}
    }
    if out.code == Some(1)
        && !lines
            .first()
            .is_some_and(|l| l.starts_with("watch3232: error: "))
    {
        return Err(format!(
            "exit 1 without a `watch3232: error:` line: {:?}",
            lines
        ));
    }
    let got: BTreeMap<String, usize> =
        events
            .iter()
            .filter(|e| e["event_type"] != "stats")
            .fold(BTreeMap::new(), |mut m, e| {
                *m.entry(identity(e)).or_default() += 1;
                m
            });
    for (cnt, want) in reference.iter().filter(|(cnt, _)| *cnt <= intact) {
        if !got.contains_key(want) {
            return Err(format!(
                "event of packet {cnt} (before the damage) is missing: {want}"
            ));
        }
    }
    if intact == u64::MAX {
        let n: usize = got.values().sum();
        if n != reference.len() {
            return Err(format!(
                "{n} events, want exactly the original's {}",
                reference.len()
            ));
        }
    }
    Ok(())
}

fn sources() -> Vec<PathBuf> {
    let mut v = vec![common::testdata("demo.pcapng")];
    let mut links: Vec<PathBuf> = std::fs::read_dir(common::testdata("links"))
        .expect("testdata/links")
        .map(|e| e.expect("dir entry").path())
        .collect();
    links.sort();
    v.extend(links);
    v
}

fn linktype_of_pcap(file: &[u8]) -> u32 {
    u32::from_le_bytes([file[20], file[21], file[22], file[23]])
}

#[test]
fn corrupted_captures_never_panic_and_keep_what_came_before_the_damage() {
    let depth = match std::env::var("WATCH3232_CORRUPT_DEPTH").as_deref() {
        Ok("every") => Depth::EveryOffset,
        _ => Depth::Classes,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // (case, path, index of the source's reference events)
    let mut work: Vec<(Case, PathBuf, usize)> = Vec::new();
    let mut references: Vec<Vec<(u64, String)>> = vec![Vec::new()];
    let write = |case: Case, source: usize, work: &mut Vec<(Case, PathBuf, usize)>| {
        let path = dir.path().join(&case.name);
        match &case.content {
            Content::Bytes(b) => std::fs::write(&path, b).expect("write case"),
            Content::Directory => std::fs::create_dir(&path).expect("mkdir"),
            Content::Missing => {}
        }
        work.push((case, path, source));
    };
    for src in sources() {
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&src).expect("read source");
        let refs = reference(&src);
        assert!(
            refs.len() >= 9,
            "{name}: the reference must have the 9 invitations, got {}",
            refs.len()
        );
        references.push(refs);
        let source = references.len() - 1;
        for case in corrupt::cases(&name, &bytes, depth) {
            write(case, source, &mut work);
        }
        if let Some(records) = corrupt::pcap_to_records(&bytes) {
            let records: Vec<Record> = records;
            for case in corrupt::pcapng_variants(&name, linktype_of_pcap(&bytes), &records) {
                write(case, source, &mut work);
            }
        }
    }
    for case in corrupt::foreign_cases() {
        write(case, 0, &mut work);
    }

    let failures = Mutex::new(Vec::new());
    let panics = Mutex::new(0usize);
    let next = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some((case, path, source)) = work.get(i) else {
                    break;
                };
                let mut panicked = false;
                if let Err(why) = check(case, path, &references[*source], &mut panicked) {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{} ({:?}): {why}", case.name, case.expect));
                }
                if panicked {
                    *panics.lock().unwrap() += 1;
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let panics = panics.into_inner().unwrap();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for (case, _, _) in &work {
        let k = match case.expect {
            Expect::Clean { .. } => "clean",
            Expect::Truncated { .. } => "truncated",
            Expect::Damaged { .. } => "damaged",
            Expect::Unreadable => "unreadable",
        };
        *kinds.entry(k).or_default() += 1;
    }
    println!(
        "corruption: {} files ({}), {panics} panics, {} failures",
        work.len(),
        kinds
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", "),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        work.len(),
        failures.join("\n")
    );
    assert_eq!(panics, 0);
}
