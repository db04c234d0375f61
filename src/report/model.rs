//! What the report shows, gathered event by event from EVE objects, every list bounded.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Most items kept per list (sessions, findings, PIM changes, Data-MDT mappings, devices).
pub const MAX_ITEMS: usize = 5_000;
/// Most firmware entries kept per device.
pub const MAX_FIRMWARE_PER_DEVICE: usize = 32;
/// Most input names kept.
pub const MAX_SOURCES: usize = 32;

/// A string field of an object.
pub fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn num(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

fn float(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// `2026-11-29T20:00:00.184000Z` → microseconds since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    let micros = match s.get(19..20) {
        Some(".") => {
            let frac: String = s[20..].chars().take_while(char::is_ascii_digit).collect();
            let padded = format!("{frac:0<6}");
            padded.get(..6)?.parse::<i64>().ok()?
        }
        _ => 0,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000) + micros)
}

/// Severity names in rank order.
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

fn severity_rank(s: &str) -> usize {
    SEVERITIES.iter().position(|x| *x == s).unwrap_or(0)
}

/// One firmware seen going to a device.
#[derive(Clone, Debug, Default)]
pub struct FirmwareSeen {
    pub time: String,
    pub chip: String,
    pub project: String,
    pub version: String,
    pub idf: String,
    pub outcome: String,
}

/// One device, from inventories, announcements and its sessions.
#[derive(Clone, Debug, Default)]
pub struct Device {
    pub address: String,
    pub mac: Option<String>,
    pub vendor: Option<String>,
    pub names: BTreeSet<String>,
    pub board: Option<String>,
    pub services: BTreeSet<String>,
    pub auth_upload: Option<bool>,
    pub auth_seen: BTreeSet<String>,
    pub sessions: u64,
    pub outcomes: BTreeMap<String, u64>,
    pub firmware: Vec<FirmwareSeen>,
    pub firmware_left_out: u64,
}

impl Device {
    /// What an announcement or an inventory entry says alike: MAC, vendor, host name, board,
    /// whether an OTA password is set.
    fn learn(&mut self, v: &Value) {
        let set = |field: &mut Option<String>, key: &str| {
            if let Some(x) = text(v, key) {
                *field = Some(x.to_string());
            }
        };
        set(&mut self.mac, "mac");
        set(&mut self.vendor, "vendor");
        set(&mut self.board, "board");
        if let Some(h) = text(v, "hostname") {
            self.names.insert(h.to_string());
        }
        if let Some(b) = v.get("auth_upload").and_then(Value::as_bool) {
            self.auth_upload = Some(b);
        }
    }
}

/// One OTA or ESPHome session.
#[derive(Clone, Debug)]
pub struct Session {
    pub time: String,
    pub start_us: i64,
    pub end_us: i64,
    pub protocol: &'static str,
    pub outcome: String,
    pub uploader: String,
    pub device: String,
    pub firmware: String,
    pub bytes: u64,
    pub image_size: Option<u64>,
    pub auth: Option<String>,
    pub note: Option<String>,
}

impl Session {
    /// A session from its event's details: `who` is (protocol, uploader, device), `keys` the
    /// names of its auth scheme and device-message fields.
    fn of(
        who: (&'static str, &str, &str),
        d: &Value,
        keys: (&str, &str),
        time: &str,
        t_us: i64,
    ) -> Session {
        let dur = float(d, "duration_s").unwrap_or(0.0);
        Session {
            time: time.to_string(),
            start_us: t_us - (dur * 1e6) as i64,
            end_us: t_us,
            protocol: who.0,
            outcome: text(d, "outcome").unwrap_or("?").to_string(),
            uploader: who.1.to_string(),
            device: who.2.to_string(),
            firmware: firmware_label(d.get("firmware").unwrap_or(&Value::Null)),
            bytes: num(d, "bytes").unwrap_or(0),
            image_size: num(d, "image_size"),
            auth: text(d, keys.0).map(String::from),
            note: text(d, keys.1).map(String::from),
        }
    }
}

/// A security finding or an anomaly, with its evidence.
#[derive(Clone, Debug)]
pub struct Finding {
    pub time: String,
    pub time_us: i64,
    pub severity: usize,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub guess: Option<String>,
    pub detail: String,
    pub evidence: Vec<(String, String)>,
}

/// A change of a PIM neighbour (from `pim` hello events).
#[derive(Clone, Debug)]
pub struct PimChange {
    pub time_us: i64,
    pub time: String,
    pub neighbor: String,
    pub mdt: String,
    pub pe: String,
    pub change: String,
}

/// A C-(S,G) → Data-MDT mapping.
#[derive(Clone, Debug, Default)]
pub struct DataMdt {
    pub p_group: String,
    pub previous: Option<String>,
    pub first: String,
    pub last: String,
    pub joins: u64,
}

/// Everything the report shows.
#[derive(Debug, Default)]
pub struct Report {
    pub events: u64,
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub sources: BTreeSet<String>,
    pub by_kind: BTreeMap<(String, String), u64>,
    /// Findings (every event but `stats`) by severity rank.
    pub by_severity: [u64; 5],
    /// The `stats` object of the last summary.
    pub stats: Option<Value>,
    pub devices: BTreeMap<String, Device>,
    pub sessions: Vec<Session>,
    pub alerts: Vec<Finding>,
    pub anomalies: Vec<Finding>,
    /// PE → default-MDT groups.
    pub pes: BTreeMap<String, BTreeSet<String>>,
    pub pim_changes: Vec<PimChange>,
    /// The last MDT inventory's `pim_neighbors`.
    pub neighbors: Vec<Value>,
    /// (PE, C-source, C-group) → mapping.
    pub data_mdts: BTreeMap<(String, String, String), DataMdt>,
    /// Items past a list's cap, by list.
    pub left_out: BTreeMap<&'static str, u64>,
}

fn push_capped<T>(
    list: &mut Vec<T>,
    item: T,
    left_out: &mut BTreeMap<&'static str, u64>,
    name: &'static str,
) {
    if list.len() < MAX_ITEMS {
        list.push(item);
    } else {
        *left_out.entry(name).or_default() += 1;
    }
}

impl Report {
    /// Builds the report of `events` (EVE objects, in the order written).
    pub fn of<'a>(events: impl IntoIterator<Item = &'a Value>) -> Report {
        let mut r = Report::default();
        for e in events {
            r.add(e);
        }
        r
    }

    /// Takes one event (an EVE object) into the report.
    pub fn add(&mut self, e: &Value) {
        let (Some(event_type), Some(kind)) = (text(e, "event_type"), text(e, "kind")) else {
            *self.left_out.entry("not an event").or_default() += 1;
            return;
        };
        self.events += 1;
        let time = text(e, "timestamp").unwrap_or("").to_string();
        let time_us = parse_time(&time);
        if let Some(name) = text(e, "pcap_filename").or(text(e, "in_iface")) {
            if self.sources.len() < MAX_SOURCES || self.sources.contains(name) {
                self.sources.insert(name.to_string());
            }
        }
        if event_type == "stats" {
            if kind == "summary" {
                self.stats = e.get("stats").cloned();
            }
            return;
        }
        if let Some(t) = time_us {
            if self.first_us.map_or(true, |f| t < f) {
                self.first_us = Some(t);
                self.first = Some(time.clone());
            }
            if self.last_us.map_or(true, |l| t > l) {
                self.last_us = Some(t);
                self.last = Some(time.clone());
            }
        }
        *self
            .by_kind
            .entry((event_type.to_string(), kind.to_string()))
            .or_default() += 1;
        let severity = severity_rank(text(e, "severity").unwrap_or("info"));
        self.by_severity[severity] += 1;
        let details = e.get(event_type).unwrap_or(&Value::Null);
        let t_us = time_us.unwrap_or(0);
        match (event_type, kind) {
            ("arduino_ota", "transfer") => self.transfer(e, details, &time, t_us),
            ("esphome_ota", "session") => self.esphome(e, details, &time, t_us),
            ("device", "announcement") => self.announcement(details),
            ("device", "inventory") => self.inventory(details),
            ("alert", _) => {
                let f = self.alert(kind, severity, details, &time, t_us);
                push_capped(&mut self.alerts, f, &mut self.left_out, "security findings");
            }
            ("anomaly", _) => {
                let f = anomaly(e, kind, severity, details, &time, t_us);
                push_capped(&mut self.anomalies, f, &mut self.left_out, "anomalies");
            }
            ("mdt", "default_mdt") => {
                if let (Some(pe), Some(g)) = (text(details, "pe"), text(details, "p_group")) {
                    self.pe_in(pe, Some(g));
                }
            }
            ("mdt", "pim") => self.pim(details, &time, t_us),
            ("mdt", "data_mdt_join") => self.data_mdt_join(details, &time),
            ("mdt", "inventory") => {
                if let Some(Value::Array(n)) = details.get("pim_neighbors") {
                    self.neighbors = n.iter().take(MAX_ITEMS).cloned().collect();
                }
                if let Some(Value::Array(pes)) = details.get("pes") {
                    for p in pes {
                        if let Some(pe) = text(p, "pe") {
                            self.pe_in(pe, None);
                            if let Some(Value::Array(g)) = p.get("default_mdts") {
                                for g in g.iter().filter_map(Value::as_str) {
                                    self.pe_in(pe, Some(g));
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn device(&mut self, address: &str) -> Option<&mut Device> {
        if !self.devices.contains_key(address) && self.devices.len() >= MAX_ITEMS {
            *self.left_out.entry("devices").or_default() += 1;
            return None;
        }
        Some(
            self.devices
                .entry(address.to_string())
                .or_insert_with(|| Device {
                    address: address.to_string(),
                    ..Device::default()
                }),
        )
    }

    fn pe_in(&mut self, pe: &str, group: Option<&str>) {
        if !self.pes.contains_key(pe) && self.pes.len() >= MAX_ITEMS {
            *self.left_out.entry("PEs").or_default() += 1;
            return;
        }
        let groups = self.pes.entry(pe.to_string()).or_default();
        if let Some(g) = group {
            groups.insert(g.to_string());
        }
    }

    /// After [`Report::session_done`] has made room for the device (or counted it left out).
    fn firmware_seen(&mut self, device: &str, time: &str, fw: &Value, outcome: &str) {
        let Some(d) = self.devices.get_mut(device) else {
            return;
        };
        let project = text(fw, "project_name").unwrap_or("").to_string();
        let version = text(fw, "version").unwrap_or("").to_string();
        if project.is_empty() && version.is_empty() && text(fw, "chip").is_none() {
            return;
        }
        if d.firmware.len() >= MAX_FIRMWARE_PER_DEVICE {
            d.firmware_left_out += 1;
            return;
        }
        d.firmware.push(FirmwareSeen {
            time: time.to_string(),
            chip: text(fw, "chip").unwrap_or("").to_string(),
            project,
            version,
            idf: text(fw, "idf_version").unwrap_or("").to_string(),
            outcome: outcome.to_string(),
        });
    }

    fn transfer(&mut self, e: &Value, d: &Value, time: &str, t_us: i64) {
        // The UDP exchange goes uploader → device, the TCP connect-back device → uploader.
        let (src, dst) = (
            text(e, "src_ip").unwrap_or("?"),
            text(e, "dest_ip").unwrap_or("?"),
        );
        let (uploader, device) = if text(e, "proto") == Some("TCP") {
            (dst, src)
        } else {
            (src, dst)
        };
        let session = Session::of(
            ("ArduinoOTA", uploader, device),
            d,
            ("auth_scheme", "device_message"),
            time,
            t_us,
        );
        self.session_done(session, d, time);
    }

    fn esphome(&mut self, e: &Value, d: &Value, time: &str, t_us: i64) {
        let (uploader, device) = (
            text(e, "src_ip").unwrap_or("?"),
            text(e, "dest_ip").unwrap_or("?"),
        );
        let session = Session::of(
            ("ESPHome", uploader, device),
            d,
            ("auth", "error"),
            time,
            t_us,
        );
        self.session_done(session, d, time);
    }

    fn session_done(&mut self, s: Session, details: &Value, time: &str) {
        let fw = details.get("firmware").unwrap_or(&Value::Null);
        let (device, outcome) = (s.device.clone(), s.outcome.clone());
        if let Some(d) = self.device(&device) {
            d.sessions += 1;
            *d.outcomes.entry(outcome.clone()).or_default() += 1;
            if let Some(a) = &s.auth {
                d.auth_seen.insert(a.clone());
            }
        }
        self.firmware_seen(&device, time, fw, &outcome);
        push_capped(&mut self.sessions, s, &mut self.left_out, "sessions");
    }

    fn announcement(&mut self, a: &Value) {
        let Some(address) = text(a, "address") else {
            return;
        };
        let Some(d) = self.device(address) else {
            return;
        };
        d.learn(a);
        if let Some(n) = text(a, "instance") {
            d.names.insert(n.to_string());
        }
        if let Some(s) = text(a, "service") {
            d.services.insert(s.to_string());
        }
    }

    fn inventory(&mut self, i: &Value) {
        let Some(address) = text(i, "address") else {
            return;
        };
        let Some(d) = self.device(address) else {
            return;
        };
        d.learn(i);
        for (key, set) in [
            ("services", &mut d.services),
            ("auth_seen", &mut d.auth_seen),
        ] {
            if let Some(Value::Array(list)) = i.get(key) {
                set.extend(list.iter().filter_map(Value::as_str).map(String::from));
            }
        }
    }

    fn alert(&mut self, kind: &str, severity: usize, d: &Value, time: &str, t_us: i64) -> Finding {
        let mut evidence = Vec::new();
        for key in [
            "protocol",
            "auth_scheme",
            "session_id",
            "failures",
            "window_s",
        ] {
            if let Some(v) = d.get(key).filter(|v| !v.is_null()) {
                evidence.push((key.to_string(), plain(v)));
            }
        }
        Finding {
            time: time.to_string(),
            time_us: t_us,
            severity,
            kind: kind.to_string(),
            from: text(d, "uploader").unwrap_or("?").to_string(),
            to: text(d, "device").unwrap_or("?").to_string(),
            guess: None,
            detail: text(d, "detail").unwrap_or("").to_string(),
            evidence,
        }
    }

    fn pim(&mut self, d: &Value, time: &str, t_us: i64) {
        let Some(change) = text(d, "change") else {
            return;
        };
        let c = PimChange {
            time_us: t_us,
            time: time.to_string(),
            neighbor: text(d, "neighbor").unwrap_or("?").to_string(),
            mdt: text(d, "default_mdt").unwrap_or("bare PIM").to_string(),
            pe: text(d, "pe").unwrap_or("").to_string(),
            change: change.to_string(),
        };
        push_capped(&mut self.pim_changes, c, &mut self.left_out, "PIM changes");
    }

    fn data_mdt_join(&mut self, d: &Value, time: &str) {
        let (Some(pe), Some(s), Some(g), Some(p)) = (
            text(d, "pe"),
            text(d, "c_source"),
            text(d, "c_group"),
            text(d, "p_group"),
        ) else {
            return;
        };
        self.pe_in(pe, None);
        let key = (pe.to_string(), s.to_string(), g.to_string());
        if !self.data_mdts.contains_key(&key) && self.data_mdts.len() >= MAX_ITEMS {
            *self.left_out.entry("Data-MDT mappings").or_default() += 1;
            return;
        }
        let m = self.data_mdts.entry(key).or_insert_with(|| DataMdt {
            first: time.to_string(),
            ..DataMdt::default()
        });
        if !m.p_group.is_empty() && m.p_group != p {
            m.previous = Some(m.p_group.clone());
        }
        m.p_group = p.to_string();
        m.last = time.to_string();
        m.joins += 1;
    }
}

/// `esp32s3 thermo-7 2.0.1 (IDF v5.4.2)`, or empty.
pub fn firmware_label(fw: &Value) -> String {
    let parts: Vec<&str> = ["chip", "project_name", "version"]
        .iter()
        .filter_map(|k| text(fw, k))
        .collect();
    let mut s = parts.join(" ");
    if let Some(idf) = text(fw, "idf_version") {
        s.push_str(&format!(" (IDF {idf})"));
    }
    s
}

/// A JSON value as plain text (strings without quotes).
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn anomaly(e: &Value, kind: &str, severity: usize, d: &Value, time: &str, t_us: i64) -> Finding {
    let mut evidence = Vec::new();
    let scan = d.get("scan").filter(|s| !s.is_null());
    let endpoint = |ip: &str, port: &str| match num(e, port) {
        Some(p) if ip.contains(':') => format!("[{ip}]:{p}"),
        Some(p) => format!("{ip}:{p}"),
        None => ip.to_string(),
    };
    let (from, to) = match scan {
        Some(s) => (
            text(s, "src_ip").unwrap_or("?").to_string(),
            format!(
                "{} host(s), port(s) {}",
                num(s, "host_count").unwrap_or(0),
                s.get("ports").map(plain).unwrap_or_default()
            ),
        ),
        None => (
            endpoint(text(e, "src_ip").unwrap_or("?"), "src_port"),
            endpoint(text(e, "dest_ip").unwrap_or("?"), "dest_port"),
        ),
    };
    if let Some(s) = scan {
        for key in [
            "kind",
            "proto",
            "target_count",
            "answered",
            "sample_targets",
        ] {
            if let Some(v) = s.get(key) {
                evidence.push((format!("scan {key}"), plain(v)));
            }
        }
    }
    for proto in ["tls", "http", "ssh", "dns", "smb"] {
        if let Some(Value::Object(m)) = d.get(proto) {
            for (k, v) in m {
                // The JA3 string is long and its hash says the same.
                if !v.is_null() && k != "ja3" {
                    evidence.push((format!("{proto} {k}"), plain(v)));
                }
            }
        }
    }
    for key in ["beacon", "interactive"] {
        if let Some(Value::Object(m)) = d.get(key) {
            for (k, v) in m {
                evidence.push((format!("{key} {k}"), plain(v)));
            }
        }
    }
    if let Some(err) = text(d, "error") {
        evidence.push(("error".into(), err.to_string()));
    }
    if let Some(Value::Object(p)) = d.get("payload_preview") {
        for (dir, v) in p {
            if let Some(s) = text(v, "printable") {
                evidence.push((format!("payload {dir}"), s.to_string()));
            }
        }
    }
    if let (Some(a), Some(b)) = (num(d, "pkts_toserver"), num(d, "pkts_toclient")) {
        evidence.push((
            "packets".into(),
            format!(
                "{a} to server / {b} to client, {} / {} bytes",
                num(d, "bytes_toserver").unwrap_or(0),
                num(d, "bytes_toclient").unwrap_or(0)
            ),
        ));
    }
    Finding {
        time: time.to_string(),
        time_us: t_us,
        severity,
        kind: kind.to_string(),
        from,
        to,
        guess: text(d, "protocol_guess").map(String::from),
        detail: text(d, "detail").unwrap_or("").to_string(),
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_to_micros() {
        assert_eq!(parse_time("1970-01-01T00:00:00.000001Z"), Some(1));
        assert_eq!(
            parse_time("2026-11-29T20:00:00.184000Z"),
            Some(1_795_982_400_184_000)
        );
        assert_eq!(parse_time("garbage"), None);
        assert_eq!(parse_time("2026-11-29X20:00:00Z"), None);
    }
}
