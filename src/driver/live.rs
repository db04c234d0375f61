//! A live interface: one socket and engine, or N AF_PACKET fanout sockets each with its own
//! engine (`capture --workers N`). Time is the wall clock on a quiet link.

use super::live_filter::LiveFilter;
use super::{kernel_drops, wall_clock, Error, Settings, Writer};
use crate::capture::{LiveOptions, LiveSource, Next};
use crate::engine::{Config, Engine};
use crate::event::stats::KernelDrops;
use crate::event::{Event, Origin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
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
) -> Result<(), Error> {
    let mut source = LiveSource::open(opts)?;
    w.frontend.capture_opened().map_err(Error::Setup)?;
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
            Err(e) => return Err(e.into()),
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
    Ok(())
}

/// What a fanout worker tells the writer.
enum FromWorker {
    Events(Vec<Event>),
    KernelDrops(usize, KernelDrops),
}

/// N threads, each with its own AF_PACKET socket in one fanout group (by IP pair: every flow
/// between two hosts, both directions, reaches the same worker, so an OTA invitation and its
/// connect-back meet), its own engine, flow table and kernel filter. Events come back over a
/// channel and are written as one stream; each worker ends with its own `stats` summary (its
/// packets, flows and kernel counters).
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
    let (tx, rx) = sync_channel::<FromWorker>(CHANNEL_BATCHES);
    let mut handles = Vec::with_capacity(workers);
    for (n, source) in sources.into_iter().enumerate() {
        let (tx, config, stop) = (tx.clone(), settings.engine.clone(), Arc::clone(stop));
        let user_filter = user_filter.clone();
        let handle = std::thread::Builder::new()
            .name(format!("worker-{n}"))
            .spawn(move || {
                let result = worker(n, source, config, user_filter.as_deref(), &stop, &tx);
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
    let mut failed_write = None;
    for message in rx {
        match message {
            FromWorker::Events(batch) => {
                for mut event in batch {
                    if failed_write.is_none() {
                        if let Err(e) = w.emit(&mut event) {
                            failed_write = Some(e);
                        }
                    }
                }
                if let Err(e) = w.flush() {
                    failed_write.get_or_insert(e);
                }
            }
            FromWorker::KernelDrops(n, k) => w.frontend.kernel_drops(Some(n), &k),
        }
        if failed_write.is_some() || w.sink.is_closed() {
            stop.store(true, Ordering::Relaxed);
        }
    }
    let first_error = join_all(handles);
    if let Some(e) = failed_write {
        return Err(e);
    }
    w.flush()?;
    first_error.map_or(Ok(()), |e| Err(Error::Setup(e)))
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

/// One worker: its socket, engine and flow table. Its kernel filter follows the connect-back
/// ports its own OTA sessions hold; fanout by IP pair brings it those connections.
fn worker(
    n: usize,
    mut source: LiveSource,
    config: Config,
    user_filter: Option<&str>,
    stop: &AtomicBool,
    tx: &SyncSender<FromWorker>,
) -> Result<(), String> {
    let mut engine = Engine::new(config);
    let mut live_filter = LiveFilter::new(user_filter, &engine);
    engine.set_origin(Origin::interface(source.name()));
    tracing::debug!(worker = n, "worker capturing");
    // Files first: the events name them.
    let send = |engine: &mut Engine| {
        super::write_artifacts(engine);
        let events = engine.drain_events().collect();
        tx.send(FromWorker::Events(events)).is_ok()
    };
    while !stop.load(Ordering::Relaxed) {
        match source.next_packet() {
            Ok(Next::Packet(p)) => engine.process(&p),
            // The source waits up to its poll interval: a quiet link still sees the stop flag.
            Ok(Next::Idle) => engine.advance_to(wall_clock()),
            Ok(Next::End) => break,
            Err(e) => return Err(format!("worker {n}: {e}")),
        }
        live_filter.refresh(&mut engine, &mut source);
        if engine.has_events() && !send(&mut engine) {
            return Ok(()); // the writer is gone
        }
    }
    if let Some(k) = kernel_drops(&mut source) {
        let _ = tx.send(FromWorker::KernelDrops(n, k.clone()));
        engine.set_kernel_stats(k);
    }
    while engine.flush_flows(super::FLUSH_BATCH) {
        if !send(&mut engine) {
            return Ok(());
        }
    }
    // The last batch too, before the summary counts what its files became.
    if engine.has_events() && !send(&mut engine) {
        return Ok(());
    }
    engine.finish();
    send(&mut engine);
    Ok(())
}
