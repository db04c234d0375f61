//! The run loop, written once: a source (capture files, a live interface, N fanout sockets, or
//! N shards of the files) feeds one engine or N, whose events go to an [`EventSink`]. Around
//! the loop: flush timers, periodic `stats`, the stop flag (SIGINT/SIGTERM), the closed-output
//! stop, the live kernel filter that follows the classifiers' ports, kernel-drop counters, the
//! end-of-run flush in batches, and the `--write-matched` flow keys. `read`, `capture`,
//! `--workers` and `audit` are configurations of it; what a person sees (progress bar, error
//! lines, privilege drop) comes through a [`Frontend`].

// Without libpcap only the pieces that need no source are left.
#![cfg_attr(not(feature = "capture"), allow(dead_code, unused_imports))]

#[cfg(feature = "capture")]
mod live;
#[cfg(feature = "capture")]
mod live_filter;
pub mod matched;
#[cfg(feature = "capture")]
mod observation_merge;
#[cfg(feature = "capture")]
mod offline;
mod output_thread;
#[cfg(feature = "capture")]
mod sharded;
mod stats_merge;

#[cfg(feature = "capture")]
pub use live_filter::{LiveFilter, MIN_INTERVAL, NARROW_AFTER};
pub use output_thread::OutputThread;
pub use stats_merge::{merge_stats, workers_stats};

use crate::capture::CaptureError;
use crate::engine::{Config, Engine};
use crate::event::stats::{KernelDrops, MemoryStats, OutputDelivery, OutputStats, StatsKind};
use crate::event::{Body, Event};
use crate::flow::FlowKey;
use crate::output::Output;
pub use crate::time::wall_clock;
use crate::time::Timestamp;
use std::collections::HashSet;
use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// How the loop runs besides its input.
#[derive(Clone, Debug)]
pub struct Settings {
    pub engine: Config,
    /// `--stats-interval`: a `stats` `periodic` event this often (packet time for files, wall
    /// clock live).
    pub stats_interval: Option<Duration>,
    /// Collect the flow key of every event that has one (`--write-matched`).
    pub collect_matched: bool,
    /// Engines in parallel; 1 is the single-threaded loop.
    pub workers: usize,
}

impl Settings {
    pub fn new(engine: Config) -> Self {
        Settings {
            engine,
            stats_interval: None,
            collect_matched: false,
            workers: 1,
        }
    }
}

/// Where packets come from.
#[derive(Clone, Debug)]
pub enum Input {
    /// Capture files in order (`-` is standard input; pipes are read on a helper thread).
    #[cfg(feature = "capture")]
    Files {
        paths: Vec<String>,
        reader: crate::capture::Reader,
    },
    /// A live interface; with several workers, one AF_PACKET fanout socket each.
    #[cfg(feature = "capture")]
    Live {
        options: crate::capture::LiveOptions,
        /// The user's `-f` expression (the live filter adds run-time ports to it).
        user_filter: Option<String>,
    },
}

/// Where events go: the outputs of `read`/`capture` ([`Output`]), or a consumer of its own
/// (`audit`).
pub trait EventSink {
    /// Writes one event. An `Err` is fatal for the run.
    fn write(&mut self, event: &Event) -> io::Result<()>;
    /// [`EventSink::write`] of an event the caller no longer needs (a sink that keeps or
    /// sends events on takes it without a copy).
    fn write_owned(&mut self, event: Event) -> io::Result<()> {
        self.write(&event)
    }
    /// Flushes buffers and honours reopen/rotation timers.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Nothing is left to write to (standard output's reader has gone): the run stops.
    fn is_closed(&self) -> bool {
        false
    }
    /// Brings what [`EventSink::output_stats`] and [`EventSink::output_deliveries`] answer up to
    /// date with every event written before (a sink on another thread waits for it).
    fn sync(&mut self) {}
    /// What the sink did, for the `output` object of `stats` events; `None` leaves it out.
    fn output_stats(&self) -> Option<OutputStats> {
        None
    }
    /// Each socket, syslog or Redis output's delivery, for `stats.outputs` (empty: omitted).
    fn output_deliveries(&self) -> Vec<OutputDelivery> {
        Vec::new()
    }
    /// Before the summary: delivers what outputs still queue (waiting a little for receivers
    /// that are away), so the summary counts what was lost; like [`EventSink::sync`], it brings
    /// the counters up to date.
    fn drain(&mut self) {}
}

impl EventSink for Output {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        Output::write(self, event)
    }

    fn flush(&mut self) -> io::Result<()> {
        Output::flush(self)
    }

    fn is_closed(&self) -> bool {
        Output::is_closed(self)
    }

    fn output_stats(&self) -> Option<OutputStats> {
        let c = self.counters();
        Some(OutputStats {
            events: c.events,
            dropped: c.dropped,
            reopens: c.reopens,
            reopen_failures: c.reopen_failures,
        })
    }

    fn output_deliveries(&self) -> Vec<OutputDelivery> {
        self.deliveries()
    }

    fn drain(&mut self) {
        Output::drain(
            self,
            std::time::Instant::now() + crate::output::DRAIN_TIMEOUT,
        );
    }
}

/// What the person at the terminal (or the service manager) hears about a run. Every method
/// does nothing by default.
pub trait Frontend {
    /// A capture file was opened and is being read.
    fn file_started(&mut self, _path: &str) {}
    /// `packets` more packets of `captured_bytes` bytes were read from the current file.
    fn packets_read(&mut self, _packets: u64, _captured_bytes: u64) {}
    /// The current file is done (read to its end, cut off, or abandoned).
    fn file_finished(&mut self) {}
    /// An input could not be opened or read; the run goes on with the next one.
    fn input_error(&mut self, _error: &CaptureError) {}
    /// Every live socket is open: the moment to drop privileges.
    fn capture_opened(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// The kernel's counters of a live capture at its end (`worker` under `--workers`).
    fn kernel_drops(&mut self, _worker: Option<usize>, _drops: &KernelDrops) {}
    /// An event was handed to the sink.
    fn event_written(&mut self, _event: &Event) {}
}

/// A frontend that shows nothing.
pub struct Silent;

impl Frontend for Silent {}

/// Why a run stopped with an error. Each renders as one line for the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot write events to {0}")]
    Write(io::Error),
    #[cfg(feature = "capture")]
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Privilege drop, worker start or a worker's failure.
    #[error("{0}")]
    Setup(String),
}

/// What a run that did not fail reports.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Some input could not be opened or read (the others were).
    pub input_failed: bool,
    /// The flow keys of every event that had one (with [`Settings::collect_matched`]).
    pub matched: Option<HashSet<FlowKey>>,
}

/// Runs `input` through the engine(s) into `sink` until the input ends, `stop` is raised, or
/// the sink closes; then ends every flow and writes the summary.
#[cfg(feature = "capture")]
pub fn run(
    settings: &Settings,
    input: &Input,
    sink: &mut dyn EventSink,
    frontend: &mut dyn Frontend,
    stop: &Arc<AtomicBool>,
) -> Result<Outcome, Error> {
    let live = matches!(input, Input::Live { .. });
    let mut writer = Writer::new(settings, live, sink, frontend, stop);
    let workers = settings.workers.max(1);
    let input_failed = match input {
        Input::Files { paths, reader } if workers > 1 => {
            sharded::read(settings, &mut writer, paths, *reader, workers, stop)?
        }
        Input::Files { paths, reader } => {
            let mut engine = Engine::new(settings.engine.clone());
            let failed = offline::read(&mut engine, &mut writer, paths, *reader, stop)?;
            writer.finish(&mut engine)?;
            failed
        }
        Input::Live {
            options,
            user_filter,
        } if workers > 1 => {
            live::capture_workers(settings, &mut writer, options, user_filter, workers, stop)?;
            false
        }
        Input::Live {
            options,
            user_filter,
        } => {
            let mut engine = Engine::new(settings.engine.clone());
            let lost = live::capture(&mut engine, &mut writer, options, user_filter, stop)?;
            // The interface went away: what was captured is still reported, then the error.
            writer.finish(&mut engine)?;
            if let Some(e) = lost {
                return Err(e.into());
            }
            false
        }
    };
    Ok(Outcome {
        input_failed,
        matched: writer.matched,
    })
}

/// Flows ended per step when the input is over.
const FLUSH_BATCH: usize = 4096;

/// The `--stats-interval` schedule. After a jump in time (a gap in a capture) it restarts from
/// the time of the jump.
#[derive(Clone, Copy, Debug)]
struct StatsSchedule {
    every: Option<i64>,
    next: Option<Timestamp>,
}

impl StatsSchedule {
    fn new(interval: Option<Duration>) -> Self {
        StatsSchedule {
            every: interval.map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
            next: None,
        }
    }

    /// Whether a periodic report is due at `now` (moving the schedule on when it is).
    #[inline(always)]
    fn due(&mut self, now: Timestamp) -> bool {
        let Some(every) = self.every else {
            return false;
        };
        let next = *self
            .next
            .get_or_insert(Timestamp(now.micros().saturating_add(every)));
        if now < next {
            return false;
        }
        let mut after = next.micros().saturating_add(every);
        if after <= now.micros() {
            after = now.micros().saturating_add(every);
        }
        self.next = Some(Timestamp(after));
        true
    }

    /// Whether a report would be due at `now`, without moving the schedule.
    fn would_be_due(&self, now: Timestamp) -> bool {
        self.next.is_some_and(|due| now >= due)
    }
}

/// The writing side of a run: the sink, the frontend, periodic stats and matched flow keys.
struct Writer<'a> {
    sink: &'a mut dyn EventSink,
    frontend: &'a mut dyn Frontend,
    live: bool,
    stats: StatsSchedule,
    matched: Option<HashSet<FlowKey>>,
    /// Raised by SIGINT/SIGTERM: the summary then says the run was interrupted.
    stop: Arc<AtomicBool>,
}

impl<'a> Writer<'a> {
    fn new(
        settings: &Settings,
        live: bool,
        sink: &'a mut dyn EventSink,
        frontend: &'a mut dyn Frontend,
        stop: &Arc<AtomicBool>,
    ) -> Self {
        Writer {
            sink,
            frontend,
            live,
            stop: Arc::clone(stop),
            stats: StatsSchedule::new(settings.stats_interval),
            matched: settings.collect_matched.then(HashSet::new),
        }
    }

    /// Writes one event, adding memory and output counters to `stats` events.
    fn emit(&mut self, mut event: Event) -> Result<(), Error> {
        if let Body::Stats(s) = &mut event.body {
            // Draining also brings the counters up to date.
            if event.kind == "summary" {
                self.sink.drain();
            } else {
                self.sink.sync();
            }
            // Memory varies from run to run: kept out of an offline summary, which replays exactly.
            if self.live || event.kind == "periodic" {
                s.memory = memory().map(Box::new);
            }
            if let Some(output) = self.sink.output_stats() {
                s.output = Some(Box::new(output));
            }
            let deliveries = self.sink.output_deliveries();
            if !deliveries.is_empty() {
                s.outputs = Some(deliveries);
            }
            if event.kind == "summary" {
                // A signal ended the run (a live capture too: it says so, and exits 128 + signal).
                s.interrupted = self.stop.load(std::sync::atomic::Ordering::Relaxed);
                // No packet, no packet time: the summary still says when the run ended.
                if event.timestamp.micros() == 0 {
                    event.timestamp = wall_clock();
                }
            }
        }
        self.frontend.event_written(&event);
        if let Some(keys) = &mut self.matched {
            keys.extend(flow_key(&event));
        }
        self.sink.write_owned(event).map_err(Error::Write)
    }

    /// Writes what the engine produced, files first. Returns how many events were written.
    /// (Asked once a packet: the check is inlined, the writing is not.)
    #[inline(always)]
    fn write_events(&mut self, engine: &mut Engine) -> Result<usize, Error> {
        if !engine.has_events() {
            return Ok(0);
        }
        self.write_pending_events(engine)
    }

    fn write_pending_events(&mut self, engine: &mut Engine) -> Result<usize, Error> {
        write_artifacts(engine);
        let mut n = 0;
        for event in engine.drain_events() {
            self.emit(event)?;
            n += 1;
        }
        Ok(n)
    }

    /// A `stats` `periodic` event when `now` has reached the next one. Returns how many events
    /// were written. (Asked once a packet: the check is inlined, the report is not.)
    #[inline(always)]
    fn periodic_stats(&mut self, engine: &mut Engine, now: Timestamp) -> Result<usize, Error> {
        if !self.stats.due(now) {
            return Ok(0);
        }
        self.periodic_report(engine)
    }

    fn periodic_report(&mut self, engine: &mut Engine) -> Result<usize, Error> {
        engine.periodic_reports();
        let n = self.write_events(engine)?;
        self.emit(engine.stats_event(StatsKind::Periodic))?;
        Ok(n + 1)
    }

    fn flush(&mut self) -> Result<(), Error> {
        self.sink.flush().map_err(Error::Write)
    }

    /// End of input: flows still open are reported in batches, written as they come (bounded
    /// memory however full the table is), then the summary.
    fn finish(&mut self, engine: &mut Engine) -> Result<(), Error> {
        while engine.flush_flows(FLUSH_BATCH) {
            self.write_events(engine)?;
        }
        // The last batch too, before the summary counts what its files became.
        self.write_events(engine)?;
        engine.finish();
        self.write_events(engine)?;
        self.flush()
    }
}

/// Writes the files the engine queued (extracted firmware) before its events, which name them;
/// one that cannot be written is reported in its event and a warning.
fn write_artifacts(engine: &mut Engine) {
    for artifact in engine.take_artifacts() {
        let written = match artifact.path.parent() {
            Some(dir) => std::fs::create_dir_all(dir),
            None => Ok(()),
        }
        .and_then(|()| std::fs::write(&artifact.path, &artifact.bytes));
        if let Err(e) = written {
            engine.artifact_not_written(&artifact, &e);
        }
    }
}

/// The kernel filter a live capture starts with unless the user gave one: the pre-filter's
/// ([`crate::classify::Interest::kernel_filter`]).
pub fn default_live_filter(c: &Config) -> String {
    crate::classify::declared_interest(&c.classify)
        .kernel_filter(&crate::prefilter::PortCover::default())
}

/// Now, as a packet timestamp (the clock of a live capture on a quiet link).
/// Resident and virtual memory of this process (Linux /proc/self/statm), if readable.
pub fn memory() -> Option<MemoryStats> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let mut it = statm.split_whitespace().map(|f| f.parse::<u64>().ok());
    let size = it.next()??;
    let resident = it.next()??;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u64;
    Some(MemoryStats {
        rss_bytes: resident * page,
        virtual_bytes: size * page,
    })
}

/// The flow key of an event's flow, if it has one.
pub fn flow_key(e: &Event) -> Option<FlowKey> {
    let f = e.flow.as_ref()?;
    let proto = (0..=u8::MAX).find(|&n| crate::decode::proto_name(n) == f.proto)?;
    let (key, _) = FlowKey::new(
        f.src_ip,
        f.dest_ip,
        f.src_port.unwrap_or(0),
        f.dest_port.unwrap_or(0),
        proto,
    );
    Some(key)
}

/// The kernel's counters of a live socket, in the form `stats` events carry.
#[cfg(feature = "capture")]
fn kernel_drops(source: &mut crate::capture::LiveSource) -> Option<KernelDrops> {
    source.kernel_stats().map(|k| KernelDrops {
        received: u64::from(k.received),
        dropped: u64::from(k.dropped),
        if_dropped: u64::from(k.if_dropped),
    })
}
