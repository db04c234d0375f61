//! `read --workers N`: capture files through N engines that agree with one.
//!
//! One reader thread reads the files in order and deals each packet to a shard by the IP-pair
//! hash of the live fanout ([`crate::capture::worker_of`]): both directions of every
//! conversation between two hosts, an OTA invitation and its TCP connect-back included, meet on
//! one shard. The reader also owns the clock: it numbers packets (the global index) and, at
//! exactly the packets where a single engine would tick (the first packet at or past the next
//! second of packet time, before that packet), it broadcasts the tick to every shard, so flow
//! expiry and classifier ticks happen at the same packet times everywhere. Packets travel in
//! batches with reused buffers over bounded channels. The calling thread writes events as the
//! shards send them, and at the end one `stats` summary with the shards' counters summed.
//!
//! The seam for cross-flow state (an aggregator, phase 2): every [`ShardBatch`] carries the
//! global index of the last packet its shard handled (its watermark); observations keyed by
//! global packet index can ride in the same batch, and a k-way merge by index, releasing what
//! is below every shard's watermark, replays them in capture order.

use super::observation_merge::ObservationMerge;
use super::offline::{stop_requested, STREAM_FLUSH};
use super::{live::join_all, workers_stats, Error, Settings, StatsSchedule, Writer};
use crate::aggregate::{Aggregator, At, Observation, Phase};
use crate::capture::{worker_of, CaptureError, Input, Next, Reader};
use crate::classify::Interest;
use crate::decode::fast::{peek, Peek};
use crate::decode::IPPROTO_UDP;
use crate::engine::{Config, Engine};
use crate::event::stats::{FileStats, StatsDetails, StatsKind};
use crate::event::{Body, Event, Origin, Severity};
use crate::packet::{LinkType, Packet};
use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Packets per batch to a shard.
const BATCH_PACKETS: usize = 512;
/// Bytes per batch to a shard (whichever fills first).
const BATCH_BYTES: usize = 512 * 1024;
/// Batches in flight to each shard.
const SHARD_QUEUE: usize = 4;
/// Messages in flight to the writer: each may carry a batch's events, so this bounds what
/// waits (256 held 20 MB more on the 1 M-flow capture, for no speed).
const WRITER_QUEUE: usize = 64;
/// Packets between progress reports to the frontend.
const PROGRESS_EVERY: u64 = 4096;
/// Packet time between two ticks; the engine's own period.
const TICK_MICROS: i64 = 1_000_000;

/// One step for a shard, in capture order.
enum Item {
    /// A packet whose bytes are `data[start..start + len]` of its batch.
    Packet {
        ts: Timestamp,
        wire_len: u32,
        link: LinkType,
        /// Position in its source (`pcap_cnt`).
        index: u64,
        /// Position in the whole run, over every file: the order an aggregator merges by.
        global: u64,
        start: usize,
        len: usize,
    },
    /// Packet time crossed a tick: sweep idle flows and tick the classifiers at `now`, before
    /// the packet `global`.
    Tick { now: Timestamp, global: u64 },
    /// The packets that follow come from this source.
    Origin(Origin),
    /// A `--stats-interval` report is due at `now`.
    Report {
        seq: u64,
        now: Timestamp,
        files: FileStats,
    },
    /// Packets the reader rejected as every engine would (see [`ReaderJob::rejects`]): counted,
    /// not shipped.
    Rejected(RejectedCounts),
    /// The input is over; the clock stands at `now`.
    End(Timestamp),
}

/// What the engine counts of a packet its pre-filter rejects before decoding.
#[derive(Clone, Copy, Debug, Default)]
struct RejectedCounts {
    packets: u64,
    bytes: u64,
    not_ip: u64,
    /// What the file reader skipped (`capture::SkippedPackets`), never handed to a shard.
    unsupported_link_packets: u64,
    bad_packet_blocks: u64,
}

/// Steps for one shard and the bytes of their packets; sent back empty for reuse.
#[derive(Default)]
struct Batch {
    items: Vec<Item>,
    data: Vec<u8>,
    packets: usize,
}

impl Batch {
    fn clear(&mut self) {
        self.items.clear();
        self.data.clear();
        self.packets = 0;
    }

    fn is_full(&self) -> bool {
        self.packets >= BATCH_PACKETS || self.data.len() >= BATCH_BYTES
    }
}

/// What a shard produced since its last batch.
struct ShardBatch {
    shard: usize,
    /// Where the shard stands in the run: nothing it sends later is stamped before it.
    watermark: At,
    events: Vec<Event>,
    /// Facts for the cross-flow tables, stamped with where they happened.
    observations: Vec<(At, Observation)>,
}

/// What the reader and the shards tell the writer.
enum ToWriter {
    Shard(ShardBatch),
    /// Shard `worker`'s counters for periodic report `seq`.
    Periodic {
        seq: u64,
        worker: usize,
        now: Timestamp,
        origin: Origin,
        files: FileStats,
        stats: StatsDetails,
    },
    /// Shard `.0`'s counters at the end.
    Finished(usize, StatsDetails),
    /// A file opened: its path, and the origin its events carry.
    FileStarted(String, Origin),
    Progress {
        packets: u64,
        bytes: u64,
    },
    FileFinished,
    InputError(CaptureError),
    ReaderDone {
        now: Timestamp,
        origin: Origin,
        files: FileStats,
        failed: bool,
    },
}

/// Reads `files` through `workers` engines; returns whether any file failed to open.
pub(super) fn read(
    settings: &Settings,
    w: &mut Writer<'_>,
    files: &[String],
    reader: Reader,
    workers: usize,
    stop: &Arc<AtomicBool>,
) -> Result<bool, Error> {
    let (to_writer, from_shards) = sync_channel::<ToWriter>(WRITER_QUEUE);
    // Raised by the writer when the output is gone or failed: the reader stops early.
    let halt = Arc::new(AtomicBool::new(false));
    let mut queues = Vec::with_capacity(workers);
    let mut handles = Vec::with_capacity(workers + 1);
    for n in 0..workers {
        let (batches, inbox) = sync_channel::<Batch>(SHARD_QUEUE);
        let (give_back, returned) = channel::<Batch>();
        let (config, to_writer) = (settings.engine.for_worker(n, workers), to_writer.clone());
        let handle = std::thread::Builder::new()
            .name(format!("shard-{n}"))
            .spawn(move || {
                shard(n, config, &inbox, &give_back, &to_writer);
                Ok(())
            })
            .map_err(|e| Error::Setup(format!("cannot start worker {n}: {e}")))?;
        handles.push(handle);
        queues.push(ShardQueue {
            batches,
            returned,
            current: Batch::default(),
        });
    }
    let job = ReaderJob {
        files: files.to_vec(),
        reader,
        stats: StatsSchedule::new(settings.stats_interval),
        interest: crate::classify::declared_interest(&settings.engine.classify),
        stop: Arc::clone(stop),
        halt: Arc::clone(&halt),
    };
    let reader_tx = to_writer.clone();
    let handle = std::thread::Builder::new()
        .name("reader".into())
        .spawn(move || {
            job.run(queues, &reader_tx);
            Ok(())
        })
        .map_err(|e| Error::Setup(format!("cannot start the reader: {e}")))?;
    handles.push(handle);
    drop(to_writer);
    let aggregator = Aggregator::new(
        &settings
            .engine
            .classify
            .aggregate_settings(settings.engine.flow_timeout_secs),
    );
    let mut merge = Merge::new(workers, aggregator);
    let mut failed_write = None;
    let mut last_flush = Instant::now();
    let mut unflushed = false;
    loop {
        let message = match from_shards.recv_timeout(STREAM_FLUSH) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                if unflushed && failed_write.is_none() {
                    if let Err(e) = w.flush() {
                        failed_write = Some(e);
                    }
                    unflushed = false;
                    last_flush = Instant::now();
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Err(e) = merge.take(w, message) {
            failed_write.get_or_insert(e);
        }
        unflushed = true;
        if failed_write.is_none() && last_flush.elapsed() >= Duration::from_secs(1) {
            if let Err(e) = w.flush() {
                failed_write = Some(e);
            }
            unflushed = false;
            last_flush = Instant::now();
        }
        if failed_write.is_some() || w.sink.is_closed() {
            halt.store(true, Ordering::Relaxed);
        }
    }
    let thread_error = join_all(handles);
    if let Some(e) = failed_write {
        return Err(e);
    }
    if let Some(e) = thread_error {
        return Err(Error::Setup(e));
    }
    merge.summary(w)?;
    w.flush()?;
    Ok(merge.failed)
}

/// The writer's side: events out, shards' counters merged into one `stats` event, and the
/// shards' observations merged by stamp into the one aggregator of the cross-flow tables.
struct Merge {
    workers: usize,
    /// The shards' observations, merged by stamp into the one aggregator.
    observations: ObservationMerge,
    /// Periodic reports waiting for every shard's counters: each shard's so far, with its number.
    periodic: BTreeMap<u64, Vec<(usize, StatsDetails)>>,
    finished: Vec<(usize, StatsDetails)>,
    /// `stats` events written so far (each engine counts the ones it made; here the writer
    /// makes them).
    stats_written: u64,
    end: Option<(Timestamp, Origin, FileStats)>,
    failed: bool,
}

impl Merge {
    fn new(workers: usize, aggregator: Aggregator) -> Self {
        Merge {
            workers,
            observations: ObservationMerge::new(workers, aggregator),
            periodic: BTreeMap::new(),
            finished: Vec::with_capacity(workers),
            stats_written: 0,
            end: None,
            failed: false,
        }
    }

    fn take(&mut self, w: &mut Writer<'_>, message: ToWriter) -> Result<(), Error> {
        match message {
            ToWriter::Shard(batch) => {
                for event in batch.events {
                    w.emit(event)?;
                }
                self.observations
                    .take(w, batch.shard, batch.watermark, batch.observations)?;
            }
            ToWriter::Periodic {
                seq,
                worker,
                now,
                origin,
                files,
                stats,
            } => {
                let parts = self.periodic.entry(seq).or_default();
                parts.push((worker, stats));
                if parts.len() == self.workers {
                    let merged = &mut self.observations;
                    merged.apply_released(w)?;
                    merged.aggregator.set_origin(origin.clone());
                    merged.aggregator.report(now);
                    merged.write_aggregated(w)?;
                    let parts = self.periodic.remove(&seq).unwrap_or_default();
                    let aggregator = merged.aggregator_stats();
                    self.stats_event(
                        w,
                        parts,
                        &aggregator,
                        (now, origin, files),
                        StatsKind::Periodic,
                    )?;
                }
            }
            ToWriter::Finished(worker, stats) => self.finished.push((worker, stats)),
            ToWriter::FileStarted(path, origin) => {
                // The aggregator's own events (scans, inventories) name the file being read.
                self.observations.aggregator.set_origin(origin);
                w.frontend.file_started(&path);
            }
            ToWriter::Progress { packets, bytes } => w.frontend.packets_read(packets, bytes),
            ToWriter::FileFinished => w.frontend.file_finished(),
            ToWriter::InputError(e) => w.frontend.input_error(&e),
            ToWriter::ReaderDone {
                now,
                origin,
                files,
                failed,
            } => {
                self.failed = failed;
                self.end = Some((now, origin, files));
            }
        }
        Ok(())
    }

    /// The run's one summary.
    fn summary(&mut self, w: &mut Writer<'_>) -> Result<(), Error> {
        let (now, origin, files) = self.end.take().unwrap_or_default();
        let merged = &mut self.observations;
        merged.aggregator.set_origin(origin.clone());
        merged.apply(w, None)?;
        merged.aggregator.finish(now);
        merged.write_aggregated(w)?;
        let parts = std::mem::take(&mut self.finished);
        let aggregator = merged.aggregator_stats();
        self.stats_event(
            w,
            parts,
            &aggregator,
            (now, origin, files),
            StatsKind::Summary,
        )
    }

    /// One `stats` event of the shards' counters (`parts`, by shard number) and the
    /// aggregator's, at `now` for `origin`, with the files read so far.
    fn stats_event(
        &mut self,
        w: &mut Writer<'_>,
        parts: Vec<(usize, StatsDetails)>,
        aggregator: &StatsDetails,
        (now, origin, files): (Timestamp, Origin, FileStats),
        kind: StatsKind,
    ) -> Result<(), Error> {
        let mut details = workers_stats(parts, aggregator, self.stats_written);
        details.files = (files.read + files.failed > 0).then_some(files);
        self.stats_written += 1;
        let body = Body::Stats(Box::new(details));
        w.emit(Event::global(now, origin, kind, Severity::Info, body))
    }
}

/// The reader's end of one shard's channels.
struct ShardQueue {
    batches: SyncSender<Batch>,
    returned: Receiver<Batch>,
    current: Batch,
}

impl ShardQueue {
    /// Sends the current batch when it holds anything. `false`: the shard is gone.
    fn send(&mut self) -> bool {
        if self.current.items.is_empty() {
            return true;
        }
        let mut next = self.returned.try_recv().unwrap_or_default();
        next.clear();
        let full = std::mem::replace(&mut self.current, next);
        self.batches.send(full).is_ok()
    }
}

struct ReaderJob {
    files: Vec<String>,
    reader: Reader,
    stats: StatsSchedule,
    /// The shards' pre-filter as declared: UDP interest never changes at run time (only TCP
    /// ports are held), so the reader can reject what every shard would, and count it.
    interest: Interest,
    stop: Arc<AtomicBool>,
    halt: Arc<AtomicBool>,
}

impl ReaderJob {
    /// Whether every shard's engine would reject `p` before decoding, whatever ports its
    /// classifiers hold at run time: not IP (`Some(true)`), or plain UDP nobody declared
    /// (`Some(false)`). The same fast peek and decision as `Engine::process`.
    fn rejects(&self, p: &Packet<'_>) -> Option<bool> {
        match peek(p.link, p.data) {
            Peek::NotIp => Some(true),
            Peek::Ports(IPPROTO_UDP, src, dst)
                if !self.interest.wants(IPPROTO_UDP, Some((src, dst)), false) =>
            {
                Some(false)
            }
            _ => None,
        }
    }

    fn run(mut self, mut queues: Vec<ShardQueue>, to_writer: &SyncSender<ToWriter>) {
        let tell = |m: ToWriter| {
            let _ = to_writer.send(m);
        };
        let mut rejected = RejectedCounts::default();
        // Every broadcast first hands the rejected counts to shard 0, so a shard's counters are
        // complete whenever it reports.
        let broadcast = |queues: &mut Vec<ShardQueue>,
                         rejected: &mut RejectedCounts,
                         item: &dyn Fn() -> Item| {
            if rejected.packets + rejected.unsupported_link_packets + rejected.bad_packet_blocks > 0
            {
                queues[0]
                    .current
                    .items
                    .push(Item::Rejected(std::mem::take(rejected)));
            }
            for q in queues.iter_mut() {
                q.current.items.push(item());
            }
        };
        let workers = queues.len();
        let mut files = FileStats::default();
        let mut failed = false;
        let mut origin = Origin::default();
        let (mut now, mut next_tick) = (Timestamp::default(), Timestamp::default());
        let mut global: u64 = 0;
        let mut report_seq = 0;
        for path in &self.files {
            let mut source = match Input::open(path, self.reader, &self.stop) {
                Ok(Some(s)) => s,
                Ok(None) => {
                    tracing::info!("stopping early: signal");
                    break;
                }
                Err(e) => {
                    tell(ToWriter::InputError(e));
                    files.failed += 1;
                    failed = true;
                    continue;
                }
            };
            origin = Origin::file(source.name());
            broadcast(&mut queues, &mut rejected, &|| Item::Origin(origin.clone()));
            files.read += 1;
            tell(ToWriter::FileStarted(path.clone(), origin.clone()));
            let (mut packets, mut bytes) = (0u64, 0u64);
            loop {
                match source.next_packet() {
                    Ok(Next::Packet(p)) => {
                        global += 1;
                        if p.ts > now {
                            now = p.ts;
                        }
                        // Where `Engine::process` would tick: before this packet.
                        if now >= next_tick {
                            next_tick = Timestamp(now.micros().saturating_add(TICK_MICROS));
                            broadcast(&mut queues, &mut rejected, &|| Item::Tick { now, global });
                        }
                        packets += 1;
                        bytes += p.data.len() as u64;
                        if let Some(not_ip) = self.rejects(&p) {
                            rejected.packets += 1;
                            rejected.bytes += u64::from(p.wire_len);
                            rejected.not_ip += u64::from(not_ip);
                        } else {
                            let q = &mut queues[worker_of(p.link, p.data, workers)];
                            let start = q.current.data.len();
                            q.current.data.extend_from_slice(p.data);
                            q.current.items.push(Item::Packet {
                                ts: p.ts,
                                wire_len: p.wire_len,
                                link: p.link,
                                index: p.index,
                                global,
                                start,
                                len: p.data.len(),
                            });
                            q.current.packets += 1;
                            if q.current.is_full() && !q.send() {
                                break;
                            }
                        }
                        if packets % PROGRESS_EVERY == 0 {
                            tell(ToWriter::Progress { packets, bytes });
                            (packets, bytes) = (0, 0);
                        }
                    }
                    Ok(Next::End) => break,
                    // A pipe paused: what it delivered must not wait in half-full batches.
                    Ok(Next::Idle) => {
                        for q in queues.iter_mut() {
                            q.send();
                        }
                    }
                    Err(e @ CaptureError::Truncated { .. }) => {
                        tracing::warn!("{e}");
                        files.truncated += 1;
                        break;
                    }
                    Err(e) => {
                        tell(ToWriter::InputError(e));
                        failed = true;
                        break;
                    }
                }
                // Where the single loop writes a periodic report: after the packet (or wake-up).
                if self.stats.due(now) {
                    report_seq += 1;
                    let files = files.clone();
                    broadcast(&mut queues, &mut rejected, &|| Item::Report {
                        seq: report_seq,
                        now,
                        files: files.clone(),
                    });
                }
                if self.stop.load(Ordering::Relaxed) || self.halt.load(Ordering::Relaxed) {
                    break;
                }
            }
            let skipped = source.skipped();
            rejected.unsupported_link_packets += skipped.unsupported_link;
            rejected.bad_packet_blocks += skipped.bad_blocks;
            tell(ToWriter::Progress { packets, bytes });
            tell(ToWriter::FileFinished);
            if stop_requested(&self.stop, self.halt.load(Ordering::Relaxed)) {
                break;
            }
        }
        broadcast(&mut queues, &mut rejected, &|| Item::End(now));
        for q in queues.iter_mut() {
            q.send();
        }
        tell(ToWriter::ReaderDone {
            now,
            origin,
            files,
            failed,
        });
    }
}

/// One shard: an engine on the reader's clock.
fn shard(
    n: usize,
    config: Config,
    inbox: &Receiver<Batch>,
    give_back: &Sender<Batch>,
    to_writer: &SyncSender<ToWriter>,
) {
    let mut engine = Engine::new_worker(config);
    engine.use_external_clock();
    let mut watermark = At::new(0, Phase::Packet);
    // `moved`: the watermark advanced past a tick, which the writer's merge waits for.
    let send_events = |engine: &mut Engine, watermark: At, moved: bool| {
        if !engine.has_events() && !engine.has_observations() && !moved {
            return true;
        }
        // Files first: the events name them.
        super::write_artifacts(engine);
        let events = engine.drain_events().collect();
        let observations = engine.drain_observations().collect();
        to_writer
            .send(ToWriter::Shard(ShardBatch {
                shard: n,
                watermark,
                events,
                observations,
            }))
            .is_ok()
    };
    for mut batch in inbox {
        for item in batch.items.drain(..) {
            match item {
                Item::Packet {
                    ts,
                    wire_len,
                    link,
                    index,
                    global,
                    start,
                    len,
                } => {
                    watermark = At::new(global, Phase::Packet);
                    engine.process_numbered(
                        &Packet {
                            ts,
                            wire_len,
                            data: &batch.data[start..start + len],
                            link,
                            index,
                        },
                        global,
                    );
                }
                Item::Tick { now, global } => {
                    engine.tick_to_at(now, global);
                    watermark = At::new(global, Phase::Clock);
                }
                Item::Rejected(r) => {
                    let c = engine.counters_mut();
                    c.packets += r.packets;
                    c.bytes += r.bytes;
                    c.not_ip += r.not_ip;
                    c.capture.unsupported_link_packets += r.unsupported_link_packets;
                    c.capture.bad_packet_blocks += r.bad_packet_blocks;
                }
                Item::Origin(origin) => engine.set_origin(origin),
                Item::Report { seq, now, files } => {
                    engine.set_clock(now);
                    engine.periodic_reports();
                    if !send_events(&mut engine, watermark, true) {
                        return;
                    }
                    let message = ToWriter::Periodic {
                        seq,
                        worker: n,
                        now,
                        origin: engine.origin().clone(),
                        files,
                        stats: engine.stats_details(),
                    };
                    if to_writer.send(message).is_err() {
                        return;
                    }
                }
                Item::End(now) => {
                    engine.set_clock(now);
                    while engine.flush_flows(super::FLUSH_BATCH) {
                        if !send_events(&mut engine, watermark, false) {
                            return;
                        }
                    }
                    engine.finish_without_summary();
                    send_events(&mut engine, watermark, false);
                    let _ = to_writer.send(ToWriter::Finished(n, engine.stats_details()));
                    return;
                }
            }
        }
        if !send_events(&mut engine, watermark, false) {
            return;
        }
        batch.clear();
        let _ = give_back.send(batch);
    }
}
