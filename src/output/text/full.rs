//! `--format text-full`: one line per event with every detail field as `key=value` (the text
//! form before the terse view; what `-v` shows too).

use crate::event::Event;
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::io;

/// One line for a person: time, type/kind, severity, the flow, then the details as `key=value`.
pub fn full(event: &Event) -> io::Result<String> {
    let mut line = String::with_capacity(160);
    let _ = write!(line, "{} {}", event.timestamp, headline(event));
    let details = serde_json::to_value(&event.body).map_err(io::Error::other)?;
    if let Some(Value::Object(d)) = details.get(event.event_type) {
        flatten_into(&mut line, "", d);
    }
    Ok(line)
}

/// `type/kind severity PROTO SRC -> DST [(in GRE OUTER_SRC -> OUTER_DST)]`: the line without
/// time and details, and the ECS `message` of an event without a sentence of its own.
pub fn headline(event: &Event) -> String {
    let mut line = String::with_capacity(96);
    let _ = write!(
        line,
        "{}/{} {}",
        event.event_type,
        event.kind,
        event.severity.as_str()
    );
    if let Some(f) = &event.flow {
        let _ = write!(
            line,
            " {} {} -> {}",
            f.proto,
            endpoint(f.src_ip, f.src_port),
            endpoint(f.dest_ip, f.dest_port)
        );
    }
    if let Some(t) = &event.tunnel {
        // IP in GRE is named by its protocol, as it always was; a mirror tunnel by its type.
        let kind = if t.tunnel_type == "gre" {
            t.proto
        } else {
            t.tunnel_type
        };
        let _ = write!(line, " (in {kind} {} -> {})", t.src_ip, t.dest_ip);
    }
    line
}

fn endpoint(ip: std::net::IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (std::net::IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (a, Some(p)) => format!("{a}:{p}"),
        (a, None) => a.to_string(),
    }
}

fn flatten_into(line: &mut String, prefix: &str, obj: &Map<String, Value>) {
    for (k, v) in obj {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(m) => flatten_into(line, &key, m),
            Value::Null => {}
            Value::String(s)
                if !s.is_empty()
                    && !s.contains([' ', '"', '='])
                    && !s.chars().any(char::is_control) =>
            {
                let _ = write!(line, " {key}={s}");
            }
            other => {
                let _ = write!(line, " {key}={other}");
            }
        }
    }
}
