//! The event contract (`docs/events.md`, after `shared/docs/EVENTS.md`): one JSON object per
//! finding, with the common fields every event carries and the details of one protocol family.

use crate::capture::Timestamp;
use crate::classify::anomaly::AnomalyDetails;
use crate::classify::arduino_ota::alert::AlertDetails;
use crate::classify::arduino_ota::OtaDetails;
use crate::classify::esphome::EsphomeDetails;
use crate::classify::mdt::MdtDetails;
use crate::stats::StatsDetails;
use serde::{Serialize, Serializer};
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A timestamp is an RFC 3339 UTC string with microseconds, wherever it appears in an event.
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> String {
        "Timestamp".to_string()
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, SchemaObject, StringValidation};
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            string: Some(Box::new(StringValidation {
                pattern: Some(
                    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"
                        .to_string(),
                ),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

/// Where the packet that completed an event came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Origin {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcap_filename: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowFields {
    pub src_ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    pub dest_ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
    pub proto: &'static str,
    pub community_id: String,
}

/// The GRE delivery header around a tunnelled flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TunnelFields {
    pub src_ip: IpAddr,
    pub dest_ip: IpAddr,
    pub proto: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gre_key: Option<u32>,
    pub depth: u8,
}

/// Protocol-specific details; the variant names the `event_type` and the object key.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    ArduinoOta(OtaDetails),
    Mdt(MdtDetails),
    EsphomeOta(Box<EsphomeDetails>),
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
            Body::Alert(_) => "alert",
            Body::Anomaly(_) => "anomaly",
            Body::Stats(_) => "stats",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<u64>,
    #[serde(flatten)]
    pub origin: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcap_cnt: Option<u64>,
    pub event_type: &'static str,
    pub kind: &'static str,
    pub severity: Severity,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelFields>,
    #[serde(flatten)]
    pub body: Body,
}

impl Event {
    /// An event with no flow (stats, inventories).
    pub fn global(
        timestamp: Timestamp,
        origin: Origin,
        kind: &'static str,
        severity: Severity,
        body: Body,
    ) -> Self {
        Event {
            timestamp,
            flow_id: None,
            origin,
            pcap_cnt: None,
            event_type: body.event_type(),
            kind,
            severity,
            flow: None,
            tunnel: None,
            body,
        }
    }
}
