//! Events rendered and written on a thread of their own. On a capture with many findings the
//! rendering of EVE lines and the writes cost as much as the classification that made them
//! (docs/performance.md); on this thread they run beside the engine instead of after it.
//!
//! The engine's thread hands events over in batches through a bounded channel (a full channel
//! makes it wait, as a slow output always did). What the sink must answer for the run goes the
//! other way: a write error, fatal, is returned by the next call (or by [`OutputThread::join`]);
//! a closed output is seen by [`EventSink::is_closed`]; `stats` events get the output's
//! counters after every event before them was written ([`EventSink::sync`]).

use super::EventSink;
use crate::event::stats::{OutputDelivery, OutputStats};
use crate::event::Event;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Batches the channel holds before the engine's thread waits: enough to ride out a slow
/// write, few enough to keep memory small.
const QUEUED_BATCHES: usize = 4;

/// What the engine's thread asks of the output thread.
enum Command {
    Events(Vec<Event>),
    Flush,
    /// Answer the sink's counters once every event sent before is written.
    Sync(SyncSender<Counters>),
    /// Deliver what the sink still queues, then answer its counters.
    Drain(SyncSender<Counters>),
}

/// The sink's counters, as `stats` events report them.
#[derive(Default)]
struct Counters {
    stats: Option<OutputStats>,
    deliveries: Vec<OutputDelivery>,
}

impl Counters {
    fn of(sink: &dyn EventSink) -> Self {
        Counters {
            stats: sink.output_stats(),
            deliveries: sink.output_deliveries(),
        }
    }
}

/// Shared between the two threads.
#[derive(Default)]
struct State {
    /// The sink has nothing left to write to (standard output's reader has gone).
    closed: AtomicBool,
    /// A write or flush failed: the run must stop with this error.
    failed: AtomicBool,
    error: Mutex<Option<io::Error>>,
}

/// An [`EventSink`] whose sink `S` runs on its own thread.
pub struct OutputThread<S: EventSink + Send + 'static> {
    commands: Option<SyncSender<Command>>,
    thread: Option<JoinHandle<S>>,
    batch: Vec<Event>,
    batch_events: usize,
    state: Arc<State>,
    /// The counters the last [`Command::Sync`] or [`Command::Drain`] answered.
    counters: Counters,
}

impl<S: EventSink + Send + 'static> OutputThread<S> {
    /// Starts the thread. Events go over in batches of `batch_events` (1: each at once, for a
    /// live capture whose outputs should not wait; a flush sends a partial batch).
    pub fn spawn(sink: S, batch_events: usize) -> io::Result<Self> {
        let (commands, received) = mpsc::sync_channel(QUEUED_BATCHES);
        let state = Arc::new(State::default());
        let thread_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("output".into())
            .spawn(move || serve(sink, received, &thread_state))?;
        Ok(OutputThread {
            commands: Some(commands),
            thread: Some(thread),
            batch: Vec::with_capacity(batch_events),
            batch_events: batch_events.max(1),
            state,
            counters: Counters::default(),
        })
    }

    /// Waits until every event handed over is written, and gives the sink back; the write
    /// error that stopped the thread, if it was not returned yet.
    pub fn join(mut self) -> io::Result<S> {
        let sent = self.send_batch();
        self.commands = None;
        let sink = self
            .thread
            .take()
            .expect("joined once")
            .join()
            .map_err(|_| io::Error::other("the output thread panicked"))?;
        sent?;
        self.pending_error()?;
        Ok(sink)
    }

    fn send(&mut self, command: Command) -> io::Result<()> {
        let gone = || io::Error::other("the output thread has stopped");
        self.commands
            .as_ref()
            .ok_or_else(gone)?
            .send(command)
            .map_err(|_| gone())
    }

    fn send_batch(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_events));
        self.send(Command::Events(batch))
    }

    /// The error that stopped the output thread, once.
    fn pending_error(&self) -> io::Result<()> {
        if !self.state.failed.load(Ordering::Relaxed) {
            return Ok(());
        }
        match lock(&self.state.error).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Sends what is batched and a request answered with the counters, and waits for them. A
    /// write error is left for the next write, flush or join to return.
    fn ask(&mut self, request: fn(SyncSender<Counters>) -> Command) {
        let (reply, answer) = mpsc::sync_channel(1);
        if self.send_batch().is_ok() && self.send(request(reply)).is_ok() {
            if let Ok(counters) = answer.recv() {
                self.counters = counters;
            }
        }
    }
}

impl<S: EventSink + Send + 'static> EventSink for OutputThread<S> {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        self.write_owned(event.clone())
    }

    #[inline]
    fn write_owned(&mut self, event: Event) -> io::Result<()> {
        self.pending_error()?;
        self.batch.push(event);
        if self.batch.len() >= self.batch_events {
            self.send_batch()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_batch()?;
        self.send(Command::Flush)?;
        self.pending_error()
    }

    fn is_closed(&self) -> bool {
        self.state.closed.load(Ordering::Relaxed)
    }

    fn sync(&mut self) {
        self.ask(Command::Sync);
    }

    fn output_stats(&self) -> Option<OutputStats> {
        self.counters.stats.clone()
    }

    fn output_deliveries(&self) -> Vec<OutputDelivery> {
        self.counters.deliveries.clone()
    }

    fn drain(&mut self) {
        self.ask(Command::Drain);
    }
}

impl<S: EventSink + Send + 'static> Drop for OutputThread<S> {
    /// Not joined (the run failed): the thread ends once it has written what it was given.
    fn drop(&mut self) {
        let _ = self.send_batch();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The output thread: writes what it is sent until the engine's side hangs up. After a failed
/// write it writes nothing more (the run is ending with that error) but still answers.
fn serve<S: EventSink>(mut sink: S, commands: Receiver<Command>, state: &State) -> S {
    let fail = |e: io::Error| {
        *lock(&state.error) = Some(e);
        state.failed.store(true, Ordering::Relaxed);
    };
    for command in commands {
        let failed = state.failed.load(Ordering::Relaxed);
        match command {
            Command::Events(events) if !failed => {
                for event in events {
                    if let Err(e) = sink.write_owned(event) {
                        fail(e);
                        break;
                    }
                }
            }
            Command::Flush if !failed => {
                if let Err(e) = sink.flush() {
                    fail(e);
                }
            }
            Command::Events(_) | Command::Flush => {}
            Command::Sync(reply) => {
                let _ = reply.send(Counters::of(&sink));
            }
            Command::Drain(reply) => {
                sink.drain();
                let _ = reply.send(Counters::of(&sink));
            }
        }
        state.closed.store(sink.is_closed(), Ordering::Relaxed);
    }
    sink
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::stats::StatsKind;

    /// Records what it is given; fails the write of event number `fail_at`.
    #[derive(Default)]
    struct Recorder {
        written: Vec<u64>,
        flushes: usize,
        drained: usize,
        fail_at: Option<usize>,
        closed_after: Option<usize>,
    }

    impl EventSink for Recorder {
        fn write(&mut self, event: &Event) -> io::Result<()> {
            if self.fail_at == Some(self.written.len()) {
                return Err(io::Error::other("disk full"));
            }
            self.written.push(event.timestamp.micros() as u64);
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
        fn is_closed(&self) -> bool {
            self.closed_after.is_some_and(|n| self.written.len() >= n)
        }
        fn output_stats(&self) -> Option<OutputStats> {
            Some(OutputStats {
                events: self.written.len() as u64,
                ..OutputStats::default()
            })
        }
        fn drain(&mut self) {
            self.drained += 1;
        }
    }

    fn event(n: i64) -> Event {
        use crate::event::{Body, Origin, Severity};
        Event::global(
            crate::time::Timestamp(n),
            Origin::default(),
            StatsKind::Periodic,
            Severity::Info,
            Body::Stats(Box::default()),
        )
    }

    #[test]
    fn every_event_arrives_in_order_whatever_the_batch() {
        for batch in [1, 3, 64] {
            let mut out = OutputThread::spawn(Recorder::default(), batch).unwrap();
            for n in 0..200 {
                out.write_owned(event(n)).unwrap();
            }
            out.flush().unwrap();
            let sink = out.join().unwrap();
            assert_eq!(sink.written, (0..200).collect::<Vec<_>>());
            assert_eq!(sink.flushes, 1);
        }
    }

    #[test]
    fn counters_count_every_event_sent_before_them() {
        let mut out = OutputThread::spawn(Recorder::default(), 64).unwrap();
        for n in 0..10 {
            out.write_owned(event(n)).unwrap();
        }
        assert_eq!(out.output_stats(), None, "nothing asked yet");
        out.sync();
        assert_eq!(out.output_stats().unwrap().events, 10);
        out.write_owned(event(10)).unwrap();
        out.drain();
        assert_eq!(out.output_stats().unwrap().events, 11);
        assert_eq!(out.join().unwrap().drained, 1);
    }

    #[test]
    fn a_write_error_is_returned_once_and_nothing_after_it_is_written() {
        let sink = Recorder {
            fail_at: Some(5),
            ..Recorder::default()
        };
        let mut out = OutputThread::spawn(sink, 2).unwrap();
        let mut first_error = None;
        for n in 0..100 {
            if let Err(e) = out.write_owned(event(n)) {
                first_error = Some(e);
                break;
            }
            out.sync();
        }
        assert_eq!(
            first_error.expect("the error comes back").to_string(),
            "disk full"
        );
        let sink = out.join().unwrap();
        assert_eq!(sink.written, (0..5).collect::<Vec<_>>());
    }

    #[test]
    fn an_error_not_yet_returned_comes_from_join() {
        let sink = Recorder {
            fail_at: Some(0),
            ..Recorder::default()
        };
        let mut out = OutputThread::spawn(sink, 64).unwrap();
        out.write_owned(event(0)).unwrap();
        assert_eq!(out.join().err().unwrap().to_string(), "disk full");
    }

    #[test]
    fn a_closed_output_is_seen_by_the_engines_side() {
        let sink = Recorder {
            closed_after: Some(3),
            ..Recorder::default()
        };
        let mut out = OutputThread::spawn(sink, 1).unwrap();
        for n in 0..3 {
            out.write_owned(event(n)).unwrap();
        }
        out.sync();
        assert!(out.is_closed());
    }
}
