//! `watch3232 schema`: the JSON Schema (draft-07) of every event in EVE form.
//!
//! The common fields are written here by hand (they are the contract of `docs/events.md`); the
//! details object of each `event_type` is derived from its Rust type with `schemars`. Adding a
//! `Body` variant = one line in [`details`] (and `#[derive(schemars::JsonSchema)]` on its types;
//! a field with `skip_serializing_if` that is not an `Option` also needs `#[serde(default)]`, or
//! the schema calls it required).

use crate::event::alert::AlertDetails;
use crate::event::anomaly::AnomalyDetails;
use crate::event::arduino_ota::OtaDetails;
use crate::event::device::DeviceDetails;
use crate::event::esphome::EsphomeDetails;
use crate::event::mdt::MdtDetails;
use crate::event::signature::RuleMatch;
use crate::event::stats::StatsDetails;
use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::Schema;
use serde_json::{json, Map, Value};

/// Each `event_type` with the schema of its details object (the key of the same name).
fn details(gen: &mut SchemaGenerator) -> Vec<(&'static str, Schema)> {
    vec![
        ("arduino_ota", gen.subschema_for::<OtaDetails>()),
        ("esphome_ota", gen.subschema_for::<EsphomeDetails>()),
        ("mdt", gen.subschema_for::<MdtDetails>()),
        ("alert", gen.subschema_for::<AlertDetails>()),
        ("anomaly", gen.subschema_for::<AnomalyDetails>()),
        ("device", gen.subschema_for::<DeviceDetails>()),
        ("stats", gen.subschema_for::<StatsDetails>()),
    ]
}

/// The `event_type`s the schema knows, in order.
pub fn event_types() -> Vec<&'static str> {
    let mut gen = SchemaSettings::draft07().into_generator();
    details(&mut gen).into_iter().map(|(t, _)| t).collect()
}

/// The whole schema as a JSON value.
pub fn schema() -> Value {
    let mut gen = SchemaSettings::draft07().into_generator();
    let variants = details(&mut gen);
    let rule = serde_json::to_value(gen.subschema_for::<RuleMatch>()).expect("schema serializes");
    let definitions: Map<String, Value> = gen
        .take_definitions()
        .into_iter()
        .map(|(k, v)| (k, serde_json::to_value(v).expect("schema serializes")))
        .collect();
    let ip = json!({ "type": "string", "anyOf": [{ "format": "ipv4" }, { "format": "ipv6" }] });
    let port = json!({ "type": "integer", "minimum": 0, "maximum": 65535 });
    let mut properties = json!({
        "timestamp": {
            "description": "Time of the packet that completed the event, RFC 3339 UTC, microseconds.",
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$"
        },
        "flow_id": { "description": "Flow identifier: a hash of the flow and its start, 51 bits, on every event of the flow.", "type": "integer", "minimum": 1, "maximum": 2251799813685247u64 },
        "pcap_filename": { "description": "Capture file the packet came from.", "type": "string" },
        "in_iface": { "description": "Interface the packet was captured on.", "type": "string" },
        "pcap_cnt": { "description": "1-based index of the packet in its source.", "type": "integer", "minimum": 1 },
        "event_type": { "type": "string", "enum": variants.iter().map(|(t, _)| *t).collect::<Vec<_>>() },
        "kind": { "description": "Sub-kind of the event within its event_type.", "type": "string", "minLength": 1 },
        "severity": { "type": "string", "enum": ["info", "low", "medium", "high", "critical"] },
        "src_ip": ip,
        "src_port": port,
        "dest_ip": ip,
        "dest_port": port,
        "proto": { "description": "IANA protocol keyword, upper case.", "type": "string", "pattern": "^[A-Z0-9-]+$" },
        "community_id": {
            "description": "Community ID v1 of the flow.",
            "type": "string",
            "pattern": "^1:[A-Za-z0-9+/]{27}=$"
        },
        "tunnel": {
            "description": "Outer hop of a tunnelled flow: the outermost delivery header, its encapsulation and identifiers.",
            "type": "object",
            "required": ["src_ip", "dest_ip", "proto", "depth"],
            "additionalProperties": false,
            "properties": {
                "src_ip": ip, "dest_ip": ip,
                "proto": { "description": "Delivery header's IP protocol: GRE or UDP.", "type": "string" },
                "type": {
                    "description": "Encapsulation, absent for IP in GRE.",
                    "enum": ["gre_teb", "erspan", "vxlan", "geneve"]
                },
                "gre_key": { "type": "integer", "minimum": 0, "maximum": 4294967295u64 },
                "vni": { "description": "VXLAN or GENEVE network identifier.", "type": "integer", "minimum": 0, "maximum": 16777215 },
                "erspan_type": { "type": "integer", "minimum": 1, "maximum": 3 },
                "erspan_session_id": { "type": "integer", "minimum": 0, "maximum": 1023 },
                "depth": { "type": "integer", "minimum": 1, "maximum": 255 }
            }
        },
        "host": { "description": "Sensor name (--sensor-name), as Suricata's sensor-name.", "type": "string" }
    });
    let mut one_of = Vec::new();
    for (event_type, schema) in &variants {
        let schema = serde_json::to_value(schema).expect("schema serializes");
        if *event_type == "alert" {
            // An alert event's details are required in its `alert` object; an anomaly's
            // `alert` object carries the rule only.
            one_of.push(json!({
                "properties": { "event_type": { "const": event_type }, "alert": schema },
                "required": [event_type]
            }));
            continue;
        }
        properties[*event_type] = schema;
        one_of.push(json!({
            "properties": { "event_type": { "const": event_type } },
            "required": [event_type]
        }));
    }
    properties["alert"] = alert_object(&definitions, rule);
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "watch3232 event (EVE form)",
        "description": "One JSON object per line. The details of an event sit under the key named by its event_type.",
        "type": "object",
        "required": ["timestamp", "event_type", "kind", "severity"],
        "additionalProperties": false,
        "properties": properties,
        // A scan names its source (and its one host, if so) without a flow: `src_ip` alone.
        "dependencies": {
            "src_ip": ["proto"],
            "dest_ip": ["src_ip"],
            "flow_id": ["src_ip", "dest_ip", "community_id"],
            "community_id": ["src_ip", "dest_ip"],
            "src_port": ["src_ip", "dest_ip", "community_id"],
            "dest_port": ["dest_ip"]
        },
        "oneOf": one_of,
        "definitions": definitions
    })
}

/// The `alert` object: Suricata's alert fields (every `alert` event, and every `anomaly` of
/// severity high), then, in an `alert` event, watch3232's details of the finding.
fn alert_object(definitions: &Map<String, Value>, rule: Value) -> Value {
    let mut details = definitions
        .get("AlertDetails")
        .cloned()
        .expect("AlertDetails is a definition");
    if let Some(d) = details.as_object_mut() {
        d.remove("required");
        d.remove("title");
        d.remove("description");
    }
    json!({
        "description": "Suricata's alert fields, on every `alert` event and every `anomaly` of severity high; in an `alert` event followed by watch3232's details of the finding.",
        "allOf": [rule, details]
    })
}
