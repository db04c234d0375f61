//! The writer's side of cross-flow state with several workers (`read --workers` and
//! `capture --workers`): each worker's stamped observations wait in their own queue, and a k-way
//! merge by stamp applies, to one [`Aggregator`], every observation below the smallest worker
//! watermark (nothing a worker sends later is stamped before its watermark).

use super::{Error, Writer};
use crate::aggregate::{Aggregator, At, Observation, Phase};
use crate::event::stats::StatsDetails;
use crate::event::Event;
use std::collections::VecDeque;

/// Observations applied between two writes of what the aggregator made of them.
const WRITE_EVERY: usize = 1024;

pub(super) struct ObservationMerge {
    /// Each worker's progress: nothing it sends later is stamped before it.
    watermarks: Vec<At>,
    /// Each worker's observations not yet applied, in stamp order.
    pending: Vec<VecDeque<(At, Observation)>>,
    pub(super) aggregator: Aggregator,
}

impl ObservationMerge {
    pub(super) fn new(workers: usize, aggregator: Aggregator) -> Self {
        ObservationMerge {
            watermarks: vec![At::new(0, Phase::Packet); workers],
            pending: (0..workers).map(|_| VecDeque::new()).collect(),
            aggregator,
        }
    }

    /// Queues what `worker` observed, moves its watermark, and applies what every worker is
    /// past.
    pub(super) fn take(
        &mut self,
        w: &mut Writer<'_>,
        worker: usize,
        watermark: At,
        observations: impl IntoIterator<Item = (At, Observation)>,
    ) -> Result<(), Error> {
        self.watermarks[worker] = watermark;
        self.pending[worker].extend(observations);
        self.apply_released(w)
    }

    /// Applies every observation below the smallest watermark.
    pub(super) fn apply_released(&mut self, w: &mut Writer<'_>) -> Result<(), Error> {
        let below = self.watermarks.iter().min().copied();
        self.apply(w, below)
    }

    /// Applies, in stamp order, every pending observation stamped before `below` (all of them
    /// when `None`: every worker is done), and writes what the aggregator made of them.
    pub(super) fn apply(&mut self, w: &mut Writer<'_>, below: Option<At>) -> Result<(), Error> {
        let mut applied = 0usize;
        loop {
            let next = (0..self.pending.len())
                .filter_map(|s| self.pending[s].front().map(|(at, _)| (*at, s)))
                .min();
            let Some((at, s)) = next else { break };
            if below.is_some_and(|b| at >= b) {
                break;
            }
            if let Some((at, obs)) = self.pending[s].pop_front() {
                self.aggregator.observe(at, obs);
                applied += 1;
            }
            // A round can hold a whole file's worth (the end of input): its events go out as
            // they come, not all built first. Nothing else is written meanwhile, so the order
            // is the same.
            if applied % WRITE_EVERY == 0 {
                self.write_aggregated(w)?;
            }
        }
        self.write_aggregated(w)
    }

    pub(super) fn write_aggregated(&mut self, w: &mut Writer<'_>) -> Result<(), Error> {
        let events: Vec<Event> = self.aggregator.drain_events().collect();
        for event in events {
            w.emit(event)?;
        }
        Ok(())
    }

    /// The aggregator's counters, as one more part of a merged `stats`.
    pub(super) fn aggregator_stats(&self) -> StatsDetails {
        let c = self.aggregator.counters();
        StatsDetails {
            classifiers: c.classifier_map(),
            events: c.events.to_map(),
            ..StatsDetails::default()
        }
    }
}
