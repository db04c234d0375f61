//! Runs watch3232 on the reference captures of real upstream uploads (espota.py of both auth
//! eras, ESP8266 espota, ESPHome espota2) kept OUTSIDE the repository, and compares every
//! session with the facts in their MANIFEST.json. Skipped when the directory is absent.
//! Override the location with `WATCH3232_CAPTURES=/path/to/captures`.

mod common;

use serde_json::Value;
use std::path::PathBuf;

fn captures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WATCH3232_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/captures"));
    dir.join("MANIFEST.json").is_file().then_some(dir)
}

fn check_espota(c: &Value, run: &common::Run) {
    let name = c["file"].as_str().unwrap();
    let invitations = run.of_kind("arduino_ota", "invitation");
    let expected_inv = c["invitations"].as_array().unwrap();
    assert_eq!(invitations.len(), expected_inv.len(), "{name}: invitations");
    for (got, want) in invitations.iter().zip(expected_inv) {
        assert_eq!(got["pcap_cnt"], want["frame"], "{name}");
        assert_eq!(got["src_ip"], want["uploader_ip"], "{name}");
        assert_eq!(got["src_port"], want["uploader_src_port"], "{name}");
        assert_eq!(got["dest_port"], want["device_port"], "{name}");
        let d = &got["arduino_ota"];
        assert_eq!(d["host_port"], want["host_port"], "{name}");
        assert_eq!(d["image_size"], want["image_size"], "{name}");
        assert_eq!(d["image_md5"], want["image_md5"], "{name}");
        let cmd = if want["command"] == 100 {
            "filesystem"
        } else {
            "flash"
        };
        assert_eq!(d["command"], cmd, "{name}");
        if let Some(nonce) = want["nonce"].as_str() {
            let ch = run
                .of_kind("arduino_ota", "auth_challenge")
                .into_iter()
                .find(|e| e["arduino_ota"]["nonce"] == nonce)
                .unwrap_or_else(|| panic!("{name}: challenge {nonce}"));
            let scheme = if nonce.len() == 32 {
                "md5"
            } else {
                "pbkdf2_sha256"
            };
            assert_eq!(ch["arduino_ota"]["auth_scheme"], scheme, "{name}");
        }
    }
    // Every invitation of one capture is one session.
    let ids: std::collections::BTreeSet<String> = invitations
        .iter()
        .map(|e| e["arduino_ota"]["session_id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{name}: one session");
    let results = run.of_kind("arduino_ota", "auth_result");
    let exchanges = c["auth_exchanges"].as_array().unwrap();
    if exchanges.is_empty() {
        assert_eq!(results.len(), 1, "{name}: accepted without a challenge");
        assert_eq!(results[0]["arduino_ota"]["auth_scheme"], "none", "{name}");
        assert_eq!(
            run.of_kind("alert", "ota_unauthenticated").len(),
            1,
            "{name}"
        );
    } else {
        assert_eq!(results.len(), exchanges.len(), "{name}: auth results");
        for (got, want) in results.iter().zip(exchanges) {
            let d = &got["arduino_ota"];
            assert_eq!(got["pcap_cnt"], want["result_frame"], "{name}");
            assert_eq!(got["src_port"], want["answer_src_port"], "{name}");
            assert_eq!(d["accepted"], want["accepted"], "{name}");
            assert_eq!(d["cnonce"], want["cnonce"], "{name}");
            assert_eq!(d["response"], want["response"], "{name}");
        }
    }
    let weak = c["auth_scheme"] == "md5";
    assert_eq!(
        run.of_kind("alert", "ota_weak_auth").len(),
        usize::from(weak),
        "{name}"
    );
    let transfers = run.of_kind("arduino_ota", "transfer");
    assert_eq!(transfers.len(), 1, "{name}: one transfer event");
    let t = &transfers[0]["arduino_ota"];
    assert_eq!(t["outcome"], c["outcome"], "{name}");
    assert_eq!(
        t["session_id"], invitations[0]["arduino_ota"]["session_id"],
        "{name}"
    );
    assert_eq!(t["invitations"], expected_inv.len(), "{name}");
    match c["transfer"].as_object() {
        None => {
            assert_eq!(t["bytes"], 0, "{name}");
            assert!(t["transfer_flow_id"].is_null(), "{name}");
        }
        Some(x) => {
            let cb = &c["connect_back"];
            let ev = transfers[0];
            assert_eq!(
                (&ev["src_ip"], &ev["src_port"]),
                (&cb["device_ip"], &cb["device_port"]),
                "{name}"
            );
            assert_eq!(
                (&ev["dest_ip"], &ev["dest_port"]),
                (&cb["uploader_ip"], &cb["uploader_port"]),
                "{name}"
            );
            assert_eq!(t["bytes"], x["image_bytes_transferred"], "{name}");
            assert_eq!(t["acked_bytes"], x["last_ack_count"], "{name}");
            assert_eq!(t["received_md5"], x["transferred_md5"], "{name}");
            let whole = x["image_bytes_transferred"] == c["firmware"]["size"];
            let expect_match = if whole {
                Value::Bool(x["transferred_md5"] == c["firmware"]["md5"])
            } else {
                Value::Null
            };
            assert_eq!(t["md5_match"], expect_match, "{name}");
            assert_eq!(t["device_message"], x["final_device_message"], "{name}");
            let first = x["first_bytes_hex"].as_str().unwrap();
            let fw = &t["firmware"];
            match &first[..2] {
                "e9" if first.as_bytes()[16..18] == *b"ee" => {
                    assert_eq!(fw["image_format"], "esp32", "{name}");
                    assert_eq!(fw["chip"], "esp32s3", "{name}");
                    assert_eq!(fw["project_name"], "blink-demo", "{name}");
                    assert_eq!(fw["version"], "1.2.3", "{name}");
                    assert_eq!(fw["idf_version"], "v5.5.1", "{name}");
                    assert_eq!(fw["compile_date"], "Nov 25 2026", "{name}");
                    assert_eq!(fw["compile_time"], "12:34:56", "{name}");
                }
                "e9" => assert_eq!(fw["image_format"], "esp8266", "{name}"),
                _ => assert_eq!(fw["image_format"], "unknown", "{name}"),
            }
        }
    }
}

fn check_esphome(c: &Value, run: &common::Run) {
    let name = c["file"].as_str().unwrap();
    let sessions = run.of_kind("esphome_ota", "session");
    assert_eq!(sessions.len(), 1, "{name}: one ESPHome session");
    let s = &sessions[0];
    let tcp = &c["tcp"];
    assert_eq!(
        (&s["src_ip"], &s["src_port"]),
        (&tcp["uploader_ip"], &tcp["uploader_port"]),
        "{name}"
    );
    assert_eq!(s["dest_port"], tcp["device_port"], "{name}");
    let d = &s["esphome_ota"];
    assert_eq!(d["ota_version"], 2, "{name}");
    assert_eq!(d["features"], 1, "{name}");
    assert_eq!(d["auth"], c["auth_scheme"], "{name}");
    assert_eq!(d["image_size"], c["image_size_field"], "{name}");
    assert_eq!(d["image_md5"], c["image_md5_field"], "{name}");
    assert_eq!(
        d["bytes"], c["transfer"]["image_bytes_transferred"],
        "{name}"
    );
    assert_eq!(d["md5_match"], true, "{name}");
    assert_eq!(d["outcome"], c["outcome"], "{name}");
    assert_eq!(d["accepted"], c["auth_exchanges"][0]["accepted"], "{name}");
    assert_eq!(d["cnonce"], c["auth_exchanges"][0]["cnonce"], "{name}");
    assert_eq!(d["firmware"]["project_name"], "blink-demo", "{name}");
}

#[test]
fn reference_captures_match_their_manifest() {
    let Some(dir) = captures_dir() else {
        eprintln!("skipped: no reference captures (set WATCH3232_CAPTURES)");
        return;
    };
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("MANIFEST.json")).unwrap()).unwrap();
    let mut checked = 0;
    for c in manifest["captures"].as_array().unwrap() {
        let path = dir.join(c["file"].as_str().unwrap());
        let run = common::run(&["read", path.to_str().unwrap()]);
        assert_eq!(run.code, Some(0), "{}: {}", path.display(), run.stderr);
        assert_eq!(
            run.of_type("anomaly").count(),
            0,
            "{}: no anomalies",
            path.display()
        );
        if c["protocol"] == "esphome_native_ota_v2" {
            check_esphome(c, &run);
        } else {
            check_espota(c, &run);
        }
        checked += 1;
    }
    // The merged file: every session once, nothing else.
    let all = common::run(&["read", dir.join("pcap/everything.pcapng").to_str().unwrap()]);
    assert_eq!(all.of_kind("arduino_ota", "transfer").len(), checked - 1);
    assert_eq!(all.of_kind("esphome_ota", "session").len(), 1);
    assert_eq!(all.of_type("anomaly").count(), 0);
    eprintln!("checked {checked} reference captures against MANIFEST.json");
}
