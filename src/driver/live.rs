//! A live interface: one socket and engine, or N AF_PACKET fanout sockets each with its own
//! worker engine and one aggregator of the cross-flow tables on the writer's thread
//! (`capture --workers N`). Time is the wall clock on a quiet link.

use super::live_filter::LiveFilter;
use super::observation_merge::ObservationMerge;
use super::{kernel_drops, wall_clock, workers_stats, Error, Settings, Writer};
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
    /// Worker `.0`'s counters at its end, merged into the run's one summary.
    Finished(usize, Box<StatsDetails>),
    /// Worker `.0` has stopped (sent last, even when it failed or panicked).
    Gone(usize),
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
    // Raised when the run must end for a reason of its own (a worker's capture failed, the
    // output is gone): apart from `stop`, which says a signal asked, as the summary reports.
    let halt = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::with_capacity(workers);
    for (n, source) in sources.into_iter().enumerate() {
        let (tx, config, stop, halt) = (
            tx.clone(),
            settings.engine.for_worker(n, workers),
            Arc::clone(stop),
            Arc::clone(&halt),
        );
        let report_asked = Arc::clone(&report_asked);
        let user_filter = user_filter.clone();
        let handle = std::thread::Builder::new()
            .name(format!("worker-{n}"))
            .spawn(move || {
                // Dropped last, on a panic too: the writer stops waiting for this worker.
                let _farewell = Farewell { worker: n, tx: &tx };
                let asked = Asked {
                    stop: &stop,
                    halt: &halt,
                    report: &report_asked,
                };
                worker(n, source, config, user_filter.as_deref(), asked, &tx)
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
    let mut reports = Reports::new(workers);
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
                let ready = reports.answer(seq, worker, *stats);
                periodic_stats(w, &mut merged, ready, &origin, &mut reports)
            }
            FromWorker::Finished(worker, last) => {
                let ready = reports.ended(worker, Some(*last));
                periodic_stats(w, &mut merged, ready, &origin, &mut reports)
            }
            FromWorker::Gone(worker) => {
                let ready = reports.ended(worker, None);
                periodic_stats(w, &mut merged, ready, &origin, &mut reports)
            }
        };
        if let Err(e) = written {
            failed_write = Some(e);
        }
        if failed_write.is_some() || w.sink.is_closed() {
            halt.store(true, Ordering::Relaxed);
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
    let aggregator = merged.aggregator_stats();
    w.emit(one_summary(reports, &aggregator, &origin))?;
    w.flush()?;
    first_error.map_or(Ok(()), |e| Err(Error::Setup(e)))
}

/// The workers' answers to the periodic reports asked of them.
struct Reports {
    workers: usize,
    /// Report number → the answers so far (worker, counters).
    pending: BTreeMap<u64, Vec<(usize, StatsDetails)>>,
    /// Workers that answer no more, with their last counters if they sent them (one that
    /// panicked did not): what the summary counts.
    ended: BTreeMap<usize, Option<StatsDetails>>,
    /// Periodic `stats` events written.
    written: u64,
}

/// Reports waiting for answers that are not all in, at most: a worker answers only the newest
/// report it sees, so an older one may never complete.
const REPORTS_WAITING: usize = 4;

impl Reports {
    fn new(workers: usize) -> Self {
        Reports {
            workers,
            pending: BTreeMap::new(),
            ended: BTreeMap::new(),
            written: 0,
        }
    }

    /// Files worker `worker`'s answer to report `seq`; the report's counters, by worker, once
    /// every worker has answered or ended.
    fn answer(
        &mut self,
        seq: u64,
        worker: usize,
        stats: StatsDetails,
    ) -> Option<Vec<(usize, StatsDetails)>> {
        self.pending.entry(seq).or_default().push((worker, stats));
        self.complete(seq)
    }

    /// Worker `worker` answers no more (`last`: its final counters). The newest report, if
    /// this was the answer it lacked.
    fn ended(
        &mut self,
        worker: usize,
        last: Option<StatsDetails>,
    ) -> Option<Vec<(usize, StatsDetails)>> {
        self.ended.entry(worker).or_insert(last);
        let newest = *self.pending.keys().next_back()?;
        self.complete(newest)
    }

    fn complete(&mut self, seq: u64) -> Option<Vec<(usize, StatsDetails)>> {
        let parts = self.pending.get(&seq)?;
        let answered = |n: usize| parts.iter().any(|(w, _)| *w == n);
        if !(0..self.workers).all(|n| answered(n) || self.ended.contains_key(&n)) {
            while self.pending.len() > REPORTS_WAITING {
                self.pending.pop_first();
            }
            return None;
        }
        let mut parts = self.pending.remove(&seq)?;
        // Older reports still waiting are not coming.
        self.pending = self.pending.split_off(&seq);
        // An ended worker counts with its last counters.
        for (n, last) in &self.ended {
            if let Some(last) = last.as_ref().filter(|_| !parts.iter().any(|(w, _)| w == n)) {
                parts.push((*n, last.clone()));
            }
        }
        parts.sort_by_key(|(worker, _)| *worker);
        Some(parts)
    }
}

/// Tells the writer, when dropped, that its worker has stopped.
struct Farewell<'a> {
    worker: usize,
    tx: &'a SyncSender<FromWorker>,
}

impl Drop for Farewell<'_> {
    fn drop(&mut self) {
        let _ = self.tx.send(FromWorker::Gone(self.worker));
    }
}

/// One periodic `stats` event once a report is `ready`: the aggregator's periodic reports
/// (device inventories…), then the workers' counters summed with the aggregator's, each
/// worker's share listed.
fn periodic_stats(
    w: &mut Writer<'_>,
    merged: &mut ObservationMerge,
    ready: Option<Vec<(usize, StatsDetails)>>,
    origin: &Origin,
    reports: &mut Reports,
) -> Result<(), Error> {
    let Some(parts) = ready else {
        return Ok(());
    };
    let now = wall_clock();
    merged.apply_released(w)?;
    merged.aggregator.report(now);
    merged.write_aggregated(w)?;
    let details = workers_stats(parts, &merged.aggregator_stats(), reports.written);
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

/// The run's one summary: the workers' final counters (of those that got that far) summed with
/// the aggregator's, each worker's share in `stats.workers`. Stamped when the run ended, after
/// every event before it.
fn one_summary(reports: Reports, aggregator: &StatsDetails, origin: &Origin) -> Event {
    let finals = (reports.ended.into_iter()).filter_map(|(n, last)| Some((n, last?)));
    let details = workers_stats(finals.collect(), aggregator, reports.written);
    let body = Body::Stats(Box::new(details));
    Event::global(
        wall_clock(),
        origin.clone(),
        StatsKind::Summary,
        Severity::Info,
        body,
    )
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

/// What every worker is asked: to stop (a signal), to halt (another worker failed, or the
/// output is gone), and the newest periodic report's number.
struct Asked<'a> {
    stop: &'a AtomicBool,
    halt: &'a AtomicBool,
    report: &'a AtomicU64,
}

/// One worker: its socket, worker engine and flow table. Its kernel filter follows the
/// connect-back ports its own OTA sessions hold; fanout by IP pair brings it those connections.
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
    let mut lost = None;
    while !asked.stop.load(Ordering::Relaxed) && !asked.halt.load(Ordering::Relaxed) {
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
            Err(e) => {
                // The capture failed (the interface went away): stop the others too, and end
                // this worker's flows and counters before the error, as one engine does.
                asked.halt.store(true, Ordering::Relaxed);
                lost = Some(format!("worker {n}: {e}"));
                break;
            }
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
    let _ = tx.send(FromWorker::Finished(n, Box::new(engine.stats_details())));
    lost.map_or(Ok(()), Err)
}

/// Moves a worker's clock (µs) to `now`, never back; returns it.
fn advance(clock: &mut u64, now: Timestamp) -> u64 {
    *clock = (*clock).max(u64::try_from(now.micros()).unwrap_or(0));
    *clock
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(packets: u64) -> StatsDetails {
        StatsDetails {
            packets,
            ..StatsDetails::default()
        }
    }

    fn packets(parts: &[(usize, StatsDetails)]) -> Vec<(usize, u64)> {
        parts.iter().map(|(n, s)| (*n, s.packets)).collect()
    }

    #[test]
    fn a_report_is_complete_once_every_worker_answered() {
        let mut reports = Reports::new(2);
        assert!(reports.answer(1, 1, counters(5)).is_none());
        let parts = reports.answer(1, 0, counters(3)).expect("both answered");
        assert_eq!(packets(&parts), [(0, 3), (1, 5)]);
        assert!(reports.pending.is_empty());
    }

    #[test]
    fn an_ended_worker_counts_with_its_last_counters_and_is_not_waited_for() {
        let mut reports = Reports::new(2);
        assert!(reports.answer(1, 0, counters(3)).is_none());
        // Worker 1 ends (its summary counters), then says goodbye: the report completes.
        let parts = reports
            .ended(1, Some(counters(7)))
            .expect("no one left to wait for");
        assert_eq!(packets(&parts), [(0, 3), (1, 7)]);
        assert!(
            reports.ended(1, None).is_none(),
            "its goodbye changes nothing"
        );
        let parts = reports
            .answer(2, 0, counters(4))
            .expect("worker 0 is the only one left");
        assert_eq!(packets(&parts), [(0, 4), (1, 7)]);
    }

    #[test]
    fn a_worker_gone_without_counters_is_left_out() {
        let mut reports = Reports::new(3);
        assert!(reports.answer(1, 0, counters(1)).is_none());
        assert!(reports.answer(1, 2, counters(2)).is_none());
        let parts = reports.ended(1, None).expect("worker 1 panicked");
        assert_eq!(packets(&parts), [(0, 1), (2, 2)]);
    }

    #[test]
    fn reports_that_cannot_complete_stay_bounded() {
        let mut reports = Reports::new(2);
        for seq in 1..=100 {
            assert!(reports.answer(seq, 0, counters(seq)).is_none());
        }
        assert!(reports.pending.len() <= REPORTS_WAITING);
        // An answer to the newest completes it and drops what is older.
        let parts = reports.answer(100, 1, counters(1)).expect("complete");
        assert_eq!(packets(&parts), [(0, 100), (1, 1)]);
        assert!(reports.pending.is_empty());
    }
}
