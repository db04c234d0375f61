//! EVE output checked against Suricata's own EVE schema (`etc/schema.json` of Suricata 7.0.17,
//! vendored in `testdata/reference/suricata/`, GPL-2.0, provenance in its README): every field
//! watch3232 shares with Suricata (a path Suricata's schema defines: top-level, `alert`,
//! `tunnel`, …) has Suricata's type, in every event of every bundled capture. Fields Suricata
//! does not define are watch3232's own and are not checked here (`watch3232 schema` covers them).

mod common;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The upstream file's sha256 (testdata/reference/README.md): the vendored copy is unmodified.
const SCHEMA_SHA256: &str = "9109af8b650fb65d927b79b95eb27141b9196d9131d18c79e4ddce15584c2cec";

/// Shared fields whose value differs from Suricata's pattern by design, and the rewrite that
/// makes it match: `timestamp` is RFC 3339 with `Z` where Suricata writes `+0000` (both
/// ISO 8601; docs/events.md, Common fields).
const PATTERN_EXCEPTIONS: &[(&str, (&str, &str))] = &[("timestamp", ("Z", "+0000"))];

fn load_schema() -> Value {
    use sha2::Digest;
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference/suricata/schema.json");
    let bytes = std::fs::read(path).expect("the vendored Suricata schema");
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&bytes)),
        SCHEMA_SHA256,
        "the vendored schema.json is Suricata 7.0.17's"
    );
    serde_json::from_slice(&bytes).unwrap()
}

/// A schema with its `$ref` (`#/$defs/NAME`) followed.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/$defs/").expect("refs into $defs");
            resolve(root, &root["$defs"][name])
        }
        None => schema,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(schema: &Value, v: &Value) -> bool {
    let got = json_type(v);
    let ok = |t: &str| t == got || (t == "number" && got == "integer");
    match schema.get("type") {
        Some(Value::String(t)) => ok(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(ok),
        _ => true,
    }
}

/// Checks `v` at `path` against Suricata's `schema` for it, then every child Suricata defines.
fn check(
    root: &Value,
    schema: &Value,
    path: &str,
    v: &Value,
    shared: &mut BTreeSet<String>,
    problems: &mut BTreeSet<String>,
) {
    let schema = resolve(root, schema);
    shared.insert(path.to_string());
    if !type_matches(schema, v) {
        problems.insert(format!(
            "{path}: {} is not {}",
            json_type(v),
            schema["type"]
        ));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(v) {
            problems.insert(format!("{path}: {v} not in {allowed:?}"));
        }
    }
    if let (Some(pattern), Some(s)) = (schema.get("pattern"), v.as_str()) {
        let s = match PATTERN_EXCEPTIONS.iter().find(|(p, _)| *p == path) {
            Some((_, (from, to))) => s.replace(from, to),
            None => s.to_string(),
        };
        let pattern_only = serde_json::json!({ "type": "string", "pattern": pattern });
        if !jsonschema::is_valid(&pattern_only, &Value::String(s.clone())) {
            problems.insert(format!("{path}: {s:?} does not match {pattern}"));
        }
    }
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if let Some(child) = schema.get("properties").and_then(|p| p.get(k)) {
                    check(root, child, &format!("{path}.{k}"), x, shared, problems);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for x in items {
                    check(root, item, &format!("{path}[]"), x, shared, problems);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn every_field_shared_with_suricata_has_suricatas_type() {
    let schema = load_schema();
    let events = common::events_of_every_capture("eve");
    assert!(events.len() > 1000, "{}", events.len());
    let mut shared = BTreeSet::new();
    let mut problems = BTreeSet::new();
    for (cap, e) in &events {
        for (k, v) in e.as_object().unwrap() {
            if let Some(child) = schema["properties"].get(k) {
                let mut found = BTreeSet::new();
                check(&schema, child, k, v, &mut shared, &mut found);
                problems.extend(found.into_iter().map(|p| format!("{p} ({cap})")));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // What is shared, so a field that silently leaves the contract (or a renamed one) fails.
    let want = [
        "timestamp",
        "flow_id",
        "pcap_filename",
        "pcap_cnt",
        "event_type",
        "src_ip",
        "src_port",
        "dest_ip",
        "dest_port",
        "proto",
        "community_id",
        "host",
        "tunnel",
        "tunnel.src_ip",
        "tunnel.dest_ip",
        "tunnel.proto",
        "tunnel.depth",
        "alert",
        "alert.action",
        "alert.gid",
        "alert.signature_id",
        "alert.rev",
        "alert.signature",
        "alert.category",
        "alert.severity",
    ];
    for f in want {
        assert!(shared.contains(f), "{f} not shared: {shared:?}");
    }
}

#[test]
fn alert_severity_and_action_mean_what_suricata_means() {
    let events = common::events_of_every_capture("eve");
    let mut alerts = 0;
    for (_, e) in events {
        let Some(alert) = e.get("alert") else {
            continue;
        };
        alerts += 1;
        // Suricata: 1 is the most severe; a passive sensor only ever allows.
        let want = match e["severity"].as_str().unwrap() {
            "critical" | "high" => 1,
            "medium" => 2,
            _ => 3,
        };
        assert_eq!(alert["severity"], want, "{e}");
        assert_eq!(alert["action"], "allowed");
        assert_eq!(alert["gid"], 1);
        let sid = alert["signature_id"].as_u64().unwrap();
        assert!((3_232_000..=3_232_999).contains(&sid), "{sid}");
    }
    assert!(alerts >= 50, "{alerts}");
}
