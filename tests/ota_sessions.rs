//! Whole OTA sessions on the generated captures of `testdata/ota/` (testdata/gen/src/ota.rs):
//! exact events, linking and outcomes, and no anomalies.

mod common;

use common::{run, testdata, Run};
use serde_json::{json, Value};
use watch3232_testgen::espota::md5_hex;
use watch3232_testgen::ota;
use watch3232_testgen::rng::Rng;

fn read(name: &str) -> Run {
    let path = testdata(&format!("ota/{name}.pcap"));
    let r = run(&["read", path.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.of_type("anomaly").count(),
        0,
        "legitimate OTA traffic is never an anomaly"
    );
    r
}

/// (pcap_cnt, flow, event_type, kind) of every event but the summary; flows numbered 1, 2, …
/// in order of first appearance (see [`flow_number`]).
fn outline(r: &Run) -> Vec<(Value, Value, String, String)> {
    r.events
        .iter()
        .filter(|e| e["event_type"] != "stats" && e["kind"] != "inventory")
        .map(|e| {
            (
                e["pcap_cnt"].clone(),
                flow_number(r, &e["flow_id"]),
                e["event_type"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A flow id (a 51-bit hash) as the flow's number in order of first appearance in the run's
/// events, so an outline reads which events share a flow.
fn flow_number(r: &Run, id: &Value) -> Value {
    let mut seen: Vec<&Value> = Vec::new();
    for e in &r.events {
        if e["flow_id"].is_u64() && !seen.contains(&&e["flow_id"]) {
            seen.push(&e["flow_id"]);
        }
    }
    seen.iter()
        .position(|s| *s == id)
        .map_or(Value::Null, |i| json!(i + 1))
}

fn o(cnt: u64, flow: u64, t: &str, k: &str) -> (Value, Value, String, String) {
    (json!(cnt), json!(flow), t.to_string(), k.to_string())
}

#[test]
fn pbkdf2_session_with_reordered_and_retransmitted_segments() {
    let r = read("esp32_pbkdf2_reordered");
    assert_eq!(
        outline(&r),
        vec![
            o(1, 1, "arduino_ota", "invitation"),
            o(2, 1, "arduino_ota", "auth_challenge"),
            // The answer came from a new source port: another UDP flow, same session.
            o(4, 2, "arduino_ota", "auth_result"),
            o(18, 3, "arduino_ota", "transfer"),
        ]
    );
    let image = ota::esp32_image(&mut Rng::new(11), 5000);
    let ch = &r.of_kind("arduino_ota", "auth_challenge")[0]["arduino_ota"];
    assert_eq!(ch["auth_scheme"], "pbkdf2_sha256");
    assert_eq!(ch["nonce"], ota::sha256_hex(b"device micros 123456789"));
    let res = &r.of_kind("arduino_ota", "auth_result")[0];
    assert_eq!(
        res["src_port"],
        r.events[0]["src_port"].as_u64().unwrap() + 17
    );
    assert_eq!(res["arduino_ota"]["accepted"], true);
    let cnonce = res["arduino_ota"]["cnonce"].as_str().unwrap();
    let nonce = ch["nonce"].as_str().unwrap();
    assert_eq!(
        res["arduino_ota"]["response"],
        ota::pbkdf2_response("otapass", nonce, cnonce)
    );
    let t = &r.of_kind("arduino_ota", "transfer")[0];
    assert_eq!(
        (&t["src_ip"], &t["dest_ip"], &t["dest_port"]),
        (&json!(ota::ESP32), &json!(ota::UPLOADER), &json!(41001))
    );
    let d = &t["arduino_ota"];
    assert_eq!(
        (
            &d["session_id"],
            &d["outcome"],
            &d["bytes"],
            &d["acked_bytes"],
            &d["image_size"]
        ),
        (
            &json!(1),
            &json!("complete"),
            &json!(5000),
            &json!(5000),
            &json!(5000)
        )
    );
    assert_eq!(
        (&d["received_md5"], &d["md5_match"]),
        (&json!(md5_hex(&image)), &json!(true))
    );
    assert_eq!(
        (&d["retransmitted_bytes"], &d["out_of_order_segments"]),
        (&json!(1024), &json!(1))
    );
    assert_eq!(
        (
            flow_number(&r, &d["invitation_flow_id"]),
            flow_number(&r, &d["transfer_flow_id"])
        ),
        (json!(1), json!(3))
    );
    assert_eq!(
        (&d["device_message"], &d["auth_scheme"], &d["stream_gaps"]),
        (&json!("OK"), &json!("pbkdf2_sha256"), &json!(false))
    );
    assert_eq!(
        d["firmware"],
        json!({
            "image_format": "esp32", "chip": "esp32s3", "chip_id": 9, "segment_count": 3,
            "flash_mode": "dio", "entry_addr": "0x40375a1c", "project_name": "thermo-7",
            "version": "2.0.1", "idf_version": "v5.4.2", "compile_date": "Nov 24 2026",
            "compile_time": "09:15:00", "elf_sha256": ota::sha256_hex(b"thermo-7.elf"),
            "secure_version": 0
        })
    );
    assert!(d["duration_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn unauthenticated_and_aborted() {
    let r = read("esp32_noauth_aborted");
    assert_eq!(
        outline(&r),
        vec![
            o(1, 1, "arduino_ota", "invitation"),
            o(2, 1, "arduino_ota", "auth_result"),
            o(2, 1, "alert", "ota_unauthenticated"),
            o(12, 2, "arduino_ota", "transfer"),
        ]
    );
    let a = &r.of_kind("arduino_ota", "auth_result")[0]["arduino_ota"];
    assert_eq!(
        *a,
        json!({"session_id": 1, "auth_scheme": "none", "accepted": true, "cnonce": null, "response": null})
    );
    let alert = &r.of_kind("alert", "ota_unauthenticated")[0];
    assert_eq!(
        (&alert["severity"], &alert["alert"]["session_id"]),
        (&json!("medium"), &json!(1))
    );
    let d = &r.of_kind("arduino_ota", "transfer")[0]["arduino_ota"];
    // Two chunks acknowledged, the device closed, espota sent a third (answered by RST).
    assert_eq!(
        (
            &d["outcome"],
            &d["bytes"],
            &d["acked_bytes"],
            &d["md5_match"],
            &d["device_message"]
        ),
        (
            &json!("aborted"),
            &json!(3072),
            &json!(2048),
            &Value::Null,
            &Value::Null
        )
    );
}

#[test]
fn esp8266_filesystem_md5_check_failed() {
    let r = read("esp8266_md5_failed");
    assert_eq!(
        outline(&r),
        vec![
            o(1, 1, "arduino_ota", "invitation"),
            o(2, 1, "arduino_ota", "auth_challenge"),
            o(2, 1, "alert", "ota_weak_auth"),
            o(4, 1, "arduino_ota", "auth_result"),
            o(16, 2, "arduino_ota", "transfer"),
        ]
    );
    let inv = &r.of_kind("arduino_ota", "invitation")[0];
    assert_eq!(
        (&inv["dest_port"], &inv["arduino_ota"]["command"]),
        (&json!(8266), &json!("filesystem"))
    );
    let d = &r.of_kind("arduino_ota", "transfer")[0]["arduino_ota"];
    assert_eq!(
        (
            &d["outcome"],
            &d["device_message"],
            &d["bytes"],
            &d["acked_bytes"],
            &d["command"]
        ),
        (
            &json!("failed"),
            &json!("MD5 Check Failed"),
            &json!(3000),
            &json!(3000),
            &json!("filesystem")
        )
    );
    assert_eq!(
        (&d["firmware"]["image_format"], &d["firmware"]["chip"]),
        (&json!("esp8266"), &json!("esp8266"))
    );
}

#[test]
fn bruteforce_alert_and_no_connect() {
    let r = read("bruteforce_no_connect");
    let failed: Vec<_> = r
        .of_kind("arduino_ota", "transfer")
        .iter()
        .map(|e| e["arduino_ota"]["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        failed,
        ["auth_failed"; 6]
            .iter()
            .chain(&["no_connect"])
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    let bf = r.of_kind("alert", "ota_auth_bruteforce");
    assert_eq!(bf.len(), 1);
    assert_eq!(
        (&bf[0]["pcap_cnt"], &bf[0]["severity"]),
        (&json!(20), &json!("high"))
    );
    assert_eq!(
        (
            &bf[0]["alert"]["failures"],
            &bf[0]["alert"]["window_s"],
            &bf[0]["alert"]["uploader"]
        ),
        (&json!(5), &json!(60), &json!(ota::ATTACKER))
    );
    assert_eq!(r.of_kind("alert", "ota_weak_auth").len(), 6);
    assert_eq!(r.of_kind("alert", "ota_unauthenticated").len(), 1);
    let rejected = r.of_kind("arduino_ota", "auth_result");
    assert_eq!(
        rejected
            .iter()
            .filter(|e| e["arduino_ota"]["accepted"] == false)
            .count(),
        6
    );
    let last = r.of_kind("arduino_ota", "transfer")[6];
    assert_eq!(
        (&last["arduino_ota"]["session_id"], &last["dest_port"]),
        (&json!(7), &json!(8266))
    );
    // Stricter threshold from the command line: an alert already at the third failure.
    let path = testdata("ota/bruteforce_no_connect.pcap");
    let strict = run(&[
        "read",
        "--bruteforce-threshold",
        "3",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        strict.of_kind("alert", "ota_auth_bruteforce")[0]["pcap_cnt"],
        12
    );
    let allow = run(&[
        "read",
        "--ota-uploaders",
        ota::UPLOADER,
        path.to_str().unwrap(),
    ]);
    assert_eq!(allow.of_kind("alert", "ota_unexpected_uploader").len(), 6);
}

#[test]
fn esphome_sha256_session() {
    let r = read("esphome_sha256");
    assert_eq!(outline(&r), vec![o(30, 1, "esphome_ota", "session")]);
    let s = &r.of_kind("esphome_ota", "session")[0];
    assert_eq!(
        (&s["src_ip"], &s["dest_port"]),
        (&json!(ota::UPLOADER), &json!(3232))
    );
    let d = &s["esphome_ota"];
    let image = ota::esp32_image(&mut Rng::new(15), 9000);
    assert_eq!(
        (
            &d["ota_version"],
            &d["features"],
            &d["server_flags"],
            &d["auth"],
            &d["accepted"],
            &d["ota_type"]
        ),
        (
            &json!(2),
            &json!(7),
            &json!(2),
            &json!("sha256"),
            &json!(true),
            &json!(0)
        )
    );
    assert_eq!(d["nonce"], ota::sha256_hex(b"8 random bytes"));
    assert_eq!(
        (
            &d["image_size"],
            &d["bytes"],
            &d["image_md5"],
            &d["md5_match"],
            &d["chunk_acks"]
        ),
        (
            &json!(9000),
            &json!(9000),
            &json!(md5_hex(&image)),
            &json!(true),
            &json!(2)
        )
    );
    assert_eq!(
        (&d["outcome"], &d["error_code"], &d["compressed"]),
        (&json!("complete"), &Value::Null, &json!(false))
    );
    assert_eq!(d["firmware"]["project_name"], "thermo-7");
}

#[test]
fn extract_firmware_writes_md5_named_images() {
    let dir = tempfile::tempdir().unwrap();
    let path = testdata("ota/esp32_pbkdf2_reordered.pcap");
    let r = run(&[
        "read",
        "--extract-firmware",
        dir.path().to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    let image = ota::esp32_image(&mut Rng::new(11), 5000);
    let file = dir.path().join(format!("{}.bin", md5_hex(&image)));
    assert_eq!(std::fs::read(&file).unwrap(), image);
    let d = &r.of_kind("arduino_ota", "transfer")[0]["arduino_ota"];
    assert_eq!(d["extracted"], file.to_str().unwrap());
    // Over the cap: nothing kept, and the event says so.
    let capped = run(&[
        "read",
        "--extract-firmware",
        dir.path().to_str().unwrap(),
        "--max-firmware-bytes",
        "4096",
        path.to_str().unwrap(),
    ]);
    let d = &capped.of_kind("arduino_ota", "transfer")[0]["arduino_ota"];
    assert_eq!(
        (&d["firmware_over_cap"], &d["md5_match"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(
        d["extracted"],
        "not written: larger than --max-firmware-bytes"
    );
}

/// The driver writes the image, not the engine: a failed write is still reported in the
/// transfer event and counted, with one worker or several.
#[test]
fn extract_firmware_reports_a_failed_write() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let path = testdata("ota/esp32_pbkdf2_reordered.pcap");
    for workers in ["1", "2"] {
        let r = run(&[
            "read",
            "--workers",
            workers,
            "--extract-firmware",
            not_a_dir.join("images").to_str().unwrap(),
            path.to_str().unwrap(),
        ]);
        let d = &r.of_kind("arduino_ota", "transfer")[0]["arduino_ota"];
        let extracted = d["extracted"].as_str().unwrap();
        assert!(extracted.starts_with("not written: "), "{extracted}");
        assert!(r.stderr.contains("cannot write firmware"), "{}", r.stderr);
        let counters = &r.summary()["classifiers"];
        assert_eq!(
            counters["arduino_ota.firmware_write_errors"], 1,
            "{counters}"
        );
        assert_eq!(
            counters["arduino_ota.firmware_extracted"]
                .as_u64()
                .unwrap_or(0),
            0
        );
    }
}

#[test]
fn mdns_announcements_and_inventory() {
    let r = read("mdns_devices");
    let ann = r.of_kind("device", "announcement");
    assert_eq!(
        ann.len(),
        2,
        "a repeated announcement is reported once; queries never"
    );
    assert_eq!(
        ann[0]["device"],
        json!({
            "service": "_arduino._tcp", "instance": "esp32-240ac4123456",
            "hostname": "esp32-240ac4123456", "address": "192.0.2.50", "ota_port": 3232,
            "port": 3232, "board": "esp32s3", "auth_upload": true,
            "txt": {"auth_upload": "yes", "board": "esp32s3", "ssh_upload": "no", "tcp_check": "no"},
            "mac": "24:0a:c4:12:34:56", "vendor": "Espressif Inc."
        })
    );
    assert_eq!(
        (
            &ann[1]["device"]["service"],
            &ann[1]["device"]["ota_port"],
            &ann[1]["device"]["port"]
        ),
        (&json!("_esphomelib._tcp"), &Value::Null, &json!(6053))
    );
    assert_eq!(r.summary()["classifiers"]["mdns.malformed"], 1);
    let inv = r.of_kind("device", "inventory");
    assert_eq!(inv.len(), 2);
    let esp = &inv[0]["device"];
    assert_eq!(
        (
            &esp["address"],
            &esp["hostname"],
            &esp["board"],
            &esp["auth_upload"]
        ),
        (
            &json!(ota::ESP32),
            &json!("esp32-240ac4123456"),
            &json!("esp32s3"),
            &json!(true)
        )
    );
    assert_eq!(
        (&esp["ota_sessions"], &esp["outcomes"], &esp["auth_seen"]),
        (&json!(1), &json!({"complete": 1}), &json!(["none"]))
    );
    assert_eq!(
        (
            &esp["last_update"]["project_name"],
            &esp["last_update"]["outcome"]
        ),
        (&json!("thermo-7"), &json!("complete"))
    );
    assert_eq!(
        (&esp["vendor"], &esp["services"]),
        (&json!("Espressif Inc."), &json!(["_arduino._tcp"]))
    );
    assert_eq!(inv[1]["device"]["address"], "192.0.2.60");
}
