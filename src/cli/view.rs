//! What sits between the driver and the outputs: the `--min-severity`/`--only` filter (every
//! format) and, when every output is the text view of a file read, a bounded reorder buffer that
//! prints findings in packet-time order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use watch3232::driver::EventSink;
use watch3232::event::stats::{OutputDelivery, OutputStats};
use watch3232::event::Event;
use watch3232::output::filter::EventFilter;
use watch3232::output::Output;
use watch3232::time::Timestamp;

/// Most events the reorder buffer holds; past it the oldest is written early (and counted).
pub const REORDER_CAPACITY: usize = 16_384;

/// The outputs behind the filter and, for the text view of a read, the reorder buffer.
pub struct View {
    out: Output,
    filter: EventFilter,
    /// Events the filter held back.
    pub filtered: u64,
    reorder: Option<Reorder>,
}

impl View {
    /// `reorder_lag`: how late (in packet time) an event may come after later ones and still
    /// be put in order; `None` writes events as they come.
    pub fn new(out: Output, filter: EventFilter, reorder_lag_secs: Option<u64>) -> Self {
        View {
            out,
            filter,
            filtered: 0,
            reorder: reorder_lag_secs.map(Reorder::new),
        }
    }

    /// Writes what the reorder buffer still holds (the end of the run).
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(r) = &mut self.reorder {
            while let Some(e) = r.pop() {
                self.out.write(&e)?;
            }
        }
        self.out.flush()
    }

    /// The outputs behind the view (their delivery counts, the final drain).
    pub fn output_mut(&mut self) -> &mut Output {
        &mut self.out
    }

    /// Events the reorder buffer wrote early because it was full.
    pub fn written_early(&self) -> u64 {
        self.reorder.as_ref().map_or(0, |r| r.written_early)
    }
}

impl EventSink for View {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        if self.reorder.is_some() {
            return self.write_owned(event.clone());
        }
        if !self.filter.passes(event) {
            self.filtered += 1;
            return Ok(());
        }
        self.out.write(event)
    }

    fn write_owned(&mut self, event: Event) -> io::Result<()> {
        if !self.filter.passes(&event) {
            self.filtered += 1;
            return Ok(());
        }
        let Some(r) = &mut self.reorder else {
            return self.out.write(&event);
        };
        // The run's summary comes last: everything before it is out first.
        let last = event.event_type == "stats" && event.kind == "summary";
        r.push(event);
        while let Some(e) = r.pop_due(last) {
            self.out.write(&e)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn is_closed(&self) -> bool {
        self.out.is_closed()
    }

    fn output_stats(&self) -> Option<OutputStats> {
        EventSink::output_stats(&self.out)
    }

    fn output_deliveries(&self) -> Vec<OutputDelivery> {
        EventSink::output_deliveries(&self.out)
    }

    /// What the reorder buffer holds goes out first, then the outputs deliver their queues.
    fn drain(&mut self) {
        if let Some(r) = &mut self.reorder {
            while let Some(e) = r.pop() {
                if self.out.write(&e).is_err() {
                    break;
                }
            }
        }
        EventSink::drain(&mut self.out);
    }
}

/// One held event, ordered by packet time, then by arrival.
struct Held {
    at: Timestamp,
    seq: u64,
    event: Box<Event>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Events held until the watermark (the newest packet time seen, less the lag) passes them.
struct Reorder {
    lag_micros: i64,
    heap: BinaryHeap<Reverse<Held>>,
    newest: Option<Timestamp>,
    seq: u64,
    written_early: u64,
}

impl Reorder {
    fn new(lag_secs: u64) -> Self {
        Reorder {
            lag_micros: i64::try_from(lag_secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX),
            heap: BinaryHeap::new(),
            newest: None,
            seq: 0,
            written_early: 0,
        }
    }

    fn push(&mut self, event: Event) {
        let at = event.timestamp;
        self.newest = Some(self.newest.map_or(at, |n| n.max(at)));
        self.seq += 1;
        self.heap.push(Reverse(Held {
            at,
            seq: self.seq,
            event: Box::new(event),
        }));
    }

    /// The oldest event when it is due: past the watermark, the buffer over its bound, or
    /// `all` (the end).
    fn pop_due(&mut self, all: bool) -> Option<Event> {
        let oldest = self.heap.peek()?.0.at;
        let watermark = self
            .newest
            .map_or(i64::MIN, |n| n.micros().saturating_sub(self.lag_micros));
        let full = self.heap.len() > REORDER_CAPACITY;
        if all || oldest.micros() <= watermark || full {
            if full && !all && oldest.micros() > watermark {
                self.written_early += 1;
            }
            return self.pop();
        }
        None
    }

    fn pop(&mut self) -> Option<Event> {
        self.heap.pop().map(|Reverse(h)| *h.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watch3232::event::stats::StatsKind;
    use watch3232::event::{Body, Origin, Severity};

    fn at(secs: i64) -> Event {
        Event::global(
            Timestamp::from_secs(secs),
            Origin::default(),
            StatsKind::Periodic,
            Severity::Info,
            Body::Stats(Box::default()),
        )
    }

    fn drain_due(r: &mut Reorder) -> Vec<i64> {
        std::iter::from_fn(|| r.pop_due(false))
            .map(|e| e.timestamp.micros() / 1_000_000)
            .collect()
    }

    #[test]
    fn events_wait_until_the_watermark_passes_them() {
        let mut r = Reorder::new(10);
        r.push(at(100));
        r.push(at(95)); // late, but within the lag
        assert_eq!(drain_due(&mut r), Vec::<i64>::new());
        r.push(at(106));
        assert_eq!(drain_due(&mut r), [95]);
        r.push(at(120));
        assert_eq!(drain_due(&mut r), [100, 106]);
        assert_eq!(r.written_early, 0);
        assert_eq!(
            r.pop().map(|e| e.timestamp),
            Some(Timestamp::from_secs(120))
        );
    }

    #[test]
    fn a_full_buffer_writes_its_oldest_early_and_counts_it() {
        let mut r = Reorder::new(1_000_000);
        for i in 0..=REORDER_CAPACITY as i64 {
            r.push(at(i));
        }
        assert_eq!(drain_due(&mut r), [0]);
        assert_eq!(r.heap.len(), REORDER_CAPACITY);
        assert_eq!(r.written_early, 1);
    }
}
