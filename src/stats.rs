//! Run counters, turned into the `stats` event (`event::stats`) that ends every run.
//!
//! On the packet path every counter is a named field (`counters.mdt.pim_hellos += 1`); the
//! string-keyed maps of the `stats` event are built only when one is written.

use crate::decode::link::Skip;
use crate::decode::{DecodeError, ErrorKind, Layer};
use crate::event::anomaly::Reason;
use crate::event::Body;
use std::collections::BTreeMap;

/// Counters kept while packets flow; cheap to bump on every packet.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub not_ip: u64,
    /// Well-formed frames whose link layer carries nothing we read, by why (`wifi.encrypted`).
    pub link_skips: LinkSkipCounts,
    pub fragments: u64,
    /// Packets whose IP payload was cut by the capture's snap length.
    pub snaplen_cut: u64,
    pub decode_errors: u64,
    /// Decode errors by layer and kind (`udp.malformed` in the stats event).
    pub decode_error_kinds: DecodeErrorCounts,
    /// Packets that reached the flow table.
    pub interesting_packets: u64,
    pub arduino_ota: ArduinoOtaCounters,
    pub esphome_ota: EsphomeOtaCounters,
    pub mdns: MdnsCounters,
    pub mdt: MdtCounters,
    pub anomaly: AnomalyCounters,
    pub aggregate: AggregateCounters,
    /// Flows no classifier claimed, and their packets (`flows.unclassified`,
    /// `packets.unclassified`).
    pub unclassified_flows: u64,
    pub unclassified_packets: u64,
    /// The live capture's kernel filter changes.
    pub capture: CaptureCounters,
    pub events: EventCounts,
    pub files_read: u64,
    pub files_failed: u64,
    pub files_truncated: u64,
}

impl Counters {
    /// The named counters of the `stats` event (`classifiers`), sorted by name.
    pub fn classifier_map(&self) -> BTreeMap<&'static str, u64> {
        let mut map = BTreeMap::new();
        self.capture.export_fields(&mut map);
        self.link_skips.export(&mut map);
        self.arduino_ota.export_fields(&mut map);
        self.esphome_ota.export_fields(&mut map);
        self.mdns.export_fields(&mut map);
        self.mdt.export_fields(&mut map);
        self.anomaly.export(&mut map);
        self.aggregate.export_fields(&mut map);
        if self.unclassified_flows > 0 {
            map.insert("flows.unclassified", self.unclassified_flows);
            map.insert("packets.unclassified", self.unclassified_packets);
        }
        map
    }
}

/// A struct of named counters whose stats keys are `prefix.field`; a counter still at 0 was
/// never bumped and is left out of the event.
macro_rules! counter_group {
    (
        $(#[$meta:meta])* $name:ident, $prefix:literal { $($field:ident),* $(,)? }
        $(; $($(#[$extra_meta:meta])* $extra:ident: $extra_type:ty),* $(,)?)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default)]
        pub struct $name {
            $(pub $field: u64,)*
            $($($(#[$extra_meta])* pub $extra: $extra_type,)*)?
        }

        impl $name {
            fn export_fields(&self, map: &mut BTreeMap<&'static str, u64>) {
                $(
                    if self.$field > 0 {
                        map.insert(concat!($prefix, ".", stringify!($field)), self.$field);
                    }
                )*
            }
        }
    };
}

counter_group!(
    /// Run-time changes of the live kernel filter (it follows the OTA connect-back ports), and
    /// packets a capture file's reader skipped (`capture::SkippedPackets`).
    CaptureCounters, "capture" {
        filter_updates,
        filter_update_failures,
        unsupported_link_packets,
        bad_packet_blocks,
    }
);

counter_group!(
    /// ArduinoOTA (espota) messages, sessions and transfers.
    ArduinoOtaCounters, "arduino_ota" {
        alerts,
        auth_answers,
        connect_backs,
        connect_backs_not_held,
        firmware_extracted,
        firmware_not_extracted,
        firmware_write_errors,
        invitations,
        malformed_invitations,
        orphan_auth_answers,
        orphan_replies,
        packets_after_transfer,
        replies_auth,
        replies_auth_failed,
        replies_error,
        replies_ok,
        sessions,
        sessions_evicted,
        transfers,
        unexpected_ok,
        unrecognised_packets,
    }
);

counter_group!(
    /// ESPHome native OTA flows and sessions.
    EsphomeOtaCounters, "esphome_ota" {
        firmware_extracted,
        firmware_not_extracted,
        firmware_write_errors,
        flows,
        sessions,
    }
);

counter_group!(
    /// mDNS messages and announcements.
    MdnsCounters, "mdns" { announcements, announcements_forgotten, malformed, messages }
);

counter_group!(
    /// MDT: GRE, PIM and Data-MDT Joins, parse errors by kind, table evictions.
    MdtCounters, "mdt" {
        data_mdt_packets,
        evicted_data_mdts,
        evicted_default_mdts,
        evicted_in_mdt_addresses,
        evicted_gre_errors,
        evicted_join_prunes,
        evicted_p_groups,
        evicted_pim_neighbors,
        gre_bad_checksum,
        gre_customer_packets,
        gre_errors_to_groups,
        gre_mpls,
        gre_other_payload,
        gre_pptp,
        join_bad_length,
        join_bare,
        join_datagrams,
        join_empty,
        join_length_too_short,
        join_malformed,
        join_mixed_types,
        join_past_end,
        join_refreshes,
        join_tlvs,
        join_truncated,
        join_unknown_types,
        pim_address_family,
        pim_bad_checksum,
        pim_bad_version,
        pim_checksum_unverified,
        pim_encoding_type,
        pim_hello_refreshes,
        pim_hellos,
        pim_join_prune_refreshes,
        pim_join_prunes,
        pim_malformed,
        pim_mask_length,
        pim_messages,
        pim_neighbors_expired,
        pim_option_length,
        pim_option_past_end,
        pim_other_types,
        pim_trailing_bytes,
        pim_truncated,
    }
);

counter_group!(
    /// The aggregator's bounded cross-flow tables (evictions; the scan and MDT tables count
    /// under `anomaly.` and `mdt.`).
    AggregateCounters, "aggregate" { bruteforce_sources_evicted, devices_evicted }
);

counter_group!(
    /// The anomaly path: judged flows, silenced findings, bounded trackers.
    AnomalyCounters, "anomaly" {
        beacon_pairs_evicted,
        esphome_like_unclaimed,
        judged_early,
        mdt_like_unclaimed,
        scan_windows_evicted,
        silenced,
        state_unavailable,
    };
    /// `anomaly.silenced.<reason>`, indexed by `Reason as usize`.
    silenced_by_reason: [u64; Reason::ALL.len()],
    /// Set by the first closed scan window, even one that folded no probe.
    scan_probes_folded: Option<u64>,
);

impl AnomalyCounters {
    /// Bumps the silenced count of one reason (`anomaly.silenced.<reason>`).
    pub fn silence(&mut self, reason: Reason) {
        self.silenced_by_reason[reason as usize] += 1;
    }

    /// Adds the probes a closed scan window folded.
    pub fn fold_probes(&mut self, n: u64) {
        *self.scan_probes_folded.get_or_insert(0) += n;
    }

    fn export(&self, map: &mut BTreeMap<&'static str, u64>) {
        self.export_fields(map);
        if let Some(n) = self.scan_probes_folded {
            map.insert("anomaly.scan_probes_folded", n);
        }
        for reason in Reason::ALL {
            let n = self.silenced_by_reason[reason as usize];
            if n > 0 {
                map.insert(reason.silenced_counter(), n);
            }
        }
    }
}

impl Reason {
    /// The stats key of the findings of this reason an allowlist silenced.
    pub fn silenced_counter(self) -> &'static str {
        match self {
            Reason::UnknownProtocol => "anomaly.silenced.unknown_protocol",
            Reason::MalformedOta => "anomaly.silenced.malformed_ota",
            Reason::MalformedMdt => "anomaly.silenced.malformed_mdt",
            Reason::UnexpectedTcpService => "anomaly.silenced.unexpected_tcp_service",
            Reason::Scan => "anomaly.silenced.scan",
            Reason::InteractiveSession => "anomaly.silenced.interactive_session",
            Reason::Beacon => "anomaly.silenced.beacon",
            Reason::Probe => "anomaly.silenced.probe",
        }
    }
}

/// Decode errors by (layer, kind).
#[derive(Clone, Debug, Default)]
pub struct DecodeErrorCounts {
    counts: [[u64; ErrorKind::ALL.len()]; Layer::ALL.len()],
}

impl DecodeErrorCounts {
    pub fn count(&mut self, e: &DecodeError) {
        self.counts[e.layer() as usize][e.error_kind() as usize] += 1;
    }

    /// `layer.kind` → count, for the stats event.
    pub fn to_map(&self) -> BTreeMap<String, u64> {
        let mut map = BTreeMap::new();
        for layer in Layer::ALL {
            for kind in ErrorKind::ALL {
                let n = self.counts[layer as usize][kind as usize];
                if n > 0 {
                    map.insert(format!("{}.{}", layer.name(), kind.name()), n);
                }
            }
        }
        map
    }
}

/// Frames skipped at the link layer, by [`Skip`].
#[derive(Clone, Debug, Default)]
pub struct LinkSkipCounts {
    counts: [u64; Skip::ALL.len()],
}

impl LinkSkipCounts {
    pub fn count(&mut self, why: Skip) {
        self.counts[why as usize] += 1;
    }

    pub fn get(&self, why: Skip) -> u64 {
        self.counts[why as usize]
    }

    fn export(&self, map: &mut BTreeMap<&'static str, u64>) {
        for why in Skip::ALL {
            if self.get(why) > 0 {
                map.insert(why.name(), self.get(why));
            }
        }
    }
}

/// Events emitted, by `event_type`.
#[derive(Clone, Debug, Default)]
pub struct EventCounts {
    pub arduino_ota: u64,
    pub mdt: u64,
    pub esphome_ota: u64,
    pub device: u64,
    pub alert: u64,
    pub anomaly: u64,
    pub stats: u64,
}

impl EventCounts {
    pub fn count(&mut self, body: &Body) {
        *match body {
            Body::ArduinoOta(_) => &mut self.arduino_ota,
            Body::Mdt(_) => &mut self.mdt,
            Body::EsphomeOta(_) => &mut self.esphome_ota,
            Body::Device(_) => &mut self.device,
            Body::Alert(_) => &mut self.alert,
            Body::Anomaly(_) => &mut self.anomaly,
            Body::Stats(_) => &mut self.stats,
        } += 1;
    }

    /// `event_type` → count, for the stats event (types not emitted yet are left out).
    pub fn to_map(&self) -> BTreeMap<&'static str, u64> {
        [
            ("arduino_ota", self.arduino_ota),
            ("mdt", self.mdt),
            ("esphome_ota", self.esphome_ota),
            ("device", self.device),
            ("alert", self.alert),
            ("anomaly", self.anomaly),
            ("stats", self.stats),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .collect()
    }
}
