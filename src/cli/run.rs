//! Runs a `read` or `capture`: opens the outputs, installs the signal handlers, hands the
//! driver its configuration, then writes `--write-matched` and the summary table. Also the
//! small subcommands (`schema`, `completions`, `manpage`).

use super::extras::{self, Terminal};
use super::summary::Summary;
use super::view::View;
use super::{Args, ColorChoice, Command, EngineArgs, OutputArgs, UsageError, EXIT_ERROR};
use anyhow::{anyhow, bail, Context as _};
use clap::CommandFactory;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use watch3232::capture::LiveOptions;
use watch3232::driver::{self, Input, OutputThread, Settings};
use watch3232::engine::Config;
use watch3232::output::sink::{syslog_facility, Sink};
use watch3232::output::{
    FileSink, Format, Output, OutputSpec, RedisSink, Rotation, Sensor, Stdout, SyslogFormat,
    SyslogSink, UnixSink,
};

/// The engine's configuration from the flags (and config file) every subcommand shares.
pub(super) fn engine_config(args: &EngineArgs) -> anyhow::Result<Config> {
    Ok(Config {
        classify: watch3232::classify::Config {
            ota_ports: args.ota_ports.clone(),
            community_id_seed: args.community_id_seed,
            mdt_max_entries: usize::try_from(args.mdt_max_entries).unwrap_or(usize::MAX),
            ota: args.ota.config(),
            watch_ports: args.anomaly.watch_ports.clone(),
            anomaly: args.anomaly.config().map_err(|e| anyhow!(e))?,
            vxlan_ports: args.vxlan_ports.clone(),
        },
        max_flows: usize::try_from(args.max_flows).unwrap_or(usize::MAX),
        flow_timeout_secs: args.flow_timeout,
        ..Config::default()
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match &args.command {
        Command::Schema => {
            let s = serde_json::to_string_pretty(&watch3232::output::schema::schema())?;
            return print_quietly(&(s + "\n"));
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut Args::command(), "watch3232", &mut buf);
            return print_quietly(&String::from_utf8_lossy(&buf));
        }
        Command::Manpage => {
            let mut buf = Vec::new();
            let command = Args::command();
            clap_mangen::Man::new(command.clone()).render(&mut buf)?;
            // One page for all: each subcommand's own options follow, in sections of their own.
            for sub in command.get_subcommands() {
                if sub
                    .get_arguments()
                    .all(|a| a.is_hide_set() || a.is_positional())
                {
                    continue;
                }
                let name = format!("watch3232 {}", sub.get_name());
                writeln!(buf, ".SH \"{}\"", name.to_uppercase())?;
                let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
                writeln!(buf, "{about}")?;
                let page = clap_mangen::Man::new(sub.clone().bin_name(name));
                page.render_synopsis_section(&mut buf)?;
                page.render_options_section(&mut buf)?;
            }
            return print_quietly(&String::from_utf8_lossy(&buf));
        }
        Command::Audit {
            wordlist,
            files,
            engine,
        } => {
            super::inputs::refuse_overwriting_inputs(&args)?;
            return super::audit::run(engine_config(engine)?, wordlist, files);
        }
        Command::Report {
            inputs,
            output,
            engine,
        } => {
            return super::report::run(engine_config(engine)?, inputs, output);
        }
        Command::Read { .. } | Command::Capture { .. } => {}
    }
    super::inputs::refuse_overwriting_inputs(&args)?;
    let (output_args, engine_args, write_matched, user, group) = match &args.command {
        Command::Read {
            output,
            engine,
            write_matched,
            user,
            group,
            ..
        } => (output, engine, write_matched, user, group),
        Command::Capture {
            output,
            engine,
            user,
            group,
            ..
        } => (output, engine, &None, user, group),
        _ => unreachable!("handled above"),
    };
    let config = engine_config(engine_args)?;
    let live = matches!(args.command, Command::Capture { .. });
    if !live && (user.is_some() || group.is_some()) {
        return Err(UsageError(
            "--user/--group apply to `capture` (privileges are dropped once the capture is open)"
                .into(),
        )
        .into());
    }
    if live && (user.is_some() || group.is_some()) {
        let files: Vec<&std::path::Path> = output_args
            .output
            .iter()
            .filter_map(|o| match o {
                OutputSpec::File(path) => Some(path.as_path()),
                _ => None,
            })
            .collect();
        let extract_dir = engine_args.ota.extract_firmware.as_deref();
        let targets = extras::write_targets(&files, extract_dir);
        extras::check_writable_as(user.as_deref(), group.as_deref(), &targets)
            .map_err(|e| anyhow!(e))?;
    }
    if let (Some(_), Command::Read { files, .. }) = (write_matched, &args.command) {
        if files.iter().any(|f| f == "-") {
            return Err(UsageError(
                "--write-matched needs capture files, not standard input (it reads them twice)"
                    .into(),
            )
            .into());
        }
    }
    let strict = matches!(
        args.command,
        Command::Read {
            output_errors: super::OutputErrors::Fail,
            ..
        }
    );
    if strict {
        reachable_or_fail(&output_args.output)?;
    }
    let mut out = open_outputs(output_args, live, strict, args.verbose > 0)?;
    out.fail_on_drop(strict);
    let stop = Arc::new(AtomicBool::new(false));
    // Which signal stopped a read decides its exit code (128 + the signal, as shells do).
    let interrupted_by: Vec<(i32, &str, Arc<AtomicBool>)> = vec![
        (signal_hook::consts::SIGINT, "SIGINT", Arc::default()),
        (signal_hook::consts::SIGTERM, "SIGTERM", Arc::default()),
    ];
    for (signal, _, raised) in &interrupted_by {
        signal_hook::flag::register(*signal, Arc::clone(&stop))
            .context("cannot install signal handler")?;
        signal_hook::flag::register(*signal, Arc::clone(raised))
            .context("cannot install signal handler")?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, out.hup_flag())
        .context("cannot install signal handler")?;
    let (input, workers) = match &args.command {
        Command::Read {
            files,
            reader,
            workers,
            ..
        } => (
            Input::Files {
                paths: files.clone(),
                reader: *reader,
            },
            usize::from(*workers),
        ),
        Command::Capture {
            interface,
            filter,
            snaplen,
            buffer_size,
            promisc,
            workers,
            ..
        } => {
            let options = LiveOptions {
                interface: interface.clone(),
                filter: filter
                    .clone()
                    .unwrap_or_else(|| driver::default_live_filter(&config)),
                snaplen: *snaplen,
                buffer_size: *buffer_size,
                promisc: *promisc,
                poll_ms: 200,
            };
            let user_filter = filter.clone();
            (
                Input::Live {
                    options,
                    user_filter,
                },
                usize::from(*workers),
            )
        }
        _ => unreachable!("handled above"),
    };
    let settings = Settings {
        engine: config,
        stats_interval: output_args.stats_interval.map(Duration::from_secs),
        collect_matched: write_matched.is_some(),
        workers,
    };
    let privileges = (user.is_some() || group.is_some()).then(|| (user.clone(), group.clone()));
    let filter = watch3232::output::filter::EventFilter {
        min_severity: output_args.min_severity,
        only: output_args.only.clone(),
    };
    let summary =
        (std::io::stderr().is_terminal() && !args.quiet).then(|| Summary::new(filter.clone()));
    let mut terminal = Terminal::new(output_args.no_progress, privileges, summary);
    // A read's text view is put in packet-time order: an event comes at most this late
    // (a flow's idle timeout, then a scan window and its grace) after later ones.
    let reorder_lag = (!live && out.all_text()).then(|| {
        settings.engine.classify.anomaly.scan_window_secs
            + 2 * settings.engine.flow_timeout_secs
            + 5
    });
    // Events are rendered and written beside the engine, in batches when reading files; a live
    // capture's go over one by one, so none waits for the next.
    let batch_events = if live { 1 } else { 64 };
    let mut output = OutputThread::spawn(View::new(out, filter, reorder_lag), batch_events)
        .map_err(|e| anyhow!("cannot start the output thread: {e}"))?;
    let outcome = driver::run(&settings, &input, &mut output, &mut terminal, &stop);
    let mut view = output.join().map_err(driver::Error::Write)?;
    view.finish().map_err(driver::Error::Write)?;
    let outcome = outcome?;
    if view.filtered > 0 {
        tracing::info!(
            "{} events held back by --min-severity/--only",
            view.filtered
        );
    }
    if view.written_early() > 0 {
        tracing::warn!(
            "{} events written out of time order: more than {} waited in the reorder buffer",
            view.written_early(),
            super::view::REORDER_CAPACITY
        );
    }
    // The summary itself (what came before it was delivered before it was written).
    view.output_mut()
        .drain(std::time::Instant::now() + watch3232::output::DRAIN_TIMEOUT);
    let undelivered = report_undelivered(view.output_mut());
    if strict && undelivered > 0 {
        bail!("{undelivered} events could not be delivered (--output-errors warn counts them instead)");
    }
    let signal = interrupted_by
        .iter()
        .find(|(_, _, raised)| raised.load(std::sync::atomic::Ordering::Relaxed));
    if let Some((number, name, _)) = signal {
        // The events of what was read are out (the driver flushed them); the rest is not done.
        match &args.command {
            Command::Capture { interface, .. } => eprintln!(
                "watch3232: interrupted by {name}: capture on {interface} stopped, every flow ended and its events written"
            ),
            _ => eprintln!(
                "watch3232: interrupted by {name} while reading {}: {} packets read, their events written",
                terminal.current_file.as_deref().unwrap_or("(no file yet)"),
                terminal.packets_read
            ),
        }
        if let Some(summary) = &terminal.summary {
            eprint!("{}", summary.table());
        }
        return Ok(ExitCode::from(128 + *number as u8));
    }
    if let (Some(path), Some(keys), Command::Read { files, .. }) =
        (write_matched, &outcome.matched, &args.command)
    {
        let written =
            driver::matched::write_matched(files, keys, path, settings.engine.max_tunnel_depth)?;
        for (file, why) in &written.incomplete {
            tracing::warn!("{file}: {why}; its later packets are not in --write-matched");
        }
        tracing::info!(
            "{} packets of {} flows written to {} ({:?})",
            written.packets,
            keys.len(),
            path.display(),
            written.format
        );
    }
    if let Some(summary) = &terminal.summary {
        eprint!("{}", summary.table());
    }
    Ok(if outcome.input_failed {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// Before a read (and before any output file is truncated): every socket and local syslog
/// output answers, or the run stops here — a file read would otherwise drop all its events.
fn reachable_or_fail(specs: &[OutputSpec]) -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::net::UnixDatagram;
    use watch3232::output::sink::SyslogTarget;
    for spec in specs {
        let (what, reached) = match spec {
            // Not connected to: a listener that accepts one connection would get this one.
            OutputSpec::UnixStream(path) => (
                format!("unix-stream:{}", path.display()),
                std::fs::metadata(path).and_then(|m| {
                    if m.file_type().is_socket() {
                        Ok(())
                    } else {
                        Err(std::io::Error::other("not a socket"))
                    }
                }),
            ),
            OutputSpec::UnixDgram(path) => (
                format!("unix-dgram:{}", path.display()),
                UnixDatagram::unbound().and_then(|d| d.connect(path)),
            ),
            OutputSpec::Syslog(SyslogTarget::Unix(path)) => (
                format!("syslog:{}", path.display()),
                UnixDatagram::unbound().and_then(|d| d.connect(path)),
            ),
            _ => continue,
        };
        if let Err(e) = reached {
            return Err(reach_error(&what, &e));
        }
    }
    Ok(())
}

fn reach_error(what: &str, e: &std::io::Error) -> anyhow::Error {
    anyhow!("{what}: {e}; nothing read (--output-errors warn reads anyway, counting its events as dropped)")
}

/// One stderr line per socket, syslog or Redis output that lost events; returns how many were
/// lost in all.
fn report_undelivered(out: &Output) -> u64 {
    let mut lost = 0;
    for d in out.deliveries().iter().filter(|d| d.dropped > 0) {
        eprintln!(
            "watch3232: output {}: {} events written, {} dropped, {} reconnection attempts",
            d.output, d.written, d.dropped, d.retried
        );
        lost += d.dropped;
    }
    lost
}

/// Prints to stdout; a closed pipe is not an error.
fn print_quietly(s: &str) -> anyhow::Result<ExitCode> {
    let mut o = std::io::stdout().lock();
    match o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(driver::Error::Write(e).into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Whether the text view colours severities: `--color`, then `NO_COLOR`, then a terminal.
fn wants_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Opens every `-o` output. `strict` (`read --output-errors fail`): a TCP syslog or Redis
/// receiver must answer now. `details`: `-v`, which turns the text view into `text-full`.
fn open_outputs(
    args: &OutputArgs,
    live: bool,
    strict: bool,
    details: bool,
) -> anyhow::Result<Output> {
    let hostname = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok());
    let mut out = Output::new(Sensor {
        name: args.sensor_name.clone(),
        hostname: hostname.clone(),
    });
    out.set_text_style(watch3232::output::text::TextStyle {
        color: wants_color(args.color),
    });
    let specs = if args.output.is_empty() {
        vec![OutputSpec::Stdout]
    } else {
        args.output.clone()
    };
    let facility = syslog_facility(&args.syslog_facility).ok_or_else(|| {
        UsageError(format!(
            "--syslog-facility: unknown facility `{}` (user, daemon, auth, local0..local7)",
            args.syslog_facility
        ))
    })?;
    let rotation = Rotation {
        size: args.rotate_size,
        interval: args.rotate_interval.map(Duration::from_secs),
    };
    let backlog = usize::try_from(args.output_buffer).unwrap_or(usize::MAX);
    for spec in specs {
        let explicit = match args.format {
            Some(Format::Text) if details => Some(Format::TextFull),
            f => f,
        };
        match spec {
            OutputSpec::Stdout => {
                let fmt = explicit.unwrap_or(if std::io::stdout().is_terminal() {
                    if details {
                        Format::TextFull
                    } else {
                        Format::Text
                    }
                } else {
                    Format::Eve
                });
                out.add(fmt, Box::new(Stdout::new()), true);
            }
            OutputSpec::File(path) => {
                let sink = FileSink::open(&path, args.append || live, rotation.clone())
                    .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
                out.add(explicit.unwrap_or(Format::Eve), Box::new(sink), false);
            }
            OutputSpec::UnixStream(path) => out.add(
                explicit.unwrap_or(Format::Eve),
                Box::new(UnixSink::open(&path, true, backlog)),
                false,
            ),
            OutputSpec::UnixDgram(path) => out.add(
                explicit.unwrap_or(Format::Eve),
                Box::new(UnixSink::open(&path, false, backlog)),
                false,
            ),
            OutputSpec::Syslog(target) => {
                let format = args
                    .syslog_format
                    .unwrap_or_else(|| SyslogFormat::default_for(&target));
                use watch3232::output::SyslogTarget;
                let tls = matches!(target, SyslogTarget::Tls(_));
                let network = tls || matches!(target, SyslogTarget::Tcp(_));
                let mut sink =
                    SyslogSink::open(target, format, facility, hostname.as_deref(), backlog);
                if tls {
                    let ca = args.syslog_ca.as_deref().ok_or_else(|| {
                        UsageError(format!(
                            "{}: needs --syslog-ca FILE.pem (the CA that signed the server's \
                             certificate)",
                            sink.describe()
                        ))
                    })?;
                    let config = watch3232::output::sink::tls_trusting(ca)
                        .map_err(|e| anyhow!("--syslog-ca {e}"))?;
                    sink.link_mut().trust(config);
                }
                if strict && network {
                    sink.connect_now()
                        .map_err(|e| reach_error(&sink.describe(), &e))?;
                }
                out.add(explicit.unwrap_or(Format::Eve), Box::new(sink), false);
            }
            OutputSpec::Redis(target) => {
                let mut sink = RedisSink::open(target, backlog);
                if strict {
                    sink.connect_now()
                        .map_err(|e| reach_error(&sink.describe(), &e))?;
                }
                out.add(explicit.unwrap_or(Format::Eve), Box::new(sink), false);
            }
        }
    }
    Ok(out)
}
