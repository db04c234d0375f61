//! The event contract (`docs/events.md`, after `shared/docs/EVENTS.md`): one JSON object per
//! finding, with the common fields every event carries and the details of one protocol family.

pub mod alert;
pub mod anomaly;
pub mod arduino_ota;
pub mod device;
pub mod esphome;
pub mod mdt;
pub mod signature;
pub mod stats;

use crate::time::Timestamp;
use alert::AlertDetails;
use anomaly::AnomalyDetails;
use arduino_ota::OtaDetails;
use device::DeviceDetails;
use esphome::EsphomeDetails;
use mdt::MdtDetails;
use serde::{Serialize, Serializer};
use signature::RuleMatch;
use stats::StatsDetails;
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    /// A compromise in progress (a root shell, a download run by a shell).
    Critical,
}

impl Severity {
    /// The name events carry (`severity`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

// The password scheme of an OTA session, as `arduino_ota`, `esphome_ota`, `alert` and
// `device` report it. Variants are in the alphabetical order of their names: the device
// inventory keeps them in a sorted set. (Not a doc comment: schemars would append it to the
// description of every optional field of this type in docs/events.md.)
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AuthScheme {
    // MD5 digest auth (ArduinoOTA 32-hex nonce, ESPHome `01`).
    Md5,
    // No password: the device accepted without a challenge.
    None,
    // PBKDF2-HMAC-SHA256 (ArduinoOTA 64-hex nonce, arduino-esp32 ≥ 3.3.1).
    Pbkdf2Sha256,
    // SHA-256 (ESPHome `02`).
    Sha256,
    // The device challenged, but which scheme is not known.
    Unknown,
}

impl AuthScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthScheme::Md5 => "md5",
            AuthScheme::None => "none",
            AuthScheme::Pbkdf2Sha256 => "pbkdf2_sha256",
            AuthScheme::Sha256 => "sha256",
            AuthScheme::Unknown => "unknown",
        }
    }
}

/// How an OTA session ended (`arduino_ota` transfers, `esphome_ota` sessions, the device
/// inventory). Variants are in the alphabetical order of their names: the inventory counts
/// sessions per outcome in a sorted map.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OtaOutcome {
    // Closed without the device's `OK`.
    Aborted,
    // The device rejected the password.
    AuthFailed,
    // The device confirmed the whole image.
    Complete,
    // The device reported an error.
    Failed,
    // Accepted or unanswered, but the device never connected back (ArduinoOTA).
    NoConnect,
}

impl OtaOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            OtaOutcome::Aborted => "aborted",
            OtaOutcome::AuthFailed => "auth_failed",
            OtaOutcome::Complete => "complete",
            OtaOutcome::Failed => "failed",
            OtaOutcome::NoConnect => "no_connect",
        }
    }
}

/// The OTA protocol a finding or an update concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OtaProtocol {
    ArduinoOta,
    EsphomeOta,
}

/// Where the packet that completed an event came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub pcap_filename: Option<Arc<str>>,
    pub in_iface: Option<Arc<str>>,
}

impl Origin {
    pub fn file(name: &str) -> Self {
        Origin {
            pcap_filename: Some(name.into()),
            in_iface: None,
        }
    }

    pub fn interface(name: &str) -> Self {
        Origin {
            pcap_filename: None,
            in_iface: Some(name.into()),
        }
    }
}

/// The flow an event belongs to (the inner flow when tunnelled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowFields {
    pub src_ip: IpAddr,
    pub src_port: Option<u16>,
    pub dest_ip: IpAddr,
    pub dest_port: Option<u16>,
    pub proto: &'static str,
    /// Shared by the flow and its events (an `Arc`: events cross threads when sharded).
    pub community_id: Arc<str>,
}

/// The addresses of an event that sums up many flows of one source (a scan), which has no
/// flow of its own: the source, and the destination only when every flow went to one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parties {
    pub src_ip: IpAddr,
    pub dest_ip: Option<IpAddr>,
    pub proto: &'static str,
}

/// The outer hop of a tunnelled flow: the outermost delivery header, what encapsulation it is,
/// and the identifiers the encapsulations carried.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TunnelFields {
    pub src_ip: IpAddr,
    pub dest_ip: IpAddr,
    /// The delivery header's IP protocol: `GRE` (GRE, bridging, ERSPAN) or `UDP` (VXLAN, GENEVE).
    pub proto: &'static str,
    /// `gre_teb`, `erspan`, `vxlan` or `geneve`; absent for IP in GRE (`gre`), which events
    /// wrote before any other type existed.
    #[serde(rename = "type", skip_serializing_if = "is_plain_gre")]
    pub tunnel_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gre_key: Option<u32>,
    /// VXLAN or GENEVE network identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vni: Option<u32>,
    /// ERSPAN type: 1, 2 or 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erspan_type: Option<u8>,
    /// ERSPAN session id (types II and III).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erspan_session_id: Option<u16>,
    pub depth: u8,
}

fn is_plain_gre(tunnel_type: &&'static str) -> bool {
    *tunnel_type == "gre"
}

/// The `kind` vocabulary of one family (`OtaKind`, `MdtKind`, … and the anomaly `Reason`):
/// events are built from these, and carry the name.
pub trait EventKind: Copy {
    fn as_str(self) -> &'static str;
}

/// Protocol-specific details; the variant names the `event_type` and the object key.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    ArduinoOta(OtaDetails),
    Mdt(MdtDetails),
    EsphomeOta(Box<EsphomeDetails>),
    Device(DeviceDetails),
    Alert(AlertDetails),
    Anomaly(Box<AnomalyDetails>),
    Stats(Box<StatsDetails>),
}

impl Body {
    pub fn event_type(&self) -> &'static str {
        match self {
            Body::ArduinoOta(_) => "arduino_ota",
            Body::Mdt(_) => "mdt",
            Body::EsphomeOta(_) => "esphome_ota",
            Body::Device(_) => "device",
            Body::Alert(_) => "alert",
            Body::Anomaly(_) => "anomaly",
            Body::Stats(_) => "stats",
        }
    }
}

/// One finding. Serialised (the EVE form) with the common fields first, then the details
/// object under its `event_type`; an `alert`, and an `anomaly` of severity high, also carry
/// Suricata's alert fields in an `alert` object (see [`signature`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub timestamp: Timestamp,
    pub flow_id: Option<u64>,
    pub origin: Origin,
    pub pcap_cnt: Option<u64>,
    pub event_type: &'static str,
    pub kind: &'static str,
    pub severity: Severity,
    pub flow: Option<FlowFields>,
    /// Set only when `flow` is not (both write `src_ip`, `dest_ip`, `proto` at the top level).
    pub parties: Option<Parties>,
    pub tunnel: Option<TunnelFields>,
    pub body: Body,
}

impl Event {
    /// An event with no flow (stats, inventories).
    pub fn global(
        timestamp: Timestamp,
        origin: Origin,
        kind: impl EventKind,
        severity: Severity,
        body: Body,
    ) -> Self {
        Event {
            timestamp,
            flow_id: None,
            origin,
            pcap_cnt: None,
            event_type: body.event_type(),
            kind: kind.as_str(),
            severity,
            parties: None,
            flow: None,
            tunnel: None,
            body,
        }
    }
}

/// Suricata's alert fields first, then watch3232's own details of an `alert` event.
#[derive(Serialize)]
struct AlertObject<'a> {
    #[serde(flatten)]
    rule: RuleMatch,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    details: Option<&'a AlertDetails>,
}

/// Where an event's fields go, one by one in contract order: a serde map ([`Serialize`] for
/// [`Event`]) or the EVE writer's own buffer (`output::eve`), which writes the common fields
/// without serde's per-string cost. Both take the same walk, [`Event::write_fields`].
pub trait FieldSink {
    type Error;
    fn str(&mut self, key: &'static str, value: &str) -> Result<(), Self::Error>;
    fn u64(&mut self, key: &'static str, value: u64) -> Result<(), Self::Error>;
    fn ip(&mut self, key: &'static str, value: IpAddr) -> Result<(), Self::Error>;
    fn timestamp(&mut self, key: &'static str, value: Timestamp) -> Result<(), Self::Error>;
    /// Anything else, serialised by serde.
    fn value<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error>;
}

impl Event {
    /// The wire form: the common fields in contract order, then the details object under the
    /// event type; the rule an alert matched is merged into the `alert` object.
    pub fn write_fields<F: FieldSink>(&self, f: &mut F) -> Result<(), F::Error> {
        let rule = signature::rule_match(self.event_type, self.kind, self.severity);
        f.timestamp("timestamp", self.timestamp)?;
        if let Some(id) = self.flow_id {
            f.u64("flow_id", id)?;
        }
        if let Some(name) = &self.origin.pcap_filename {
            f.str("pcap_filename", name)?;
        }
        if let Some(iface) = &self.origin.in_iface {
            f.str("in_iface", iface)?;
        }
        if let Some(cnt) = self.pcap_cnt {
            f.u64("pcap_cnt", cnt)?;
        }
        f.str("event_type", self.event_type)?;
        f.str("kind", self.kind)?;
        f.str("severity", self.severity.as_str())?;
        if let Some(flow) = &self.flow {
            f.ip("src_ip", flow.src_ip)?;
            if let Some(port) = flow.src_port {
                f.u64("src_port", port.into())?;
            }
            f.ip("dest_ip", flow.dest_ip)?;
            if let Some(port) = flow.dest_port {
                f.u64("dest_port", port.into())?;
            }
            f.str("proto", flow.proto)?;
            f.str("community_id", &flow.community_id)?;
        }
        if let Some(p) = &self.parties {
            f.ip("src_ip", p.src_ip)?;
            if let Some(dest) = p.dest_ip {
                f.ip("dest_ip", dest)?;
            }
            f.str("proto", p.proto)?;
        }
        if let Some(t) = &self.tunnel {
            f.value("tunnel", t)?;
        }
        match (&self.body, rule) {
            // An alert's details go into the `alert` object, after the rule.
            (Body::Alert(details), Some(rule)) => {
                let alert = AlertObject {
                    rule,
                    details: Some(details),
                };
                f.value("alert", &alert)?;
            }
            (body, rule) => {
                match body {
                    Body::ArduinoOta(d) => f.value("arduino_ota", d)?,
                    Body::Mdt(d) => f.value("mdt", d)?,
                    Body::EsphomeOta(d) => f.value("esphome_ota", d)?,
                    Body::Device(d) => f.value("device", d)?,
                    Body::Alert(d) => f.value("alert", d)?,
                    Body::Anomaly(d) => f.value("anomaly", d)?,
                    Body::Stats(d) => f.value("stats", d)?,
                }
                if let Some(rule) = rule {
                    let alert = AlertObject {
                        rule,
                        details: None,
                    };
                    f.value("alert", &alert)?;
                }
            }
        }
        Ok(())
    }
}

/// [`FieldSink`] over a serde map.
struct MapFields<M>(M);

impl<M: serde::ser::SerializeMap> FieldSink for MapFields<M> {
    type Error = M::Error;
    fn str(&mut self, key: &'static str, value: &str) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }
    fn u64(&mut self, key: &'static str, value: u64) -> Result<(), M::Error> {
        self.0.serialize_entry(key, &value)
    }
    fn ip(&mut self, key: &'static str, value: IpAddr) -> Result<(), M::Error> {
        self.0.serialize_entry(key, &value)
    }
    fn timestamp(&mut self, key: &'static str, value: Timestamp) -> Result<(), M::Error> {
        self.0.serialize_entry(key, &value)
    }
    fn value<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut fields = MapFields(serializer.serialize_map(None)?);
        self.write_fields(&mut fields)?;
        fields.0.end()
    }
}
