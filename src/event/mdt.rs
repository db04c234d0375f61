//! The `mdt` object of an event: default MDTs, PIM messages, Data-MDT Joins, malformed control
//! traffic, and the end-of-run inventory.

use super::EventKind;
use crate::time::Timestamp;
use serde::Serialize;
use std::net::IpAddr;

// What revealed a default MDT (not doc comments on these enums: schemars would append them
// to the descriptions of optional fields in docs/events.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeenVia {
    Pim,
    DataMdtJoin,
}

// What changed about a PIM neighbour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PimChange {
    New,
    // The Generation ID changed.
    Restart,
    Options,
    // Holdtime 0.
    Leaving,
    // The holdtime ran out.
    Expired,
}

// The control protocol that did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MalformedProtocol {
    Pim,
    DataMdtJoin,
    Gre,
}

// A PIM neighbour's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NeighborState {
    Up,
    // Sent holdtime 0.
    Left,
    // The holdtime ran out without a Hello.
    Expired,
}

// The role of a multicast group a PE sends GRE to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PGroupRole {
    Default,
    Data,
    // GRE to a group no PIM or Join explained.
    Unknown,
}

/// The `mdt` object of an event; `kind` names the variant.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum MdtDetails {
    DefaultMdt(DefaultMdtDetails),
    Pim(Box<PimDetails>),
    DataMdtJoin(DataMdtJoinDetails),
    Malformed(MalformedDetails),
    Inventory(Box<Inventory>),
}

/// `default_mdt`: a PE first seen sending MDT control traffic (PIM or a Data-MDT Join) in GRE
/// to a multicast provider group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DefaultMdtDetails {
    /// The PE: the outer IP source of the GRE packet.
    pub pe: IpAddr,
    /// The default-MDT provider group: the outer IP destination of the GRE packet.
    pub p_group: IpAddr,
    /// Time of the packet that first revealed this (PE, P-group) pair.
    pub first_seen: Timestamp,
    /// What revealed it: `pim` or `data_mdt_join`.
    pub seen_via: SeenVia,
}

/// `pim`: a Hello (when the neighbour changes), a Join/Prune (when its content changes), or
/// the first message of another type in a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PimDetails {
    /// Message type: `hello`, `join_prune`, `register`, `assert`, `bootstrap`, …, or `unknown`.
    pub pim_type: &'static str,
    /// The type number of the PIM header (0 Hello, 3 Join/Prune, …).
    pub pim_type_code: u8,
    /// The sender (inner IP source).
    pub neighbor: IpAddr,
    /// The default-MDT group the message travelled in (absent for bare PIM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_mdt: Option<IpAddr>,
    /// The PE whose GRE carried it (outer source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pe: Option<IpAddr>,
    /// Hellos: `new`, `restart` (Generation ID changed), `options`, `leaving` (holdtime 0),
    /// `expired` (holdtime ran out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<PimChange>,
    /// `restart`: the neighbour's Generation ID before the change; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_generation_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hello: Option<Hello>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_prune: Option<JoinPrune>,
    /// Other types: the message length in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
}

/// `data_mdt_join`: a new C-(S,G) → P-group mapping, a C-flow moving to another P-group, or the
/// first TLV of an unknown type in a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DataMdtJoinDetails {
    /// Join TLV type: 1 (IPv4 C-flow), 4 (IPv6 C-flow, IPv4 P-group), or an unknown type.
    pub tlv_type: u8,
    /// The announcing PE. In GRE to a default-MDT group: the tunnel's head (outer source), as
    /// for PIM hellos. Bare: the IP source of the datagram (RFC 6037 §6.2), or the PE whose
    /// in-MDT address that source is, once known. IPv4-mapped IPv6 written as IPv4 (RFC 6516
    /// §3.2).
    pub pe: IpAddr,
    /// The PE's own address inside the MDT (the datagram's IP source; what PIM hellos call
    /// `neighbor`) when it differs from `pe`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_mdt_address: Option<IpAddr>,
    /// Customer source of the C-(S,G); absent for unknown TLV types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_source: Option<IpAddr>,
    /// Customer group of the C-(S,G); absent for unknown TLV types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_group: Option<IpAddr>,
    /// The Data-MDT provider group the C-flow is switched to; absent for unknown TLV types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_group: Option<IpAddr>,
    /// Carried in GRE (as RFC 6037 §6.2 requires) rather than seen bare.
    pub encapsulated: bool,
    /// The default-MDT group the join travelled in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_group_default: Option<IpAddr>,
    /// Set when the C-flow moved from this P-group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_p_group: Option<IpAddr>,
    /// Unknown types: the TLV length and its value (hex, at most 64 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlv_length: Option<u16>,
    /// Unknown types: the TLV value after Type, Length and Reserved, hex (first 64 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_hex: Option<String>,
}

/// `malformed`: PIM or a Join on UDP 3232 inside an MDT that did not parse (once per flow and
/// protocol; every one is counted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MalformedDetails {
    /// `pim`, `data_mdt_join`, or `gre` (GRE to a multicast group that did not decode).
    pub protocol: MalformedProtocol,
    /// Short error code, e.g. PIM `truncated`, `bad_checksum`; Join `empty`, `bad_length`;
    /// GRE `gre_version`, `gre_reserved_bits`, `tunnel_too_deep`.
    pub reason: &'static str,
    /// The parser's error message (what did not fit, at which offset).
    pub error: String,
}

/// A PE (provider edge router) seen sending MDT control traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PeEntry {
    /// The PE's address (outer GRE source, or the IP source of its bare Data-MDT Joins).
    pub pe: IpAddr,
    /// The PE's own addresses inside its MDTs (inner source of its hellos and joins) where they
    /// differ from `pe`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_mdt_addresses: Vec<IpAddr>,
    /// Default-MDT groups this PE sent MDT control traffic to.
    pub default_mdts: Vec<IpAddr>,
    /// C-flows this PE mapped to a Data-MDT (its entries in `data_mdts`).
    pub data_mdts: usize,
    /// Time of the first packet that revealed this PE (default MDT or Data-MDT Join).
    pub first_seen: Timestamp,
    /// Time of the last such packet.
    pub last_seen: Timestamp,
}

/// A default-MDT provider group and the PEs in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DefaultMdtEntry {
    /// The default-MDT provider group.
    pub p_group: IpAddr,
    /// PEs seen sending MDT control traffic (PIM or Data-MDT Joins) in GRE to this group.
    pub pes: Vec<IpAddr>,
    /// Time of the first control packet of any PE to this group.
    pub first_seen: Timestamp,
    /// Time of the last control packet of any PE to this group.
    pub last_seen: Timestamp,
}

/// A PIM neighbour (a Hello sender) in one MDT, or on bare PIM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct NeighborEntry {
    /// The Hello sender (inner IP source).
    pub neighbor: IpAddr,
    /// The default-MDT group its Hellos travelled in; absent for bare PIM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_mdt: Option<IpAddr>,
    /// The PE whose GRE carried its last Hello; absent for bare PIM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pe: Option<IpAddr>,
    /// DR Priority of its last Hello; absent when that Hello had none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dr_priority: Option<u32>,
    /// The elected DR of its MDT among neighbours still up (RFC 7761 §4.3.2).
    pub dr: bool,
    /// Holdtime of its last Hello, seconds; absent when that Hello had none (105 s assumed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holdtime: Option<u16>,
    /// Generation ID of its last Hello; absent when that Hello had none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<u32>,
    /// `up`, `left` (sent holdtime 0) or `expired` (holdtime ran out before the end).
    pub state: NeighborState,
    /// Times its Generation ID changed (the neighbour restarted).
    pub restarts: u32,
    /// Hellos received from it.
    pub hellos: u64,
    /// Time of its first Hello.
    pub first_seen: Timestamp,
    /// Time of its last Hello.
    pub last_seen: Timestamp,
}

/// A C-(S,G) → P-group mapping announced by a PE's Data-MDT Join.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DataMdtEntry {
    /// The PE that announced the mapping.
    pub pe: IpAddr,
    /// Customer source of the C-(S,G).
    pub c_source: IpAddr,
    /// Customer group of the C-(S,G).
    pub c_group: IpAddr,
    /// The Data-MDT provider group the C-flow was last mapped to.
    pub p_group: IpAddr,
    /// Join TLV type: 1 (IPv4 C-flow) or 4 (IPv6 C-flow, IPv4 P-group).
    pub tlv_type: u8,
    /// Joins that announced this mapping (the first and its refreshes, since the last move).
    pub joins: u64,
    /// GRE packets from the PE to the P-group carrying this C-flow.
    pub data_packets: u64,
    /// Time of the first Join for this C-flow from this PE (kept across P-group moves).
    pub first_seen: Timestamp,
    /// Time of the last Join for this C-flow from this PE.
    pub last_seen: Timestamp,
}

/// GRE traffic from one PE to one multicast group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PGroupEntry {
    /// The GRE sender (outer IP source).
    pub pe: IpAddr,
    /// The multicast group the GRE went to (outer IP destination).
    pub p_group: IpAddr,
    /// `default`, `data`, or `unknown` (GRE to a group no PIM or Join explained).
    pub role: PGroupRole,
    /// GRE packets from the PE to the group: PIM, Joins, customer traffic and MPLS.
    pub packets: u64,
    /// Of `packets`, those carrying MPLS (GRE protocol 0x8847 or 0x8848).
    pub mpls_packets: u64,
    /// Time of the first GRE packet from the PE to the group.
    pub first_seen: Timestamp,
    /// Time of the last GRE packet from the PE to the group.
    pub last_seen: Timestamp,
}

/// Entries dropped because a table was full, by table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Evictions {
    /// (PE, default-MDT group) pairs dropped.
    pub default_mdts: u64,
    /// PIM neighbours dropped.
    pub pim_neighbors: u64,
    /// C-flow → P-group mappings dropped.
    pub data_mdts: u64,
    /// Join/Prune senders forgotten (their next Join/Prune is reported as new).
    pub join_prunes: u64,
    /// (PE, group) traffic entries dropped.
    pub p_groups: u64,
    /// (PE, group, reason) GRE errors forgotten (the same error may be reported again).
    pub gre_errors: u64,
}

/// `inventory`: the MDT state at the end of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Inventory {
    /// Every PE seen, with its default MDTs and Data-MDT count.
    pub pes: Vec<PeEntry>,
    /// Every default-MDT group, with the PEs seen in it.
    pub default_mdts: Vec<DefaultMdtEntry>,
    /// Every PIM neighbour seen in Hellos, per MDT.
    pub pim_neighbors: Vec<NeighborEntry>,
    /// Every C-(S,G) → P-group mapping from Data-MDT Joins, per PE.
    pub data_mdts: Vec<DataMdtEntry>,
    /// GRE traffic per (PE, multicast group), whatever it carried.
    pub p_groups: Vec<PGroupEntry>,
    pub evictions: Evictions,
}

/// An Encoded-Group address: `Family EncType [B|Rsvd|Z] MaskLen Group`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct EncodedGroup {
    /// The multicast group address.
    pub group: IpAddr,
    /// Group mask length in bits (32 or 128 for a single group).
    pub mask_len: u8,
    /// B: bidirectional PIM group (RFC 5015).
    pub bidir: bool,
    /// Z: admin-scope zone (RFC 5059).
    pub zone: bool,
}

/// An Encoded-Source address: `Family EncType [Rsvd|S|W|R] MaskLen Source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct EncodedSource {
    /// The source address (for a (*,G) entry: the RP).
    pub source: IpAddr,
    /// Source mask length in bits (32 or 128 for a single source).
    pub mask_len: u8,
    /// S: sparse mode (always 1 in PIM-SM).
    pub sparse: bool,
    /// W: wildcard, the entry is (*,G).
    pub wildcard: bool,
    /// R: sent down the RP tree.
    pub rpt: bool,
}

/// LAN Prune Delay (option 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct LanPruneDelay {
    /// T: the sender can disable join suppression.
    pub t_bit: bool,
    /// Propagation Delay, milliseconds.
    pub propagation_delay_ms: u16,
    /// Override Interval, milliseconds.
    pub override_interval_ms: u16,
}

/// An option we do not interpret, kept by type and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct UnknownOption {
    /// The option type number.
    #[serde(rename = "type")]
    pub option_type: u16,
    /// The option value length, bytes.
    pub length: u16,
}

/// A parsed Hello (RFC 7761 §4.9.2). Absent options are `None`; repeated Address List options
/// are concatenated (FRR sends one per address family).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct Hello {
    /// Holdtime option, seconds (0 = leaving, 65535 = never expire); absent when not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holdtime: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lan_prune_delay: Option<LanPruneDelay>,
    /// DR Priority option; absent when not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dr_priority: Option<u32>,
    /// Generation ID option (random, new on each restart); absent when not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<u32>,
    /// Secondary addresses from the Address List options (empty when none).
    pub addresses: Vec<IpAddr>,
    /// Options not interpreted here, by type and length.
    #[serde(rename = "unknown_options")]
    pub unknown: Vec<UnknownOption>,
}

/// One group of a Join/Prune with its joined and pruned sources.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct JoinPruneGroup {
    #[serde(flatten)]
    pub group: EncodedGroup,
    /// Sources joined for this group.
    pub joins: Vec<EncodedSource>,
    /// Sources pruned for this group.
    pub prunes: Vec<EncodedSource>,
}

/// A parsed Join/Prune (RFC 7761 §4.9.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct JoinPrune {
    /// The router the message is addressed to (in an MDT: the remote PE).
    pub upstream_neighbor: IpAddr,
    /// Seconds the receiver keeps the join/prune state.
    pub holdtime: u16,
    /// The groups, each with its joined and pruned sources.
    pub groups: Vec<JoinPruneGroup>,
}

/// The `kind` of an `mdt` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MdtKind {
    DefaultMdt,
    Pim,
    DataMdtJoin,
    Malformed,
    Inventory,
}

impl EventKind for MdtKind {
    fn as_str(self) -> &'static str {
        match self {
            MdtKind::DefaultMdt => "default_mdt",
            MdtKind::Pim => "pim",
            MdtKind::DataMdtJoin => "data_mdt_join",
            MdtKind::Malformed => "malformed",
            MdtKind::Inventory => "inventory",
        }
    }
}
