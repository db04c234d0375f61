//! Flow ids that do not collide (issue 18): a hash of the flow and its start into 51 bits
//! (`src/flow/flow_id.rs`), so captures of different traffic share none, one flow keeps one id
//! on all its events, and the same traffic gives the same ids (golden stays reproducible).

mod common;

use common::{run, testdata, Run};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn read(rel: &str) -> Run {
    let r = run(&["read", testdata(rel).to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{rel}: {}", r.stderr);
    r
}

/// Every flow id a run's events name: each event's own and the `*_flow_id` references.
fn flow_ids(r: &Run) -> BTreeSet<u64> {
    fn walk(v: &Value, out: &mut BTreeSet<u64>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    match x.as_u64() {
                        Some(id) if k == "flow_id" || k.ends_with("_flow_id") => {
                            out.insert(id);
                        }
                        _ => walk(x, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    r.events.iter().for_each(|e| walk(e, &mut out));
    out
}

/// Captures of different traffic (links/ and tour hold demo's traffic again).
const DIFFERENT_TRAFFIC: &[&str] = &[
    "demo.pcapng",
    "anomaly/mixed.pcap",
    "mdt/examples.pcap",
    "mdt/malformed.pcap",
    "mdt/mvpn.pcap",
    "ota/bruteforce_no_connect.pcap",
    "ota/esp32_noauth_aborted.pcap",
    "ota/esp32_pbkdf2_reordered.pcap",
    "ota/esp8266_md5_failed.pcap",
    "ota/esphome_sha256.pcap",
    "ota/mdns_devices.pcap",
];

#[test]
fn captures_of_different_traffic_share_no_flow_id() {
    let mut owner: BTreeMap<u64, &str> = BTreeMap::new();
    let mut total = 0;
    for rel in DIFFERENT_TRAFFIC {
        let ids = flow_ids(&read(rel));
        assert!(!ids.is_empty(), "{rel} has flows");
        for id in ids {
            assert!(id > 0 && id < 1 << 51, "{rel}: {id} is not a 51-bit id");
            if let Some(other) = owner.insert(id, rel) {
                panic!("flow id {id} in both {other} and {rel}");
            }
            total += 1;
        }
    }
    assert_eq!(total, 67, "flows named by the events of those captures");
}

#[test]
fn the_same_traffic_gives_the_same_ids_in_every_run() {
    let demo = flow_ids(&read("demo.pcapng"));
    assert_eq!(demo.len(), 12);
    // The same packets at the same times over another link layer, and a second run.
    assert_eq!(flow_ids(&read("links/sll2.pcap")), demo);
    assert_eq!(flow_ids(&read("demo.pcapng")), demo);
}

#[test]
fn every_event_of_a_flow_carries_its_one_id() {
    let r = read("tour.pcapng");
    // One id names one flow (one Community ID) and every reference names a flow that has events.
    let mut community: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
    for e in &r.events {
        if let Some(id) = e["flow_id"].as_u64() {
            community
                .entry(id)
                .or_default()
                .insert(e["community_id"].as_str().unwrap());
        }
    }
    assert_eq!(community.len(), 59);
    assert!(community.values().all(|c| c.len() == 1), "{community:?}");
    let referenced = flow_ids(&r);
    assert!(referenced.iter().all(|id| community.contains_key(id)));
    // An ArduinoOTA session spans a UDP flow and the device's TCP connect-back: its transfer
    // event is the TCP flow's and names both, the invitation's UDP flow being the alert's.
    let transfer = r
        .of_kind("arduino_ota", "transfer")
        .into_iter()
        .find(|t| t["proto"] == "TCP")
        .expect("a transfer over TCP");
    let d = &transfer["arduino_ota"];
    assert_eq!(d["transfer_flow_id"], transfer["flow_id"]);
    let udp = d["invitation_flow_id"].as_u64().unwrap();
    assert_ne!(Some(udp), transfer["flow_id"].as_u64());
    let session = &d["session_id"];
    assert!(r
        .of_kind("arduino_ota", "invitation")
        .iter()
        .any(|e| &e["arduino_ota"]["session_id"] == session && e["flow_id"] == udp));
    for a in r.of_type("alert") {
        assert_eq!(a["alert"]["flow_id"], a["flow_id"], "{a}");
    }
}
