//! End to end: the MDT captures of `testdata/mdt/` (built by testgen's `mdt` module) give
//! exactly the events their scenarios describe.

mod common;

use common::{run, testdata, Run};
use serde_json::{json, Value};

fn read(name: &str, extra: &[&str]) -> Run {
    let path = testdata(&format!("mdt/{name}"));
    let mut args = vec!["read"];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    let r = run(&args);
    assert_eq!(r.code, Some(0), "stderr: {}", r.stderr);
    r
}

/// One line per `mdt` event (inventory aside): packet, kind, flow, tunnel and the key fields.
fn line(e: &Value) -> String {
    let m = &e["mdt"];
    let t = &e["tunnel"];
    let tunnel = if t.is_null() {
        "bare".to_string()
    } else {
        let key = t
            .get("gre_key")
            .map(|k| format!(" key {k}"))
            .unwrap_or_default();
        format!(
            "{}>{}{key}",
            t["src_ip"].as_str().unwrap(),
            t["dest_ip"].as_str().unwrap()
        )
    };
    let s = |k: &str| m[k].as_str().unwrap_or("-").to_string();
    let what = match e["kind"].as_str().unwrap() {
        "default_mdt" => format!(
            "pe {} group {} via {}",
            s("pe"),
            s("p_group"),
            s("seen_via")
        ),
        "pim" => {
            let mut w = format!("{} from {}", s("pim_type"), s("neighbor"));
            if let Some(c) = m["change"].as_str() {
                w += &format!(" {c}");
            }
            if let Some(h) = m.get("hello") {
                w += &format!(
                    " hold {} prio {} genid {}",
                    h["holdtime"], h["dr_priority"], h["generation_id"]
                );
            }
            if let Some(g) = m["previous_generation_id"].as_u64() {
                w += &format!(" was {g}");
            }
            if let Some(jp) = m.get("join_prune") {
                w += &format!(" to {}", jp["upstream_neighbor"].as_str().unwrap());
                for g in jp["groups"].as_array().unwrap() {
                    let n = |k: &str| g[k].as_array().unwrap().len();
                    w += &format!(
                        " {} +{} -{}",
                        g["group"].as_str().unwrap(),
                        n("joins"),
                        n("prunes")
                    );
                }
            }
            w
        }
        "data_mdt_join" => {
            let mut w = format!("type {} pe {}", m["tlv_type"], s("pe"));
            if m.get("c_source").is_some() {
                w += &format!(" ({}, {}) -> {}", s("c_source"), s("c_group"), s("p_group"));
            } else {
                w += &format!(" length {} value {}", m["tlv_length"], s("value_hex"));
            }
            if let Some(p) = m["previous_p_group"].as_str() {
                w += &format!(" from {p}");
            }
            w += &format!(" encapsulated {}", m["encapsulated"]);
            w
        }
        "malformed" => format!("{} {}: {}", s("protocol"), s("reason"), s("error")),
        other => panic!("unexpected kind {other}"),
    };
    format!(
        "{} {} {}>{} [{tunnel}] {what}",
        e["pcap_cnt"],
        e["kind"].as_str().unwrap(),
        e["src_ip"].as_str().unwrap(),
        e["dest_ip"].as_str().unwrap()
    )
}

fn lines(r: &Run) -> Vec<String> {
    r.of_type("mdt")
        .filter(|e| e["kind"] != "inventory")
        .map(line)
        .collect()
}

fn inventory(r: &Run) -> &Value {
    let inv = r.of_kind("mdt", "inventory");
    assert_eq!(inv.len(), 1);
    &inv[0]["mdt"]
}

#[test]
fn mvpn_core_events() {
    let r = read("mvpn.pcap", &[]);
    let a = "192.0.2.1>239.1.1.1";
    let expected = [
        format!("1 default_mdt 192.0.2.1>224.0.0.13 [{a}] pe 192.0.2.1 group 239.1.1.1 via pim"),
        format!("1 pim 192.0.2.1>224.0.0.13 [{a}] hello from 192.0.2.1 new hold 105 prio 1 genid 439041280"),
        format!("2 pim ::ffff:192.0.2.1>ff02::d [{a}] hello from ::ffff:192.0.2.1 new hold 105 prio 1 genid 439041286"),
        "3 default_mdt 192.0.2.2>224.0.0.13 [192.0.2.2>239.1.1.1] pe 192.0.2.2 group 239.1.1.1 via pim".into(),
        "3 pim 192.0.2.2>224.0.0.13 [192.0.2.2>239.1.1.1] hello from 192.0.2.2 new hold 105 prio 10 genid 439041536".into(),
        "4 default_mdt 192.0.2.3>224.0.0.13 [192.0.2.3>239.1.1.1 key 100] pe 192.0.2.3 group 239.1.1.1 via pim".into(),
        "4 pim 192.0.2.3>224.0.0.13 [192.0.2.3>239.1.1.1 key 100] hello from 192.0.2.3 new hold 105 prio 1 genid 439041792".into(),
        "5 default_mdt 192.0.2.1>224.0.0.13 [192.0.2.1>239.1.1.2] pe 192.0.2.1 group 239.1.1.2 via pim".into(),
        "5 pim 192.0.2.1>224.0.0.13 [192.0.2.1>239.1.1.2] hello from 192.0.2.1 new hold 105 prio 1 genid 439041291".into(),
        "6 default_mdt 192.0.2.2>224.0.0.13 [192.0.2.2>239.1.1.2 key 7] pe 192.0.2.2 group 239.1.1.2 via pim".into(),
        "6 pim 192.0.2.2>224.0.0.13 [192.0.2.2>239.1.1.2 key 7] hello from 192.0.2.2 new hold 105 prio 1 genid 439041547".into(),
        "7 default_mdt 192.0.2.4>224.0.0.13 [192.0.2.4>239.1.1.2] pe 192.0.2.4 group 239.1.1.2 via pim".into(),
        "7 pim 192.0.2.4>224.0.0.13 [192.0.2.4>239.1.1.2] hello from 192.0.2.4 new hold 105 prio 1 genid 439042059".into(),
        "8 pim 192.0.2.3>224.0.0.13 [192.0.2.3>239.1.1.1 key 100] join_prune from 192.0.2.3 to 192.0.2.1 232.5.5.5 +1 -0".into(),
        format!("9 data_mdt_join 192.0.2.1>224.0.0.13 [{a}] type 1 pe 192.0.2.1 (10.1.1.10, 232.5.5.5) -> 239.1.2.0 encapsulated true"),
        format!("9 data_mdt_join 192.0.2.1>224.0.0.13 [{a}] type 1 pe 192.0.2.1 (10.1.1.11, 232.5.5.6) -> 239.1.2.1 encapsulated true"),
        "10 data_mdt_join ::ffff:192.0.2.2>ff02::d [192.0.2.2>239.1.1.2 key 7] type 4 pe 192.0.2.2 (2001:db8:1::10, ff3e::8001) -> 239.1.2.9 encapsulated true".into(),
        "26 data_mdt_join 192.0.2.3>224.0.0.13 [bare] type 1 pe 192.0.2.3 (10.3.3.3, 232.7.7.7) -> 239.1.2.7 encapsulated false".into(),
        "35 data_mdt_join 192.0.2.3>224.0.0.13 [192.0.2.3>239.1.1.1 key 100] type 7 pe 192.0.2.3 length 8 value deadbeef encapsulated true".into(),
        "44 pim 192.0.2.2>224.0.0.13 [192.0.2.2>239.1.1.1] assert from 192.0.2.2".into(),
        "57 pim 192.0.2.3>224.0.0.13 [192.0.2.3>239.1.1.1 key 100] hello from 192.0.2.3 restart hold 105 prio 1 genid 439041793 was 439041792".into(),
        // No packet: PE4's holdtime ran out (69 s + 105 s).
        "null pim 192.0.2.4>224.0.0.13 [192.0.2.4>239.1.1.2] hello from 192.0.2.4 expired hold 105 prio 1 genid 439042059".into(),
        "66 pim 192.0.2.3>224.0.0.13 [192.0.2.3>239.1.1.1 key 100] join_prune from 192.0.2.3 to 192.0.2.1 232.5.5.5 +1 -1".into(),
        format!("67 data_mdt_join 192.0.2.1>224.0.0.13 [{a}] type 1 pe 192.0.2.1 (10.1.1.11, 232.5.5.6) -> 239.1.2.5 from 239.1.2.1 encapsulated true"),
        "70 pim 192.0.2.2>224.0.0.13 [192.0.2.2>239.1.1.2 key 7] hello from 192.0.2.2 leaving hold 0 prio 1 genid 439041547".into(),
        format!("75 pim 192.0.2.1>224.0.0.13 [{a}] hello from 192.0.2.1 options hold 105 prio 5 genid 439041280"),
    ];
    assert_eq!(lines(&r), expected);
    assert_eq!(r.summary()["events"]["mdt"], 27);
    let expired = r
        .of_kind("mdt", "pim")
        .into_iter()
        .find(|e| e["mdt"]["change"] == "expired")
        .unwrap();
    assert_eq!(expired["timestamp"], "2026-11-29T20:02:54.000000Z");
    assert_eq!(
        (
            expired["flow_id"].is_u64(),
            expired["community_id"].is_string()
        ),
        (true, true)
    );
}

#[test]
fn mvpn_event_details_are_complete() {
    let r = read("mvpn.pcap", &[]);
    let first_hello = &r.of_kind("mdt", "pim")[0];
    assert_eq!(first_hello["proto"], "PIM");
    assert_eq!(first_hello["timestamp"], "2026-11-29T20:00:00.000000Z");
    assert_eq!(
        first_hello["tunnel"],
        json!({"src_ip": "192.0.2.1", "dest_ip": "239.1.1.1", "proto": "GRE", "depth": 1})
    );
    assert_eq!(
        first_hello["mdt"],
        json!({
            "pim_type": "hello", "pim_type_code": 0, "neighbor": "192.0.2.1",
            "default_mdt": "239.1.1.1", "pe": "192.0.2.1", "change": "new",
            "hello": {
                "holdtime": 105,
                "lan_prune_delay": {"t_bit": false, "propagation_delay_ms": 500, "override_interval_ms": 2500},
                "dr_priority": 1, "generation_id": 439041280,
                "addresses": ["198.51.100.1"], "unknown_options": []
            }
        })
    );
    let jp = r
        .of_kind("mdt", "pim")
        .into_iter()
        .find(|e| e["mdt"]["pim_type"] == "join_prune")
        .unwrap();
    assert_eq!(
        jp["mdt"]["join_prune"],
        json!({
            "upstream_neighbor": "192.0.2.1", "holdtime": 210,
            "groups": [{
                "group": "232.5.5.5", "mask_len": 32, "bidir": false, "zone": false,
                "joins": [{"source": "10.1.1.10", "mask_len": 32, "sparse": true, "wildcard": false, "rpt": false}],
                "prunes": []
            }]
        })
    );
    let v6 = r
        .of_kind("mdt", "data_mdt_join")
        .into_iter()
        .find(|e| e["mdt"]["tlv_type"] == 4)
        .unwrap();
    assert_eq!(
        (
            v6["src_port"].as_u64(),
            v6["dest_port"].as_u64(),
            v6["proto"].as_str()
        ),
        (Some(3232), Some(3232), Some("UDP"))
    );
    assert_eq!(
        v6["mdt"],
        json!({
            "tlv_type": 4, "pe": "192.0.2.2", "c_source": "2001:db8:1::10", "c_group": "ff3e::8001",
            "p_group": "239.1.2.9", "encapsulated": true, "p_group_default": "239.1.1.2"
        })
    );
}

#[test]
fn mvpn_inventory() {
    let r = read("mvpn.pcap", &[]);
    let inv = inventory(&r);
    let pes: Vec<_> = inv["pes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["pe"].clone(),
                p["default_mdts"].clone(),
                p["data_mdts"].clone(),
            )
        })
        .collect();
    assert_eq!(
        pes,
        vec![
            (
                json!("192.0.2.1"),
                json!(["239.1.1.1", "239.1.1.2"]),
                json!(2)
            ),
            (
                json!("192.0.2.2"),
                json!(["239.1.1.1", "239.1.1.2"]),
                json!(1)
            ),
            (json!("192.0.2.3"), json!(["239.1.1.1"]), json!(1)),
            (json!("192.0.2.4"), json!(["239.1.1.2"]), json!(0)),
        ]
    );
    let groups: Vec<_> = inv["default_mdts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["p_group"].clone(), g["pes"].clone()))
        .collect();
    assert_eq!(
        groups,
        vec![
            (
                json!("239.1.1.1"),
                json!(["192.0.2.1", "192.0.2.2", "192.0.2.3"])
            ),
            (
                json!("239.1.1.2"),
                json!(["192.0.2.1", "192.0.2.2", "192.0.2.4"])
            ),
        ]
    );
    let neighbors: Vec<String> = inv["pim_neighbors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{} in {} prio {} dr {} {} restarts {} hellos {}",
                n["neighbor"].as_str().unwrap(),
                n["default_mdt"].as_str().unwrap(),
                n["dr_priority"],
                n["dr"],
                n["state"].as_str().unwrap(),
                n["restarts"],
                n["hellos"]
            )
        })
        .collect();
    assert_eq!(
        neighbors,
        [
            "192.0.2.1 in 239.1.1.1 prio 5 dr false up restarts 0 hellos 12",
            "192.0.2.2 in 239.1.1.1 prio 10 dr true up restarts 0 hellos 12",
            "192.0.2.3 in 239.1.1.1 prio 1 dr false up restarts 1 hellos 12",
            "::ffff:192.0.2.1 in 239.1.1.1 prio 1 dr true up restarts 0 hellos 12",
            "192.0.2.1 in 239.1.1.2 prio 1 dr true up restarts 0 hellos 12",
            "192.0.2.2 in 239.1.1.2 prio 1 dr false left restarts 0 hellos 8",
            "192.0.2.4 in 239.1.1.2 prio 1 dr false expired restarts 0 hellos 3",
        ]
    );
    assert_eq!(
        inv["data_mdts"],
        json!([
            {"pe": "192.0.2.1", "c_source": "10.1.1.10", "c_group": "232.5.5.5", "p_group": "239.1.2.0", "tlv_type": 1,
             "joins": 6, "data_packets": 5, "first_seen": "2026-11-29T20:00:20.000000Z", "last_seen": "2026-11-29T20:05:20.000000Z"},
            {"pe": "192.0.2.1", "c_source": "10.1.1.11", "c_group": "232.5.5.6", "p_group": "239.1.2.5", "tlv_type": 1,
             "joins": 3, "data_packets": 0, "first_seen": "2026-11-29T20:00:20.000000Z", "last_seen": "2026-11-29T20:05:20.000000Z"},
            {"pe": "192.0.2.2", "c_source": "2001:db8:1::10", "c_group": "ff3e::8001", "p_group": "239.1.2.9", "tlv_type": 4,
             "joins": 6, "data_packets": 3, "first_seen": "2026-11-29T20:00:20.500000Z", "last_seen": "2026-11-29T20:05:20.500000Z"},
            {"pe": "192.0.2.3", "c_source": "10.3.3.3", "c_group": "232.7.7.7", "p_group": "239.1.2.7", "tlv_type": 1,
             "joins": 1, "data_packets": 0, "first_seen": "2026-11-29T20:00:50.000000Z", "last_seen": "2026-11-29T20:00:50.000000Z"}
        ])
    );
    let p_groups: Vec<String> = inv["p_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{}>{} {} {} mpls {}",
                g["pe"].as_str().unwrap(),
                g["p_group"].as_str().unwrap(),
                g["role"].as_str().unwrap(),
                g["packets"],
                g["mpls_packets"]
            )
        })
        .collect();
    assert_eq!(
        p_groups,
        [
            // PE1 in A: 24 hellos + 6 joins; the customer flow; MPLS.
            "192.0.2.1>239.1.1.1 default 30 mpls 0",
            "192.0.2.1>239.1.1.2 default 12 mpls 0",
            "192.0.2.1>239.1.2.0 data 5 mpls 0",
            "192.0.2.1>239.1.3.0 unknown 3 mpls 3",
            // PE2 in A: 12 hellos + an Assert; in B: 8 hellos + 6 joins.
            "192.0.2.2>239.1.1.1 default 13 mpls 0",
            "192.0.2.2>239.1.1.2 default 14 mpls 0",
            // PE2's IPv6 customer flow on its data MDT.
            "192.0.2.2>239.1.2.9 data 3 mpls 0",
            // PE3 in A: 12 hellos, 6 join/prunes, the unknown TLV.
            "192.0.2.3>239.1.1.1 default 19 mpls 0",
            // PE4 in B: 3 hellos.
            "192.0.2.4>239.1.1.2 default 3 mpls 0",
        ]
    );
    assert_eq!(
        inv["evictions"],
        json!({"default_mdts": 0, "pim_neighbors": 0, "data_mdts": 0, "join_prunes": 0, "p_groups": 0, "gre_errors": 0})
    );
}

#[test]
fn mvpn_counters() {
    let r = read("mvpn.pcap", &[]);
    let c = &r.summary()["classifiers"];
    let expect = [
        ("mdt.pim_messages", 78),
        ("mdt.pim_hellos", 71),
        ("mdt.pim_hello_refreshes", 61),
        ("mdt.pim_join_prunes", 6),
        ("mdt.pim_join_prune_refreshes", 4),
        ("mdt.pim_other_types", 1),
        ("mdt.join_datagrams", 14),
        ("mdt.join_tlvs", 20),
        ("mdt.join_refreshes", 14),
        ("mdt.join_unknown_types", 1),
        ("mdt.join_bare", 1),
        ("mdt.gre_customer_packets", 8),
        ("mdt.data_mdt_packets", 8),
        ("mdt.gre_mpls", 3),
        ("mdt.pim_neighbors_expired", 1),
    ];
    for (k, v) in expect {
        assert_eq!(c[k], v, "{k}");
    }
    assert_eq!(r.summary()["packets"], 103);
    assert_eq!(r.summary()["decode_errors"], 0);
}

#[test]
fn malformed_input_is_counted_and_reported() {
    let r = read("malformed.pcap", &[]);
    let a = "192.0.2.1>239.1.1.1";
    assert_eq!(
        lines(&r),
        [
            "1 malformed 192.0.2.2>224.0.0.13 [192.0.2.2>239.1.1.1] pim bad_checksum: PIM checksum 0x2c7b is wrong (0xd37b expected)".to_string(),
            "2 default_mdt 192.0.2.3>224.0.0.13 [192.0.2.3>239.1.1.1] pe 192.0.2.3 group 239.1.1.1 via pim".into(),
            "2 malformed 192.0.2.3>224.0.0.13 [192.0.2.3>239.1.1.1] pim option_past_end: PIM Hello option 1 at offset 4: length 8 runs past the end (2 bytes left)".into(),
            "3 malformed 192.0.2.99>224.0.0.13 [bare] data_mdt_join bad_length: MDT Join TLV type 1 at offset 0: length 20, expected 16".into(),
            format!("5 malformed 192.0.2.1>224.0.0.13 [{a}] data_mdt_join past_end: MDT Join TLV at offset 0: length 16 runs past the end (12 bytes left)"),
            // GRE that does not decode, sent into the default MDT: reported by reason.
            "6 malformed 192.0.2.1>239.1.1.1 [bare] gre gre_version: GRE at offset 34: GRE version 1 (only version 0 is GRE; 1 is PPTP's enhanced GRE)".into(),
            "7 malformed 192.0.2.1>239.1.1.1 [bare] gre gre_reserved_bits: GRE at offset 34: GRE flags 0x4000 set bits RFC 2784 requires a receiver to discard".into(),
            "8 malformed 192.0.2.1>239.1.1.1 [bare] gre truncated: GRE at offset 34: GRE header needs 4 bytes, 2 captured".into(),
            "9 malformed 192.0.2.1>239.1.1.1 [bare] gre tunnel_too_deep: GRE nested deeper than 4 levels".into(),
            // GRE with a bad checksum is still decoded (and counted).
            format!("10 default_mdt 192.0.2.1>224.0.0.13 [{a}] pe 192.0.2.1 group 239.1.1.1 via pim"),
            format!("10 pim 192.0.2.1>224.0.0.13 [{a}] hello from 192.0.2.1 new hold 105 prio 1 genid 44"),
        ]
    );
    let s = r.summary();
    assert_eq!(
        s["decode_error_kinds"],
        json!({"gre.gre_reserved_bits": 1, "gre.gre_version": 1, "gre.truncated": 1, "gre.tunnel_too_deep": 1})
    );
    let c = &s["classifiers"];
    let expect = [
        ("mdt.pim_malformed", 2),
        ("mdt.pim_bad_checksum", 1),
        ("mdt.pim_option_past_end", 1),
        ("mdt.join_malformed", 3),
        ("mdt.join_bad_length", 1),
        ("mdt.join_past_end", 1),
        // The unicast datagram to 192.0.2.1:3232 goes to the anomaly path (flow.malformed).
        ("mdt.join_length_too_short", 1),
        ("mdt.gre_bad_checksum", 1),
        ("mdt.gre_errors_to_groups", 4),
    ];
    for (k, v) in expect {
        assert_eq!(c[k], v, "{k}");
    }
    assert_eq!(
        r.of_kind("mdt", "malformed")
            .iter()
            .map(|e| e["severity"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["low"; 8]
    );
}

#[test]
fn mdt_md_examples() {
    let r = read("examples.pcap", &[]);
    assert_eq!(
        lines(&r),
        [
            "1 default_mdt 192.0.2.1>224.0.0.13 [192.0.2.1>239.1.1.1] pe 192.0.2.1 group 239.1.1.1 via pim",
            "1 pim 192.0.2.1>224.0.0.13 [192.0.2.1>239.1.1.1] hello from 192.0.2.1 new hold 105 prio 1 genid 439041101",
            "2 data_mdt_join 192.0.2.1>224.0.0.13 [192.0.2.1>239.1.1.1] type 1 pe 192.0.2.1 (10.1.1.10, 232.5.5.5) -> 239.1.2.0 encapsulated true",
        ]
    );
    // Community ID of the join's flow, as computed in research notes §3.
    let join = &r.of_kind("mdt", "data_mdt_join")[0];
    assert_eq!(join["community_id"], "1:lvz4QGKlsDEirP2PxzDLBVRs5oQ=");
    // Ex. 3 (bare) and Ex. 4 (GRE C|K|S) repeat what is known: counted, not re-reported.
    let c = &r.summary()["classifiers"];
    assert_eq!(
        (
            c["mdt.join_refreshes"].as_u64(),
            c["mdt.pim_hello_refreshes"].as_u64()
        ),
        (Some(1), Some(1))
    );
}

#[test]
fn table_caps_evict_and_count() {
    let r = read("mvpn.pcap", &["--mdt-max-entries", "2"]);
    let inv = inventory(&r);
    for table in ["pim_neighbors", "data_mdts", "p_groups"] {
        assert_eq!(inv[table].as_array().unwrap().len(), 2, "{table}");
    }
    let c = &r.summary()["classifiers"];
    for (table, counter) in [
        ("default_mdts", "mdt.evicted_default_mdts"),
        ("pim_neighbors", "mdt.evicted_pim_neighbors"),
        ("data_mdts", "mdt.evicted_data_mdts"),
        ("p_groups", "mdt.evicted_p_groups"),
    ] {
        let n = inv["evictions"][table].as_u64().unwrap();
        assert!(n > 0, "{table}");
        assert_eq!(c[counter].as_u64(), Some(n), "{table}");
    }
}

#[test]
fn inventory_every_stats_interval_and_at_the_end() {
    let path = testdata("mdt/mvpn.pcap");
    let r = run(&["read", "--stats-interval", "60", path.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let kinds: Vec<(&str, &str)> = r
        .events
        .iter()
        .filter(|e| e["kind"] == "inventory" || e["event_type"] == "stats")
        .map(|e| {
            (
                e["event_type"].as_str().unwrap(),
                e["kind"].as_str().unwrap(),
            )
        })
        .collect();
    // The capture spans 5.6 minutes of packet time: five periodic snapshots, then the final one,
    // each just before its stats event. Snapshots keep the state: the last one is the fullest.
    let pair = [("mdt", "inventory"), ("stats", "periodic")];
    let mut want: Vec<(&str, &str)> = pair.iter().copied().cycle().take(10).collect();
    want.extend([("mdt", "inventory"), ("stats", "summary")]);
    assert_eq!(kinds, want);
    let inventories = r.of_kind("mdt", "inventory");
    let pes = |e: &Value| e["mdt"]["pes"].as_array().map_or(0, Vec::len);
    assert!(pes(inventories[0]) > 0);
    assert!(pes(inventories[5]) >= pes(inventories[0]));
}
