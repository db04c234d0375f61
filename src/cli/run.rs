//! Runs a `read` or `capture`: feeds packets to the engine and events to the outputs until the
//! input ends or a signal arrives, then writes the summary. Also the small subcommands
//! (`schema`, `completions`, `manpage`).

use super::extras::{self, Progress, Summary};
use super::live_filter::LiveFilter;
use super::{Args, Command, EXIT_ERROR};
use clap::CommandFactory;
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use watch3232::capture::{
    default_filter, CaptureError, Input, LiveOptions, LiveSource, Next, Reader, Timestamp,
};
use watch3232::engine::{Config, Engine};
use watch3232::event::{Body, Event, Origin};
use watch3232::flow::FlowKey;
use watch3232::output::sink::syslog_facility;
use watch3232::output::{
    FileSink, Format, Output, OutputSpec, Rotation, Sensor, Stdout, SyslogSink, UnixSink,
};
use watch3232::stats::{KernelDrops, OutputStats};

/// How many packets pass between looks at the clock (flush, rotation timers) when reading files.
const FLUSH_CHECK_EVERY: u64 = 4096;

/// How long events of a busy pipe may wait in buffers (a quiet one is flushed when it goes
/// quiet).
const STREAM_FLUSH: Duration = Duration::from_millis(200);

/// The run's state besides the engine: outputs, periodic stats, what the terminal gets.
pub(super) struct Run {
    pub(super) out: Output,
    stats_every: Option<i64>,
    next_stats: Option<Timestamp>,
    summary: Summary,
    matched: Option<HashSet<FlowKey>>,
    live: bool,
}

/// Flows ended per step when the input is over.
const FLUSH_BATCH: usize = 4096;

/// The engine's configuration from the flags (and config file) every subcommand shares.
pub(super) fn engine_config(args: &Args) -> anyhow_lite::Result<Config> {
    Ok(Config {
        classify: watch3232::classify::Config {
            ota_ports: args.ota_ports.clone(),
            community_id_seed: args.community_id_seed,
            mdt_max_entries: args.mdt_max_entries,
            ota: args.ota.config(),
            watch_ports: args.anomaly.watch_ports.clone(),
            anomaly: args.anomaly.config().map_err(anyhow_lite::msg)?,
        },
        max_flows: args.max_flows,
        flow_timeout_secs: args.flow_timeout,
        ..Config::default()
    })
}

pub fn run(args: Args) -> anyhow_lite::Result<ExitCode> {
    match &args.command {
        Command::Schema => {
            let s = serde_json::to_string_pretty(&watch3232::output::schema::schema())
                .map_err(|e| anyhow_lite::msg(e.to_string()))?;
            return print_quietly(&(s + "\n"));
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut Args::command(), "watch3232", &mut buf);
            return print_quietly(&String::from_utf8_lossy(&buf));
        }
        Command::Manpage => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Args::command())
                .render(&mut buf)
                .map_err(|e| anyhow_lite::msg(e.to_string()))?;
            return print_quietly(&String::from_utf8_lossy(&buf));
        }
        Command::Audit { wordlist, files } => {
            return super::audit::run(engine_config(&args)?, wordlist, files);
        }
        Command::Read { .. } | Command::Capture { .. } => {}
    }
    let config = engine_config(&args)?;
    let live = matches!(args.command, Command::Capture { .. });
    if live && args.write_matched.is_some() {
        return Err(anyhow_lite::msg(
            "--write-matched works on `read` only (run it on the capture files afterwards)",
        ));
    }
    if !live && (args.user.is_some() || args.group.is_some()) {
        return Err(anyhow_lite::msg(
            "--user/--group apply to `capture` (privileges are dropped once the capture is open)",
        ));
    }
    if let (Some(_), Command::Read { files, .. }) = (&args.write_matched, &args.command) {
        if files.iter().any(|f| f == "-") {
            return Err(anyhow_lite::msg(
                "--write-matched needs capture files, not standard input (it reads them twice)",
            ));
        }
    }
    let out = open_outputs(&args, live)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| anyhow_lite::msg(format!("cannot install signal handler: {e}")))?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, out.hup_flag())
        .map_err(|e| anyhow_lite::msg(format!("cannot install signal handler: {e}")))?;
    let mut run = Run {
        out,
        stats_every: args
            .stats_interval
            .map(|s| (s as i64).saturating_mul(1_000_000)),
        next_stats: None,
        summary: Summary::default(),
        matched: args.write_matched.as_ref().map(|_| HashSet::new()),
        live,
    };
    let mut engine = Engine::new(config);
    let failed = match &args.command {
        Command::Read { files, reader } => read_files(
            &mut engine,
            &mut run,
            files,
            *reader,
            &stop,
            args.no_progress,
        )?,
        Command::Capture {
            interface,
            filter,
            snaplen,
            buffer_size,
            promisc,
            workers,
        } => {
            let opts = LiveOptions {
                interface: interface.clone(),
                filter: filter.clone().unwrap_or_else(|| {
                    let c = engine.config();
                    default_filter(&watched_ports(c))
                }),
                snaplen: *snaplen,
                buffer_size: *buffer_size,
                promisc: *promisc,
                poll_ms: 200,
            };
            if *workers > 1 {
                // Each worker has its own engine and writes its own summary.
                let config = engine.config().clone();
                super::workers::capture(&config, &mut run, &opts, *workers, &stop, &args)?;
                run.out.flush().map_err(write_error)?;
                return Ok(ExitCode::SUCCESS);
            }
            capture_live(&mut engine, &mut run, &opts, &stop, &args)?;
            false
        }
        _ => unreachable!("handled above"),
    };
    // Flows still open are reported in batches, written as they come: bounded memory however
    // full the table is.
    while engine.flush_flows(FLUSH_BATCH) {
        write_events(&mut engine, &mut run)?;
    }
    engine.finish();
    write_events(&mut engine, &mut run)?;
    run.out.flush().map_err(write_error)?;
    if let (Some(path), Some(keys), Command::Read { files, .. }) =
        (&args.write_matched, &run.matched, &args.command)
    {
        let n = extras::write_matched(files, keys, path, engine.config().max_tunnel_depth)
            .map_err(anyhow_lite::msg)?;
        tracing::info!(
            "{n} packets of {} flows written to {}",
            keys.len(),
            path.display()
        );
    }
    if std::io::stderr().is_terminal() && !args.quiet {
        eprint!("{}", run.summary.table());
    }
    Ok(if failed {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints to stdout; a closed pipe is not an error.
fn print_quietly(s: &str) -> anyhow_lite::Result<ExitCode> {
    let mut o = std::io::stdout().lock();
    match o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(write_error(e)),
        _ => Ok(ExitCode::SUCCESS),
    }
}

pub(super) fn write_error(e: std::io::Error) -> anyhow_lite::Error {
    anyhow_lite::msg(format!("cannot write events to {e}"))
}

fn open_outputs(args: &Args, live: bool) -> anyhow_lite::Result<Output> {
    let hostname = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok());
    let mut out = Output::new(Sensor {
        name: args.sensor_name.clone(),
        hostname: hostname.clone(),
    });
    let specs = if args.output.is_empty() {
        vec![OutputSpec::Stdout]
    } else {
        args.output.clone()
    };
    let facility = syslog_facility(&args.syslog_facility).ok_or_else(|| {
        anyhow_lite::msg(format!(
            "unknown syslog facility `{}` (user, daemon, auth, local0..local7)",
            args.syslog_facility
        ))
    })?;
    let rotation = Rotation {
        size: args.rotate_size,
        interval: args.rotate_interval.map(Duration::from_secs),
    };
    for spec in specs {
        let explicit = args.format;
        match spec {
            OutputSpec::Stdout => {
                let fmt = explicit.unwrap_or(if std::io::stdout().is_terminal() {
                    Format::Text
                } else {
                    Format::Eve
                });
                out.add(fmt, Box::new(Stdout::new()), true);
            }
            OutputSpec::File(path) => {
                let sink =
                    FileSink::open(&path, args.append || live, rotation.clone()).map_err(|e| {
                        anyhow_lite::msg(format!("cannot write {}: {e}", path.display()))
                    })?;
                out.add(explicit.unwrap_or(Format::Eve), Box::new(sink), false);
            }
            OutputSpec::UnixStream(path) => out.add(
                explicit.unwrap_or(Format::Eve),
                Box::new(UnixSink::new(&path, true)),
                false,
            ),
            OutputSpec::UnixDgram(path) => out.add(
                explicit.unwrap_or(Format::Eve),
                Box::new(UnixSink::new(&path, false)),
                false,
            ),
            OutputSpec::Syslog(target) => {
                let sink = SyslogSink::new(target, facility, hostname.as_deref());
                out.add(explicit.unwrap_or(Format::Eve), Box::new(sink), false);
            }
        }
    }
    Ok(out)
}

/// Writes what the engine produced, adding memory and output counters to `stats` events.
/// Returns how many events were written.
fn write_events(engine: &mut Engine, run: &mut Run) -> anyhow_lite::Result<usize> {
    if !engine.has_events() {
        return Ok(0);
    }
    let mut n = 0;
    for mut event in engine.drain_events() {
        emit(&mut event, run)?;
        n += 1;
    }
    Ok(n)
}

pub(super) fn emit(event: &mut Event, run: &mut Run) -> anyhow_lite::Result<()> {
    if let Body::Stats(s) = &mut event.body {
        // Memory varies from run to run: kept out of an offline summary, which replays exactly.
        if run.live || event.kind == "periodic" {
            s.memory = extras::memory().map(Box::new);
        }
        let c = run.out.counters();
        s.output = Some(Box::new(OutputStats {
            events: c.events,
            dropped: c.dropped,
            reopens: c.reopens,
        }));
    }
    run.summary.add(event);
    if let Some(keys) = &mut run.matched {
        keys.extend(extras::flow_key(event));
    }
    run.out.write(event).map_err(write_error)
}

/// A `stats` `periodic` event when `now` has reached the next one. Returns how many events
/// were written. After a jump in time (a gap in a capture) the schedule restarts from `now`.
fn periodic_stats(
    engine: &mut Engine,
    run: &mut Run,
    now: Timestamp,
) -> anyhow_lite::Result<usize> {
    let Some(every) = run.stats_every else {
        return Ok(0);
    };
    let next = *run
        .next_stats
        .get_or_insert(Timestamp(now.micros().saturating_add(every)));
    if now < next {
        return Ok(0);
    }
    let mut after = next.micros().saturating_add(every);
    if after <= now.micros() {
        after = now.micros().saturating_add(every);
    }
    run.next_stats = Some(Timestamp(after));
    engine.periodic_reports();
    let n = write_events(engine, run)?;
    let mut e = engine.stats_event(watch3232::event::stats::StatsKind::Periodic);
    emit(&mut e, run)?;
    Ok(n + 1)
}

/// Reads each file in turn. A file that cannot be opened is reported and skipped; one cut off
/// mid-record keeps every packet before the cut. Returns whether any file failed to open.
fn read_files(
    engine: &mut Engine,
    run: &mut Run,
    files: &[String],
    reader: Reader,
    stop: &AtomicBool,
    no_progress: bool,
) -> anyhow_lite::Result<bool> {
    let mut failed = false;
    let mut last_flush = Instant::now();
    for path in files {
        let mut source = match Input::open(path, reader, stop) {
            Ok(Some(s)) => s,
            Ok(None) => {
                tracing::info!("stopping early: signal");
                break;
            }
            Err(e) => {
                eprintln!("watch3232: error: {e}");
                engine.counters_mut().files_failed += 1;
                failed = true;
                continue;
            }
        };
        engine.set_origin(Origin::file(source.name()));
        engine.counters_mut().files_read += 1;
        let mut progress = Progress::for_file(path, no_progress);
        let streaming = source.is_pipe();
        let mut n: u64 = 0;
        let mut idle = false;
        loop {
            match source.next_packet() {
                Ok(Next::Packet(p)) => {
                    if let Some(bar) = &mut progress {
                        bar.packet(p.data.len());
                    }
                    engine.process(&p);
                }
                Ok(Next::End) => break,
                Ok(Next::Idle) => idle = true,
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
            let wrote = write_events(engine, run)? + periodic_stats(engine, run, engine.now())?;
            // A pipe may pause for long: its events must not wait in buffers meanwhile.
            if streaming && (idle || wrote > 0 && last_flush.elapsed() >= STREAM_FLUSH) {
                run.out.flush().map_err(write_error)?;
                last_flush = Instant::now();
            }
            idle = false;
            n += 1;
            if stop.load(Ordering::Relaxed) || run.out.is_closed() {
                break;
            }
            if n % FLUSH_CHECK_EVERY == 0 {
                // Honour rotation timers on long reads.
                if last_flush.elapsed() >= Duration::from_secs(1) {
                    run.out.flush().map_err(write_error)?;
                    last_flush = Instant::now();
                }
            }
        }
        if let Some(bar) = progress {
            bar.finish();
        }
        write_events(engine, run)?;
        if stop.load(Ordering::Relaxed) || run.out.is_closed() {
            tracing::info!(
                "stopping early: {}",
                if run.out.is_closed() {
                    "output closed"
                } else {
                    "signal"
                }
            );
            break;
        }
    }
    Ok(failed)
}

fn capture_live(
    engine: &mut Engine,
    run: &mut Run,
    opts: &LiveOptions,
    stop: &AtomicBool,
    args: &Args,
) -> anyhow_lite::Result<()> {
    let mut source = LiveSource::open(opts).map_err(|e| anyhow_lite::msg(e.to_string()))?;
    if args.user.is_some() || args.group.is_some() {
        extras::drop_privileges(args.user.as_deref(), args.group.as_deref())
            .map_err(anyhow_lite::msg)?;
    }
    engine.set_origin(Origin::interface(source.name()));
    tracing::info!(
        interface = source.name(),
        filter = source.base_filter(),
        "capturing"
    );
    let mut last_flush = Instant::now();
    let user_filter = match &args.command {
        Command::Capture { filter, .. } => filter.as_deref(),
        _ => None,
    };
    let mut live_filter = LiveFilter::new(user_filter, engine);
    while !stop.load(Ordering::Relaxed) && !run.out.is_closed() {
        match source.next_packet() {
            Ok(Next::Packet(p)) => engine.process(&p),
            Ok(Next::Idle) => engine.advance_to(wall_clock()),
            Ok(Next::End) => break,
            Err(e) => return Err(anyhow_lite::msg(e.to_string())),
        }
        // An invitation announced a connect-back port (or a session ended): the kernel filter
        // follows, so the device's TCP connection reaches us without passing all TCP.
        live_filter.refresh(engine, &mut source);
        write_events(engine, run)?;
        let now = wall_clock();
        if run.next_stats.is_some_and(|due| now >= due) {
            if let Some(k) = kernel_drops(&mut source) {
                engine.set_kernel_stats(k);
            }
        }
        periodic_stats(engine, run, now)?;
        if last_flush.elapsed() >= Duration::from_millis(200) {
            run.out.flush().map_err(write_error)?;
            last_flush = Instant::now();
        }
    }
    if let Some(k) = kernel_drops(&mut source) {
        eprintln!(
            "watch3232: {} packets received by filter, {} dropped by kernel, {} dropped by interface",
            k.received, k.dropped, k.if_dropped
        );
        engine.set_kernel_stats(k);
    }
    Ok(())
}

fn kernel_drops(source: &mut LiveSource) -> Option<KernelDrops> {
    source.kernel_stats().map(|k| KernelDrops {
        received: u64::from(k.received),
        dropped: u64::from(k.dropped),
        if_dropped: u64::from(k.if_dropped),
    })
}

/// The ports the default live filter passes: the OTA device ports and the watched ports.
pub(super) fn watched_ports(c: &Config) -> Vec<u16> {
    [&c.ota_ports[..], &c.watch_ports[..]].concat()
}

pub(super) fn wall_clock() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
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
