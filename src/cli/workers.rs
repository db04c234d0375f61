//! `capture --workers N`: N threads, each with its own AF_PACKET socket in one fanout group
//! (hash mode: a flow's packets, both directions, always reach the same worker), its own engine
//! and flow table. Events come back over a channel and are written as one stream; each worker
//! ends with its own `stats` summary (its packets, flows and kernel counters).

use super::run::{anyhow_lite, wall_clock};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use watch3232::capture::{LiveOptions, LiveSource, Next};
use watch3232::engine::{Config, Engine};
use watch3232::event::{Event, Origin};
use watch3232::output::JsonLines;
use watch3232::stats::KernelDrops;

/// Batches in flight between the workers and the writer.
const CHANNEL_BATCHES: usize = 1024;

pub fn capture(
    config: &Config,
    sink: &mut JsonLines,
    opts: &LiveOptions,
    workers: usize,
    stop: &Arc<AtomicBool>,
) -> anyhow_lite::Result<()> {
    // One group per process: two watch3232 instances on one interface do not share packets.
    let group = (std::process::id() & 0xffff) as u16;
    let (tx, rx) = sync_channel::<Vec<Event>>(CHANNEL_BATCHES);
    let mut handles = Vec::with_capacity(workers);
    for w in 0..workers {
        let (tx, opts, config, stop) = (tx.clone(), opts.clone(), config.clone(), Arc::clone(stop));
        let handle = std::thread::Builder::new()
            .name(format!("worker-{w}"))
            .spawn(move || {
                let result = worker(w, group, &opts, config, &stop, &tx);
                if result.is_err() {
                    // One worker down: stop the others too, so the run ends with a clear error.
                    stop.store(true, Ordering::Relaxed);
                }
                result
            })
            .map_err(|e| anyhow_lite::msg(format!("cannot start worker {w}: {e}")))?;
        handles.push(handle);
    }
    drop(tx);
    tracing::info!(
        interface = opts.interface.as_str(),
        workers,
        fanout_group = group,
        "capturing"
    );
    let mut write_error = None;
    for batch in rx {
        for event in &batch {
            if let Err(e) = sink.write(event) {
                write_error.get_or_insert(e);
            }
        }
        if let Err(e) = sink.flush() {
            write_error.get_or_insert(e);
        }
        if write_error.is_some() || sink.is_closed() {
            stop.store(true, Ordering::Relaxed);
        }
    }
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
    if let Some(e) = write_error {
        return Err(anyhow_lite::msg(format!("cannot write events: {e}")));
    }
    first_error.map_or(Ok(()), |e| Err(anyhow_lite::msg(e)))
}

fn worker(
    w: usize,
    group: u16,
    opts: &LiveOptions,
    config: Config,
    stop: &AtomicBool,
    tx: &std::sync::mpsc::SyncSender<Vec<Event>>,
) -> Result<(), String> {
    let mut source = LiveSource::open(opts).map_err(|e| e.to_string())?;
    source.join_fanout(group).map_err(|e| e.to_string())?;
    let mut source = source.into_nonblocking().map_err(|e| e.to_string())?;
    let poll_ms = opts.poll_ms;
    let mut engine = Engine::new(config);
    engine.set_origin(Origin::interface(source.name()));
    tracing::debug!(worker = w, "worker capturing");
    while !stop.load(Ordering::Relaxed) {
        match source.next_packet() {
            Ok(Next::Packet(p)) => engine.process(&p),
            Ok(Next::Idle) => {
                if !source.wait(poll_ms) {
                    engine.advance_to(wall_clock());
                }
            }
            Ok(Next::End) => break,
            Err(e) => return Err(format!("worker {w}: {e}")),
        }
        if engine.has_events() && tx.send(engine.drain_events().collect()).is_err() {
            return Ok(()); // the writer is gone
        }
    }
    if let Some(k) = source.kernel_stats() {
        eprintln!(
            "watch3232: worker {w}: {} packets received by filter, {} dropped by kernel, {} dropped by interface",
            k.received, k.dropped, k.if_dropped
        );
        engine.set_kernel_stats(KernelDrops {
            received: u64::from(k.received),
            dropped: u64::from(k.dropped),
            if_dropped: u64::from(k.if_dropped),
        });
    }
    engine.finish();
    let _ = tx.send(engine.drain_events().collect());
    Ok(())
}
