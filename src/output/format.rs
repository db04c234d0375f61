//! Formatters: one event → one line (without the trailing newline) in EVE, ECS or text form.
//!
//! EVE is the event's own serialization (`docs/events.md`). ECS and `text-full` are derived from
//! that same JSON, so a new `Body` variant needs no change here; the terse `text` view phrases each
//! kind in words (`output/text/`), so a new kind is a compile error there.

use super::text::{self, TextStyle};
use crate::event::signature::rule_match;
use crate::event::{Event, Severity};
use serde_json::{json, Map, Value};
use std::io;

/// The ECS version the `ecs` format follows (`ecs.version`).
/// `testdata/reference/ecs/` holds that version's field reference; `tests/siem_ecs.rs` checks
/// every document against it.
pub const ECS_VERSION: &str = "8.17.0";

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
    super::eve::write(event, sensor.name.as_deref(), out)
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
        Severity::Critical => 4,
    }
}

/// The event in Elastic Common Schema field names; watch3232's own fields (and the protocol
/// details) sit under `watch3232`.
pub fn ecs(event: &Event, sensor: &Sensor) -> io::Result<Value> {
    let eve = serde_json::to_value(event).map_err(io::Error::other)?;
    let (kind, category, types) = ecs_classes(event.event_type);
    let rule = rule_match(event.event_type, event.kind, event.severity);
    // A high-severity anomaly is an alert too (it carries a rule), as in EVE.
    let kind = if rule.is_some() { "alert" } else { kind };
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
    root.insert("log".into(), json!({ "level": event.severity.as_str() }));
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
    } else if let Some(p) = &event.parties {
        // A scan: the scanner is the source; the destination only when it probed one host.
        let mut related = vec![p.src_ip.to_string()];
        root.insert("source".into(), json!({ "ip": p.src_ip.to_string() }));
        if let Some(d) = p.dest_ip.filter(|d| *d != p.src_ip) {
            related.push(d.to_string());
            root.insert("destination".into(), json!({ "ip": d.to_string() }));
        }
        root.insert("related".into(), json!({ "ip": related }));
        let mut network = json!({
            "transport": p.proto.to_ascii_lowercase(),
            "type": if p.src_ip.is_ipv4() { "ipv4" } else { "ipv6" },
        });
        if let Some(n) = iana_number(p.proto) {
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
    // A finding's own sentence (alerts, anomalies) is the ECS `message`; other events get
    // the head of their text line, so every document has one.
    let message = match own.get(event.event_type).and_then(|d| d.get("detail")) {
        Some(Value::String(detail)) => detail.clone(),
        _ => text::full::headline(event),
    };
    root.insert("message".into(), json!(message));
    if let Some(details) = own.get(event.event_type) {
        protocol_evidence(details, &mut root);
        // How an OTA session ended, in ECS's three words.
        let outcome = match details.get("outcome").and_then(Value::as_str) {
            Some("complete") => Some("success"),
            Some("failed" | "aborted" | "auth_failed") => Some("failure"),
            Some(_) => Some("unknown"),
            None => None,
        };
        if let (Some(o), Some(Value::Object(e))) = (outcome, root.get_mut("event")) {
            e.insert("outcome".into(), json!(o));
        }
    }
    if let Some(r) = rule {
        // As Filebeat's Suricata module maps `alert.signature_id/signature/category/rev`.
        root.insert(
            "rule".into(),
            json!({
                "id": r.signature_id.to_string(),
                "name": r.signature,
                "category": r.category,
                "version": r.rev.to_string(),
                "ruleset": "watch3232",
            }),
        );
    }
    root.insert("watch3232".into(), Value::Object(own));
    Ok(Value::Object(root))
}

/// What an anomaly's protocol guess found, in ECS's own fields (`tls.*`, `http.*`, `url.*`,
/// `user_agent.*`); the evidence stays under `watch3232.anomaly` too, with what ECS has no
/// field for (JA3 string, JA4, previews).
fn protocol_evidence(details: &Value, root: &mut Map<String, Value>) {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    if let Some(tls) = details.get("tls") {
        let mut client = Map::new();
        if let Some(sni) = text(tls, "sni") {
            client.insert("server_name".into(), json!(sni));
        }
        if let Some(ja3) = text(tls, "ja3_hash") {
            client.insert("ja3".into(), json!(ja3));
        }
        let mut out = Map::new();
        // `TLS 1.3` → protocol `tls`, version `1.3` (the negotiated one when the server answered).
        let version = text(tls, "server_version").or_else(|| text(tls, "version"));
        if let Some((protocol, number)) = version.as_deref().and_then(|v| v.split_once(' ')) {
            out.insert(
                "version_protocol".into(),
                json!(protocol.to_ascii_lowercase()),
            );
            out.insert("version".into(), json!(number));
        }
        if !client.is_empty() {
            out.insert("client".into(), Value::Object(client));
        }
        if !out.is_empty() {
            root.insert("tls".into(), Value::Object(out));
        }
    }
    if let Some(http) = details.get("http") {
        let mut out = Map::new();
        if let Some(method) = text(http, "method") {
            out.insert("request".into(), json!({ "method": method }));
        }
        if let Some(status) = http.get("status").and_then(Value::as_u64) {
            out.insert("response".into(), json!({ "status_code": status }));
        }
        if let Some(v) =
            text(http, "version").and_then(|v| v.strip_prefix("HTTP/").map(str::to_owned))
        {
            out.insert("version".into(), json!(v));
        }
        if !out.is_empty() {
            root.insert("http".into(), Value::Object(out));
        }
        if let Some(path) = text(http, "path") {
            root.insert("url".into(), json!({ "original": path }));
        }
        if let Some(agent) = text(http, "user_agent") {
            root.insert("user_agent".into(), json!({ "original": agent }));
        }
    }
}

/// The IANA number of a `proto` keyword (the inverse of `decode::proto_name`).
fn iana_number(proto: &str) -> Option<u8> {
    (0..=u8::MAX).find(|&n| crate::decode::proto_name(n) == proto && proto != "OTHER")
}
