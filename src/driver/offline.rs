//! Capture files through one engine: `read`, and `audit`'s first half.

use super::{Error, Writer};
use crate::capture::{CaptureError, Input, Next, Reader};
use crate::engine::Engine;
use crate::event::Origin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How many packets pass between looks at the clock (flush, rotation timers) when reading files.
const FLUSH_CHECK_EVERY: u64 = 4096;

/// How long events of a busy pipe may wait in buffers (a quiet one is flushed when it goes
/// quiet).
pub(super) const STREAM_FLUSH: Duration = Duration::from_millis(200);

/// Reads each file in turn. A file that cannot be opened is reported and skipped; one cut off
/// mid-record keeps every packet before the cut. Returns whether any file failed to open.
pub(super) fn read(
    engine: &mut Engine,
    w: &mut Writer<'_>,
    files: &[String],
    reader: Reader,
    stop: &AtomicBool,
) -> Result<bool, Error> {
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
                w.frontend.input_error(&e);
                engine.counters_mut().files_failed += 1;
                failed = true;
                continue;
            }
        };
        engine.set_origin(Origin::file(source.name()));
        engine.counters_mut().files_read += 1;
        w.frontend.file_started(path);
        let streaming = source.is_pipe();
        let mut n: u64 = 0;
        let mut idle = false;
        // Packets the frontend has not heard of yet: told in batches, not one call a packet.
        let (mut unreported, mut unreported_bytes) = (0u64, 0u64);
        loop {
            match source.next_packet() {
                Ok(Next::Packet(ref p)) => {
                    unreported += 1;
                    unreported_bytes += p.data.len() as u64;
                    engine.process(p);
                }
                Ok(Next::End) => break,
                Ok(Next::Idle) => idle = true,
                Err(e @ CaptureError::Truncated { .. }) => {
                    tracing::warn!("{e}");
                    engine.counters_mut().files_truncated += 1;
                    break;
                }
                Err(e) => {
                    w.frontend.input_error(&e);
                    failed = true;
                    break;
                }
            }
            let wrote = w.write_events(engine)? + w.periodic_stats(engine, engine.now())?;
            // A pipe may pause for long: its events must not wait in buffers meanwhile.
            let mut flushed = false;
            if streaming && (idle || wrote > 0 && last_flush.elapsed() >= STREAM_FLUSH) {
                w.flush()?;
                last_flush = Instant::now();
                flushed = true;
            }
            idle = false;
            n += 1;
            if n % FLUSH_CHECK_EVERY == 0 {
                w.frontend.packets_read(unreported, unreported_bytes);
                (unreported, unreported_bytes) = (0, 0);
                // Honour rotation timers on long reads.
                if last_flush.elapsed() >= Duration::from_secs(1) {
                    w.flush()?;
                    last_flush = Instant::now();
                    flushed = true;
                }
            }
            // Only a write or a flush can find the output closed (its reader gone).
            if stop.load(Ordering::Relaxed) || (wrote > 0 || flushed) && w.sink.is_closed() {
                break;
            }
        }
        w.frontend.packets_read(unreported, unreported_bytes);
        let skipped = source.skipped();
        let c = &mut engine.counters_mut().capture;
        c.unsupported_link_packets += skipped.unsupported_link;
        c.bad_packet_blocks += skipped.bad_blocks;
        w.frontend.file_finished();
        w.write_events(engine)?;
        if stop_requested(stop, w.sink.is_closed()) {
            break;
        }
    }
    Ok(failed)
}

/// Whether the run should stop before the next file, logging why.
pub(super) fn stop_requested(stop: &AtomicBool, output_closed: bool) -> bool {
    if !(stop.load(Ordering::Relaxed) || output_closed) {
        return false;
    }
    tracing::info!(
        "stopping early: {}",
        if output_closed {
            "output closed"
        } else {
            "signal"
        }
    );
    true
}
