//! The bounded per-source failure tracker behind the `ota_auth_bruteforce` alert: failed OTA
//! password answers of one uploader, across every device and flow.

use crate::flow::BoundedMap;
use crate::time::Timestamp;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

/// Failed auth answers per source address in a sliding window. Holds at most `capacity`
/// sources (the one whose last failure is oldest goes first, counted) and `threshold` times
/// each; a source with no failure in the window is forgotten.
pub struct FailureTracker {
    sources: BoundedMap<IpAddr, Source>,
    threshold: u32,
    window_us: i64,
    pub evicted: u64,
}

#[derive(Debug, Default)]
struct Source {
    times: VecDeque<Timestamp>,
    /// No second alert for this source before this time (one per window).
    quiet_until: Timestamp,
}

impl FailureTracker {
    pub fn new(capacity: usize, threshold: u32, window_secs: u64) -> Self {
        FailureTracker {
            sources: BoundedMap::new(capacity, Duration::from_secs(window_secs)),
            threshold: threshold.max(1),
            window_us: (window_secs as i64).saturating_mul(1_000_000),
            evicted: 0,
        }
    }

    /// Records a failure; returns the count in the window when it reaches the threshold (once
    /// per window per source).
    pub fn fail(&mut self, src: IpAddr, now: Timestamp) -> Option<u32> {
        let (s, evicted) = self.sources.touch_or_insert_with(src, now, Source::default);
        if evicted.is_some() {
            self.evicted += 1;
        }
        while s
            .times
            .front()
            .is_some_and(|t| now.micros_since(*t) > self.window_us)
        {
            s.times.pop_front();
        }
        s.times.push_back(now);
        while s.times.len() > self.threshold as usize {
            s.times.pop_front();
        }
        let n = s.times.len() as u32;
        if n >= self.threshold && now >= s.quiet_until {
            s.quiet_until = Timestamp(now.micros().saturating_add(self.window_us));
            return Some(n);
        }
        None
    }

    /// Forgets sources with no failure in the window.
    pub fn expire(&mut self, now: Timestamp) {
        let mut gone = Vec::new();
        self.sources.expire(now, &mut gone);
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_within_window_alerts_once_per_window() {
        let mut t = FailureTracker::new(2, 3, 60);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let s = Timestamp::from_secs;
        assert_eq!(t.fail(a, s(0)), None);
        assert_eq!(t.fail(a, s(10)), None);
        assert_eq!(t.fail(a, s(20)), Some(3));
        assert_eq!(t.fail(a, s(21)), None, "one alert per window");
        assert_eq!(t.fail(a, s(100)), None, "old failures left the window");
        // Bounded: a third source evicts the stalest.
        t.fail("192.0.2.2".parse().unwrap(), s(101));
        t.fail("192.0.2.3".parse().unwrap(), s(102));
        assert_eq!((t.len(), t.evicted), (2, 1));
        t.expire(s(500));
        assert!(t.is_empty());
    }
}
