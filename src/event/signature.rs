//! Suricata's alert fields for watch3232's findings: one fixed signature (id, revision, title,
//! category) per finding kind, and the `alert` object that carries them, so a dashboard or rule
//! keyed on `alert.signature_id` sees every `alert` event and every high-severity `anomaly`.
//!
//! Signature ids come from 3232000–3232999: 3232001–3232099 for `alert` kinds, 3232100–3232199
//! for anomaly reasons. An id is never reused: a kind that goes keeps its id reserved, and a
//! change of meaning bumps `rev`.

use super::alert::AlertKind;
use super::anomaly::Reason;
use super::{EventKind, Severity};
use serde::Serialize;

/// Generator id of every watch3232 alert (Suricata's `gid` 1: rule-based alerts).
pub const GID: u32 = 1;

/// The range signature ids are taken from (inclusive).
pub const SIGNATURE_ID_RANGE: (u32, u32) = (3_232_000, 3_232_999);

/// A finding kind's rule, as Suricata's rule header and `msg`/`classtype` would state it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    pub id: u32,
    pub rev: u32,
    /// A short fixed title (Suricata's `msg`).
    pub title: &'static str,
    /// A description from Suricata's `classification.config`.
    pub category: &'static str,
}

// Descriptions of Suricata's `etc/classification.config` classtypes used here.
const POLICY_VIOLATION: &str = "Potential Corporate Privacy Violation";
const ATTEMPTED_ADMIN: &str = "Attempted Administrator Privilege Gain";
const BAD_UNKNOWN: &str = "Potentially Bad Traffic";
const UNKNOWN: &str = "Unknown Traffic";
const PROTOCOL_DECODE: &str = "Generic Protocol Command Decode";
const NON_STANDARD: &str = "Detection of a non-standard protocol or event";
const NETWORK_SCAN: &str = "Detection of a Network Scan";

const fn sig(id: u32, title: &'static str, category: &'static str) -> Signature {
    Signature {
        id,
        rev: 1,
        title,
        category,
    }
}

impl AlertKind {
    /// The rule of this finding (exhaustive: a new kind cannot lack one).
    pub fn signature(self) -> Signature {
        match self {
            AlertKind::OtaUnauthenticated => sig(
                3_232_001,
                "WATCH3232 OTA upload without authentication",
                POLICY_VIOLATION,
            ),
            AlertKind::OtaWeakAuth => sig(
                3_232_002,
                "WATCH3232 OTA upload with weak authentication",
                POLICY_VIOLATION,
            ),
            AlertKind::OtaAuthBruteforce => sig(
                3_232_003,
                "WATCH3232 OTA password brute force",
                ATTEMPTED_ADMIN,
            ),
            AlertKind::OtaUnexpectedUploader => sig(
                3_232_004,
                "WATCH3232 OTA upload from an unexpected uploader",
                BAD_UNKNOWN,
            ),
        }
    }
}

impl Reason {
    /// The rule of an anomaly for this reason (exhaustive: a new reason cannot lack one).
    pub fn signature(self) -> Signature {
        match self {
            Reason::UnknownProtocol => sig(
                3_232_101,
                "WATCH3232 unknown protocol on a watched port",
                UNKNOWN,
            ),
            Reason::MalformedOta => sig(
                3_232_102,
                "WATCH3232 malformed OTA message",
                PROTOCOL_DECODE,
            ),
            Reason::MalformedMdt => sig(
                3_232_103,
                "WATCH3232 malformed MDT message",
                PROTOCOL_DECODE,
            ),
            Reason::UnexpectedTcpService => sig(
                3_232_104,
                "WATCH3232 unexpected TCP service on a watched port",
                NON_STANDARD,
            ),
            Reason::Scan => sig(3_232_105, "WATCH3232 scan of watched ports", NETWORK_SCAN),
            Reason::InteractiveSession => sig(
                3_232_106,
                "WATCH3232 interactive session on a watched port",
                BAD_UNKNOWN,
            ),
            Reason::Beacon => sig(3_232_107, "WATCH3232 beacon on a watched port", BAD_UNKNOWN),
            Reason::Probe => sig(
                3_232_108,
                "WATCH3232 single probe of a watched port",
                NETWORK_SCAN,
            ),
        }
    }
}

/// Every signature with the `event_type` and `kind` it is for, in id order (docs/events.md).
pub fn all() -> Vec<(&'static str, &'static str, Signature)> {
    let mut out: Vec<_> = AlertKind::ALL
        .iter()
        .map(|k| ("alert", k.as_str(), k.signature()))
        .chain(
            Reason::ALL
                .iter()
                .map(|r| ("anomaly", r.name(), r.signature())),
        )
        .collect();
    out.sort_by_key(|(_, _, s)| s.id);
    out
}

/// What a passive sensor did about the traffic: nothing (Suricata's `alert.action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allowed,
}

// Suricata's alert fields, at the start of the `alert` object (not a doc comment: schemars
// would add it to the description of `alert` in docs/events.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RuleMatch {
    /// Always `allowed`: watch3232 is passive and blocks nothing.
    pub action: Action,
    /// Generator id: always 1 (Suricata's, rule-based alerts).
    pub gid: u32,
    /// The finding kind's rule id, 3232000–3232999, fixed per kind (table in docs/events.md).
    pub signature_id: u32,
    /// Revision of that rule.
    pub rev: u32,
    /// The rule's short fixed title.
    pub signature: &'static str,
    /// The rule's class, a description from Suricata's classification.config.
    pub category: &'static str,
    /// Suricata's scale: 1 for `critical` and `high`, 2 for `medium`, 3 for `low` and `info`.
    pub severity: u8,
}

impl RuleMatch {
    fn new(sig: Signature, severity: Severity) -> Self {
        RuleMatch {
            action: Action::Allowed,
            gid: GID,
            signature_id: sig.id,
            rev: sig.rev,
            signature: sig.title,
            category: sig.category,
            severity: suricata_severity(severity),
        }
    }
}

/// Suricata's alert severity (1 = high) for watch3232's.
pub fn suricata_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical | Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low | Severity::Info => 3,
    }
}

/// The rule an event matched: every `alert`, and every `anomaly` of severity high or critical (which is
/// then an alert too); `None` for everything else.
pub fn rule_match(event_type: &str, kind: &str, severity: Severity) -> Option<RuleMatch> {
    let sig = match event_type {
        "alert" => AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .map(AlertKind::signature),
        "anomaly" if severity >= Severity::High => Reason::from_name(kind).map(Reason::signature),
        _ => None,
    }?;
    Some(RuleMatch::new(sig, severity))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_in_range_and_titles_fixed() {
        let all = all();
        assert_eq!(all.len(), AlertKind::ALL.len() + Reason::ALL.len());
        let ids: BTreeSet<u32> = all.iter().map(|(_, _, s)| s.id).collect();
        assert_eq!(ids.len(), all.len(), "an id is used twice");
        let titles: BTreeSet<&str> = all.iter().map(|(_, _, s)| s.title).collect();
        assert_eq!(titles.len(), all.len(), "a title is used twice");
        for (_, _, s) in &all {
            assert!((SIGNATURE_ID_RANGE.0..=SIGNATURE_ID_RANGE.1).contains(&s.id));
            assert!(s.title.starts_with("WATCH3232 ") && s.rev >= 1);
        }
    }

    #[test]
    fn alerts_always_match_anomalies_only_when_high() {
        let r = rule_match("alert", "ota_weak_auth", Severity::Low).unwrap();
        assert_eq!((r.signature_id, r.gid, r.severity), (3_232_002, 1, 3));
        assert_eq!(rule_match("anomaly", "beacon", Severity::Medium), None);
        let r = rule_match("anomaly", "beacon", Severity::High).unwrap();
        assert_eq!((r.signature_id, r.severity), (3_232_107, 1));
        assert_eq!(rule_match("arduino_ota", "transfer", Severity::High), None);
        assert_eq!(rule_match("alert", "no_such_kind", Severity::High), None);
    }
}
