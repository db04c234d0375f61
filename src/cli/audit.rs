//! `watch3232 audit --wordlist FILE CAPTURE...`: reads the captures through the engine, keeps the
//! OTA challenge/response exchanges its events carry, and tries every word against each. One JSON
//! line per exchange on stdout; progress and a summary on stderr.

use super::run::anyhow_lite;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use watch3232::audit::{check, Collector, Exchange, Form};
use watch3232::capture::{CaptureError, FileSource, Next, Reader};
use watch3232::engine::{Config, Engine};
use watch3232::event::Origin;

pub fn run(config: Config, wordlist: &Path, files: &[String]) -> anyhow_lite::Result<ExitCode> {
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

fn read_words(path: &Path) -> anyhow_lite::Result<Vec<String>> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow_lite::msg(format!("cannot read wordlist {}: {e}", path.display())))?;
    // Wordlists are often not UTF-8 (rockyou): keep every line, replacing what is not.
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .filter(|l| !l.is_empty())
        .collect())
}

/// Runs the engine over the captures and collects the exchanges from its events. Returns
/// whether a capture could not be read (reported in one line each, the rest still read).
fn exchanges(config: Config, files: &[String]) -> anyhow_lite::Result<(Vec<Exchange>, bool)> {
    let mut engine = Engine::new(config);
    let mut collector = Collector::default();
    let mut failed = false;
    let mut collect = |engine: &mut Engine| {
        for event in engine.drain_events() {
            if let Ok(v) = serde_json::to_value(&event) {
                collector.add(&v);
            }
        }
    };
    for path in files {
        let mut source = match FileSource::open(path, Reader::Auto) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("watch3232: error: {e}");
                failed = true;
                continue;
            }
        };
        engine.set_origin(Origin::file(path));
        loop {
            match source.next_packet() {
                Ok(Next::Packet(p)) => engine.process(&p),
                Ok(Next::Idle) => {}
                Ok(Next::End) => break,
                Err(e @ CaptureError::Truncated { .. }) => {
                    tracing::warn!("{e}");
                    break;
                }
                Err(e) => {
                    eprintln!("watch3232: error: {e}");
                    failed = true;
                    break;
                }
            }
            if engine.has_events() {
                collect(&mut engine);
            }
        }
    }
    while engine.flush_flows(4096) {
        collect(&mut engine);
    }
    engine.finish();
    collect(&mut engine);
    Ok((collector.finish(), failed))
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
