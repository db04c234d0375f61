//! The event contract (`docs/events.md`, after `shared/docs/EVENTS.md`): one JSON object per
//! finding, with the common fields every event carries and the details of one protocol family.

pub mod alert;
pub mod anomaly;
pub mod arduino_ota;
pub mod device;
pub mod esphome;
pub mod mdt;
pub mod stats;

use crate::time::Timestamp;
use alert::AlertDetails;
use anomaly::AnomalyDetails;
use arduino_ota::OtaDetails;
use device::DeviceDetails;
use esphome::EsphomeDetails;
use mdt::MdtDetails;
use serde::Serialize;
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
