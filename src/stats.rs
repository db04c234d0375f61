//! Run counters, turned into the `stats` event (`event::stats`) that ends every run.

use std::collections::BTreeMap;

// Kept while `src/cli` still imports the stats objects from here; they live in `event::stats`.
pub use crate::event::stats::{KernelDrops, MemoryStats, OutputStats};

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
