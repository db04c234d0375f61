//! The report as one HTML file: inline CSS (with print rules) and inline SVG charts, no script,
//! no font, image or stylesheet fetched. Every string from the capture goes through [`esc`].

use super::model::{Finding, Report, Session, SEVERITIES};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Rows shown per table; the rest are counted under it.
pub const TABLE_ROWS: usize = 200;
/// Bars drawn in the session timeline.
pub const TIMELINE_BARS: usize = 120;

/// `s` safe in HTML text and in quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root{--ink:#1d2430;--mute:#5b6573;--line:#d8dde5;--bg:#f6f7f9;--card:#fff;--accent:#1f5fa8;
--complete:#2e7d32;--aborted:#ef6c00;--auth_failed:#c62828;--failed:#8e24aa;--no_connect:#8d99a6;
--info:#8d99a6;--low:#2a8bb8;--medium:#e0a000;--high:#c62828;--critical:#7b1fa2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#14213d;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px;font-weight:600}
header p{margin:4px 0 0;color:#c9d3e3}
nav{background:#fff;border-bottom:1px solid var(--line);padding:8px 32px;position:sticky;top:0}
nav a{color:var(--accent);text-decoration:none;margin-right:18px;font-weight:500}
main{padding:8px 32px 40px;max-width:1280px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:18px 0}
h2{margin:0 0 12px;font-size:18px}
h3{margin:16px 0 8px;font-size:15px;color:var(--mute)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.num,th.num{text-align:right}
td.mac{white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
code{word-break:break-all}.mono{white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}
.card span{color:var(--mute);font-size:12px}
.sev{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:11px;font-weight:600;text-transform:uppercase}
.sev-info{background:var(--info)}.sev-low{background:var(--low)}.sev-medium{background:var(--medium);color:#222}.sev-high{background:var(--high)}.sev-critical{background:var(--critical)}
.out{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:11px}
.out-complete{background:var(--complete)}.out-aborted{background:var(--aborted)}.out-auth_failed{background:var(--auth_failed)}
.out-failed{background:var(--failed)}.out-no_connect{background:var(--no_connect)}
.note{color:var(--mute);font-size:12px;margin:6px 0}
.legend span{margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:middle}
.yes{color:var(--complete);font-weight:600}
.none{color:var(--mute)}
svg text{font-family:system-ui,sans-serif}
@media print{nav{display:none}body{background:#fff}section{break-inside:avoid-page;border:none;padding:0}
header{background:#fff;color:#000;border-bottom:2px solid #000}header p{color:#333}
.sev,.out{border:1px solid #000;-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"#;

/// The whole report as an HTML document.
pub fn render(r: &Report) -> String {
    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing may be fetched: no script, no connection, images only from data: URIs.
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    h.push_str("<title>watch3232 report</title>\n<style>");
    h.push_str(CSS);
    h.push_str("</style></head><body>\n<header><h1>watch3232 report: port 3232</h1><p>");
    let sources: Vec<String> = r.sources.iter().map(|s| esc(s)).collect();
    let _ = writeln!(
        h,
        "{} · watch3232 {}</p></header>",
        if sources.is_empty() {
            "no input named".into()
        } else {
            sources.join(", ")
        },
        env!("CARGO_PKG_VERSION")
    );
    h.push_str("<nav><a href=\"#overview\">Overview</a><a href=\"#devices\">Devices</a><a href=\"#timeline\">Sessions</a><a href=\"#security\">Security</a><a href=\"#mdt\">Multicast VPN</a><a href=\"#anomalies\">Anomalies</a></nav>\n<main>\n");
    overview(&mut h, r);
    devices(&mut h, r);
    timeline(&mut h, r);
    security(&mut h, r);
    mdt(&mut h, r);
    anomalies(&mut h, r);
    h.push_str("</main></body></html>\n");
    h
}

fn card(h: &mut String, value: &str, label: &str) {
    let _ = write!(
        h,
        "<div class=\"card\"><b>{}</b><span>{}</span></div>",
        esc(value),
        esc(label)
    );
}

fn sev_badge(rank: usize) -> String {
    let name = SEVERITIES[rank.min(SEVERITIES.len() - 1)];
    format!("<span class=\"sev sev-{name}\">{name}</span>")
}

fn out_badge(outcome: &str) -> String {
    let class = match outcome {
        "complete" | "aborted" | "auth_failed" | "failed" | "no_connect" => outcome,
        _ => "no_connect",
    };
    format!(
        "<span class=\"out out-{class}\">{}</span>",
        esc(&outcome.replace('_', " "))
    )
}

fn left_out_note(h: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        let _ = write!(
            h,
            "<p class=\"note\">{} more {what} not shown ({total} kept).</p>",
            total - shown
        );
    }
}

fn short_time(t: &str) -> String {
    // `2026-11-29T20:00:00.184000Z` → `2026-11-29 20:00:00.184`
    match (t.get(..10), t.get(11..23)) {
        (Some(d), Some(c)) => format!("{d} {c}"),
        _ => t.to_string(),
    }
}

fn span_words(r: &Report) -> String {
    match (r.first_us, r.last_us) {
        (Some(a), Some(b)) => {
            let s = (b - a) as f64 / 1e6;
            let dur = if s < 120.0 {
                format!("{s:.1} s")
            } else if s < 7200.0 {
                format!("{:.1} min", s / 60.0)
            } else if s < 172_800.0 {
                format!("{:.1} h", s / 3600.0)
            } else {
                format!("{:.1} days", s / 86_400.0)
            };
            dur
        }
        _ => "no findings".into(),
    }
}

fn count_kind(r: &Report, t: &str, k: Option<&str>) -> u64 {
    r.by_kind
        .iter()
        .filter(|((et, kind), _)| et == t && k.map_or(true, |k| k == kind))
        .map(|(_, n)| n)
        .sum()
}

fn overview(h: &mut String, r: &Report) {
    h.push_str("<section id=\"overview\"><h2>Overview</h2>");
    let stat = |k: &str| {
        r.stats
            .as_ref()
            .and_then(|s| s.get(k))
            .and_then(Value::as_u64)
    };
    let _ = write!(
        h,
        "<p>Findings from <b>{}</b> to <b>{}</b>.</p>",
        esc(&r.first.as_deref().map(short_time).unwrap_or("-".into())),
        esc(&r.last.as_deref().map(short_time).unwrap_or("-".into()))
    );
    if !r.left_out.is_empty() {
        // The model's own bounds: what was counted past them, beyond what the tables kept.
        let counted: Vec<String> = r
            .left_out
            .iter()
            .map(|(what, n)| format!("{n} {}", esc(what)))
            .collect();
        let _ = write!(
            h,
            "<p class=\"note\" id=\"bounds\"><b>A large input:</b> past the report's bounds ({} per list) these were counted, not kept: {}.</p>",
            super::model::MAX_ITEMS,
            counted.join(", ")
        );
    }
    h.push_str("<div class=\"cards\">");
    card(h, &span_words(r), "span of the findings");
    card(
        h,
        &stat("packets").map_or("-".into(), |p| p.to_string()),
        "packets read",
    );
    card(
        h,
        &stat("interesting_packets").map_or("-".into(), |p| p.to_string()),
        "packets of interest",
    );
    card(h, &r.events.to_string(), "events");
    card(h, &r.devices.len().to_string(), "devices");
    card(h, &r.pes.len().to_string(), "PEs");
    h.push_str("</div><h3>What port 3232 carried</h3><table><tr><th>traffic</th><th class=\"num\">events</th></tr>");
    let rows = [
        (
            "ArduinoOTA sessions",
            count_kind(r, "arduino_ota", Some("transfer")),
        ),
        ("ESPHome OTA sessions", count_kind(r, "esphome_ota", None)),
        (
            "mDNS announcements of OTA devices",
            count_kind(r, "device", Some("announcement")),
        ),
        ("Multicast VPN (MDT) control", count_kind(r, "mdt", None)),
        ("Security findings (alerts)", count_kind(r, "alert", None)),
        ("Scans", count_kind(r, "anomaly", Some("scan"))),
        (
            "Other anomalies",
            count_kind(r, "anomaly", None) - count_kind(r, "anomaly", Some("scan")),
        ),
    ];
    for (what, n) in rows {
        let _ = write!(h, "<tr><td>{what}</td><td class=\"num\">{n}</td></tr>");
    }
    h.push_str("</table><h3>Findings by severity</h3>");
    severity_chart(h, &r.by_severity);
    h.push_str("</section>\n");
}

fn severity_chart(h: &mut String, counts: &[u64; 5]) {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let _ = write!(
        h,
        "<svg width=\"560\" height=\"{}\" role=\"img\" aria-label=\"findings by severity\">",
        SEVERITIES.len() * 26 + 4
    );
    for (i, rank) in (0..SEVERITIES.len()).rev().enumerate() {
        let y = i * 26 + 2;
        let w = (counts[rank] as f64 / max as f64 * 400.0).round() as u64;
        let name = SEVERITIES[rank];
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{name}</text><rect x=\"80\" y=\"{y}\" width=\"{}\" height=\"20\" rx=\"3\" fill=\"var(--{name})\"/><text x=\"{}\" y=\"{}\" font-size=\"13\">{}</text>",
            y + 15,
            w.max(1),
            88 + w,
            y + 15,
            counts[rank]
        );
    }
    h.push_str("</svg>");
}

fn devices(h: &mut String, r: &Report) {
    h.push_str("<section id=\"devices\"><h2>Devices</h2>");
    if r.devices.is_empty() {
        h.push_str("<p class=\"none\">No ESP device seen.</p></section>\n");
        return;
    }
    h.push_str("<table><tr><th>address</th><th>MAC / vendor</th><th>mDNS name</th><th>board</th><th>authentication</th><th class=\"num\">sessions</th><th>firmware over time</th></tr>");
    for d in r.devices.values().take(TABLE_ROWS) {
        let names: Vec<String> = d.names.iter().map(|n| esc(n)).collect();
        let auth = {
            let mut a: Vec<String> = d.auth_seen.iter().map(|s| esc(s)).collect();
            match d.auth_upload {
                Some(true) => a.push("mDNS: password set".into()),
                Some(false) => a.push("mDNS: <b>no password</b>".into()),
                None => {}
            }
            if a.is_empty() {
                "<span class=\"none\">unknown</span>".into()
            } else {
                a.join(", ")
            }
        };
        let outcomes: Vec<String> = d
            .outcomes
            .iter()
            .map(|(o, n)| format!("{n} {}", esc(&o.replace('_', " "))))
            .collect();
        let mut fw = String::new();
        for f in &d.firmware {
            let label = [&f.chip, &f.project, &f.version]
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| esc(s))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = write!(
                fw,
                "<div>{} <b>{}</b>{} {}</div>",
                esc(&short_time(&f.time)),
                label,
                if f.idf.is_empty() {
                    String::new()
                } else {
                    format!(" IDF {}", esc(&f.idf))
                },
                out_badge(&f.outcome)
            );
        }
        if d.firmware_left_out > 0 {
            let _ = write!(fw, "<div class=\"note\">{} more</div>", d.firmware_left_out);
        }
        let _ = write!(
            h,
            "<tr><td class=\"mono\">{}</td><td class=\"mac\"><span class=\"mono\">{}</span><br>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}<br><span class=\"note\">{}</span></td><td>{}</td></tr>",
            esc(&d.address),
            esc(d.mac.as_deref().unwrap_or("-")),
            esc(d.vendor.as_deref().unwrap_or("")),
            if names.is_empty() { "<span class=\"none\">-</span>".into() } else { names.join("<br>") },
            esc(d.board.as_deref().unwrap_or("-")),
            auth,
            d.sessions,
            outcomes.join(", "),
            if fw.is_empty() { "<span class=\"none\">none seen</span>".into() } else { fw }
        );
    }
    h.push_str("</table>");
    left_out_note(
        h,
        r.devices.len(),
        r.devices.len().min(TABLE_ROWS),
        "devices",
    );
    h.push_str("</section>\n");
}

const OUTCOMES: [&str; 5] = ["complete", "aborted", "auth_failed", "failed", "no_connect"];

fn timeline(h: &mut String, r: &Report) {
    h.push_str("<section id=\"timeline\"><h2>OTA and ESPHome sessions</h2>");
    if r.sessions.is_empty() {
        h.push_str("<p class=\"none\">No OTA session seen.</p></section>\n");
        return;
    }
    h.push_str("<p class=\"legend\">");
    for o in OUTCOMES {
        let _ = write!(
            h,
            "<span><i style=\"background:var(--{o})\"></i>{}</span>",
            o.replace('_', " ")
        );
    }
    h.push_str("</p>");
    let mut sessions: Vec<&Session> = r.sessions.iter().collect();
    sessions.sort_by_key(|s| (s.start_us, s.end_us));
    let drawn = &sessions[..sessions.len().min(TIMELINE_BARS)];
    let axis = CompressedAxis::of(drawn);
    let (left, width, row) = (330.0, 640.0, 20usize);
    let height = drawn.len() * row + 34;
    let _ = write!(
        h,
        "<svg width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"session timeline\">",
        left as u64 + width as u64 + 10
    );
    // A dashed line and the clock time where a quiet gap was cut out of the axis.
    let mut last_label = f64::MIN;
    for (at, time) in &axis.breaks {
        let x = left + axis.x(*at) * width;
        let labelled = x - last_label >= 130.0;
        if labelled {
            last_label = x;
        }
        let _ = write!(
            h,
            "<line x1=\"{x:.1}\" y1=\"16\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#b8c0cc\" stroke-dasharray=\"3,3\"/><text x=\"{:.1}\" y=\"12\" font-size=\"10\" fill=\"#5b6573\">{}</text>",
            height - 4,
            x + 2.0,
            if labelled { esc(time) } else { String::new() }
        );
    }
    for (i, s) in drawn.iter().enumerate() {
        let y = 22 + i * row;
        let x = left + axis.x(s.start_us) * width;
        let w = ((axis.x(s.end_us) - axis.x(s.start_us)) * width).max(5.0);
        let color = if OUTCOMES.contains(&s.outcome.as_str()) {
            s.outcome.as_str()
        } else {
            "no_connect"
        };
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{} → {}</text><rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"14\" rx=\"2\" fill=\"var(--{color})\"><title>{} {} {} → {} {}</title></rect>",
            y + 11,
            esc(&s.uploader),
            esc(&s.device),
            esc(&short_time(&s.time)),
            s.protocol,
            esc(&s.uploader),
            esc(&s.device),
            esc(&s.outcome)
        );
    }
    h.push_str("</svg>");
    left_out_note(h, sessions.len(), drawn.len(), "sessions in the chart");
    h.push_str("<table><tr><th>ended</th><th>protocol</th><th>outcome</th><th>uploader → device</th><th>firmware</th><th class=\"num\">bytes</th><th>auth</th><th>device said</th></tr>");
    for s in sessions.iter().take(TABLE_ROWS) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{} → {}</td><td>{}</td><td class=\"num\">{}{}</td><td>{}</td><td>{}</td></tr>",
            esc(&short_time(&s.time)),
            s.protocol,
            out_badge(&s.outcome),
            esc(&s.uploader),
            esc(&s.device),
            esc(&s.firmware),
            s.bytes,
            s.image_size.map_or(String::new(), |n| format!(" / {n}")),
            esc(s.auth.as_deref().unwrap_or("-")),
            esc(s.note.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table>");
    left_out_note(
        h,
        sessions.len(),
        sessions.len().min(TABLE_ROWS),
        "sessions",
    );
    h.push_str("</section>\n");
}

/// A time axis with the quiet gaps between sessions cut short, so sessions hours apart and
/// seconds long are all visible: a gap longer than [`GAP_KEPT_US`] counts as that long, and a
/// break is marked where it was cut.
struct CompressedAxis {
    /// (real time, position on the compressed axis) at each session start and end, in order.
    knots: Vec<(i64, f64)>,
    total: f64,
    breaks: Vec<(i64, String)>,
}

const GAP_KEPT_US: i64 = 20_000_000;

impl CompressedAxis {
    fn of(sessions: &[&Session]) -> Self {
        let mut points: Vec<(i64, &str)> = Vec::new();
        for s in sessions {
            points.push((s.start_us, &s.time));
            points.push((s.end_us.max(s.start_us), &s.time));
        }
        points.sort_by_key(|p| p.0);
        let mut knots = Vec::with_capacity(points.len());
        let mut breaks = Vec::new();
        let mut pos = 0.0;
        let mut prev: Option<i64> = None;
        for (t, time) in points {
            if let Some(p) = prev {
                let gap = t - p;
                if gap > GAP_KEPT_US {
                    breaks.push((t, short_time(time).get(..19).unwrap_or("").to_string()));
                }
                pos += gap.min(GAP_KEPT_US) as f64;
            } else {
                breaks.push((t, short_time(time).get(..19).unwrap_or("").to_string()));
            }
            knots.push((t, pos));
            prev = Some(t);
        }
        CompressedAxis {
            knots,
            total: pos.max(1.0),
            breaks,
        }
    }

    /// Where `t` falls, from 0 to 1.
    fn x(&self, t: i64) -> f64 {
        let i = self.knots.partition_point(|k| k.0 <= t);
        let pos = match (i.checked_sub(1).map(|j| self.knots[j]), self.knots.get(i)) {
            (Some((t0, p0)), Some((t1, p1))) if t1 > &t0 => {
                p0 + (p1 - p0) * (t - t0) as f64 / (t1 - t0) as f64
            }
            (Some((_, p0)), _) => p0,
            (None, _) => 0.0,
        };
        pos / self.total
    }
}

fn findings_table(h: &mut String, list: &[Finding], what: &str) {
    let mut sorted: Vec<&Finding> = list.iter().collect();
    sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.time_us.cmp(&b.time_us)));
    let _ = write!(
        h,
        "<table><tr><th>severity</th><th>time</th><th>finding</th><th>from → to</th><th>protocol guess</th><th>evidence</th></tr>"
    );
    for f in sorted.iter().take(TABLE_ROWS) {
        let mut ev = format!("<div>{}</div>", esc(&f.detail));
        for (k, v) in &f.evidence {
            let _ = write!(ev, "<div><b>{}</b>: <code>{}</code></div>", esc(k), esc(v));
        }
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{} → {}</td><td>{}</td><td>{ev}</td></tr>",
            sev_badge(f.severity),
            esc(&short_time(&f.time)),
            esc(&f.kind.replace('_', " ")),
            esc(&f.from),
            esc(&f.to),
            esc(f.guess.as_deref().unwrap_or("-"))
        );
    }
    h.push_str("</table>");
    left_out_note(h, list.len(), list.len().min(TABLE_ROWS), what);
}

/// Severity (most severe first), kind, uploader, device.
type AlertKey<'a> = (std::cmp::Reverse<usize>, &'a str, &'a str, &'a str);

fn security(h: &mut String, r: &Report) {
    h.push_str("<section id=\"security\"><h2>Security findings</h2>");
    if r.alerts.is_empty() {
        h.push_str("<p class=\"none\">No security finding.</p></section>\n");
        return;
    }
    // One row per finding, uploader and device: how often, when first and last, the evidence
    // of the first.
    let mut groups: BTreeMap<AlertKey, (u64, &Finding, &str)> = BTreeMap::new();
    for f in &r.alerts {
        let g = groups
            .entry((std::cmp::Reverse(f.severity), &f.kind, &f.from, &f.to))
            .or_insert((0, f, &f.time));
        g.0 += 1;
        if f.time_us < g.1.time_us {
            g.1 = f;
        }
        if f.time.as_str() > g.2 {
            g.2 = &f.time;
        }
    }
    h.push_str("<p class=\"note\">Most severe first; repeats of a finding between the same uploader and device are one row.</p>");
    h.push_str("<table><tr><th>severity</th><th>finding</th><th class=\"num\">times</th><th>first / last</th><th>uploader → device</th><th>evidence (first)</th></tr>");
    for ((sev, kind, from, to), (n, first, last)) in groups.iter().take(TABLE_ROWS) {
        let mut ev = format!("<div>{}</div>", esc(&first.detail));
        for (k, v) in &first.evidence {
            let _ = write!(ev, "<div><b>{}</b>: <code>{}</code></div>", esc(k), esc(v));
        }
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{n}</td><td>{}<br>{}</td><td class=\"mono\">{} → {}</td><td>{ev}</td></tr>",
            sev_badge(sev.0),
            esc(&kind.replace('_', " ")),
            esc(&short_time(&first.time)),
            esc(&short_time(last)),
            esc(from),
            esc(to)
        );
    }
    h.push_str("</table>");
    left_out_note(h, groups.len(), groups.len().min(TABLE_ROWS), "findings");
    h.push_str("</section>\n");
}

fn mdt(h: &mut String, r: &Report) {
    h.push_str("<section id=\"mdt\"><h2>Multicast VPN</h2>");
    if r.pes.is_empty() && r.pim_changes.is_empty() {
        h.push_str("<p class=\"none\">No MDT traffic seen.</p></section>\n");
        return;
    }
    let mut groups: Vec<&String> = r.pes.values().flatten().collect();
    groups.sort();
    groups.dedup();
    h.push_str("<h3>PEs × default MDTs</h3><table><tr><th>PE</th>");
    for g in &groups {
        let _ = write!(h, "<th class=\"mono\">{}</th>", esc(g));
    }
    h.push_str("<th class=\"num\">Data-MDT C-flows</th></tr>");
    for (pe, in_groups) in r.pes.iter().take(TABLE_ROWS) {
        let _ = write!(h, "<tr><td class=\"mono\">PE {}</td>", esc(pe));
        for g in &groups {
            if in_groups.contains(*g) {
                h.push_str("<td class=\"yes\">✓</td>");
            } else {
                h.push_str("<td class=\"none\">·</td>");
            }
        }
        let flows = r.data_mdts.keys().filter(|(p, _, _)| p == pe).count();
        let _ = write!(h, "<td class=\"num\">{flows}</td></tr>");
    }
    h.push_str("</table>");
    left_out_note(h, r.pes.len(), r.pes.len().min(TABLE_ROWS), "PEs");
    pim_chart(h, r);
    if !r.neighbors.is_empty() {
        h.push_str("<h3>PIM neighbours at the end</h3><table><tr><th>neighbour</th><th>MDT</th><th>PE</th><th>state</th><th>DR</th><th class=\"num\">restarts</th><th class=\"num\">hellos</th></tr>");
        for n in r.neighbors.iter().take(TABLE_ROWS) {
            let t = |k: &str| super::model::text(n, k).unwrap_or("-").to_string();
            let _ = write!(
                h,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&t("neighbor")),
                esc(&t("default_mdt")),
                esc(&t("pe")),
                esc(&t("state")),
                if n.get("dr").and_then(Value::as_bool) == Some(true) { "DR" } else { "" },
                n.get("restarts").and_then(Value::as_u64).unwrap_or(0),
                n.get("hellos").and_then(Value::as_u64).unwrap_or(0)
            );
        }
        h.push_str("</table>");
        left_out_note(
            h,
            r.neighbors.len(),
            r.neighbors.len().min(TABLE_ROWS),
            "neighbours",
        );
    }
    h.push_str("<h3>C-(S,G) → Data-MDT</h3>");
    if r.data_mdts.is_empty() {
        h.push_str("<p class=\"none\">No Data-MDT Join seen.</p>");
    } else {
        h.push_str("<table><tr><th>PE</th><th>C-source</th><th>C-group</th><th>Data-MDT group</th><th>moved from</th><th class=\"num\">joins</th><th>first</th><th>last</th></tr>");
        for ((pe, s, g), m) in r.data_mdts.iter().take(TABLE_ROWS) {
            let _ = write!(
                h,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\"><b>{}</b></td><td class=\"mono\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(pe),
                esc(s),
                esc(g),
                esc(&m.p_group),
                esc(m.previous.as_deref().unwrap_or("")),
                m.joins,
                esc(&short_time(&m.first)),
                esc(&short_time(&m.last))
            );
        }
        h.push_str("</table>");
        left_out_note(
            h,
            r.data_mdts.len(),
            r.data_mdts.len().min(TABLE_ROWS),
            "mappings",
        );
    }
    h.push_str("</section>\n");
}

/// One lane per (neighbour, MDT): up from `new` to its end, a mark at each change.
fn pim_chart(h: &mut String, r: &Report) {
    if r.pim_changes.is_empty() {
        return;
    }
    let mut lanes: BTreeMap<(&str, &str), Vec<&super::model::PimChange>> = BTreeMap::new();
    for c in &r.pim_changes {
        lanes
            .entry((c.mdt.as_str(), c.neighbor.as_str()))
            .or_default()
            .push(c);
    }
    let t0 = r.pim_changes.iter().map(|c| c.time_us).min().unwrap_or(0);
    let t1 = r
        .pim_changes
        .iter()
        .map(|c| c.time_us)
        .max()
        .unwrap_or(0)
        .max(t0 + 1);
    let (left, width, row) = (300.0, 620.0, 22usize);
    let shown = lanes.len().min(TIMELINE_BARS);
    h.push_str("<h3>PIM adjacencies over time</h3><p class=\"legend\"><span><i style=\"background:var(--complete)\"></i>up</span><span><i style=\"background:var(--aborted)\"></i>restart / options</span><span><i style=\"background:var(--auth_failed)\"></i>leaving / expired</span></p>");
    let _ = write!(
        h,
        "<svg width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"PIM adjacencies\">",
        left as u64 + width as u64 + 20,
        shown * row + 24
    );
    let x_of = |t: i64| left + (t - t0) as f64 / (t1 - t0) as f64 * width;
    let (first, last) = (
        r.pim_changes.iter().min_by_key(|c| c.time_us),
        r.pim_changes.iter().max_by_key(|c| c.time_us),
    );
    if let (Some(a), Some(b)) = (first, last) {
        let _ = write!(
            h,
            "<text x=\"{left}\" y=\"{}\" font-size=\"10\" fill=\"#5b6573\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#5b6573\" text-anchor=\"end\">{}</text>",
            shown * row + 18,
            esc(&short_time(&a.time)),
            left + width,
            shown * row + 18,
            esc(&short_time(&b.time))
        );
    }
    for (i, ((mdt, neighbor), changes)) in lanes.iter().take(shown).enumerate() {
        let y = 8 + i * row;
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{} in {}</text>",
            y + 10,
            esc(neighbor),
            esc(mdt)
        );
        let mut up_since: Option<f64> = None;
        for c in changes {
            let x = x_of(c.time_us);
            match c.change.as_str() {
                "new" => up_since = Some(up_since.unwrap_or(x)),
                "leaving" | "expired" => {
                    let from = up_since.take().unwrap_or(left);
                    up_bar(h, from, x, y);
                }
                _ => {}
            }
        }
        if let Some(from) = up_since {
            up_bar(h, from, left + width, y);
        }
        for c in changes {
            let color = match c.change.as_str() {
                "new" => "complete",
                "leaving" | "expired" => "auth_failed",
                _ => "aborted",
            };
            let _ = write!(
                h,
                "<circle cx=\"{:.1}\" cy=\"{}\" r=\"5\" fill=\"var(--{color})\"><title>{} {} {}</title></circle>",
                x_of(c.time_us),
                y + 7,
                esc(&short_time(&c.time)),
                esc(&c.neighbor),
                esc(&c.change)
            );
        }
    }
    h.push_str("</svg>");
    left_out_note(h, lanes.len(), shown, "adjacencies in the chart");
}

/// The bar of a PIM adjacency that is up from `from` to `to` (x positions), in the lane at `y`.
fn up_bar(h: &mut String, from: f64, to: f64, y: usize) {
    let _ = write!(
        h,
        "<rect x=\"{from:.1}\" y=\"{}\" width=\"{:.1}\" height=\"6\" fill=\"var(--complete)\" opacity=\"0.5\"/>",
        y + 4,
        (to - from).max(1.0)
    );
}

fn anomalies(h: &mut String, r: &Report) {
    h.push_str("<section id=\"anomalies\"><h2>Anomalies and scans</h2>");
    if r.anomalies.is_empty() {
        h.push_str("<p class=\"none\">Nothing else talked on the watched ports.</p>");
    } else {
        h.push_str("<p class=\"note\">Traffic on the watched ports that no protocol claimed, most severe first.</p>");
        findings_table(h, &r.anomalies, "anomalies");
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_the_capture_is_inert() {
        assert_eq!(
            esc("<script>alert('x')</script>&\"\x1b"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\\u{1b}"
        );
    }
}
