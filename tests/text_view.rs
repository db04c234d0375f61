//! The terse text view (`-F text`): golden lines of every bundled capture, line lengths, packet
//! time order, the `--min-severity`/`--only` filter (every format) and colour handling.
//!
//!     UPDATE_GOLDEN=1 cargo test --test text_view     regenerates testdata/golden-text/

mod common;

use serde_json::Value;
use std::process::{Command, Output};

fn watch3232(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(common::bin());
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env_remove("NO_COLOR");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run watch3232");
    assert!(
        out.status.success(),
        "{args:?}: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text_of(capture: &str, extra: &[&str]) -> String {
    let mut args = vec!["read", "-F", "text"];
    args.extend_from_slice(extra);
    args.push(capture);
    String::from_utf8(watch3232(&args, &[]).stdout).expect("UTF-8")
}

#[test]
fn every_bundled_capture_gives_its_golden_text() {
    common::compare_with_golden("golden-text", "txt", "text view", |capture| {
        text_of(capture.to_str().unwrap(), &["--color", "never"]).into_bytes()
    });
}

#[test]
fn every_line_of_the_tour_fits_120_columns() {
    let text = text_of("testdata/tour.pcapng", &["--color", "never"]);
    let eve = watch3232(&["read", "-F", "eve", "testdata/tour.pcapng"], &[]);
    assert_eq!(
        text.lines().count(),
        String::from_utf8_lossy(&eve.stdout).lines().count(),
        "one line per event"
    );
    let long: Vec<&str> = text.lines().filter(|l| l.chars().count() > 120).collect();
    assert_eq!(long, Vec::<&str>::new());
}

#[test]
fn an_ota_update_reads_as_a_sentence() {
    let text = text_of("testdata/tour.pcapng", &["--color", "never"]);
    assert!(
        text.lines().any(|l| l
            == "2026-11-29 21:00:00.164  info    esp32s3 thermo-7 2.0.1 flashed 192.0.2.50 \
                from 192.0.2.10, MD5 verified, 5 KB in 17 ms"),
        "{text}"
    );
}

/// `2026-11-29 20:00:00.184` at the start of a line.
fn line_time(line: &str) -> &str {
    &line[..23]
}

#[test]
fn a_read_prints_findings_in_packet_time_order() {
    // The EVE stream has transfers after later invitations; the text view does not.
    let eve = watch3232(&["read", "-F", "eve", "testdata/tour.pcapng"], &[]);
    let times: Vec<String> = String::from_utf8_lossy(&eve.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["timestamp"].to_string())
        .collect();
    assert!(
        times.windows(2).any(|w| w[0] > w[1]),
        "the EVE stream is already in order: the test proves nothing"
    );
    let text = text_of("testdata/tour.pcapng", &["--color", "never"]);
    // Inventories are the state a device or the MDT reached, printed when reported.
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("inventory: ") && !l.contains("MDT inventory"))
        .collect();
    let out_of_order: Vec<(&str, &str)> = lines
        .windows(2)
        .filter(|w| line_time(w[0]) > line_time(w[1]))
        .map(|w| (w[0], w[1]))
        .collect();
    assert_eq!(out_of_order, Vec::<(&str, &str)>::new());
}

fn eve_events(args: &[&str]) -> Vec<Value> {
    let out = watch3232(args, &[]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "info" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        other => panic!("severity {other}"),
    }
}

#[test]
fn min_severity_filters_eve_too_and_keeps_the_summary() {
    let all = eve_events(&["read", "-F", "eve", "testdata/tour.pcapng"]);
    let kept = eve_events(&[
        "read",
        "-F",
        "eve",
        "--min-severity",
        "medium",
        "testdata/tour.pcapng",
    ]);
    let want: Vec<&Value> = all
        .iter()
        .filter(|e| {
            e["event_type"] == "stats" || severity_rank(e["severity"].as_str().unwrap()) >= 2
        })
        .collect();
    assert_eq!(kept.len(), want.len());
    // The same events, but the summary (whose output counters differ).
    let (summary, findings) = kept.split_last().unwrap();
    assert_eq!(findings.iter().collect::<Vec<_>>(), want[..want.len() - 1]);
    assert_eq!(summary["event_type"], "stats");
    assert!(kept.len() < all.len());
}

#[test]
fn only_takes_event_types_and_kinds() {
    let kept = eve_events(&[
        "read",
        "-F",
        "eve",
        "--only",
        "alert,scan",
        "testdata/tour.pcapng",
    ]);
    let mut types: Vec<(String, String)> = kept
        .iter()
        .map(|e| {
            (
                e["event_type"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    types.sort();
    types.dedup();
    assert_eq!(
        types,
        [
            ("alert", "ota_auth_bruteforce"),
            ("alert", "ota_unauthenticated"),
            ("alert", "ota_weak_auth"),
            ("anomaly", "scan"),
            ("stats", "summary"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

#[test]
fn an_unknown_only_name_is_a_usage_error() {
    let out = Command::new(common::bin())
        .args(["read", "--only", "alerts", "testdata/tour.pcapng"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`alerts` is no event type or kind"), "{err}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let always = text_of("testdata/tour.pcapng", &["--color", "always"]);
    assert!(always.contains("\x1b[33mmedium\x1b[0m"), "{always}");
    assert!(always.contains("\x1b[1;31mHIGH  \x1b[0m"));
    for extra in [&["--color", "never"][..], &["--color", "auto"], &[]] {
        let plain = text_of("testdata/tour.pcapng", extra);
        assert!(!plain.contains('\x1b'), "{extra:?} wrote colour to a pipe");
    }
    // NO_COLOR is for `auto`; `always` still colours.
    let out = watch3232(
        &[
            "read",
            "-F",
            "text",
            "--color",
            "always",
            "testdata/tour.pcapng",
        ],
        &[("NO_COLOR", "1")],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b[33m"));
}

/// On a terminal (a pseudo-terminal from `script`), `auto` colours unless NO_COLOR is set, and
/// the summary puts the most severe findings first, naming who was behind them.
#[test]
#[ignore = "needs util-linux script (a pseudo-terminal)"]
fn on_a_terminal_auto_colours_unless_no_color() {
    common::require(
        common::have("script", "--version"),
        "util-linux script (a pseudo-terminal)",
    );
    let on_tty = |no_color: bool| {
        let line = format!(
            "{}{} read --no-progress testdata/tour.pcapng",
            if no_color { "NO_COLOR=1 " } else { "" },
            common::bin().display()
        );
        let out = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_tty(false);
    assert!(coloured.contains("\x1b[33mmedium\x1b[0m"), "{coloured}");
    let plain = on_tty(true);
    assert!(!plain.contains("\x1b[33m"), "{plain}");
    // The summary: the most severe rows first, with the sources behind them.
    let summary = &plain[plain.find("watch3232 summary").expect("a summary")..];
    let rows: Vec<&str> = summary.lines().skip(2).collect();
    assert!(
        rows[0].starts_with("  CRIT    anomaly/interactive_session"),
        "{summary}"
    );
    assert!(rows[0].ends_with("203.0.113.9"), "{summary}");
    assert!(
        rows[1].starts_with("  HIGH    alert/ota_auth_bruteforce"),
        "{summary}"
    );
    assert!(rows[1].ends_with("198.51.100.66→192.0.2.50"), "{summary}");
}

#[test]
fn verbose_text_is_the_full_key_value_form() {
    let full = text_of("testdata/tour.pcapng", &["-v"]);
    let explicit = String::from_utf8(
        watch3232(&["read", "-F", "text-full", "testdata/tour.pcapng"], &[]).stdout,
    )
    .unwrap();
    assert_eq!(full, explicit);
    assert!(full.lines().next().unwrap().starts_with(
        "2026-11-29T20:00:00.184000Z arduino_ota/invitation info UDP 192.0.2.10:58583 -> 192.0.2.50:3232"
    ));
}

#[test]
fn control_characters_from_the_capture_never_reach_the_terminal() {
    // Every bundled capture's text view: no escape or other control byte but the newline.
    for capture in common::bundled_captures(common::Captures::Generated) {
        let text = text_of(capture.to_str().unwrap(), &["--color", "never"]);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{}",
            capture.display()
        );
    }
}
