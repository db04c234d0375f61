//! Run counters and the `stats` event that ends every run.

use serde::Serialize;
use std::collections::BTreeMap;

/// Counters kept while packets flow; cheap to bump on every packet.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub not_ip: u64,
    pub fragments: u64,
    /// Packets whose IP payload was cut by the capture's snap length.
    pub snaplen_cut: u64,
    pub decode_errors: u64,
    /// Decode errors by `layer.kind`, e.g. `udp.malformed`.
    pub decode_error_kinds: BTreeMap<String, u64>,
    /// Packets that reached the flow table.
    pub interesting_packets: u64,
    /// Named counters from classifiers, e.g. `arduino_ota.device_replies`.
    pub classifier: BTreeMap<&'static str, u64>,
    pub events: BTreeMap<&'static str, u64>,
    pub files_read: u64,
    pub files_failed: u64,
    pub files_truncated: u64,
}

impl Counters {
    pub fn bump(&mut self, name: &'static str) {
        self.add(name, 1);
    }

    pub fn add(&mut self, name: &'static str, n: u64) {
        *self.classifier.entry(name).or_default() += n;
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FlowStats {
    pub active: usize,
    pub created: u64,
    pub expired: u64,
    pub evicted: u64,
    pub closed: u64,
    pub peak: usize,
    pub capacity: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct KernelDrops {
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
}

/// The `stats` object of a `stats` event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StatsDetails {
    pub packets: u64,
    pub bytes: u64,
    pub decode_errors: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub decode_error_kinds: BTreeMap<String, u64>,
    pub not_ip: u64,
    pub fragments: u64,
    pub snaplen_cut: u64,
    pub interesting_packets: u64,
    pub flows: FlowStats,
    /// Events written before this one, by `event_type`.
    pub events: BTreeMap<&'static str, u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classifiers: BTreeMap<&'static str, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelDrops>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<FileStats>,
    /// Filled in by the CLI (resident memory, output counters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Box<MemoryStats>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Box<OutputStats>>,
}

/// Memory of the process (from /proc/self/statm on Linux).
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MemoryStats {
    pub rss_bytes: u64,
    pub virtual_bytes: u64,
}

/// What the outputs did: events handed to them, copies a socket or syslog output dropped,
/// SIGHUP reopens.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OutputStats {
    pub events: u64,
    pub dropped: u64,
    pub reopens: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FileStats {
    pub read: u64,
    pub failed: u64,
    pub truncated: u64,
}
