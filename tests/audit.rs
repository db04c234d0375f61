//! `watch3232 audit`: every captured OTA challenge/response tried against a wordlist.

mod common;

use common::testdata;
use serde_json::Value;
use std::process::Command;

fn audit(words: &str, captures: &[&str]) -> (Vec<Value>, String, Option<i32>) {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("words.txt");
    std::fs::write(&list, words).unwrap();
    let out = Command::new(common::bin())
        .arg("audit")
        .arg("--wordlist")
        .arg(&list)
        .args(captures.iter().map(|c| testdata(c)))
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn row(v: &Value) -> (String, u64, String, String, String, Option<String>) {
    (
        v["device"].as_str().unwrap().to_string(),
        v["device_port"].as_u64().unwrap(),
        v["protocol"].as_str().unwrap().to_string(),
        v["auth_scheme"].as_str().unwrap().to_string(),
        v["finding"].as_str().unwrap().to_string(),
        v["password"].as_str().map(str::to_string),
    )
}

#[test]
fn finds_device_passwords_of_every_scheme_and_tells_guesses_apart() {
    // CRLF line ends and an empty line, as wordlists come.
    let words = "admin\r\notapass\r\n\r\nesphomepw\nguess0\n";
    let captures = [
        "ota/esp32_pbkdf2_reordered.pcap",
        "ota/esphome_sha256.pcap",
        "ota/esp8266_md5_failed.pcap",
        "ota/bruteforce_no_connect.pcap",
    ];
    let (lines, stderr, code) = audit(words, &captures);
    assert_eq!(code, Some(0), "{stderr}");
    let rows: Vec<_> = lines.iter().map(row).collect();
    let s = |x: &str| x.to_string();
    let device = |ip: &str, port, proto: &str, scheme: &str, pw: &str| {
        (
            s(ip),
            port,
            s(proto),
            s(scheme),
            s("device password"),
            Some(s(pw)),
        )
    };
    // PBKDF2 era (arduino-esp32 3.3.1+), ESPHome SHA-256, ESP8266 MD5: the device passwords.
    assert!(
        rows.contains(&device(
            "192.0.2.50",
            3232,
            "arduino_ota",
            "pbkdf2_sha256",
            "otapass"
        )),
        "{rows:?}"
    );
    assert!(
        rows.contains(&device(
            "192.0.2.50",
            3232,
            "esphome_ota",
            "sha256",
            "esphomepw"
        )),
        "{rows:?}"
    );
    assert!(
        rows.contains(&device("192.0.2.51", 8266, "arduino_ota", "md5", "otapass")),
        "{rows:?}"
    );
    // The brute force: six wrong answers; the one made with a listed word is a rejected guess.
    let guesses: Vec<_> = rows
        .iter()
        .filter(|r| r.0 == "192.0.2.50" && r.3 == "md5")
        .collect();
    assert_eq!(guesses.len(), 6, "{rows:?}");
    let matched: Vec<_> = guesses.iter().filter(|r| r.5.is_some()).collect();
    assert_eq!(matched.len(), 1);
    assert_eq!(
        (matched[0].4.as_str(), matched[0].5.as_deref()),
        ("rejected guess", Some("guess0"))
    );
    assert!(
        stderr.contains(
            "9 exchange(s) with 2 device(s), 4 word(s) tried, 3 device password(s) found"
        ),
        "{stderr}"
    );
}

#[test]
fn unreadable_inputs_are_one_line_each() {
    let (lines, stderr, code) = audit("x\n", &["ota/esphome_sha256.pcap", "does-not-exist.pcap"]);
    assert_eq!(code, Some(1));
    assert_eq!(lines.len(), 1, "the readable capture is still audited");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("watch3232: error: ") && l.contains("does-not-exist.pcap")),
        "{stderr}"
    );
    let out = Command::new(common::bin())
        .args(["audit", "--wordlist", "/nonexistent/words.txt"])
        .arg(testdata("ota/esphome_sha256.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot read wordlist /nonexistent/words.txt"),
        "{err}"
    );
}
