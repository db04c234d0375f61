//! The `stats` object of the `stats` event that ends every run.

use super::EventKind;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FlowStats {
    /// Flows in the table now.
    pub active: usize,
    /// Flows created so far.
    pub created: u64,
    /// Flows ended by the idle timeout (`--flow-timeout`).
    pub expired: u64,
    /// Flows ended early because the table was full (`--max-flows`).
    pub evicted: u64,
    /// Flows ended by their protocol (e.g. TCP close, exchange done).
    pub closed: u64,
    /// Most flows in the table at once.
    pub peak: usize,
    /// The table's bound (`--max-flows`).
    pub capacity: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct KernelDrops {
    /// Packets that passed the kernel filter.
    pub received: u64,
    /// Packets the kernel dropped because its capture buffer was full.
    pub dropped: u64,
    /// Packets the interface or driver dropped.
    pub if_dropped: u64,
}

/// The `stats` object of a `stats` event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StatsDetails {
    /// Packets read so far.
    pub packets: u64,
    /// Bytes on the wire of the packets read.
    pub bytes: u64,
    /// Packets that could not be decoded.
    pub decode_errors: u64,
    /// Decode errors by `layer.kind`, e.g. `udp.malformed` (omitted when none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub decode_error_kinds: BTreeMap<String, u64>,
    /// Packets that were not IP.
    pub not_ip: u64,
    /// IP fragments (not reassembled).
    pub fragments: u64,
    /// Packets cut short by the capture's snap length.
    pub snaplen_cut: u64,
    /// Packets that reached the flow table (the rest were rejected by the port/protocol bitmaps).
    pub interesting_packets: u64,
    /// The flow table.
    pub flows: FlowStats,
    /// Events written before this one, by `event_type`.
    pub events: BTreeMap<&'static str, u64>,
    /// Named counters of the classifiers, e.g. `arduino_ota.invitations` (omitted when none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classifiers: BTreeMap<&'static str, u64>,
    /// Live capture only: the kernel's counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelDrops>,
    /// Reading files only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<FileStats>,
    /// Memory of the process: in `periodic` events and live summaries (an offline summary
    /// stays identical from run to run). Filled in by the CLI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Box<MemoryStats>>,
    /// What the outputs did (filled in by the CLI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Box<OutputStats>>,
    /// Each output's delivery (omitted when every output is standard output or a file, whose
    /// write errors end the run instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<OutputDelivery>>,
    /// The run was stopped by a signal (SIGINT/SIGTERM): a read before its input ended
    /// (`packets` says how far it got), a capture as it is stopped (every flow ended first);
    /// omitted otherwise.
    #[serde(default, skip_serializing_if = "is_false")]
    pub interrupted: bool,
    /// `--workers N`: each worker's share of the counters above, in worker order, to see how
    /// evenly the traffic was dealt (omitted with one engine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<Vec<WorkerStats>>,
}

/// One worker's part of a run with `--workers N`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WorkerStats {
    /// The worker's number, from 0 (a worker that failed before it could answer is missing).
    pub worker: usize,
    /// Packets the worker was dealt.
    pub packets: u64,
    /// Of them, packets that reached its flow table.
    pub interesting_packets: u64,
    /// Its flow table (its `capacity` is its share of `--max-flows`).
    pub flows: FlowStats,
    /// Live capture only: its socket's kernel counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelDrops>,
}

impl WorkerStats {
    /// The share of worker number `worker`, from its own counters.
    pub fn of(worker: usize, counters: &StatsDetails) -> Self {
        WorkerStats {
            worker,
            packets: counters.packets,
            interesting_packets: counters.interesting_packets,
            flows: counters.flows.clone(),
            kernel: counters.kernel.clone(),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Memory of the process (from /proc/self/statm on Linux).
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MemoryStats {
    /// Resident set size.
    pub rss_bytes: u64,
    /// Virtual memory size.
    pub virtual_bytes: u64,
}

/// What the outputs did: events handed to them, copies a socket or syslog output dropped,
/// SIGHUP reopens.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OutputStats {
    /// Events handed to the outputs before this one.
    pub events: u64,
    /// Event copies a socket or syslog output could not deliver (reader gone or stalled).
    pub dropped: u64,
    /// SIGHUPs handled (files reopened).
    pub reopens: u64,
    /// Files a SIGHUP could not reopen (they go on in the file opened before); omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub reopen_failures: u64,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// What one socket, syslog or Redis output did with the events handed to it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OutputDelivery {
    /// The output as given to `-o` (without a password).
    pub output: String,
    /// Events the receiver accepted.
    pub written: u64,
    /// Events lost: the backlog (`--output-buffer`) overflowed while the receiver was away, or
    /// the run ended before it came back.
    pub dropped: u64,
    /// Connection attempts after a failure.
    pub retried: u64,
    /// Events waiting in the backlog for the receiver.
    pub buffered: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FileStats {
    /// Capture files opened.
    pub read: u64,
    /// Files that could not be opened.
    pub failed: u64,
    /// Files cut off mid-record (every packet before the cut was read).
    pub truncated: u64,
}

/// The `kind` of a `stats` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatsKind {
    Summary,
    Periodic,
}

impl EventKind for StatsKind {
    fn as_str(self) -> &'static str {
        match self {
            StatsKind::Summary => "summary",
            StatsKind::Periodic => "periodic",
        }
    }
}
