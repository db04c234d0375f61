//! `watch3232 audit --wordlist FILE CAPTURE...`: reads the captures through the engine, keeps the
//! OTA challenge/response exchanges its events carry, and tries every word against each. One JSON
//! line per exchange on stdout; progress and a summary on stderr.

use anyhow::anyhow;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use watch3232::audit::{check, Collector, Exchange, Form};
use watch3232::capture::{CaptureError, Reader};
use watch3232::driver::{self, EventSink, Frontend, Input, Settings};
use watch3232::engine::Config;
use watch3232::event::Event;

pub fn run(config: Config, wordlist: &Path, files: &[String]) -> anyhow::Result<ExitCode> {
    let words = read_words(wordlist)?;
    let (exchanges, failed) = exchanges(config, files)?;
    let progress = std::io::stderr().is_terminal();
    let mut stdout = std::io::stdout().lock();
    let mut device_passwords = 0usize;
    for (i, x) in exchanges.iter().enumerate() {
        let hit = words.iter().enumerate().find_map(|(j, w)| {
            if progress && j % 16 == 0 {
                eprint!(
                    "\raudit: exchange {}/{}, word {}/{}   ",
                    i + 1,
                    exchanges.len(),
                    j + 1,
                    words.len()
                );
            }
            check(x, w).map(|form| (w, form))
        });
        device_passwords += usize::from(hit.is_some() && x.accepted == Some(true));
        let line = report(x, hit, words.len());
        if writeln!(stdout, "{line}").is_err() {
            break; // stdout closed (`| head`): nothing more to say
        }
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    let devices: std::collections::BTreeSet<_> = exchanges
        .iter()
        .map(|x| (x.device, x.device_port))
        .collect();
    eprintln!(
        "watch3232 audit: {} exchange(s) with {} device(s), {} word(s) tried, {device_passwords} device \
         password(s) found",
        exchanges.len(),
        devices.len(),
        words.len()
    );
    Ok(if failed {
        ExitCode::from(super::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

fn read_words(path: &Path) -> anyhow::Result<Vec<String>> {
    let bytes =
        std::fs::read(path).map_err(|e| anyhow!("cannot read wordlist {}: {e}", path.display()))?;
    // Wordlists are often not UTF-8 (rockyou): keep every line, replacing what is not.
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .filter(|l| !l.is_empty())
        .collect())
}

/// Runs the captures through the driver, collecting the exchanges from the events. Returns
/// whether a capture could not be read (reported in one line each, the rest still read).
fn exchanges(config: Config, files: &[String]) -> anyhow::Result<(Vec<Exchange>, bool)> {
    let input = Input::Files {
        paths: files.to_vec(),
        reader: Reader::Auto,
    };
    let mut sink = Exchanges::default();
    let never = Arc::new(AtomicBool::new(false));
    let outcome = driver::run(
        &Settings::new(config),
        &input,
        &mut sink,
        &mut ErrorLines,
        &never,
    )?;
    Ok((sink.collector.finish(), outcome.input_failed))
}

/// The audit's event consumer: the exchanges the OTA events carry.
#[derive(Default)]
struct Exchanges {
    collector: Collector,
}

impl EventSink for Exchanges {
    fn write(&mut self, event: &Event) -> std::io::Result<()> {
        if let Ok(v) = serde_json::to_value(event) {
            self.collector.add(&v);
        }
        Ok(())
    }
}

/// The audit shows only the captures it could not read (its own progress is per word).
pub(super) struct ErrorLines;

impl Frontend for ErrorLines {
    fn input_error(&mut self, error: &CaptureError) {
        eprintln!("watch3232: error: {error}");
    }
}

fn report(x: &Exchange, hit: Option<(&String, Form)>, tried: usize) -> serde_json::Value {
    json!({
        "device": x.device,
        "device_port": x.device_port,
        "uploader": x.uploader,
        "protocol": x.scheme.protocol(),
        "auth_scheme": x.scheme.name(),
        "accepted": x.accepted,
        "password_found": hit.is_some(),
        "password": hit.map(|(w, _)| w),
        "password_form": hit.map(|(_, f)| match f {
            Form::Plain => "plain",
            Form::Md5Hashed => "md5_hashed",
        }),
        // The word produced the uploader's answer; only an accepted answer makes it the
        // device's password.
        "finding": match (hit.is_some(), x.accepted) {
            (false, _) => "no word of the list",
            (true, Some(true)) => "device password",
            (true, Some(false)) => "rejected guess",
            (true, None) => "answer matched, device verdict not captured",
        },
        "words_tried": tried,
    })
}
