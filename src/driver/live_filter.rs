//! Keeps a live capture's kernel filter in step with the TCP ports the classifiers hold at run
//! time (an OTA device connects back to the port its invitation named, arduino-ota.md §1.1).
//!
//! A port not yet passed is added at once, or [`MIN_INTERVAL`] after the previous change when
//! invitations come faster than that: a device connects back only after answering `OK`, and an
//! ESP8266 waits 100 ms more (arduino-ota.md §2). Ports of ended sessions are dropped lazily,
//! [`NARROW_AFTER`] after the last change: passing a few idle ports costs a bitmap lookup in
//! user space, while every change costs a compile. The run-time ports take at most
//! [`MAX_RUN_TIME_TERMS`] ranges. So a flood of invitations costs at most 1 / [`MIN_INTERVAL`]
//! compiles a second, each of a filter libpcap compiles in milliseconds.

use crate::capture::LiveSource;
use crate::engine::Engine;
use crate::prefilter::bpf::{
    filter_for, with_dynamic_ports, FilterSpec, PortCover, MAX_RUN_TIME_TERMS,
};
use std::time::{Duration, Instant};

/// How long a filter that passes more than the held ports may stay before it is narrowed.
pub const NARROW_AFTER: Duration = Duration::from_secs(5);

/// The least time between two changes of the filter.
pub const MIN_INTERVAL: Duration = Duration::from_millis(50);

pub struct LiveFilter<'a> {
    /// The user's `-f` expression, or `None` for the pre-filter's kernel filter.
    user: Option<&'a str>,
    declared: FilterSpec,
    installed: PortCover,
    seen_generation: u64,
    /// A held port is not passed yet.
    widening_due: bool,
    /// Ports were released (or added inside the cover) since the last install.
    narrowing_due: bool,
    last_install: Option<Instant>,
}

impl<'a> LiveFilter<'a> {
    /// For a capture opened with the user's `-f` expression, or the default filter of the
    /// engine's pre-filter.
    pub fn new(user: Option<&'a str>, engine: &Engine) -> Self {
        LiveFilter {
            user,
            declared: engine.interest().kernel_filter_spec(),
            installed: PortCover::default(),
            seen_generation: engine.interest().dynamic_generation(),
            widening_due: false,
            narrowing_due: false,
            last_install: None,
        }
    }

    /// The expression for a set of run-time ports.
    fn expression(&self, run_time: &PortCover) -> String {
        match self.user {
            Some(user) => with_dynamic_ports(user, run_time),
            None => filter_for(&self.declared, run_time),
        }
    }

    /// Called after every packet and idle wake-up; cheap unless the held ports changed.
    pub fn refresh(&mut self, engine: &mut Engine, source: &mut LiveSource) {
        let interest = engine.interest();
        let generation = interest.dynamic_generation();
        if generation != self.seen_generation {
            self.seen_generation = generation;
            if interest
                .dynamic_tcp_ports()
                .any(|port| !self.installed.covers(port))
            {
                self.widening_due = true;
            } else {
                self.narrowing_due = true;
            }
        }
        if !(self.widening_due || self.narrowing_due) {
            return;
        }
        let wait = if self.widening_due {
            MIN_INTERVAL
        } else {
            NARROW_AFTER
        };
        if self.last_install.map_or(true, |t| t.elapsed() >= wait) {
            self.install(engine, source);
        }
    }

    fn install(&mut self, engine: &mut Engine, source: &mut LiveSource) {
        self.widening_due = false;
        self.narrowing_due = false;
        let cover = PortCover::new(engine.interest().dynamic_tcp_ports(), MAX_RUN_TIME_TERMS);
        if cover == self.installed {
            return;
        }
        let expr = self.expression(&cover);
        let started = Instant::now();
        match source.replace_filter(&expr) {
            Ok(()) => {
                engine.counters_mut().capture.filter_updates += 1;
                tracing::debug!(
                    filter = %expr,
                    ports_passed = cover.width(),
                    micros = started.elapsed().as_micros() as u64,
                    "capture filter updated"
                );
                self.installed = cover;
            }
            Err(e) => {
                engine.counters_mut().capture.filter_update_failures += 1;
                tracing::warn!("{e}");
            }
        }
        self.last_install = Some(Instant::now());
    }
}
