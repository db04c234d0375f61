//! `--format ecs` checked against Elastic's own field reference: `ecs_flat.yml` of the ECS
//! version the output declares, vendored in `testdata/reference/ecs/` (Apache-2.0, provenance in
//! its README). Every field of every document of every bundled capture exists there with a
//! compatible type or sits under `watch3232.*`; `event.kind/category/type/outcome` take only
//! the reference's allowed values; every document has a `message`.

mod common;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One field of the reference: its type and, for the categorisation fields, the allowed values.
#[derive(Debug, Default)]
struct EcsField {
    ty: String,
    allowed: Vec<String>,
}

/// Reads the two things the test needs from `ecs_flat.yml`: each field's `type` and its
/// `allowed_values` names. The file is YAML as Elastic's generator dumps it: a field name at
/// column 0, its attributes at two spaces, list items at `  - ` with their keys at four spaces
/// (continuation lines of long strings are indented further), which these lines rely on; the
/// counts asserted in `the_reference_is_read_whole` catch a file of another shape.
fn load_reference() -> BTreeMap<String, EcsField> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference/ecs/ecs_flat.yml");
    let text = std::fs::read_to_string(path).expect("the vendored ECS reference");
    let mut fields: BTreeMap<String, EcsField> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_allowed = false;
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            // `'@timestamp':` is the one quoted name.
            let name = line.trim_end_matches(':').trim_matches('\'').to_string();
            fields.insert(name.clone(), EcsField::default());
            current = Some(name);
            in_allowed = false;
            continue;
        }
        let Some(field) = current.as_ref().and_then(|n| fields.get_mut(n)) else {
            continue;
        };
        if line.starts_with("  ") && !line.starts_with("   ") && !line.starts_with("  - ") {
            // An attribute of the field ends any list before it.
            in_allowed = line == "  allowed_values:";
            if let Some(t) = line.strip_prefix("  type: ") {
                field.ty = t.to_string();
            }
        } else if in_allowed {
            if let Some(n) = line
                .strip_prefix("    name: ")
                .or_else(|| line.strip_prefix("  - name: "))
            {
                field.allowed.push(n.to_string());
            }
        }
    }
    fields
}

/// Whether a JSON value (one element of an array) can be indexed as an ECS type.
fn compatible(ty: &str, v: &Value) -> bool {
    match ty {
        "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "text" | "ip"
        | "date" => v.is_string(),
        "long" => v.is_i64() || v.is_u64(),
        "float" | "scaled_float" | "double" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" | "flattened" | "nested" => v.is_object(),
        _ => false,
    }
}

/// Every leaf of a document as (dotted path, value); objects are walked into unless the
/// reference declares the path an object-typed field itself.
fn leaves<'a>(
    prefix: &str,
    v: &'a Value,
    reference: &BTreeMap<String, EcsField>,
    out: &mut Vec<(String, &'a Value)>,
) {
    match v {
        Value::Object(map)
            if prefix.is_empty()
                || !reference.get(prefix).is_some_and(|f| {
                    matches!(f.ty.as_str(), "object" | "flattened" | "nested")
                }) =>
        {
            for (k, x) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&path, x, reference, out);
            }
        }
        _ => out.push((prefix.to_string(), v)),
    }
}

/// The upstream file's sha256 (testdata/reference/README.md): the vendored copy is unmodified.
const ECS_FLAT_SHA256: &str = "4c72bf4d0fa7b79a101ac86c5d175092557a8ed318c29db817bd85186db207f0";

#[test]
fn the_reference_is_read_whole() {
    use sha2::Digest;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reference/ecs/ecs_flat.yml");
    let digest = sha2::Sha256::digest(std::fs::read(path).unwrap());
    assert_eq!(hex::encode(digest), ECS_FLAT_SHA256);
    let r = load_reference();
    assert_eq!(r.len(), 1692, "fields in ECS 8.17.0's ecs_flat.yml");
    assert!(
        r.values().all(|f| !f.ty.is_empty()),
        "every field has a type"
    );
    assert_eq!(r["source.ip"].ty, "ip");
    assert_eq!(r["@timestamp"].ty, "date");
    assert_eq!(r["tls.client.ja3"].ty, "keyword");
    assert_eq!(
        r["event.kind"].allowed,
        [
            "alert",
            "asset",
            "enrichment",
            "event",
            "metric",
            "state",
            "pipeline_error",
            "signal"
        ]
    );
    assert_eq!(
        r["event.outcome"].allowed,
        ["failure", "success", "unknown"]
    );
    assert!(r["event.category"]
        .allowed
        .contains(&"intrusion_detection".to_string()));
    assert!(r["event.type"].allowed.contains(&"indicator".to_string()));
}

#[test]
fn every_ecs_field_is_in_the_reference_or_watch3232s_own() {
    let reference = load_reference();
    let docs = common::events_of_every_capture("ecs");
    assert!(docs.len() > 1000, "{}", docs.len());
    let mut used = BTreeSet::new();
    let mut problems = BTreeSet::new();
    for (cap, doc) in &docs {
        let mut fields = Vec::new();
        leaves("", doc, &reference, &mut fields);
        for (path, value) in fields {
            if path.starts_with("watch3232.") {
                continue;
            }
            let Some(field) = reference.get(&path) else {
                problems.insert(format!("{path}: not an ECS field ({cap})"));
                continue;
            };
            used.insert(path.clone());
            let values: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            for v in values {
                if !compatible(&field.ty, v) {
                    problems.insert(format!("{path}: {v} is not {} ({cap})", field.ty));
                }
                if !field.allowed.is_empty() && !field.allowed.iter().any(|a| v == a) {
                    problems.insert(format!("{path}: {v} is not an allowed value ({cap})"));
                }
            }
        }
        if !doc["message"].as_str().is_some_and(|m| !m.is_empty()) {
            problems.insert(format!("no message: {doc}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // What the captures exercise, so a mapping that silently disappears fails here.
    for f in [
        "event.kind",
        "event.category",
        "event.type",
        "event.outcome",
        "rule.id",
        "tls.client.server_name",
        "tls.client.ja3",
        "http.request.method",
        "observer.name",
        "related.ip",
        "network.community_id",
    ] {
        assert!(used.contains(f), "{f} never emitted: {used:?}");
    }
}

#[test]
fn high_anomalies_and_alerts_are_ecs_alerts() {
    let docs = common::events_of_every_capture("ecs");
    let mut alerts = 0;
    for (_, doc) in &docs {
        let own = &doc["watch3232"];
        let high_anomaly = own["event_type"] == "anomaly"
            && (own["severity"] == "high" || own["severity"] == "critical");
        let is_alert = own["event_type"] == "alert" || high_anomaly;
        assert_eq!(doc["event"]["kind"] == "alert", is_alert, "{doc}");
        assert_eq!(doc.get("rule").is_some(), is_alert, "{doc}");
        alerts += usize::from(is_alert);
    }
    assert!(alerts >= 50, "{alerts}");
}
