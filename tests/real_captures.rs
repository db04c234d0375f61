//! Runs watch3232 on the reference captures of real upstream tools in `testdata/real/` (espota.py
//! of both arduino-esp32 authentication eras and of ESP8266, ESPHome espota2.py old and new,
//! FRR pimd, mDNS, nmap, openssl, curl, socat) and compares its findings with their
//! `MANIFEST.json`, which says for each capture which real program made it and what it must yield.
//!
//! A capture that is missing, or whose size or sha256 differs from the manifest, fails the test;
//! so does a capture file in `testdata/real/` that the manifest does not list. Nothing is skipped.
//! How the captures are made: `testdata/real/make/` and docs/testing.md.

mod common;

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn real_dir() -> PathBuf {
    common::testdata("real")
}

fn manifest() -> Value {
    let path = real_dir().join("MANIFEST.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the reference captures are part of the repository)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("MANIFEST.json is JSON")
}

fn captures(m: &Value) -> &Vec<Value> {
    m["captures"].as_array().expect("captures array")
}

/// Fails unless the file exists with the manifest's size and sha256.
fn verified_path(c: &Value) -> PathBuf {
    let rel = c["file"].as_str().expect("file");
    let path = real_dir().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "reference capture {} is missing ({e}); restore it from git or regenerate it \
             (testdata/real/make/)",
            path.display()
        )
    });
    assert_eq!(
        bytes.len() as u64,
        c["size"].as_u64().unwrap(),
        "{rel}: size differs from MANIFEST.json"
    );
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        c["sha256"].as_str().unwrap(),
        "{rel}: sha256 differs from MANIFEST.json (altered reference capture)"
    );
    path
}

/// Every key of `want` (recursively) has the same value in `got`.
fn matches(got: &Value, want: &Value, at: &str, errors: &mut Vec<String>) {
    match want {
        Value::Object(fields) => {
            for (k, w) in fields {
                matches(&got[k.as_str()], w, &format!("{at}.{k}"), errors);
            }
        }
        Value::Array(ws) => match got.as_array() {
            Some(gs) if gs.len() == ws.len() => {
                for (i, (g, w)) in gs.iter().zip(ws).enumerate() {
                    matches(g, w, &format!("{at}[{i}]"), errors);
                }
            }
            _ => errors.push(format!("{at}: got {got}, want {} items", ws.len())),
        },
        Value::Number(w) if w.is_f64() => {
            let ok = got
                .as_f64()
                .is_some_and(|g| (g - w.as_f64().unwrap()).abs() < 1e-9);
            if !ok {
                errors.push(format!("{at}: got {got}, want {want}"));
            }
        }
        _ => {
            if got != want {
                errors.push(format!("{at}: got {got}, want {want}"));
            }
        }
    }
}

/// Events that are findings: all but the run's statistics and the end-of-run inventories.
fn is_finding(e: &Value) -> bool {
    e["event_type"] != "stats" && e["kind"] != "inventory"
}

fn key(e: &Value) -> (String, String) {
    (
        e["event_type"].as_str().unwrap_or("?").to_owned(),
        e["kind"].as_str().unwrap_or("?").to_owned(),
    )
}

/// Compares one capture's findings with its `expect` list; returns the mismatches.
fn compare(c: &Value, path: &Path) -> Vec<String> {
    let name = c["file"].as_str().unwrap();
    let mut args: Vec<String> = c["args"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    args.insert(0, "read".into());
    args.push(path.to_str().unwrap().into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::run(&argv);
    let mut errors = Vec::new();
    if run.code != Some(0) {
        errors.push(format!("{name}: exit {:?}: {}", run.code, run.stderr));
        return errors;
    }
    let mut got: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for e in run.events.iter().filter(|e| is_finding(e)) {
        got.entry(key(e)).or_default().push(e);
    }
    let mut want: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for e in c["expect"].as_array().expect("expect array") {
        want.entry(key(e)).or_default().push(e);
    }
    for (k, ws) in &want {
        let gs = got.get(k).map(Vec::as_slice).unwrap_or_default();
        if gs.len() != ws.len() {
            errors.push(format!(
                "{name}: {} {} events: got {}, want {}",
                k.0,
                k.1,
                gs.len(),
                ws.len()
            ));
            continue;
        }
        if c["order"] == "any" {
            // Each expected event matches a different actual one, in any order.
            let mut free: Vec<&Value> = gs.to_vec();
            for (i, w) in ws.iter().enumerate() {
                let hit = free.iter().position(|g| {
                    let mut e = Vec::new();
                    matches(g, w, "", &mut e);
                    e.is_empty()
                });
                match hit {
                    Some(j) => {
                        free.remove(j);
                    }
                    None => errors.push(format!(
                        "{name}: {} {}[{i}]: no event matches {w}",
                        k.0, k.1
                    )),
                }
            }
        } else {
            for (i, (g, w)) in gs.iter().zip(ws).enumerate() {
                matches(g, w, &format!("{name}: {} {}[{i}]", k.0, k.1), &mut errors);
            }
        }
    }
    if c["only_these_findings"] != false {
        for (k, gs) in &got {
            if !want.contains_key(k) {
                errors.push(format!(
                    "{name}: unexpected {} {} ({} events), first: {}",
                    k.0,
                    k.1,
                    gs.len(),
                    gs[0]
                ));
            }
        }
    }
    errors
}

#[test]
fn every_reference_capture_is_listed_present_and_unaltered() {
    let m = manifest();
    let listed: BTreeSet<String> = captures(&m)
        .iter()
        .map(|c| {
            verified_path(c);
            c["file"].as_str().unwrap().to_owned()
        })
        .collect();
    // Every capture in the directory is in the manifest (so none escapes the comparison).
    let mut on_disk = BTreeSet::new();
    let mut stack = vec![real_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                let rel = p.strip_prefix(real_dir()).unwrap();
                on_disk.insert(rel.to_str().unwrap().replace('\\', "/"));
            }
        }
    }
    assert_eq!(on_disk, listed, "captures on disk vs MANIFEST.json");
    // Each names the real program that made it, and what the other side was.
    for c in captures(&m) {
        let by = &c["made_by"];
        for field in ["tool", "version", "source", "command", "peer"] {
            assert!(
                by[field].as_str().is_some_and(|s| !s.is_empty()),
                "{}: made_by.{field}",
                c["file"]
            );
        }
        assert!(c["expect"].is_array(), "{}: expect", c["file"]);
    }
}

/// The minimum coverage: these captures must exist in the manifest.
#[test]
fn the_manifest_covers_every_required_tool() {
    let m = manifest();
    let files: BTreeSet<&str> = captures(&m)
        .iter()
        .map(|c| c["file"].as_str().unwrap())
        .collect();
    for f in [
        "ota/esp32_md5_ok.pcap",
        "ota/esp32_md5_wrong_password.pcap",
        "ota/esp32_md5_aborted.pcap",
        "ota/esp32_pbkdf2_ok.pcap",
        "ota/esp32_pbkdf2_wrong_password.pcap",
        "ota/esp32_pbkdf2_aborted.pcap",
        "ota/esp8266_ok.pcap",
        "ota/esp8266_wrong_password.pcap",
        "ota/esphome_2024_md5_ok.pcap",
        "ota/esphome_2026_sha256_ok.pcap",
        "ota/esphome_2026_wrong_password.pcap",
        "ota/esphome_2024_md5_mismatch.pcap",
        "mdns/mdns_ota_devices.pcap",
        "mdt/frr_pim_plain.pcap",
        "mdt/frr_pim_default_mdt_gre.pcap",
        "anomaly/nmap_syn_horizontal.pcap",
        "anomaly/nmap_udp_horizontal.pcap",
        "anomaly/nmap_version_http.pcap",
        "anomaly/openssl_tls.pcap",
        "anomaly/curl_http.pcap",
        "anomaly/socat_shell.pcap",
    ] {
        assert!(files.contains(f), "MANIFEST.json lacks {f}");
    }
    let tools: BTreeSet<&str> = captures(&m)
        .iter()
        .map(|c| c["made_by"]["tool"].as_str().unwrap())
        .collect();
    for t in [
        "espota.py (arduino-esp32, MD5",
        "espota.py (arduino-esp32 3.3.1+",
        "espota.py (esp8266",
        "esphome espota2.py (MD5",
        "esphome espota2.py (SHA-256",
        "FRR pimd",
        "nmap",
        "openssl",
        "curl",
        "socat",
        "python-zeroconf",
    ] {
        assert!(
            tools.iter().any(|x| x.starts_with(t)),
            "no capture made by {t}…"
        );
    }
}

#[test]
fn reference_captures_yield_what_their_manifest_says() {
    let m = manifest();
    let mut errors = Vec::new();
    let mut checked = 0;
    for c in captures(&m) {
        let path = verified_path(c);
        errors.extend(compare(c, &path));
        checked += 1;
    }
    assert!(
        errors.is_empty(),
        "{} mismatches:\n{}",
        errors.len(),
        errors.join("\n")
    );
    eprintln!("checked {checked} reference captures against MANIFEST.json");
}

/// An altered copy of a capture is caught by the check every comparison goes through.
#[test]
fn an_altered_capture_fails_the_check() {
    let m = manifest();
    let c = &captures(&m)[0];
    let original = verified_path(c);
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(&original).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let copy = dir.path().join("altered.pcap");
    std::fs::write(&copy, &bytes).unwrap();
    let mut fake = c.clone();
    fake["file"] = Value::String(copy.to_str().unwrap().to_owned());
    // `real_dir().join(absolute)` is the absolute path.
    let r = std::panic::catch_unwind(|| verified_path(&fake));
    let msg = r
        .expect_err("an altered capture must fail")
        .downcast::<String>()
        .map(|s| *s)
        .unwrap_or_default();
    assert!(msg.contains("sha256 differs"), "{msg}");
    let mut gone = c.clone();
    gone["file"] = Value::String(dir.path().join("nope.pcap").to_str().unwrap().to_owned());
    let r = std::panic::catch_unwind(|| verified_path(&gone));
    let msg = r
        .expect_err("a missing capture must fail")
        .downcast::<String>()
        .map(|s| *s)
        .unwrap_or_default();
    assert!(msg.contains("is missing"), "{msg}");
}

/// `watch3232 audit` on each reference upload, with the two passwords the uploaders were given
/// (the device's `ota-secret` and the wrong `not-the-password`) and one word that was never used:
/// every authenticated exchange of the manifest is found, an accepted answer as the device's
/// password, a refused one as a rejected guess.
#[test]
fn audit_finds_the_passwords_of_the_real_uploads() {
    let m = manifest();
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("words.txt");
    std::fs::write(&words, "admin\nnot-the-password\nota-secret\n").unwrap();
    let mut exchanges_seen = 0;
    for c in captures(&m) {
        let name = c["file"].as_str().unwrap();
        if !name.starts_with("ota/") {
            continue;
        }
        // The manifest's authenticated exchanges: espota auth results with a cnonce, ESPHome
        // sessions with a nonce and an answer.
        let want: Vec<bool> = c["expect"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| match (e["event_type"].as_str(), e["kind"].as_str()) {
                (Some("arduino_ota"), Some("auth_result"))
                    if e["arduino_ota"]["cnonce"].is_string() =>
                {
                    e["arduino_ota"]["accepted"].as_bool()
                }
                (Some("esphome_ota"), Some("session"))
                    if e["esphome_ota"]["cnonce"].is_string() =>
                {
                    e["esphome_ota"]["accepted"].as_bool()
                }
                _ => None,
            })
            .collect();
        let path = verified_path(c);
        let r = common::run(&[
            "audit",
            "--wordlist",
            words.to_str().unwrap(),
            path.to_str().unwrap(),
        ]);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        assert_eq!(r.events.len(), want.len(), "{name}: {:?}", r.events);
        for (got, accepted) in r.events.iter().zip(&want) {
            assert_eq!(got["accepted"], *accepted, "{name}: {got}");
            assert_eq!(got["password_found"], true, "{name}: {got}");
            if *accepted {
                assert_eq!(got["finding"], "device password", "{name}: {got}");
                assert_eq!(got["password"], "ota-secret", "{name}: {got}");
            } else {
                assert_eq!(got["finding"], "rejected guess", "{name}: {got}");
            }
        }
        exchanges_seen += want.len();
    }
    assert!(exchanges_seen >= 14, "{exchanges_seen}");
}
