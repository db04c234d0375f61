//! The device's side of the espota TCP data phase (shared/docs/arduino-ota.md §1.6, §2): ASCII
//! decimal byte counts with no separator, then `OK` or error text.
//!
//! Counts arrive concatenated when TCP coalesces them (`"10242048"`, `"608OK"`), so a digit run
//! is split using what the uploader has sent by then: a count can never exceed it. Two device
//! behaviours are followed at once and the one the counts contradict is dropped:
//! - per write: ESP32 `client.printf("%lu", written)`, ESP8266 `client.print(written, DEC)` —
//!   each count is the bytes of one write, so counts add up;
//! - running total (what some devices and test doubles send) — counts increase.

/// Digits of one count at most (`u32` bytes and a little more).
const MAX_DIGITS: usize = 11;
/// Counts looked for in one digit run; more is not a lock-step exchange.
const MAX_COUNTS: usize = 8;
/// Work bound for splitting one digit run (search steps).
const MAX_STEPS: u32 = 20_000;
/// Longest device message kept.
pub const MAX_MESSAGE: usize = 256;

#[derive(Clone, Debug, Default)]
pub struct Acks {
    /// Sum of counts if the device reports per write (`None` once contradicted).
    per_write: Option<u64>,
    /// Last count if the device reports a running total (`None` once contradicted).
    running: Option<u64>,
    /// Digits not yet assigned (a count split across segments).
    pending: Vec<u8>,
    /// Text after the counts: `OK` or an error.
    message: Vec<u8>,
    pub counts: u64,
    /// Counts that fit neither behaviour (or digits in an impossible place).
    pub unparsed: u64,
    /// Counts equal to the previous running total (idle re-sends).
    resends: u32,
    /// Confirmed bytes before both readings were contradicted.
    last_known: u64,
    in_message: bool,
}

impl Acks {
    pub fn new() -> Self {
        Acks {
            per_write: Some(0),
            running: Some(0),
            ..Acks::default()
        }
    }

    /// Bytes the device has confirmed.
    pub fn acked(&self) -> u64 {
        match (self.running, self.per_write) {
            (Some(r), Some(p)) => r.max(p),
            (Some(r), None) => r,
            (None, Some(p)) => p,
            (None, None) => self.last_known,
        }
    }

    /// The text after the counts, trimmed (`OK`, `MD5 Check Failed`, `ERROR[4]: …`).
    pub fn message(&self) -> Option<String> {
        let s: String = self
            .message
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) || b == b'\r' || b == b'\n' {
                    char::from(b)
                } else {
                    '?'
                }
            })
            .collect();
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_string())
    }

    /// Feeds in-order device bytes; `sent` is what the uploader had sent by then.
    pub fn feed(&mut self, bytes: &[u8], sent: u64) {
        for (i, &b) in bytes.iter().enumerate() {
            if self.in_message {
                let room = MAX_MESSAGE.saturating_sub(self.message.len());
                self.message
                    .extend_from_slice(&bytes[i..][..room.min(bytes.len() - i)]);
                break;
            }
            if b.is_ascii_digit() {
                self.pending.push(b);
            } else {
                self.settle(sent);
                self.in_message = true;
                let room = MAX_MESSAGE.saturating_sub(self.message.len());
                self.message
                    .extend_from_slice(&bytes[i..][..room.min(bytes.len() - i)]);
                break;
            }
        }
        // A segment boundary usually ends a count (lock-step); settle if the digits fit.
        if !self.pending.is_empty() {
            self.settle(sent);
        }
    }

    /// Splits the pending digit run into counts consistent with the surviving behaviours.
    fn settle(&mut self, sent: u64) {
        if self.pending.is_empty() {
            return;
        }
        if self.running.is_none() && self.per_write.is_none() {
            self.unparsed += 1;
            self.pending.clear();
            return;
        }
        if self.pending.len() > MAX_DIGITS * MAX_COUNTS {
            self.unparsed += 1;
            self.pending.clear();
            return;
        }
        let digits = std::mem::take(&mut self.pending);
        let lone = number(&digits);
        // ESP32 re-sends its last count after an idle second, up to 3 times (§1.6).
        let resend =
            self.running.is_some() && lone.is_some() && lone == self.running && lone != Some(0);
        let mut running = self
            .running
            .and_then(|last| split_running(&digits, last, sent));
        let mut per_write = self
            .per_write
            .and_then(|sum| split_per_write(&digits, sent.saturating_sub(sum)));
        if resend {
            self.resends += 1;
            if self.resends > 3 {
                self.running = None; // equal counts again and again: per-write counts
            } else if per_write.is_none() {
                self.counts += 1;
                return;
            }
        }
        // Whichever reading needs more counts to explain the run is the wrong one.
        if let (Some(r), Some(p)) = (running, per_write) {
            if p.0 > r.0 {
                per_write = None;
            } else if r.0 > p.0 {
                running = None;
            }
        }
        match (running, per_write) {
            (None, None) if !resend => {
                // Possibly a count cut in two by a segment boundary: keep the digits for the
                // next segment, unless that cannot be (too long).
                if digits.len() <= MAX_DIGITS {
                    self.pending = digits;
                } else {
                    self.unparsed += 1;
                }
            }
            (None, None) => self.counts += 1,
            (r, p) => {
                self.counts += r.or(p).map_or(0, |x| x.0);
                if !resend {
                    self.running = r.map(|r| r.1);
                }
                self.per_write = match (self.per_write, p) {
                    (Some(sum), Some((_, add))) => Some(sum + add),
                    _ => None,
                };
            }
        }
        self.last_known = self
            .last_known
            .max(self.running.unwrap_or(0))
            .max(self.per_write.unwrap_or(0));
    }

    /// Digits still waiting for the rest of a count (at the end of a stream: unparsed).
    pub fn finish(&mut self) {
        if !self.pending.is_empty() {
            self.unparsed += 1;
            self.pending.clear();
        }
    }
}

fn number(d: &[u8]) -> Option<u64> {
    if d.is_empty() || d.len() > MAX_DIGITS || (d.len() > 1 && d[0] == b'0') {
        return None;
    }
    Some(d.iter().fold(0u64, |n, &c| n * 10 + u64::from(c - b'0')))
}

/// A split of a digit run: how many counts, and the value it leads to.
type Split = Option<(u64, u64)>;

/// Better split: fewer counts (a lock-step device sends one count per write), then the higher value.
fn better(a: Split, b: Split) -> Split {
    match (a, b) {
        (Some(x), Some(y)) => Some(if (y.0, u64::MAX - y.1) < (x.0, u64::MAX - x.1) {
            y
        } else {
            x
        }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Running totals: strictly increasing from `last`, at most `sent`. Returns (counts, new total).
fn split_running(d: &[u8], last: u64, sent: u64) -> Split {
    fn go(d: &[u8], last: u64, sent: u64, depth: usize, steps: &mut u32) -> Split {
        if d.is_empty() {
            return Some((0, last));
        }
        *steps += 1;
        if depth == MAX_COUNTS || *steps > MAX_STEPS {
            return None;
        }
        let mut best = None;
        for len in (1..=d.len().min(MAX_DIGITS)).rev() {
            let Some(n) = number(&d[..len]) else { continue };
            if n <= last || n > sent {
                continue;
            }
            let tail = go(&d[len..], n, sent, depth + 1, steps).map(|(c, end)| (c + 1, end));
            best = better(best, tail);
        }
        best
    }
    go(d, last, sent, 0, &mut 0)
}

/// Per-write counts: each positive, together at most `room` (bytes sent but not yet counted).
/// Returns (counts, sum).
fn split_per_write(d: &[u8], room: u64) -> Split {
    fn go(d: &[u8], room: u64, depth: usize, steps: &mut u32) -> Split {
        if d.is_empty() {
            return Some((0, 0));
        }
        *steps += 1;
        if depth == MAX_COUNTS || *steps > MAX_STEPS {
            return None;
        }
        let mut best = None;
        for len in (1..=d.len().min(MAX_DIGITS)).rev() {
            let Some(n) = number(&d[..len]) else { continue };
            if n == 0 || n > room {
                continue;
            }
            let tail = go(&d[len..], room - n, depth + 1, steps).map(|(c, s)| (c + 1, s + n));
            best = better(best, tail);
        }
        best
    }
    go(d, room, 0, &mut 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_totals_coalesced_and_final_ok() {
        let mut a = Acks::new();
        a.feed(b"1024", 1024);
        a.feed(b"20483072", 3072);
        a.feed(b"4096OK", 4096);
        assert_eq!(
            (a.acked(), a.counts, a.message().as_deref()),
            (4096, 4, Some("OK"))
        );
        assert_eq!(a.unparsed, 0);
    }

    #[test]
    fn per_write_counts_add_up() {
        // ESP32 source: each count is one write of up to 1460 bytes.
        let mut a = Acks::new();
        a.feed(b"1024", 1024);
        a.feed(b"1024", 2048);
        a.feed(b"10241024", 4096);
        a.feed(b"608", 4704);
        a.feed(b"OK", 4704);
        assert_eq!(
            (a.acked(), a.counts, a.message().as_deref()),
            (4704, 5, Some("OK"))
        );
    }

    #[test]
    fn error_text_after_counts() {
        let mut a = Acks::new();
        a.feed(b"1460", 1460);
        assert_eq!(a.acked(), 1460);
        a.feed(b"MD5 Check Failed\r\n", 1460);
        assert_eq!(a.message().as_deref(), Some("MD5 Check Failed"));
        let mut b = Acks::new();
        b.feed(b"ERROR[4]: Not Enough Space\n", 0);
        assert_eq!(
            (b.acked(), b.message().as_deref()),
            (0, Some("ERROR[4]: Not Enough Space"))
        );
    }

    #[test]
    fn impossible_counts_are_counted_not_trusted() {
        let mut a = Acks::new();
        a.feed(b"99999999999999999999999", 1024);
        a.finish();
        assert_eq!((a.acked(), a.unparsed), (0, 1));
        let mut long = Acks::new();
        long.feed(&[b'7'; 400], 10);
        assert_eq!(long.unparsed, 1);
    }
}
