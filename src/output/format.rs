//! Formatters: one event → one line (without the trailing newline) in EVE, ECS or text form.
//!
//! EVE is the event's own serialization (`docs/events.md`). ECS and `text-full` are derived from
//! that same JSON, so a new `Body` variant needs no change here; the terse `text` view phrases each
//! kind in words (`output/text/`), so a new kind is a compile error there.

use super::text::{self, TextStyle};
use crate::event::{Event, Severity};
use serde_json::{json, Map, Value};
use std::io;

/// The ECS version the `ecs` format follows (`ecs.version`).
pub const ECS_VERSION: &str = "8.11.0";

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Suricata EVE-compatible JSON Lines (the event contract).
    Eve,
    /// Elastic Common Schema JSON Lines.
    Ecs,
    /// One short line per finding, in words (time, severity, what happened, who → whom).
    Text,
    /// One line per event with every detail field as `key=value`.
    #[serde(rename = "text-full")]
    #[cfg_attr(feature = "cli", value(name = "text-full"))]
    TextFull,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Eve => "eve",
            Format::Ecs => "ecs",
            Format::Text => "text",
            Format::TextFull => "text-full",
        }
    }
}

/// What the formatters add about the sensor itself.
#[derive(Clone, Debug, Default)]
pub struct Sensor {
    /// `host` in EVE (Suricata's sensor-name), `observer.name` in ECS.
    pub name: Option<String>,
    /// `observer.hostname` in ECS.
    pub hostname: Option<String>,
}

/// Appends `event` in `format` to `out` (no newline); `text` without colour.
pub fn render(format: Format, event: &Event, sensor: &Sensor, out: &mut Vec<u8>) -> io::Result<()> {
    render_styled(format, event, sensor, TextStyle::default(), out)
}

/// [`render`], with the look of the `text` view (colour) given.
pub fn render_styled(
    format: Format,
    event: &Event,
    sensor: &Sensor,
    style: TextStyle,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    match format {
        Format::Eve => eve(event, sensor, out),
        Format::Ecs => {
            let v = ecs(event, sensor)?;
            serde_json::to_writer(out, &v).map_err(io::Error::other)
        }
        Format::Text => {
            out.extend_from_slice(text::terse(event, style).as_bytes());
            Ok(())
        }
        Format::TextFull => {
            out.extend_from_slice(text::full(event)?.as_bytes());
            Ok(())
        }
    }
}

fn eve(event: &Event, sensor: &Sensor, out: &mut Vec<u8>) -> io::Result<()> {
    let start = out.len();
    serde_json::to_writer(&mut *out, event).map_err(io::Error::other)?;
    if let Some(name) = &sensor.name {
        // Suricata's `host` (sensor-name), spliced in before the closing brace.
        debug_assert_eq!(out.last(), Some(&b'}'));
        if out.len() > start && out.last() == Some(&b'}') {
            out.pop();
            out.extend_from_slice(b",\"host\":");
            serde_json::to_writer(&mut *out, name).map_err(io::Error::other)?;
            out.push(b'}');
        }
    }
    Ok(())
}

/// ECS `event.kind`, `event.category`, `event.type` for an `event_type`.
fn ecs_classes(
    event_type: &str,
) -> (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
) {
    match event_type {
        "alert" => ("alert", &["intrusion_detection", "network"], &["indicator"]),
        "anomaly" => ("event", &["intrusion_detection", "network"], &["info"]),
        "stats" => ("metric", &["network"], &["info"]),
        "device" => ("event", &["host", "network"], &["info"]),
        _ => ("event", &["network"], &["protocol", "info"]),
    }
}

fn severity_number(s: Severity) -> u8 {
    match s {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
    }
}

pub(crate) fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}

/// The event in Elastic Common Schema field names; watch3232's own fields (and the protocol
/// details) sit under `watch3232`.
pub fn ecs(event: &Event, sensor: &Sensor) -> io::Result<Value> {
    let eve = serde_json::to_value(event).map_err(io::Error::other)?;
    let (kind, category, types) = ecs_classes(event.event_type);
    let mut root = Map::new();
    root.insert("@timestamp".into(), json!(event.timestamp.to_string()));
    root.insert("ecs".into(), json!({ "version": ECS_VERSION }));
    root.insert(
        "event".into(),
        json!({
            "kind": kind,
            "category": category,
            "type": types,
            "action": event.kind,
            "dataset": format!("watch3232.{}", event.event_type),
            "module": "watch3232",
            "severity": severity_number(event.severity),
        }),
    );
    root.insert(
        "log".into(),
        json!({ "level": severity_name(event.severity) }),
    );
    if let Some(f) = &event.flow {
        let mut src = json!({ "ip": f.src_ip.to_string() });
        let mut dst = json!({ "ip": f.dest_ip.to_string() });
        if let Some(p) = f.src_port {
            src["port"] = json!(p);
        }
        if let Some(p) = f.dest_port {
            dst["port"] = json!(p);
        }
        let mut related = vec![f.src_ip.to_string()];
        if f.dest_ip != f.src_ip {
            related.push(f.dest_ip.to_string());
        }
        root.insert("related".into(), json!({ "ip": related }));
        root.insert("source".into(), src);
        root.insert("destination".into(), dst);
        let mut network = json!({
            "transport": f.proto.to_ascii_lowercase(),
            "type": if f.src_ip.is_ipv4() { "ipv4" } else { "ipv6" },
            "community_id": f.community_id,
        });
        if let Some(n) = iana_number(f.proto) {
            network["iana_number"] = json!(n.to_string());
        }
        root.insert("network".into(), network);
    }
    let mut observer = json!({
        "type": "sensor",
        "vendor": "watch3232",
        "product": "watch3232",
        "version": env!("CARGO_PKG_VERSION"),
    });
    if let Some(n) = &sensor.name {
        observer["name"] = json!(n);
    }
    if let Some(h) = &sensor.hostname {
        observer["hostname"] = json!(h);
    }
    if let Some(i) = &event.origin.in_iface {
        observer["ingress"] = json!({ "interface": { "name": &**i } });
    }
    root.insert("observer".into(), observer);
    // Everything of the EVE object that ECS has no place for, under one namespace.
    let mut own = Map::new();
    if let Value::Object(m) = eve {
        for (k, v) in m {
            match k.as_str() {
                "timestamp" | "src_ip" | "src_port" | "dest_ip" | "dest_port" | "proto"
                | "community_id" | "in_iface" => {}
                _ => {
                    own.insert(k, v);
                }
            }
        }
    }
    // A finding's own sentence (alerts, anomalies) is the ECS `message`; an alert's kind names
    // the rule that fired.
    if let Some(Value::String(detail)) = own.get(event.event_type).and_then(|d| d.get("detail")) {
        root.insert("message".into(), json!(detail));
    }
    if event.event_type == "alert" {
        root.insert(
            "rule".into(),
            json!({ "name": event.kind, "category": "watch3232" }),
        );
    }
    root.insert("watch3232".into(), Value::Object(own));
    Ok(Value::Object(root))
}

/// The IANA number of a `proto` keyword (the inverse of `decode::proto_name`).
fn iana_number(proto: &str) -> Option<u8> {
    (0..=u8::MAX).find(|&n| crate::decode::proto_name(n) == proto && proto != "OTHER")
}
