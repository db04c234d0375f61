//! The edges of the command line (issue 14): inputs are never overwritten, usage mistakes
//! exit 2 with one line naming what is wrong.

mod common;

use common::{run, testdata};
use std::path::Path;

/// The bytes of a file, to show it was not touched.
fn contents(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// A copy of the demo capture in `dir` (tests must never risk the bundled one).
fn demo_copy(dir: &Path) -> std::path::PathBuf {
    let copy = dir.join("in.pcapng");
    std::fs::copy(testdata("demo.pcapng"), &copy).unwrap();
    copy
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let input = demo_copy(dir.path());
    let before = contents(&input);
    let symlink = dir.path().join("link.pcapng");
    std::os::unix::fs::symlink(&input, &symlink).unwrap();
    let hard = dir.path().join("hard.pcapng");
    std::fs::hard_link(&input, &hard).unwrap();
    let input_s = input.to_str().unwrap();
    for target in [&input, &symlink, &hard] {
        let target_s = target.to_str().unwrap();
        for flag in ["-o", "--write-matched", "--extract-firmware"] {
            let r = run(&["read", flag, target_s, input_s]);
            let expected = format!(
                "watch3232: error: {flag} {target_s} is the input {input_s}: refusing to overwrite it\n"
            );
            assert_eq!(r.code, Some(2), "{flag} {target_s}: {}", r.stderr);
            assert_eq!(r.stderr, expected);
            assert!(r.events.is_empty());
            assert_eq!(
                contents(&input),
                before,
                "{flag} {target_s} left the input intact"
            );
        }
    }
    // The input named through the link, the output by its own name: the same file still.
    let r = run(&["read", "-o", input_s, symlink.to_str().unwrap()]);
    assert_eq!(r.code, Some(2));
    assert_eq!(contents(&input), before);
}

#[test]
fn an_extract_firmware_target_that_is_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("notes.txt");
    std::fs::write(&not_a_dir, b"keep me").unwrap();
    let demo = testdata("demo.pcapng");
    let r = run(&[
        "read",
        "--extract-firmware",
        not_a_dir.to_str().unwrap(),
        demo.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        format!(
            "watch3232: error: --extract-firmware {}: exists and is not a directory\n",
            not_a_dir.display()
        )
    );
    assert_eq!(contents(&not_a_dir), b"keep me");
}

#[test]
fn distinct_outputs_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let input = demo_copy(dir.path());
    let before = contents(&input);
    let out = dir.path().join("eve.json");
    let r = run(&["read", "-o", out.to_str().unwrap(), input.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!contents(&out).is_empty());
    assert_eq!(contents(&input), before);
}

#[test]
fn numeric_options_out_of_range_are_usage_errors_naming_the_flag() {
    let demo = testdata("demo.pcapng");
    let demo = demo.to_str().unwrap();
    for (flag, value, range) in [
        ("--max-flows", "0", "1..=100000000"),
        ("--flow-timeout", "0", "1..=604800"),
        ("--scan-window", "0", "1..=86400"),
        ("--mdt-max-entries", "0", "1..=10000000"),
        ("--workers", "0", "1..=256"),
        ("--max-ota-sessions", "0", "1..=1000000"),
        ("--ota-session-timeout", "0", "1..=86400"),
        ("--bruteforce-threshold", "0", "1..=1000000"),
        ("--bruteforce-window", "0", "1..=86400"),
        ("--max-firmware-bytes", "0", "1..=4294967296"),
        ("--scan-hosts", "1", "2..=1000000"),
        ("--scan-ports", "1", "2..=65535"),
        ("--ota-ports", "0", "1..=65535"),
        ("--watch-ports", "0", "1..=65535"),
        ("--esphome-ports", "0", "1..=65535"),
    ] {
        let r = run(&["read", flag, value, demo]);
        assert_eq!(r.code, Some(2), "{flag} {value}: {}", r.stderr);
        let first = r.stderr.lines().next().unwrap_or("");
        assert!(
            first.starts_with(&format!("error: invalid value '{value}' for '{flag} "))
                && first.ends_with(&format!("{value} is not in {range}")),
            "{flag}: {first}"
        );
        assert!(r.events.is_empty(), "{flag}: nothing ran");
    }
    let r = run(&["read", "--syslog-facility", "local9", demo]);
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        "watch3232: error: --syslog-facility: unknown facility `local9` (user, daemon, auth, local0..local7)\n"
    );
}

#[test]
fn every_numeric_option_documents_its_range() {
    let help = std::process::Command::new(common::bin())
        .args(["read", "--help"])
        .output()
        .unwrap();
    // Help text wraps: compare with single spaces.
    let help = String::from_utf8(help.stdout).unwrap();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for range in [
        "1 to 100000000",
        "1 to 604800",
        "1 to 10000000",
        "1 to 256",
        "2 to 1000000",
        "each 1 to 65535",
    ] {
        assert!(help.contains(range), "`read --help` documents {range}");
    }
}

/// Runs `read` of the demo capture with `text` as the configuration file.
fn with_config(text: &str) -> (common::Run, String) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("watch3232.toml");
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.to_str().unwrap().to_string();
    let demo = testdata("demo.pcapng");
    let r = run(&["--config", &cfg, "read", demo.to_str().unwrap()]);
    (r, cfg)
}

#[test]
fn config_mistakes_name_the_file_the_line_and_the_key() {
    let cases = [
        (
            "format = \"eve\"\n\nmax-flow = 3\n",
            "3: unknown key 'max-flow' (no option --max-flow)",
        ),
        (
            "format = \"eve\"\nmax_flows = 0\n",
            "2: bad value for 'max_flows': invalid value '0' for '--max-flows <N>': 0 is not in 1..=100000000",
        ),
        (
            "format = \"eve\"\n[capture]\nsnaplen = 65535\nworkers = 0\n",
            "4: bad value for 'workers': invalid value '0' for '--workers <N>': 0 is not in 1..=256",
        ),
        (
            "format = \"xml\"\n",
            "1: bad value for 'format': invalid value 'xml' for '--format <FORMAT>'",
        ),
        (
            "sensor-name = \"a\"\nota-ports = \"3232,0\"\n",
            "2: bad value for 'ota-ports': invalid value '0' for '--ota-ports <PORTS>': 0 is not in 1..=65535",
        ),
        (
            "format = \"eve\"\nmax-flows = [\n",
            "3: invalid array: expected `]`",
        ),
        ("[read]\nbogus = 1\n", "2: unknown key 'bogus' (no option --bogus)"),
    ];
    for (text, expected) in cases {
        let (r, cfg) = with_config(text);
        assert_eq!(r.code, Some(2), "{text}: {}", r.stderr);
        assert_eq!(r.stderr, format!("watch3232: {cfg}:{expected}\n"), "{text}");
        assert!(r.events.is_empty());
    }
    let (r, _) = with_config("format = \"eve\"\n[read]\nworkers = 2\nreader = \"native\"\n");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.events.len() > 1);
}

#[test]
fn each_subcommand_accepts_only_its_options() {
    let demo = testdata("demo.pcapng");
    let demo = demo.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let never = dir.path().join("never.json");
    let never = never.to_str().unwrap();
    for args in [
        vec!["schema", "-o", never],
        vec!["schema", "-F", "ecs"],
        vec!["audit", "-o", never, "--wordlist", "/dev/null", demo],
        vec!["audit", "-F", "ecs", "--wordlist", "/dev/null", demo],
        vec!["capture", "-i", "lo", "--write-matched", never],
        vec!["completions", "bash", "--max-flows", "5"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("error: unexpected argument '"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.events.is_empty());
        assert!(!Path::new(never).exists(), "{args:?} wrote nothing");
    }
    let help = |sub: &str| {
        let out = std::process::Command::new(common::bin())
            .args([sub, "--help"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(!help("schema").contains("--output"));
    assert!(!help("audit").contains("--rotate-size"));
    assert!(help("audit").contains("--max-flows"));
    assert!(help("read").contains("--write-matched") && !help("read").contains("--user"));
    assert!(help("capture").contains("--user") && !help("capture").contains("--write-matched"));
}

#[test]
fn options_before_the_subcommand_still_work_and_config_lists_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let demo = testdata("demo.pcapng");
    let demo = demo.to_str().unwrap();
    let before = dir.path().join("before.json");
    let after = dir.path().join("after.json");
    let r = run(&["-q", "-o", before.to_str().unwrap(), "read", demo]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let r = run(&["read", "-q", "-o", after.to_str().unwrap(), demo]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let (a, b) = (contents(&before), contents(&after));
    assert!(!a.is_empty());
    assert!(a == b, "the same events either way");

    // A config file's `output` list is replaced by the outputs typed, and means nothing to
    // `schema`.
    let from_file = dir.path().join("from-file.json");
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, format!("output = [\"{}\"]\n", from_file.display())).unwrap();
    let typed = dir.path().join("typed.json");
    let cfg = cfg.to_str().unwrap();
    let r = run(&["--config", cfg, "read", "-o", typed.to_str().unwrap(), demo]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!from_file.exists());
    assert!(contents(&typed) == a, "the typed output got every event");
    let schema = std::process::Command::new(common::bin())
        .args(["--config", cfg, "schema"])
        .output()
        .unwrap();
    assert_eq!(schema.status.code(), Some(0));
    assert!(!from_file.exists());
}

#[test]
fn the_man_page_lists_the_options_of_read_and_capture() {
    let out = std::process::Command::new(common::bin())
        .arg("manpage")
        .output()
        .unwrap();
    let man = String::from_utf8(out.stdout).unwrap();
    for needle in [
        ".SH \"WATCH3232 READ\"",
        ".SH \"WATCH3232 CAPTURE\"",
        "\\-\\-write\\-matched",
        "\\-\\-rotate\\-size",
        "\\-\\-max\\-flows",
        "\\-\\-interface",
    ] {
        assert!(man.contains(needle), "man page has {needle}");
    }
}

#[test]
fn a_capture_without_packets_is_summarised_at_the_wall_clock_and_not_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pcap");
    // A pcap header (microseconds, little-endian, raw IP) and no packet.
    let mut header = Vec::new();
    header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&[0; 8]);
    header.extend_from_slice(&65535u32.to_le_bytes());
    header.extend_from_slice(&101u32.to_le_bytes());
    std::fs::write(&empty, &header).unwrap();
    let r = run(&["read", empty.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.events.len(), 1);
    let summary = &r.events[0];
    assert_eq!(summary["stats"]["packets"], 0);
    assert!(summary["stats"].get("interrupted").is_none());
    let stamp = summary["timestamp"].as_str().unwrap();
    assert!(!stamp.starts_with("1970"), "{stamp}");
}

/// On a terminal (a pseudo-terminal from `script`), the end-of-run table says what the run
/// lost; the events themselves still all reach the output.
#[test]
#[ignore = "needs util-linux script (a pseudo-terminal)"]
fn the_terminal_summary_shows_evictions() {
    common::require(
        common::have("script", "--version"),
        "util-linux script (a pseudo-terminal)",
    );
    let tour = testdata("tour.pcapng");
    let line = format!(
        "{} read --max-flows 2 --no-progress -o /dev/null {}",
        common::bin().display(),
        tour.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("  not complete:"), "{shown}");
    assert!(shown.contains("flows evicted (--max-flows)"), "{shown}");
    // Without evictions, no such section.
    let line = format!(
        "{} read --no-progress -o /dev/null {}",
        common::bin().display(),
        testdata("demo.pcapng").display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("watch3232 summary"), "{shown}");
    assert!(!shown.contains("not complete"), "{shown}");
}

/// `read` to a socket nobody listens on would drop every event: it stops before reading (and
/// before truncating any output file), exit 1, one line; `--output-errors warn` reads anyway.
#[test]
fn a_read_to_an_unreachable_socket_fails_unless_told_to_warn() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("nobody.sock");
    let file = dir.path().join("eve.json");
    std::fs::write(&file, b"earlier events\n").unwrap();
    let demo = testdata("demo.pcapng");
    for (spec, name) in [
        (format!("unix-dgram:{}", nowhere.display()), "unix-dgram"),
        (format!("unix-stream:{}", nowhere.display()), "unix-stream"),
        (format!("syslog:{}", nowhere.display()), "syslog"),
    ] {
        let r = run(&[
            "read",
            "-o",
            file.to_str().unwrap(),
            "-o",
            &spec,
            demo.to_str().unwrap(),
        ]);
        assert_eq!(r.code, Some(1), "{name}: {}", r.stderr);
        assert_eq!(
            r.stderr,
            format!(
                "watch3232: error: {spec}: No such file or directory (os error 2); nothing read \
                 (--output-errors warn reads anyway, counting its events as dropped)\n"
            )
        );
        assert_eq!(
            contents(&file),
            b"earlier events\n",
            "{name}: the file was not touched"
        );
    }
    let r = run(&[
        "read",
        "--output-errors",
        "warn",
        "-o",
        file.to_str().unwrap(),
        "-o",
        &format!("unix-dgram:{}", nowhere.display()),
        demo.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let written = String::from_utf8(contents(&file)).unwrap();
    let summary: serde_json::Value = serde_json::from_str(written.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["stats"]["output"]["dropped"].as_u64().unwrap() as usize,
        written.lines().count() - 1,
        "every event counted as dropped at the socket"
    );
}
