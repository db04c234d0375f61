//! Receivers that may come and go (Unix sockets, syslog, Redis): a connection opened lazily and
//! again after a failure, at most once a second, and a bounded backlog of framed events that
//! waits for it. When the backlog is full the oldest event is dropped and counted, so memory
//! stays bounded however long a receiver is away and the newest events survive.

use super::{Sent, Sink};
use crate::event::Event;
use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

/// Events a sink keeps for a receiver that is away (`--output-buffer`): about 10 MB of typical
/// 1 KB events.
pub const DEFAULT_BACKLOG: usize = 10_000;
/// Events handed to a connection in one go (one Redis pipeline, one socket write).
pub const MAX_BATCH: usize = 512;
const RECONNECT_EVERY: Duration = Duration::from_secs(1);
/// How often [`Sink::drain`] retries a receiver that is still away at the end of a run.
const DRAIN_POLL: Duration = Duration::from_millis(100);

/// What one output did, for `stats.outputs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Events the receiver accepted.
    pub written: u64,
    /// Events lost: the backlog overflowed, or the run ended while the receiver was away.
    pub dropped: u64,
    /// Connection attempts after a failure.
    pub retried: u64,
    /// Events waiting in the backlog now.
    pub buffered: u64,
}

/// A connection to one receiver.
pub trait Link: Send {
    fn connect(&mut self) -> io::Result<()>;
    fn is_connected(&self) -> bool;
    /// Appends one event, framed as the receiver expects it, to `out`.
    fn frame(&self, event: &Event, line: &[u8], out: &mut Vec<u8>);
    /// Delivers `records` in order. After an `Err` the link is dropped and every record is
    /// sent again on the next connection (a receiver may then see some twice: at least once).
    fn deliver(&mut self, records: &[Vec<u8>]) -> io::Result<()>;
    fn disconnect(&mut self);
    fn describe(&self) -> String;
}

/// A [`Sink`] over a [`Link`] with a bounded backlog.
pub struct Reliable<L> {
    link: L,
    backlog: VecDeque<Vec<u8>>,
    capacity: usize,
    /// Deliver once this many events are queued (1: every event at once); `flush` delivers
    /// the rest.
    batch: usize,
    delivery: Delivery,
    retry_at: Option<Instant>,
    /// A connection failed since the last success: the next attempt is a retry.
    failing: bool,
    dropping_warned: bool,
    /// A drain already waited in vain: the next one does not wait again.
    gave_up: bool,
}

impl<L: Link> Reliable<L> {
    /// `capacity`: the backlog's bound in events (at least 1).
    pub fn new(link: L, capacity: usize, batch: usize) -> Self {
        Reliable {
            link,
            backlog: VecDeque::new(),
            capacity: capacity.max(1),
            batch: batch.clamp(1, MAX_BATCH),
            delivery: Delivery::default(),
            retry_at: None,
            failing: false,
            dropping_warned: false,
            gave_up: false,
        }
    }

    /// Connects now: `read --output-errors fail` refuses to start without its receiver.
    pub fn connect_now(&mut self) -> io::Result<()> {
        self.link.connect()
    }

    pub fn link(&self) -> &L {
        &self.link
    }

    pub fn link_mut(&mut self) -> &mut L {
        &mut self.link
    }

    /// Delivers what is queued while the link works; returns when the backlog is empty or the
    /// receiver is away (then retried on a later call, at most once a second).
    fn pump(&mut self) {
        while !self.backlog.is_empty() {
            if !self.link.is_connected() {
                if self.retry_at.is_some_and(|t| Instant::now() < t) {
                    return;
                }
                if self.failing {
                    self.delivery.retried += 1;
                }
                if let Err(e) = self.link.connect() {
                    self.failed(&e);
                    return;
                }
                if self.failing {
                    tracing::warn!(
                        "{}: connected again; delivering {} queued events",
                        self.link.describe(),
                        self.backlog.len()
                    );
                }
                self.failing = false;
                self.retry_at = None;
            }
            let n = self.backlog.len().min(MAX_BATCH);
            let result = self.link.deliver(&self.backlog.make_contiguous()[..n]);
            match result {
                Ok(()) => {
                    self.backlog.drain(..n);
                    self.delivery.written += n as u64;
                }
                Err(e) => {
                    self.link.disconnect();
                    self.failed(&e);
                    return;
                }
            }
        }
    }

    fn failed(&mut self, e: &io::Error) {
        if !self.failing {
            tracing::warn!(
                "{}: {e}; queueing events (at most {}) until it is back",
                self.link.describe(),
                self.capacity
            );
        }
        self.failing = true;
        self.retry_at = Some(Instant::now() + RECONNECT_EVERY);
    }

    fn drop_oldest(&mut self) {
        self.backlog.pop_front();
        self.delivery.dropped += 1;
        if !self.dropping_warned {
            tracing::warn!(
                "{}: {} events queued; dropping the oldest (counted in stats.outputs)",
                self.link.describe(),
                self.capacity
            );
            self.dropping_warned = true;
        }
    }
}

impl<L: Link> Sink for Reliable<L> {
    fn send(&mut self, event: &Event, line: &[u8]) -> io::Result<Sent> {
        let mut record = Vec::with_capacity(line.len() + 64);
        self.link.frame(event, line, &mut record);
        if self.backlog.len() >= self.capacity {
            self.drop_oldest();
        }
        self.backlog.push_back(record);
        if self.backlog.len() >= self.batch {
            self.pump();
        }
        Ok(Sent::Queued)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.pump();
        Ok(())
    }

    fn describe(&self) -> String {
        self.link.describe()
    }

    fn delivery(&self) -> Option<Delivery> {
        Some(Delivery {
            buffered: self.backlog.len() as u64,
            ..self.delivery
        })
    }

    fn drain(&mut self, deadline: Instant) {
        let deadline = if self.gave_up {
            Instant::now()
        } else {
            deadline
        };
        loop {
            self.pump();
            if self.backlog.is_empty() || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(DRAIN_POLL);
        }
        if !self.backlog.is_empty() {
            tracing::warn!(
                "{}: still away at the end of the run; {} queued events dropped",
                self.link.describe(),
                self.backlog.len()
            );
            self.delivery.dropped += self.backlog.len() as u64;
            self.backlog.clear();
            self.gave_up = true;
        } else {
            self.gave_up = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A receiver that is up or down at the test's word and keeps what it got.
    #[derive(Clone, Default)]
    struct Fake {
        up: Arc<Mutex<bool>>,
        got: Arc<Mutex<Vec<Vec<u8>>>>,
        connected: bool,
    }

    impl Link for Fake {
        fn connect(&mut self) -> io::Result<()> {
            if *self.up.lock().unwrap() {
                self.connected = true;
                Ok(())
            } else {
                Err(io::Error::from(io::ErrorKind::ConnectionRefused))
            }
        }
        fn is_connected(&self) -> bool {
            self.connected
        }
        fn frame(&self, _: &Event, line: &[u8], out: &mut Vec<u8>) {
            out.extend_from_slice(line);
        }
        fn deliver(&mut self, records: &[Vec<u8>]) -> io::Result<()> {
            if !*self.up.lock().unwrap() {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            self.got.lock().unwrap().extend_from_slice(records);
            Ok(())
        }
        fn disconnect(&mut self) {
            self.connected = false;
        }
        fn describe(&self) -> String {
            "fake".into()
        }
    }

    fn event() -> Event {
        Event::global(
            crate::time::Timestamp(0),
            crate::event::Origin::default(),
            crate::event::stats::StatsKind::Summary,
            crate::event::Severity::Info,
            crate::event::Body::Stats(Box::default()),
        )
    }

    #[test]
    fn an_absent_receiver_gets_the_newest_events_within_the_bound_and_the_rest_is_counted() {
        let fake = Fake::default();
        let mut sink = Reliable::new(fake.clone(), 3, 1);
        for i in 0..5u8 {
            sink.send(&event(), &[b'0' + i]).unwrap();
        }
        assert_eq!(
            sink.delivery(),
            Some(Delivery {
                written: 0,
                dropped: 2,
                retried: 0,
                buffered: 3
            })
        );
        *fake.up.lock().unwrap() = true;
        sink.drain(Instant::now() + Duration::from_secs(5));
        assert_eq!(
            *fake.got.lock().unwrap(),
            vec![b"2".to_vec(), b"3".to_vec(), b"4".to_vec()]
        );
        assert_eq!(
            sink.delivery(),
            Some(Delivery {
                written: 3,
                dropped: 2,
                retried: 1,
                buffered: 0
            })
        );
    }

    #[test]
    fn what_is_queued_when_the_run_ends_without_a_receiver_is_dropped() {
        let mut sink = Reliable::new(Fake::default(), 10, 1);
        sink.send(&event(), b"x").unwrap();
        sink.drain(Instant::now());
        assert_eq!(
            sink.delivery(),
            Some(Delivery {
                written: 0,
                dropped: 1,
                retried: 0,
                buffered: 0
            })
        );
    }

    #[test]
    fn a_batching_sink_delivers_on_flush() {
        let fake = Fake::default();
        *fake.up.lock().unwrap() = true;
        let mut sink = Reliable::new(fake.clone(), 10, 4);
        for _ in 0..3 {
            sink.send(&event(), b"x").unwrap();
        }
        assert_eq!(fake.got.lock().unwrap().len(), 0);
        sink.flush().unwrap();
        assert_eq!(fake.got.lock().unwrap().len(), 3);
    }
}
