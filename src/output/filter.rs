//! `--min-severity` and `--only`: the one filter stage before every output, whatever its format.
//! `stats` events always pass: they account for the run, the filtered events included.

use crate::event::{Event, Severity};

/// Which events reach the outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Events below this severity are held back.
    pub min_severity: Option<Severity>,
    /// When not empty, only events whose `event_type` or `kind` is listed pass.
    pub only: Vec<String>,
}

impl EventFilter {
    /// Whether the filter lets everything through.
    pub fn is_open(&self) -> bool {
        self.min_severity.is_none() && self.only.is_empty()
    }

    /// Whether `event` goes to the outputs.
    pub fn passes(&self, event: &Event) -> bool {
        if event.event_type == "stats" {
            return true;
        }
        if self.min_severity.is_some_and(|min| event.severity < min) {
            return false;
        }
        self.only.is_empty()
            || self
                .only
                .iter()
                .any(|t| t == event.event_type || t == event.kind)
    }
}

/// `info`, `low`, `medium`, `high`, `critical` (any case).
pub fn parse_severity(s: &str) -> Result<Severity, String> {
    match s.to_ascii_lowercase().as_str() {
        "info" => Ok(Severity::Info),
        "low" => Ok(Severity::Low),
        "medium" => Ok(Severity::Medium),
        "high" => Ok(Severity::High),
        "critical" => Ok(Severity::Critical),
        _ => Err(format!(
            "`{s}` is not a severity (info, low, medium, high, critical)"
        )),
    }
}

/// Every `event_type` and `kind` name `--only` accepts.
pub fn known_names() -> Vec<&'static str> {
    use crate::event::alert::AlertKind;
    use crate::event::anomaly::Reason;
    use crate::event::arduino_ota::OtaKind;
    use crate::event::device::DeviceKind;
    use crate::event::esphome::EsphomeKind;
    use crate::event::mdt::MdtKind;
    use crate::event::stats::StatsKind;
    use crate::event::EventKind;
    let mut names = vec![
        "arduino_ota",
        "esphome_ota",
        "device",
        "mdt",
        "alert",
        "anomaly",
        "stats",
    ];
    names.extend(
        [
            OtaKind::Invitation,
            OtaKind::AuthChallenge,
            OtaKind::AuthResult,
            OtaKind::Transfer,
        ]
        .map(EventKind::as_str),
    );
    names.push(EsphomeKind::Session.as_str());
    names.extend([DeviceKind::Announcement, DeviceKind::Inventory].map(EventKind::as_str));
    names.extend(
        [
            MdtKind::DefaultMdt,
            MdtKind::Pim,
            MdtKind::DataMdtJoin,
            MdtKind::Malformed,
            MdtKind::Inventory,
        ]
        .map(EventKind::as_str),
    );
    names.extend(
        [
            AlertKind::OtaUnauthenticated,
            AlertKind::OtaWeakAuth,
            AlertKind::OtaAuthBruteforce,
            AlertKind::OtaUnexpectedUploader,
        ]
        .map(EventKind::as_str),
    );
    names.extend(Reason::ALL.map(Reason::name));
    names.extend([StatsKind::Summary, StatsKind::Periodic].map(EventKind::as_str));
    names.sort_unstable();
    names.dedup();
    names
}

/// One `--only` name, checked against [`known_names`].
pub fn parse_only(s: &str) -> Result<String, String> {
    let names = known_names();
    if names.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is no event type or kind (one of: {})",
            names.join(", ")
        ))
    }
}
