//! `--extract-firmware` for ESPHome uploads (issue 14): written like ArduinoOTA images
//! (`DIR/<md5>.bin`), and an upload that cannot be extracted says so, counted and logged.

mod common;

use common::{real_capture, run, testdata};
use md5::{Digest, Md5};
use serde_json::Value;
use std::path::Path;
use watch3232::capture::savefile::PcapWriter;
use watch3232::capture::{NativeSource, Next};

fn esphome_sessions(r: &common::Run) -> Vec<&Value> {
    r.of_kind("esphome_ota", "session")
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn extract(capture: &Path, dir: &Path) -> common::Run {
    run(&[
        "read",
        "--extract-firmware",
        dir.to_str().unwrap(),
        capture.to_str().unwrap(),
    ])
}

#[test]
fn every_esphome_upload_is_extracted_with_the_md5_it_announced() {
    let captures = [
        testdata("ota/esphome_sha256.pcap"),
        real_capture("ota/esphome_2024_md5_ok.pcap"),
        real_capture("ota/esphome_2026_sha256_ok.pcap"),
        real_capture("ota/esphome_2024_md5_mismatch.pcap"),
    ];
    for capture in &captures {
        let dir = tempfile::tempdir().unwrap();
        let r = extract(capture, dir.path());
        assert_eq!(
            (r.code, r.stderr.as_str()),
            (Some(0), ""),
            "{}",
            capture.display()
        );
        let sessions = esphome_sessions(&r);
        assert_eq!(sessions.len(), 1, "{}", capture.display());
        let d = &sessions[0]["esphome_ota"];
        let announced = d["image_md5"].as_str().unwrap();
        let path = dir.path().join(format!("{announced}.bin"));
        assert_eq!(d["extracted"], path.to_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(md5_hex(&bytes), announced, "{}", capture.display());
        assert_eq!(bytes.len() as u64, d["image_size"].as_u64().unwrap());
        assert_eq!(d["md5_match"], true);
        let c = &r.summary()["classifiers"];
        assert_eq!(c["esphome_ota.firmware_extracted"], 1);
        assert_eq!(c["esphome_ota.firmware_not_extracted"], Value::Null);
    }
}

#[test]
fn a_session_without_an_upload_has_nothing_to_extract() {
    let dir = tempfile::tempdir().unwrap();
    let r = extract(
        &real_capture("ota/esphome_2026_wrong_password.pcap"),
        dir.path(),
    );
    assert_eq!(r.code, Some(0));
    let sessions = esphome_sessions(&r);
    assert_eq!(sessions[0]["esphome_ota"]["outcome"], "auth_failed");
    assert_eq!(sessions[0]["esphome_ota"].get("extracted"), None);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The bundled ESPHome upload with its longest uploader segment (image data) left out.
fn with_a_gap(out: &Path) {
    let input = testdata("ota/esphome_sha256.pcap");
    let file = std::fs::File::open(&input).unwrap();
    let mut src = NativeSource::open("in", Box::new(file)).unwrap().unwrap();
    let mut packets = Vec::new();
    while let Next::Packet(p) = src.next_packet().unwrap() {
        packets.push((p.ts, p.wire_len, p.data.to_vec()));
    }
    let longest = packets.iter().map(|p| p.2.len()).max().unwrap();
    let drop_at = packets.iter().position(|p| p.2.len() == longest).unwrap();
    let link = src.origin().linktype;
    let mut w = PcapWriter::new(std::fs::File::create(out).unwrap(), link, 65535).unwrap();
    for (i, (ts, wire_len, data)) in packets.iter().enumerate() {
        if i != drop_at {
            w.write(*ts, *wire_len, data).unwrap();
        }
    }
    w.finish().unwrap();
}

#[test]
fn an_upload_with_a_gap_is_not_extracted_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("gap.pcap");
    with_a_gap(&capture);
    let fw = dir.path().join("fw");
    let r = extract(&capture, &fw);
    assert_eq!(r.code, Some(0));
    let sessions = esphome_sessions(&r);
    let d = &sessions[0]["esphome_ota"];
    assert_eq!(d["extracted"], "not written: image incomplete");
    assert_eq!(d["md5_match"], Value::Null);
    let c = &r.summary()["classifiers"];
    assert_eq!(c["esphome_ota.firmware_not_extracted"], 1);
    assert_eq!(c["esphome_ota.firmware_extracted"], Value::Null);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("ESPHome upload from 192.0.2.10:51515 (flow ")
            && r.stderr.contains("): firmware not extracted")
            && r.stderr.contains("image incomplete"),
        "{}",
        r.stderr
    );
    assert!(!fw.exists() || std::fs::read_dir(&fw).unwrap().count() == 0);
}
