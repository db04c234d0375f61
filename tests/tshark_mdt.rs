//! Cross-check with an independent dissector: tshark decodes the MDT captures and every GRE and
//! PIM field we emit must agree with it. Needs tshark: the tests are `#[ignore]`d and fail when
//! run without it; `.ci/test` runs them (`cargo test -- --ignored`) after .ci/setup installs it.

mod common;

use common::{run, testdata, Run};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const FIELDS: &[&str] = &[
    "frame.number",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "gre.proto",
    "gre.key",
    "gre.sequence_number",
    "gre.checksum.status",
    "pim.type",
    "pim.cksum",
    "pim.cksum.status",
    "pim.holdtime",
    "pim.dr_priority",
    "pim.generation_id",
    "pim.t",
    "pim.propagation_delay",
    "pim.override_interval",
    "pim.address_list",
    "pim.address_list_ip6",
    "pim.upstream_neighbor",
    "pim.group",
    "pim.join_ip",
    "pim.prune_ip",
    "udp.dstport",
    "data.data",
];

/// Frame number → field → every occurrence.
type Frames = BTreeMap<u64, BTreeMap<&'static str, Vec<String>>>;

fn tshark(path: &str) -> Frames {
    let mut frames = Frames::new();
    for cols in common::tshark_fields(path, FIELDS) {
        let number = cols[0][0].parse().unwrap();
        frames.insert(number, FIELDS.iter().copied().zip(cols).collect());
    }
    frames
}

fn ours(name: &str) -> (String, Run) {
    let path = testdata(&format!("mdt/{name}"))
        .to_str()
        .unwrap()
        .to_string();
    let r = run(&["read", &path]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    (path, r)
}

fn one<'a>(row: &'a BTreeMap<&'static str, Vec<String>>, f: &str) -> Option<&'a str> {
    row[f].first().map(String::as_str)
}

fn num(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// GRE delivery header and key against the event's `tunnel` object.
fn check_tunnel(e: &Value, row: &BTreeMap<&'static str, Vec<String>>) -> usize {
    let t = &e["tunnel"];
    if t.is_null() {
        assert!(
            row["gre.key"].is_empty() && row["ip.src"].len() <= 1,
            "bare event, tshark sees GRE: {e}"
        );
        return 0;
    }
    assert_eq!(
        one(row, "ip.src"),
        t["src_ip"].as_str(),
        "outer source, frame {}",
        e["pcap_cnt"]
    );
    assert_eq!(
        one(row, "ip.dst"),
        t["dest_ip"].as_str(),
        "outer destination, frame {}",
        e["pcap_cnt"]
    );
    assert_eq!(
        one(row, "gre.key").map(num),
        t["gre_key"].as_u64(),
        "GRE key, frame {}",
        e["pcap_cnt"]
    );
    if !row["gre.checksum.status"].is_empty() {
        assert_eq!(
            one(row, "gre.checksum.status"),
            Some("1"),
            "GRE checksum good, frame {}",
            e["pcap_cnt"]
        );
    }
    3
}

fn check_pim(m: &Value, row: &BTreeMap<&'static str, Vec<String>>) -> usize {
    let mut n = 0;
    assert_eq!(one(row, "pim.type").map(num), m["pim_type_code"].as_u64());
    assert_eq!(
        one(row, "pim.cksum.status"),
        Some("1"),
        "tshark: PIM checksum good"
    );
    n += 2;
    if let Some(h) = m.get("hello") {
        assert_eq!(one(row, "pim.holdtime").map(num), h["holdtime"].as_u64());
        assert_eq!(
            one(row, "pim.dr_priority").map(num),
            h["dr_priority"].as_u64()
        );
        assert_eq!(
            one(row, "pim.generation_id").map(num),
            h["generation_id"].as_u64()
        );
        let lpd = &h["lan_prune_delay"];
        assert_eq!(
            one(row, "pim.propagation_delay").map(num),
            lpd["propagation_delay_ms"].as_u64()
        );
        assert_eq!(
            one(row, "pim.override_interval").map(num),
            lpd["override_interval_ms"].as_u64()
        );
        assert_eq!(
            one(row, "pim.t").map(|t| t == "1" || t == "True"),
            lpd["t_bit"].as_bool()
        );
        let mut theirs = row["pim.address_list"].clone();
        theirs.extend(row["pim.address_list_ip6"].iter().cloned());
        assert_eq!(theirs, strs(&h["addresses"]));
        n += 7;
    }
    if let Some(jp) = m.get("join_prune") {
        assert_eq!(one(row, "pim.holdtime").map(num), jp["holdtime"].as_u64());
        assert_eq!(
            one(row, "pim.upstream_neighbor"),
            jp["upstream_neighbor"].as_str()
        );
        let groups = jp["groups"].as_array().unwrap();
        let ours: BTreeSet<String> = groups
            .iter()
            .map(|g| g["group"].as_str().unwrap().to_string())
            .collect();
        let theirs: BTreeSet<String> = row["pim.group"].iter().cloned().collect();
        assert_eq!(theirs, ours);
        let list = |k: &str| -> Vec<String> {
            groups
                .iter()
                .flat_map(|g| {
                    g[k].as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s["source"].as_str().unwrap().to_string())
                })
                .collect()
        };
        assert_eq!(row["pim.join_ip"], list("joins"));
        assert_eq!(row["pim.prune_ip"], list("prunes"));
        n += 5;
    }
    n
}

/// tshark has no MDT Join dissector (mdt.md §4): read the TLVs from its `data.data` hex.
fn check_join(m: &Value, row: &BTreeMap<&'static str, Vec<String>>) -> usize {
    assert_eq!(one(row, "udp.dstport"), Some("3232"));
    let hex = one(row, "data.data").expect("payload");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let mut found = false;
    let mut at = 0;
    while at + 4 <= bytes.len() {
        let (t, len) = (
            bytes[at],
            usize::from(u16::from_be_bytes([bytes[at + 1], bytes[at + 2]])),
        );
        let v = &bytes[at..at + len];
        let v4 = |o: usize| std::net::Ipv4Addr::new(v[o], v[o + 1], v[o + 2], v[o + 3]).to_string();
        let v6 = |o: usize| {
            std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&v[o..o + 16]).unwrap()).to_string()
        };
        let tlv = match t {
            1 => Some((v4(4), v4(8), v4(12))),
            4 => Some((v6(4), v6(20), v4(36))),
            _ => None,
        };
        if u64::from(t) == m["tlv_type"].as_u64().unwrap() {
            found |= match tlv {
                Some((s, g, p)) => {
                    m["c_source"].as_str() == Some(&s)
                        && m["c_group"].as_str() == Some(&g)
                        && m["p_group"].as_str() == Some(&p)
                }
                None => m["tlv_length"].as_u64() == Some(len as u64),
            };
        }
        at += len;
    }
    assert!(found, "join {m} not in tshark's payload {hex}");
    4
}

/// Compares every event of a run with tshark's reading of the same capture; returns how many
/// fields agreed.
fn cross_check(r: &Run, frames: &Frames) -> usize {
    let mut compared = 0;
    for e in r.of_type("mdt").filter(|e| e["kind"] != "inventory") {
        let Some(cnt) = e["pcap_cnt"].as_u64() else {
            // Only an expiry has no packet; its fields are the inventory's, checked below.
            assert_eq!(e["mdt"]["change"], "expired");
            continue;
        };
        let row = &frames[&cnt];
        let m = &e["mdt"];
        if e["kind"] == "malformed" {
            continue;
        }
        compared += check_tunnel(e, row);
        compared += match e["kind"].as_str().unwrap() {
            "default_mdt" => {
                assert_eq!(one(row, "ip.src"), m["pe"].as_str());
                assert_eq!(one(row, "ip.dst"), m["p_group"].as_str());
                2
            }
            "pim" => check_pim(m, row),
            "data_mdt_join" => check_join(m, row),
            other => panic!("unexpected kind {other}"),
        };
    }
    // Every PIM message tshark decodes is one we decoded; those it finds valid we accept.
    let pim_frames: Vec<_> = frames
        .values()
        .filter(|r| !r["pim.type"].is_empty())
        .collect();
    let good = pim_frames
        .iter()
        .filter(|r| one(r, "pim.cksum.status") == Some("1"))
        .count();
    let c = &r.summary()["classifiers"];
    assert_eq!(
        c["mdt.pim_messages"].as_u64(),
        Some(pim_frames.len() as u64)
    );
    let malformed = c["mdt.pim_malformed"].as_u64().unwrap_or(0);
    assert_eq!(
        pim_frames.len() as u64 - malformed,
        good as u64,
        "PIM messages we accept = tshark's good ones"
    );
    // The inventory's neighbour state is each neighbour's last valid Hello as tshark reads it.
    type Key = (String, String);
    type Opts = (Option<u64>, Option<u64>, Option<u64>);
    let mut last: BTreeMap<Key, Opts> = BTreeMap::new();
    for row in pim_frames
        .iter()
        .filter(|r| one(r, "pim.type") == Some("0") && one(r, "pim.cksum.status") == Some("1"))
    {
        let in_gre = !row["gre.proto"].is_empty();
        let inner = one(row, "ipv6.src")
            .map(str::to_string)
            .unwrap_or_else(|| row["ip.src"].last().unwrap().clone());
        let mdt = if in_gre {
            row["ip.dst"][0].clone()
        } else {
            "-".to_string()
        };
        let v = |f| one(row, f).map(num);
        last.insert(
            (mdt, inner),
            (
                v("pim.holdtime"),
                v("pim.dr_priority"),
                v("pim.generation_id"),
            ),
        );
    }
    let inv = &r.of_kind("mdt", "inventory")[0]["mdt"];
    let ours: BTreeMap<Key, Opts> = inv["pim_neighbors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let key = (
                n["default_mdt"].as_str().unwrap_or("-").to_string(),
                n["neighbor"].as_str().unwrap().to_string(),
            );
            let v = |f: &str| n[f].as_u64();
            (key, (v("holdtime"), v("dr_priority"), v("generation_id")))
        })
        .collect();
    assert_eq!(ours, last);
    compared
}

#[test]
#[ignore = "needs tshark"]
fn tshark_agrees_with_every_gre_and_pim_field() {
    let (path, r) = ours("mvpn.pcap");
    let frames = tshark(&path);
    let compared = cross_check(&r, &frames);
    eprintln!(
        "tshark agreed on {compared} fields of {} events",
        r.of_type("mdt").count()
    );
    assert!(compared > 150, "{compared}");
}

/// The reference captures of FRR pimd (testdata/real/mdt, docs/testing.md), and any more
/// captures in `WATCH3232_EXTERNAL_MDT` (colon-separated): each must decode with no error, and
/// every field agree with tshark.
#[test]
#[ignore = "needs tshark"]
fn tshark_agrees_on_the_frr_captures() {
    let mut list: Vec<String> = ["frr_pim_plain.pcap", "frr_pim_default_mdt_gre.pcap"]
        .iter()
        .map(|f| {
            common::real_capture(&format!("mdt/{f}"))
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    if let Ok(more) = std::env::var("WATCH3232_EXTERNAL_MDT") {
        list.extend(more.split(':').filter(|p| !p.is_empty()).map(str::to_owned));
    }
    for path in &list {
        let path = path.as_str();
        let r = run(&["read", path]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let frames = tshark(path);
        assert_eq!(r.summary()["decode_errors"], 0, "{path}");
        let compared = cross_check(&r, &frames);
        assert!(compared > 0, "{path}: nothing compared");
        eprintln!(
            "{path}: tshark agreed on {compared} fields of {} events",
            r.of_type("mdt").count()
        );
    }
}

#[test]
#[ignore = "needs tshark"]
fn tshark_agrees_on_the_bad_checksum() {
    let (path, r) = ours("malformed.pcap");
    let frames = tshark(&path);
    let bad = &r.of_kind("mdt", "malformed")[0];
    assert_eq!(bad["mdt"]["reason"], "bad_checksum");
    let row = &frames[&bad["pcap_cnt"].as_u64().unwrap()];
    assert_eq!(one(row, "pim.cksum.status"), Some("0"), "tshark: bad");
    // Ours names the field and the right value; tshark says "Bad checksum [should be 0xd37b]".
    let found = num(one(row, "pim.cksum").unwrap());
    assert_eq!(
        bad["mdt"]["error"],
        format!("PIM checksum 0x{found:04x} is wrong (0xd37b expected)")
    );
}

#[test]
#[ignore = "needs tshark"]
fn tshark_agrees_on_the_mdt_md_examples() {
    let (path, r) = ours("examples.pcap");
    let frames = tshark(&path);
    // Ex. 4: GRE with C, K and S: key 100, sequence 7, checksum good; the hello inside is good.
    let ex4 = &frames[&4];
    assert_eq!(
        (
            one(ex4, "gre.key").map(num),
            one(ex4, "gre.sequence_number").map(num)
        ),
        (Some(100), Some(7))
    );
    assert_eq!(one(ex4, "gre.checksum.status"), Some("1"));
    assert_eq!(one(ex4, "pim.cksum.status"), Some("1"));
    for e in r.of_type("mdt").filter(|e| e["kind"] == "pim") {
        check_tunnel(e, &frames[&e["pcap_cnt"].as_u64().unwrap()]);
        check_pim(&e["mdt"], &frames[&e["pcap_cnt"].as_u64().unwrap()]);
    }
}
