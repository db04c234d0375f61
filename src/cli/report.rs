//! `watch3232 report INPUT… -o report.html`: one self-contained HTML report from captures (run
//! through the engine) and EVE files written earlier (read line by line), built from the same
//! events either way.

use anyhow::{anyhow, Context as _};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use watch3232::capture::Reader;
use watch3232::driver::{self, EventSink, Input, Settings};
use watch3232::engine::Config;
use watch3232::event::Event;
use watch3232::report::Report;

/// Whether `path` holds EVE JSON Lines (its first non-blank byte is `{`) rather than a capture.
fn is_eve(path: &str) -> anyhow::Result<bool> {
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .with_context(|| format!("cannot read {path}"))?;
    Ok(head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{'))
}

pub fn run(config: Config, inputs: &[String], out: &Path) -> anyhow::Result<ExitCode> {
    if inputs.iter().any(|i| i == "-") {
        return Err(super::UsageError(
            "report reads files (captures or EVE JSON), not standard input".into(),
        )
        .into());
    }
    // Inputs are sacred: the report must not overwrite one.
    let target = std::fs::canonicalize(out).ok();
    if let Some(input) = inputs
        .iter()
        .find(|i| target.is_some() && std::fs::canonicalize(i).ok() == target)
    {
        return Err(super::UsageError(format!(
            "-o {} is the input {input}; choose another file for the report",
            out.display()
        ))
        .into());
    }
    let mut report = Report::default();
    let mut captures = Vec::new();
    let mut eve = Vec::new();
    for input in inputs {
        if is_eve(input)? {
            eve.push(input.clone());
        } else {
            captures.push(input.clone());
        }
    }
    let mut failed = false;
    if !captures.is_empty() {
        let mut sink = ToReport {
            report: &mut report,
        };
        let never = Arc::new(AtomicBool::new(false));
        let outcome = driver::run(
            &Settings::new(config),
            &Input::Files {
                paths: captures,
                reader: Reader::Auto,
            },
            &mut sink,
            &mut super::audit::ErrorLines,
            &never,
        )?;
        failed = outcome.input_failed;
    }
    for path in &eve {
        let file = std::fs::File::open(path).with_context(|| format!("cannot read {path}"))?;
        let mut not_json = 0u64;
        for line in BufReader::new(file).lines() {
            let line = line.with_context(|| format!("cannot read {path}"))?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(v) => report.add(&v),
                Err(_) => not_json += 1,
            }
        }
        if not_json > 0 {
            tracing::warn!("{path}: {not_json} lines are not JSON events; left out of the report");
        }
    }
    let html = watch3232::report::render(&report);
    std::fs::write(out, html).map_err(|e| anyhow!("cannot write {}: {e}", out.display()))?;
    tracing::info!(
        "report of {} events written to {}",
        report.events,
        out.display()
    );
    Ok(if failed {
        ExitCode::from(super::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// The report's event consumer: each event in its EVE form, as an EVE file would hold it.
struct ToReport<'a> {
    report: &'a mut Report,
}

impl EventSink for ToReport<'_> {
    fn write(&mut self, event: &Event) -> std::io::Result<()> {
        let v = serde_json::to_value(event).map_err(std::io::Error::other)?;
        self.report.add(&v);
        Ok(())
    }
}
