//! `capture --workers N`: N threads, each with its own AF_PACKET socket in one fanout group
//! (by IP pair: every flow between two hosts, both directions, reaches the same worker, so an
//! OTA invitation and its connect-back meet), its own engine, flow table and kernel filter. Events come back over a channel and are written as one stream; each worker
//! ends with its own `stats` summary (its packets, flows and kernel counters).

use super::extras;
use super::live_filter::LiveFilter;
use super::run::{anyhow_lite, emit, wall_clock, write_error, Run};
use super::{Args, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use watch3232::capture::{LiveOptions, LiveSource, Next};
use watch3232::engine::{Config, Engine};
use watch3232::event::{Event, Origin};
use watch3232::stats::KernelDrops;

/// Batches in flight between the workers and the writer.
const CHANNEL_BATCHES: usize = 1024;

pub fn capture(
    config: &Config,
    run: &mut Run,
    opts: &LiveOptions,
    workers: usize,
    stop: &Arc<AtomicBool>,
    args: &Args,
) -> anyhow_lite::Result<()> {
    // One group per process: two watch3232 instances on one interface do not share packets.
    let group = (std::process::id() & 0xffff) as u16;
    // Every socket is opened (and joined to the group) before privileges are dropped.
    let mut sources = Vec::with_capacity(workers);
    for w in 0..workers {
        let mut source = LiveSource::open(opts).map_err(|e| anyhow_lite::msg(e.to_string()))?;
        source
            .join_fanout(group)
            .map_err(|e| anyhow_lite::msg(format!("worker {w}: {e}")))?;
        sources.push(source);
    }
    if args.user.is_some() || args.group.is_some() {
        extras::drop_privileges(args.user.as_deref(), args.group.as_deref())
            .map_err(anyhow_lite::msg)?;
    }
    let user_filter = match &args.command {
        Command::Capture { filter, .. } => filter.clone(),
        _ => None,
    };
    let (tx, rx) = sync_channel::<Vec<Event>>(CHANNEL_BATCHES);
    let mut handles = Vec::with_capacity(workers);
    for (w, source) in sources.into_iter().enumerate() {
        let (tx, config, stop) = (tx.clone(), config.clone(), Arc::clone(stop));
        let user_filter = user_filter.clone();
        let handle = std::thread::Builder::new()
            .name(format!("worker-{w}"))
            .spawn(move || {
                let result = worker(w, source, config, user_filter.as_deref(), &stop, &tx);
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
    let mut failed_write = None;
    for batch in rx {
        for mut event in batch {
            if failed_write.is_none() {
                if let Err(e) = emit(&mut event, run) {
                    failed_write = Some(e);
                }
            }
        }
        if let Err(e) = run.out.flush() {
            failed_write.get_or_insert(write_error(e));
        }
        if failed_write.is_some() {
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
    if let Some(e) = failed_write {
        return Err(e);
    }
    first_error.map_or(Ok(()), |e| Err(anyhow_lite::msg(e)))
}

/// One worker: its socket, engine and flow table. Its kernel filter follows the connect-back
/// ports its own OTA sessions hold; fanout by IP pair brings it those connections.
fn worker(
    w: usize,
    mut source: LiveSource,
    config: Config,
    user_filter: Option<&str>,
    stop: &AtomicBool,
    tx: &std::sync::mpsc::SyncSender<Vec<Event>>,
) -> Result<(), String> {
    let mut engine = Engine::new(config);
    let mut live_filter = LiveFilter::new(user_filter, &engine);
    engine.set_origin(Origin::interface(source.name()));
    tracing::debug!(worker = w, "worker capturing");
    while !stop.load(Ordering::Relaxed) {
        match source.next_packet() {
            Ok(Next::Packet(p)) => engine.process(&p),
            // The source waits up to its poll interval: a quiet link still sees the stop flag.
            Ok(Next::Idle) => engine.advance_to(wall_clock()),
            Ok(Next::End) => break,
            Err(e) => return Err(format!("worker {w}: {e}")),
        }
        live_filter.refresh(&mut engine, &mut source);
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
    while engine.flush_flows(4096) {
        if tx.send(engine.drain_events().collect()).is_err() {
            return Ok(());
        }
    }
    engine.finish();
    let _ = tx.send(engine.drain_events().collect());
    Ok(())
}
