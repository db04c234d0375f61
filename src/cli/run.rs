//! Runs a `read` or `capture`: feeds packets to the engine and events to the sink until the
//! input ends or a signal arrives, then writes the summary.

use super::{Args, Command, EXIT_ERROR};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use watch3232::capture::{
    default_filter, with_dynamic_ports, CaptureError, LiveOptions, LiveSource, Next, OfflineSource, Timestamp,
};
use watch3232::engine::{Config, Engine};
use watch3232::event::Origin;
use watch3232::output::JsonLines;
use watch3232::stats::KernelDrops;

/// How many packets pass between checks of the stop flag when reading files.
const SIGNAL_CHECK_EVERY: u64 = 4096;

pub fn run(args: Args) -> anyhow_lite::Result<ExitCode> {
    let config = Config {
        ota_ports: args.ota_ports.clone(),
        max_flows: args.max_flows,
        flow_timeout_secs: args.flow_timeout,
        community_id_seed: args.community_id_seed,
        ota: args.ota.config(),
        ..Config::default()
    };
    let mut sink = match &args.output {
        Some(path) => JsonLines::create(path)
            .map_err(|e| anyhow_lite::msg(format!("cannot write {}: {e}", path.display())))?,
        None => JsonLines::stdout(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| anyhow_lite::msg(format!("cannot install signal handler: {e}")))?;
    }
    let mut engine = Engine::new(config);
    let failed = match &args.command {
        Command::Read { files } => read_files(&mut engine, &mut sink, files, &stop)?,
        Command::Capture { interface, filter, snaplen, buffer_size, promisc } => {
            let opts = LiveOptions {
                interface: interface.clone(),
                filter: filter.clone().unwrap_or_else(|| default_filter(&engine.config().ota_ports)),
                snaplen: *snaplen,
                buffer_size: *buffer_size,
                promisc: *promisc,
                poll_ms: 200,
            };
            capture_live(&mut engine, &mut sink, &opts, &stop)?;
            false
        }
    };
    engine.finish();
    write_events(&mut engine, &mut sink)?;
    sink.flush().map_err(|e| anyhow_lite::msg(format!("cannot write events: {e}")))?;
    Ok(if failed { ExitCode::from(EXIT_ERROR) } else { ExitCode::SUCCESS })
}

fn write_events(engine: &mut Engine, sink: &mut JsonLines) -> anyhow_lite::Result<()> {
    for event in engine.drain_events() {
        sink.write(&event).map_err(|e| anyhow_lite::msg(format!("cannot write events: {e}")))?;
    }
    Ok(())
}

/// Reads each file in turn. A file that cannot be opened is reported and skipped; one cut off
/// mid-record keeps every packet before the cut. Returns whether any file failed to open.
fn read_files(engine: &mut Engine, sink: &mut JsonLines, files: &[String], stop: &AtomicBool) -> anyhow_lite::Result<bool> {
    let mut failed = false;
    for path in files {
        let mut source = match OfflineSource::open(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("watch3232: error: {e}");
                engine.counters_mut().files_failed += 1;
                failed = true;
                continue;
            }
        };
        engine.set_origin(Origin::file(source.name()));
        engine.counters_mut().files_read += 1;
        let mut n: u64 = 0;
        loop {
            match source.next_packet() {
                Ok(Next::Packet(p)) => engine.process(&p),
                Ok(Next::End) => break,
                Ok(Next::Idle) => {}
                Err(e @ CaptureError::Truncated { .. }) => {
                    tracing::warn!("{e}");
                    engine.counters_mut().files_truncated += 1;
                    break;
                }
                Err(e) => {
                    eprintln!("watch3232: error: {e}");
                    failed = true;
                    break;
                }
            }
            write_events(engine, sink)?;
            n += 1;
            if n % SIGNAL_CHECK_EVERY == 0 && (stop.load(Ordering::Relaxed) || sink.is_closed()) {
                break;
            }
        }
        write_events(engine, sink)?;
        if stop.load(Ordering::Relaxed) || sink.is_closed() {
            tracing::info!("stopping early: {}", if sink.is_closed() { "output closed" } else { "signal" });
            break;
        }
    }
    Ok(failed)
}

fn capture_live(engine: &mut Engine, sink: &mut JsonLines, opts: &LiveOptions, stop: &AtomicBool) -> anyhow_lite::Result<()> {
    let mut source = LiveSource::open(opts).map_err(|e| anyhow_lite::msg(e.to_string()))?;
    engine.set_origin(Origin::interface(source.name()));
    tracing::info!(interface = source.name(), filter = source.base_filter(), "capturing");
    // TCP ports announced at run time (OTA connect-backs) are added to the kernel filter.
    let mut held: Vec<u16> = Vec::new();
    while !stop.load(Ordering::Relaxed) && !sink.is_closed() {
        let mut now_held: Vec<u16> = engine.interest().dynamic_tcp_ports().collect();
        now_held.sort_unstable();
        if now_held != held {
            let expr = with_dynamic_ports(source.base_filter(), &now_held);
            tracing::debug!(filter = %expr, "capture filter updated");
            if let Err(e) = source.set_filter(&expr) {
                tracing::warn!("{e}");
            }
            held = now_held;
        }
        match source.next_packet() {
            Ok(Next::Packet(p)) => engine.process(&p),
            Ok(Next::Idle) => {
                engine.advance_to(wall_clock());
                sink.flush().map_err(|e| anyhow_lite::msg(format!("cannot write events: {e}")))?;
            }
            Ok(Next::End) => break,
            Err(e) => return Err(anyhow_lite::msg(e.to_string())),
        }
        write_events(engine, sink)?;
    }
    if let Some(k) = source.kernel_stats() {
        eprintln!(
            "watch3232: {} packets received by filter, {} dropped by kernel, {} dropped by interface",
            k.received, k.dropped, k.if_dropped
        );
        engine.set_kernel_stats(KernelDrops {
            received: u64::from(k.received),
            dropped: u64::from(k.dropped),
            if_dropped: u64::from(k.if_dropped),
        });
    }
    Ok(())
}

fn wall_clock() -> Timestamp {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_timeval(d.as_secs() as i64, i64::from(d.subsec_micros()))
}

/// A one-line error type for the CLI: messages written for the user, nothing else.
pub mod anyhow_lite {
    pub type Result<T> = std::result::Result<T, Error>;

    #[derive(Debug)]
    pub struct Error(String);

    pub fn msg(text: impl Into<String>) -> Error {
        Error(text.into())
    }

    impl std::fmt::Display for Error {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
}
