//! The end-of-run summary on stderr: findings by severity, most severe first, each row naming
//! the devices, uploaders, PEs and sources behind it; then what the run lost or held back.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use watch3232::event::alert::AlertDetails;
use watch3232::event::device::DeviceDetails;
use watch3232::event::mdt::MdtDetails;
use watch3232::event::{Body, Event, Severity};
use watch3232::output::filter::EventFilter;
use watch3232::output::text::{clean, severity_label, LINE_WIDTH};

/// Names remembered per row (the table shows the first few and counts the rest).
const NAMES_PER_ROW: usize = 64;
/// Names shown per row.
const NAMES_SHOWN: usize = 4;

#[derive(Default)]
struct Row {
    count: u64,
    names: BTreeSet<String>,
    /// Names beyond [`NAMES_PER_ROW`], counted only.
    more: u64,
}

/// Counts of findings by (severity, type, kind) with who was behind them.
#[derive(Default)]
pub struct Summary {
    /// Severity descending (by `Reverse`), then type and kind.
    rows: BTreeMap<(std::cmp::Reverse<Severity>, &'static str, &'static str), Row>,
    /// What the run lost or cut short, from the final `stats` (only the non-zero counts).
    losses: Vec<(String, u64)>,
    interrupted: bool,
    /// The outputs' filter: events it holds back are counted, not listed.
    filter: EventFilter,
    held_back: u64,
}

impl Summary {
    /// An empty table whose rows leave out what `filter` holds back.
    pub fn new(filter: EventFilter) -> Self {
        Summary {
            filter,
            ..Summary::default()
        }
    }

    pub fn add(&mut self, e: &Event) {
        if let Body::Stats(s) = &e.body {
            if e.kind == "summary" {
                self.losses = losses(s);
                self.interrupted = s.interrupted;
            }
            return;
        }
        if !self.filter.passes(e) {
            self.held_back += 1;
            return;
        }
        let row = self
            .rows
            .entry((std::cmp::Reverse(e.severity), e.event_type, e.kind))
            .or_default();
        row.count += 1;
        if let Some(name) = who(e) {
            if row.names.len() < NAMES_PER_ROW || row.names.contains(&name) {
                row.names.insert(name);
            } else {
                row.more += 1;
            }
        }
    }

    /// The table, for stderr on a terminal.
    pub fn table(&self) -> String {
        let mut s = String::from("\nwatch3232 summary (most severe first)\n");
        if self.rows.is_empty() {
            s.push_str("  no findings\n");
        } else {
            let _ = writeln!(
                s,
                "  {:<6}  {:<34} {:>6}  who",
                "sev", "event_type/kind", "count"
            );
            for ((sev, t, k), row) in &self.rows {
                let mut line = format!(
                    "  {}  {:<34} {:>6}  {}",
                    severity_label(sev.0),
                    format!("{t}/{k}"),
                    row.count,
                    names(row)
                );
                if line.chars().count() > LINE_WIDTH {
                    line = line.chars().take(LINE_WIDTH - 1).collect::<String>() + "…";
                }
                s.push_str(&line);
                s.push('\n');
            }
        }
        if self.held_back > 0 {
            let _ = writeln!(
                s,
                "  {} events not shown (--min-severity/--only)",
                self.held_back
            );
        }
        if !self.losses.is_empty() {
            s.push_str("  not complete:\n");
            for (what, n) in &self.losses {
                let _ = writeln!(s, "  {what:<46} {n:>8}");
            }
        }
        if self.interrupted {
            s.push_str("  interrupted: the input was not read to its end\n");
        }
        s
    }
}

fn names(row: &Row) -> String {
    let shown: Vec<&str> = row
        .names
        .iter()
        .take(NAMES_SHOWN)
        .map(String::as_str)
        .collect();
    let rest = (row.names.len() - shown.len()) as u64 + row.more;
    let mut s = shown.join(", ");
    if rest > 0 {
        let _ = write!(s, " +{rest} more");
    }
    s
}

/// Who is behind a finding: uploader → device, the PE, the device, or the source.
fn who(e: &Event) -> Option<String> {
    let name = match &e.body {
        Body::Alert(AlertDetails {
            uploader, device, ..
        }) => format!("{uploader}→{device}"),
        Body::ArduinoOta(_) | Body::EsphomeOta(_) => {
            let f = e.flow.as_ref()?;
            // The connect-back (TCP) of ArduinoOTA goes device → uploader.
            if f.proto == "TCP" && e.event_type == "arduino_ota" {
                format!("{}→{}", f.dest_ip, f.src_ip)
            } else {
                format!("{}→{}", f.src_ip, f.dest_ip)
            }
        }
        Body::Device(DeviceDetails::Announcement(a)) => format!("{} {}", a.instance, a.address),
        Body::Device(DeviceDetails::Inventory(d)) => match &d.hostname {
            Some(h) => format!("{h} {}", d.address),
            None => d.address.to_string(),
        },
        Body::Mdt(MdtDetails::DefaultMdt(d)) => format!("PE {}", d.pe),
        Body::Mdt(MdtDetails::Pim(p)) => match p.pe {
            Some(pe) => format!("PE {pe}"),
            None => p.neighbor.to_string(),
        },
        Body::Mdt(MdtDetails::DataMdtJoin(j)) => format!("PE {}", j.pe),
        Body::Mdt(MdtDetails::Malformed(_)) => e.flow.as_ref()?.src_ip.to_string(),
        Body::Mdt(MdtDetails::Inventory(i)) => format!("{} PE(s)", i.pes.len()),
        Body::Anomaly(a) => match &a.scan {
            Some(s) => s.src_ip.to_string(),
            None => e.flow.as_ref()?.src_ip.to_string(),
        },
        Body::Stats(_) => return None,
    };
    Some(clean(&name))
}

/// The non-zero counts of what a run evicted, cut short, could not decode or deliver.
fn losses(s: &watch3232::event::stats::StatsDetails) -> Vec<(String, u64)> {
    let mut out = vec![
        ("flows evicted (--max-flows)".to_string(), s.flows.evicted),
        ("packets not decoded".to_string(), s.decode_errors),
        (
            "files truncated".to_string(),
            s.files.as_ref().map_or(0, |f| f.truncated),
        ),
        (
            "events not delivered".to_string(),
            s.output.as_ref().map_or(0, |o| o.dropped),
        ),
        (
            "files not reopened on SIGHUP".to_string(),
            s.output.as_ref().map_or(0, |o| o.reopen_failures),
        ),
    ];
    // OTA sessions, MDT entries, scan windows… each classifier names its own evictions.
    out.extend(
        s.classifiers
            .iter()
            .filter(|(name, _)| name.contains("evicted"))
            .map(|(name, n)| (name.to_string(), *n)),
    );
    out.retain(|(_, n)| *n > 0);
    out
}
