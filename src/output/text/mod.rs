//! The text forms of an event: the terse view (`text`, one line per finding in words, fitting
//! 120 columns in the common case) and the full view (`text-full`, every field as `key=value`).
//!
//! Every string from the capture is cleaned of control characters before it reaches a
//! terminal: an mDNS name or a banner must not be able to move the cursor or change colours.

pub(crate) mod full;
mod phrase;

pub use full::full;
pub use phrase::{phrase, Phrase};

use crate::event::{Event, Severity};

/// The terminal width the terse view fits in the common case.
pub const LINE_WIDTH: usize = 120;

/// How the terse view looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextStyle {
    /// Severity in ANSI colour (only for a terminal that wants it: `--color`, `NO_COLOR`).
    pub color: bool,
}

/// The ANSI colour of a severity, and the code that ends it.
fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Info => "\x1b[2m",
        Severity::Low => "\x1b[36m",
        Severity::Medium => "\x1b[33m",
        Severity::High => "\x1b[1;31m",
        Severity::Critical => "\x1b[1;37;41m",
    }
}

const RESET: &str = "\x1b[0m";

/// A severity as the terse view shows it: six columns, `HIGH` and `CRIT` in capitals.
pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info  ",
        Severity::Low => "low   ",
        Severity::Medium => "medium",
        Severity::High => "HIGH  ",
        Severity::Critical => "CRIT  ",
    }
}

/// `2026-11-29 20:00:00.184`: the event's time to the millisecond, UTC.
pub fn short_time(event: &Event) -> String {
    let t = event.timestamp.to_string();
    // RFC 3339 with microseconds: `2026-11-29T20:00:00.184000Z`.
    match (t.get(..10), t.get(11..23)) {
        (Some(date), Some(time)) => format!("{date} {time}"),
        _ => t,
    }
}

/// One line for a person: time, severity, what happened in words, who → whom.
pub fn terse(event: &Event, style: TextStyle) -> String {
    let Phrase { words, parties } = phrase(event);
    let time = short_time(event);
    let label = severity_label(event.severity);
    let parties = parties.map(|p| clean(&p)).unwrap_or_default();
    let mut words = clean(&words);
    // Fit 120 columns: the words give way (never below 40 characters), the parties stay.
    let fixed = time.chars().count() + 2 + label.len() + 2;
    let tail = if parties.is_empty() {
        0
    } else {
        2 + parties.chars().count()
    };
    let room = LINE_WIDTH.saturating_sub(fixed + tail).max(40);
    if words.chars().count() > room {
        words = words.chars().take(room - 1).collect::<String>() + "…";
    }
    let mut line = String::with_capacity(LINE_WIDTH + 16);
    line.push_str(&time);
    line.push_str("  ");
    if style.color {
        line.push_str(severity_color(event.severity));
        line.push_str(label);
        line.push_str(RESET);
    } else {
        line.push_str(label);
    }
    line.push_str("  ");
    line.push_str(&words);
    if !parties.is_empty() {
        line.push_str("  ");
        line.push_str(&parties);
    }
    line
}

/// `s` with every control character (C0, DEL, C1) shown as `\u{…}`, so text from the capture
/// cannot drive the terminal.
pub fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Bytes for a person: `512 B`, `5 KB`, `3.1 KB`, `1.2 MB` (powers of 1000).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    let s = if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    format!("{} {}", s.trim_end_matches(".0"), UNITS[unit])
}

/// Seconds for a person: `0.2 s`, `12 s`, `3 min`, `2.5 h`.
pub fn human_secs(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "? s".into();
    }
    if s < 0.05 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(clean("thermo-7"), "thermo-7");
        assert_eq!(clean("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(clean("x\u{9b}y\n"), "x\\u{9b}y\\u{a}");
    }

    #[test]
    fn sizes_and_durations_read_naturally() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(5000), "5 KB");
        assert_eq!(human_bytes(3072), "3.1 KB");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
        assert_eq!(human_secs(0.164), "0.2 s");
        assert_eq!(human_secs(0.004), "4 ms");
        assert_eq!(human_secs(30.3), "30 s");
        assert_eq!(human_secs(600.0), "10 min");
    }
}
