//! A live interface: one socket and engine, or N AF_PACKET fanout sockets each with its own
//! worker engine and one aggregator of the cross-flow tables on the writer's thread
//! (`capture --workers N`). Time is the wall clock on a quiet link.

use super::live_filter::LiveFilter;
use super::observation_merge::ObservationMerge;
use super::{kernel_drops, merge_stats, merge_workers, wall_clock, Error, Settings, Writer};
use crate::aggregate::{Aggregator, At, Observation, Phase};
use crate::capture::{CaptureError, LiveOptions, LiveSource, Next};
use crate::engine::{Config, Engine};
use crate::event::stats::{KernelDrops, StatsDetails, StatsKind};
use crate::event::{Body, Event, Origin, Severity};
use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long events may wait in buffers on a live capture.
const LIVE_FLUSH: Duration = Duration::from_millis(200);

/// Batches in flight between the workers and the writer.
const CHANNEL_BATCHES: usize = 1024;

pub(super) fn capture(
    engine: &mut Engine,
    w: &mut Writer<'_>,
    opts: &LiveOptions,
    user_filter: &Option<String>,
    stop: &AtomicBool,
) -> Result<Option<CaptureError>, Error> {
    let mut source = LiveSource::open(opts)?;
    w.frontend.capture_opened().map_err(Error::Setup)?;
    let mut lost = None;
    engine.set_origin(Origin::interface(source.name()));
    tracing::info!(
        interface = source.name(),
        filter = source.base_filter(),
        "capturing"
    );
    let mut last_flush = Instant::now();
    let mut live_filter = LiveFilter::new(user_filter.as_deref(), engine);
    while !stop.load(Ordering::Relaxed) && !w.sink.is_closed() {
        match source.next_packet() {
            Ok(Next::Packet(p)) => engine.process(&p),
            Ok(Next::Idle) => engine.advance_to(wall_clock()),
            Ok(Next::End) => break,
            // The capture failed (the interface went away): the caller ends the flows first.
            Err(e) => {
                lost = Some(e);
                break;
            }
        }
        // An invitation announced a connect-back port (or a session ended): the kernel filter
        // follows, so the device's TCP connection reaches us without passing all TCP.
        live_filter.refresh(engine, &mut source);
        w.write_events(engine)?;
        let now = wall_clock();
        if w.stats.would_be_due(now) {
            if let Some(k) = kernel_drops(&mut source) {
                engine.set_kernel_stats(k);
            }
        }
        w.periodic_stats(engine, now)?;
        if last_flush.elapsed() >= LIVE_FLUSH {
            w.flush()?;
            last_flush = Instant::now();
        }
    }
    if let Some(k) = kernel_drops(&mut source) {
        w.frontend.kernel_drops(None, &k);
        engine.set_kernel_stats(k);
    }
    Ok(lost)
}

/// What a fanout worker tells the writer.
enum FromWorker {
    /// What the worker produced since its last batch.
    Batch {
        worker: usize,
        /// The worker's clock as a stamp: nothing it sends later is stamped before it.
        watermark: At,
        events: Vec<Event>,
        /// Facts for the cross-flow tables, stamped by the worker's clock.
        observations: Vec<(At, Observation)>,
    },
    KernelDrops(usize, KernelDrops),
    /// Worker `worker`'s counters for periodic report `seq`, after the events before them.
    Report {
        worker: usize,
        seq: u64,
        stats: Box<StatsDetails>,
    },
    /// Worker `.0`'s own `stats` summary, merged into the run's one summary.
    Finished(usize, Box<Event>),
}

/// Past every stamp a worker can send: a finished worker holds nobody back.
const DONE: At = At {
    index: u64::MAX,
    phase: Phase::Packet,
    order: i64::MAX,
};

/// N threads, each with its own AF_PACKET socket in one fanout group (by IP pair: every flow
/// between two hosts, both directions, reaches the same worker, so an OTA invitation and its
/// connect-back meet), its own worker engine, flow table and kernel filter. Events come back
/// over a channel and are written as one stream. What spans flows (scans, brute force,
/// MDT tables, device inventories) lives in ONE aggregator here, on the writer's thread: the
/// workers' observations are stamped by their own clock (packet time in µs, the wall clock when
/// idle) and applied in time order up to the slowest worker's clock. The run ends with one
/// `stats` summary: the workers' counters summed with the aggregator's, each worker's share
/// (packets, flows, kernel counters) listed in `stats.workers`.
pub(super) fn capture_workers(
    settings: &Settings,
    w: &mut Writer<'_>,
    opts: &LiveOptions,
    user_filter: &Option<String>,
    workers: usize,
    stop: &Arc<AtomicBool>,
) -> Result<(), Error> {
    // One group per process: two watch3232 instances on one interface do not share packets.
    let group = (std::process::id() & 0xffff) as u16;
    // Every socket is opened (and joined to the group) before privileges are dropped.
    let mut sources = Vec::with_capacity(workers);
    for n in 0..workers {
        let mut source = LiveSource::open(opts)?;
        source
            .join_fanout(group)
            .map_err(|e| Error::Setup(format!("worker {n}: {e}")))?;
        sources.push(source);
    }
    w.frontend.capture_opened().map_err(Error::Setup)?;
    let origin = Origin::interface(sources[0].name());
    let (tx, rx) = sync_channel::<FromWorker>(CHANNEL_BATCHES);
    // The number of the newest periodic report the writer asked for.
    let report_asked = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::with_capacity(workers);
    for (n, source) in sources.into_iter().enumerate() {
        let (tx, config, stop) = (
            tx.clone(),
            settings.engine.for_worker(n, workers),
            Arc::clone(stop),
        );
        let report_asked = Arc::clone(&report_asked);
        let user_filter = user_filter.clone();
        let handle = std::thread::Builder::new()
            .name(format!("worker-{n}"))
            .spawn(move || {
                let asked = Asked {
                    stop: &stop,
                    report: &report_asked,
                };
                let result = worker(n, source, config, user_filter.as_deref(), asked, &tx);
                if result.is_err() {
                    // One worker down: stop the others too, so the run ends with a clear error.
                    stop.store(true, Ordering::Relaxed);
                }
                result
            })
            .map_err(|e| Error::Setup(format!("cannot start worker {n}: {e}")))?;
        handles.push(handle);
    }
    drop(tx);
    tracing::info!(
        interface = opts.interface.as_str(),
        workers,
        fanout_group = group,
        "capturing"
    );
    let mut aggregator = Aggregator::new(
        &settings
            .engine
            .classify
            .aggregate_settings(settings.engine.flow_timeout_secs),
    );
    aggregator.set_origin(origin.clone());
    let mut merged = ObservationMerge::new(workers, aggregator);
    let mut summaries = Vec::with_capacity(workers);
    let mut reports = Reports::default();
    let mut failed_write = None;
    loop {
        // `--stats-interval` runs on the writer's wall clock: it asks every worker for its
        // counters and writes one `stats` event once all have answered.
        let message = match rx.recv_timeout(LIVE_FLUSH) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if w.stats.due(wall_clock()) {
            report_asked.fetch_add(1, Ordering::Relaxed);
        }
        let Some(message) = message else { continue };
        if failed_write.is_some() {
            continue; // drain, so the workers are never blocked on a full channel
        }
        let written = match message {
            FromWorker::Batch {
                worker,
                watermark,
                events,
                observations,
            } => emit_all(w, events)
                .and_then(|()| merged.take(w, worker, watermark, observations))
                .and_then(|()| w.flush()),
            FromWorker::KernelDrops(n, k) => {
                w.frontend.kernel_drops(Some(n), &k);
                Ok(())
            }
            FromWorker::Report { worker, seq, stats } => {
                match reports.answer(seq, worker, *stats, workers) {
                    Some(parts) => periodic_stats(w, &mut merged, parts, &origin, &mut reports),
                    None => Ok(()),
                }
            }
            FromWorker::Finished(worker, summary) => {
                summaries.push((worker, *summary));
                Ok(())
            }
        };
        if let Err(e) = written {
            failed_write = Some(e);
        }
        if failed_write.is_some() || w.sink.is_closed() {
            stop.store(true, Ordering::Relaxed);
        }
    }
    let first_error = join_all(handles);
    if let Some(e) = failed_write {
        return Err(e);
    }
    // Every worker is done: what is left applies in stamp order, then the tables close (once,
    // whether or not a worker's end of input already closed them).
    merged.apply(w, None)?;
    merged.aggregator.finish(wall_clock());
    merged.write_aggregated(w)?;
    if let Some(summary) = one_summary(summaries, &merged.aggregator_stats(), reports.written) {
        w.emit(summary)?;
    }
    w.flush()?;
    first_error.map_or(Ok(()), |e| Err(Error::Setup(e)))
}

/// The workers' answers to the periodic reports asked of them.
#[derive(Default)]
struct Reports {
    /// Report number → the answers so far (worker, counters).
    pending: BTreeMap<u64, Vec<(usize, StatsDetails)>>,
    /// Periodic `stats` events written.
    written: u64,
}

impl Reports {
    /// Files worker `worker`'s answer to report `seq`; all `workers` answers once complete.
    fn answer(
        &mut self,
        seq: u64,
        worker: usize,
        stats: StatsDetails,
        workers: usize,
    ) -> Option<Vec<(usize, StatsDetails)>> {
        let parts = self.pending.entry(seq).or_default();
        parts.push((worker, stats));
        if parts.len() < workers {
            return None;
        }
        let mut parts = std::mem::take(parts);
        // An older report a worker skipped (it answers only the newest) is not coming.
        self.pending = self.pending.split_off(&(seq + 1));
        parts.sort_by_key(|(worker, _)| *worker);
        Some(parts)
    }
}

/// One periodic `stats` event: the aggregator's periodic reports (device inventories…), then
/// the workers' counters summed with the aggregator's, each worker's share listed.
fn periodic_stats(
    w: &mut Writer<'_>,
    merged: &mut ObservationMerge,
    parts: Vec<(usize, StatsDetails)>,
    origin: &Origin,
    reports: &mut Reports,
) -> Result<(), Error> {
    let now = wall_clock();
    merged.apply_released(w)?;
    merged.aggregator.report(now);
    merged.write_aggregated(w)?;
    let shares: Vec<&StatsDetails> = parts.iter().map(|(_, s)| s).collect();
    let mut details = merge_stats([&merge_workers(&shares), &merged.aggregator_stats()]);
    if reports.written > 0 {
        details.events.insert("stats", reports.written);
    }
    reports.written += 1;
    let body = Body::Stats(Box::new(details));
    let event = Event::global(
        now,
        origin.clone(),
        StatsKind::Periodic,
        Severity::Info,
        body,
    );
    w.emit(event)
}

/// The workers' summaries as the run's one: their counters summed with the aggregator's, each
/// worker's share in `stats.workers`, at the latest of their times. `None`: no worker got as
/// far as its summary.
fn one_summary(
    mut summaries: Vec<(usize, Event)>,
    aggregator: &StatsDetails,
    periodic_written: u64,
) -> Option<Event> {
    summaries.sort_by_key(|(worker, _)| *worker);
    let parts: Vec<&StatsDetails> = summaries
        .iter()
        .filter_map(|(_, e)| match &e.body {
            Body::Stats(s) => Some(&**s),
            _ => None,
        })
        .collect();
    let mut details = merge_stats([&merge_workers(&parts), aggregator]);
    if periodic_written > 0 {
        details.events.insert("stats", periodic_written);
    }
    let (_, mut latest) = summaries.into_iter().max_by_key(|(_, e)| e.timestamp)?;
    latest.body = Body::Stats(Box::new(details));
    Some(latest)
}

fn emit_all(w: &mut Writer<'_>, events: Vec<Event>) -> Result<(), Error> {
    for event in events {
        w.emit(event)?;
    }
    Ok(())
}

/// Joins every thread; the first error (or panic) wins.
pub(super) fn join_all(
    handles: Vec<std::thread::JoinHandle<Result<(), String>>>,
) -> Option<String> {
    let mut first_error = None;
    for h in handles {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(_) => {
                first_error.get_or_insert("a worker panicked".to_string());
            }
        }
    }
    first_error
}

/// One worker: its socket, worker engine and flow table. Its kernel filter follows the
/// connect-back ports its own OTA sessions hold; fanout by IP pair brings it those connections.
/// What the writer asks of every worker: to stop, and the newest periodic report's number.
struct Asked<'a> {
    stop: &'a AtomicBool,
    report: &'a AtomicU64,
}

fn worker(
    n: usize,
    mut source: LiveSource,
    config: Config,
    user_filter: Option<&str>,
    asked: Asked<'_>,
    tx: &SyncSender<FromWorker>,
) -> Result<(), String> {
    let mut engine = Engine::new_worker(config);
    let mut live_filter = LiveFilter::new(user_filter, &engine);
    engine.set_origin(Origin::interface(source.name()));
    tracing::debug!(worker = n, "worker capturing");
    // The worker's clock in µs, never back: its packets' times, or the wall clock when idle.
    // Its observations are stamped with it, so the writer merges every worker's in time order.
    let mut clock: u64 = 0;
    // Files first: the events name them.
    let send = |engine: &mut Engine, watermark: At| {
        super::write_artifacts(engine);
        let message = FromWorker::Batch {
            worker: n,
            watermark,
            events: engine.drain_events().collect(),
            observations: engine.drain_observations().collect(),
        };
        tx.send(message).is_ok()
    };
    let mut last_sent = Instant::now();
    let mut answered = 0;
    while !asked.stop.load(Ordering::Relaxed) {
        let idle = match source.next_packet() {
            Ok(Next::Packet(p)) => {
                let stamp = advance(&mut clock, p.ts);
                engine.process_numbered(&p, stamp);
                false
            }
            // The source waits up to its poll interval: a quiet link still sees the stop flag.
            Ok(Next::Idle) => {
                let now = wall_clock();
                let stamp = advance(&mut clock, now);
                engine.advance_at(now, stamp);
                true
            }
            Ok(Next::End) => break,
            Err(e) => return Err(format!("worker {n}: {e}")),
        };
        live_filter.refresh(&mut engine, &mut source);
        let report = asked.report.load(Ordering::Relaxed);
        if report != answered {
            // A periodic report: its events first, then the counters that count them.
            answered = report;
            if let Some(k) = kernel_drops(&mut source) {
                engine.set_kernel_stats(k);
            }
            engine.periodic_reports();
            if !send(&mut engine, At::new(clock, Phase::Housekeeping)) {
                return Ok(());
            }
            last_sent = Instant::now();
            let stats = Box::new(engine.stats_details());
            let answer = FromWorker::Report {
                worker: n,
                seq: report,
                stats,
            };
            if tx.send(answer).is_err() {
                return Ok(());
            }
        }
        // The watermark travels even without news, so the other workers' observations are
        // not held back by a quiet (or busy but uneventful) worker.
        let due = idle || last_sent.elapsed() >= LIVE_FLUSH;
        if due || engine.has_events() || engine.has_observations() {
            // A packet at the same µs may still follow: its housekeeping is not yet past.
            if !send(&mut engine, At::new(clock, Phase::Housekeeping)) {
                return Ok(()); // the writer is gone
            }
            last_sent = Instant::now();
        }
    }
    if let Some(k) = kernel_drops(&mut source) {
        let _ = tx.send(FromWorker::KernelDrops(n, k.clone()));
        engine.set_kernel_stats(k);
    }
    // The end-of-run flush is stamped past every packet (`u64::MAX`): it waits in the writer
    // until every worker is done.
    let ending = At::new(clock, Phase::Housekeeping);
    while engine.flush_flows(super::FLUSH_BATCH) {
        if !send(&mut engine, ending) {
            return Ok(());
        }
    }
    engine.finish_without_summary();
    // The last batch too, before the summary counts what its files became.
    if !send(&mut engine, DONE) {
        return Ok(());
    }
    let _ = tx.send(FromWorker::Finished(
        n,
        Box::new(engine.stats_event(StatsKind::Summary)),
    ));
    Ok(())
}

/// Moves a worker's clock (µs) to `now`, never back; returns it.
fn advance(clock: &mut u64, now: Timestamp) -> u64 {
    *clock = (*clock).max(u64::try_from(now.micros()).unwrap_or(0));
    *clock
}
