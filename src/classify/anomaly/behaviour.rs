//! Behaviour heuristics over a flow's payload-packet timeline (first [`MAX_RECORDS`] packets).
//!
//! - **beacon**: the initiator sends at regular intervals with similar sizes: ≥ 5 of its
//!   payload packets, mean interval ≥ 1 s, jitter (standard deviation) ≤ 10 % of the mean, and
//!   sizes within max(16 bytes, 10 % of the mean size).
//! - **interactive_session**: a human typing: ≥ 3 payload packets each way, ≥ 4 turns (the
//!   speaker changes), lasting ≥ 5 s, median payload ≤ 256 bytes, median pause between the
//!   initiator's packets ≥ 0.5 s, and text both ways.

use crate::event::anomaly::{Beacon, Interactive};

/// Payload packets kept per flow for these heuristics.
pub const MAX_RECORDS: usize = 64;

/// One payload-bearing packet: time (µs), direction (`true` = towards the watched port), size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub ts_us: i64,
    pub to_server: bool,
    pub len: u32,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn beacon(records: &[Record]) -> Option<Beacon> {
    let sends: Vec<&Record> = records.iter().filter(|r| r.to_server).collect();
    if sends.len() < 5 {
        return None;
    }
    let gaps: Vec<f64> = sends
        .windows(2)
        .map(|w| w[1].ts_us.saturating_sub(w[0].ts_us) as f64 / 1e6)
        .collect();
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    if mean < 1.0 {
        return None;
    }
    let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n).sqrt();
    if sd > 0.1 * mean {
        return None;
    }
    let sizes: Vec<f64> = sends.iter().map(|r| f64::from(r.len)).collect();
    let mean_size = sizes.iter().sum::<f64>() / sizes.len() as f64;
    let (lo, hi) = sizes
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    if hi - lo > (0.1 * mean_size).max(16.0) {
        return None;
    }
    Some(Beacon {
        period_s: round3(mean),
        jitter_s: round3(sd),
        count: sends.len(),
        mean_size: round3(mean_size),
        across_flows: false,
    })
}

/// `text_both_ways`: the samples of both directions are text.
pub fn interactive(records: &[Record], text_both_ways: bool) -> Option<Interactive> {
    if !text_both_ways || records.len() < 6 {
        return None;
    }
    let ups = records.iter().filter(|r| r.to_server).count();
    if ups < 3 || records.len() - ups < 3 {
        return None;
    }
    let duration = records[records.len() - 1]
        .ts_us
        .saturating_sub(records[0].ts_us) as f64
        / 1e6;
    let pace = pace(records);
    if pace.turns < 4 || duration < 5.0 || pace.median_size > 256 || pace.median_gap_s < 0.5 {
        return None;
    }
    Some(pace)
}

/// The dialogue's figures (turns, median pause of the initiator, median size), whatever they
/// are: zeros for an empty timeline.
pub fn pace(records: &[Record]) -> Interactive {
    let turns = records
        .windows(2)
        .filter(|w| w[0].to_server != w[1].to_server)
        .count();
    let mut sizes: Vec<u32> = records.iter().map(|r| r.len).collect();
    sizes.sort_unstable();
    let median_size = sizes.get(sizes.len() / 2).copied().unwrap_or(0);
    let sends: Vec<i64> = records
        .iter()
        .filter(|r| r.to_server)
        .map(|r| r.ts_us)
        .collect();
    let mut gaps: Vec<f64> = sends
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]) as f64 / 1e6)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let median_gap = gaps.get(gaps.len() / 2).copied().unwrap_or(0.0);
    Interactive {
        turns,
        median_gap_s: round3(median_gap),
        median_size,
        evidence: Vec::new(),
        root: false,
        download_exec: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: f64, up: bool, len: u32) -> Record {
        Record {
            ts_us: (t * 1e6) as i64,
            to_server: up,
            len,
        }
    }

    #[test]
    fn regular_sends_are_a_beacon() {
        let r: Vec<Record> = (0..6)
            .map(|i| {
                rec(
                    f64::from(i) * 30.0 + if i % 2 == 0 { 0.2 } else { 0.0 },
                    true,
                    40 + i,
                )
            })
            .collect();
        let b = beacon(&r).unwrap();
        assert_eq!((b.period_s, b.count), (29.96, 6));
        // Irregular: no.
        let r: Vec<Record> = [0.0, 1.0, 30.0, 31.0, 90.0, 200.0]
            .iter()
            .map(|&t| rec(t, true, 40))
            .collect();
        assert_eq!(beacon(&r), None);
        // Sizes far apart: no.
        let r: Vec<Record> = (0..6)
            .map(|i| rec(f64::from(i) * 10.0, true, if i == 3 { 900 } else { 40 }))
            .collect();
        assert_eq!(beacon(&r), None);
        // Fast (a bulk transfer): no.
        let r: Vec<Record> = (0..50)
            .map(|i| rec(f64::from(i) * 0.01, true, 1460))
            .collect();
        assert_eq!(beacon(&r), None);
    }

    #[test]
    fn typed_dialogue_is_interactive() {
        let r = vec![
            rec(0.0, true, 7),
            rec(0.1, false, 5),
            rec(3.0, true, 3),
            rec(3.1, false, 120),
            rec(9.0, true, 20),
            rec(9.2, false, 40),
        ];
        let i = interactive(&r, true).unwrap();
        assert_eq!((i.turns, i.median_gap_s, i.median_size), (5, 6.0, 20));
        assert_eq!(interactive(&r, false), None);
        // Machine speed: no.
        let fast: Vec<Record> = r
            .iter()
            .map(|x| Record {
                ts_us: x.ts_us / 100,
                ..*x
            })
            .collect();
        assert_eq!(interactive(&fast, true), None);
    }
}
