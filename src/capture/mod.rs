//! Packet sources: offline capture files (our own reader, or libpcap) and live interfaces
//! (libpcap). Everything downstream sees one [`Packet`] view: timestamp, link type, lengths
//! and bytes.

mod fanout;
mod filter;
#[cfg(feature = "capture")]
mod live;
mod native;
#[cfg(feature = "capture")]
mod offline;
#[cfg(feature = "capture")]
mod pipe;

pub use fanout::{ip_pair_hash, worker_of};
pub use filter::{
    default_filter, default_filter_with, filter_for, with_dynamic_ports, FilterSpec, PortCover,
    MAX_RUN_TIME_TERMS,
};
#[cfg(feature = "capture")]
pub use live::{LiveOptions, LiveSource};
pub use native::NativeSource;
#[cfg(feature = "capture")]
pub use offline::OfflineSource;
#[cfg(feature = "capture")]
pub use pipe::{may_block, PipeSource, IDLE_WAKE};

/// Which reader opens capture files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Reader {
    /// Our own reader for regular files, libpcap for standard input.
    #[default]
    Auto,
    /// Our own reader, standard input included.
    Native,
    /// libpcap for everything.
    Libpcap,
}

/// An open capture file, read by whichever reader [`Reader`] chose.
#[cfg(feature = "capture")]
pub enum FileSource {
    Native(NativeSource),
    Libpcap(OfflineSource),
}

#[cfg(feature = "capture")]
impl FileSource {
    /// Opens `path` (`-`: standard input). A file our reader does not recognise (not pcap or
    /// pcapng, empty, a directory…) goes to libpcap, whose messages name the problem.
    pub fn open(path: &str, reader: Reader) -> Result<Self, CaptureError> {
        let stdin = path == "-";
        let native = match reader {
            Reader::Libpcap => false,
            Reader::Native => true,
            Reader::Auto => !stdin && std::fs::metadata(path).is_ok_and(|m| m.is_file()),
        };
        if native {
            let (name, input): (String, Box<dyn std::io::Read + Send>) = if stdin {
                ("<stdin>".to_string(), Box::new(std::io::stdin()))
            } else {
                let file = std::fs::File::open(path).map_err(|e| CaptureError::Open {
                    name: path.to_string(),
                    reason: match e.kind() {
                        std::io::ErrorKind::NotFound => "no such file".to_string(),
                        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                        _ => e.to_string(),
                    },
                })?;
                (path.to_string(), Box::new(file))
            };
            if let Some(source) = NativeSource::open(&name, input)? {
                return Ok(FileSource::Native(source));
            }
            if stdin {
                let reason = "not a pcap or pcapng capture".to_string();
                return Err(CaptureError::Open { name, reason });
            }
        }
        OfflineSource::open(path).map(FileSource::Libpcap)
    }

    pub fn name(&self) -> &str {
        match self {
            FileSource::Native(s) => s.name(),
            FileSource::Libpcap(s) => s.name(),
        }
    }

    pub fn link(&self) -> LinkType {
        match self {
            FileSource::Native(s) => s.link(),
            FileSource::Libpcap(s) => s.link(),
        }
    }

    /// The next packet, `End`, or an error (`Truncated` after every complete packet).
    #[inline]
    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        match self {
            FileSource::Native(s) => s.next_packet(),
            FileSource::Libpcap(s) => s.next_packet(),
        }
    }
}

/// What `read` reads: a file directly, or an input that can block (a pipe) on a helper thread.
#[cfg(feature = "capture")]
pub enum Input {
    File(FileSource),
    Pipe(PipeSource),
}

#[cfg(feature = "capture")]
impl Input {
    /// Opens `path` (`-`: standard input). `Ok(None)`: `stop` was raised while a pipe had not
    /// yet delivered its capture header.
    pub fn open(
        path: &str,
        reader: Reader,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<Option<Self>, CaptureError> {
        if may_block(path) {
            Ok(PipeSource::open(path, reader, stop)?.map(Input::Pipe))
        } else {
            Ok(Some(Input::File(FileSource::open(path, reader)?)))
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Input::File(s) => s.name(),
            Input::Pipe(s) => s.name(),
        }
    }

    /// Whether packets may pause for long (events should not wait in buffers meanwhile).
    pub fn is_pipe(&self) -> bool {
        matches!(self, Input::Pipe(_))
    }

    /// The next packet, `End`, `Idle` (a pipe had nothing for [`IDLE_WAKE`]) or an error.
    #[inline]
    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        match self {
            Input::File(s) => s.next_packet(),
            Input::Pipe(s) => s.next_packet(),
        }
    }
}

use std::fmt;

/// A packet timestamp in microseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MICROS_PER_SEC: i64 = 1_000_000;

    pub fn from_timeval(sec: i64, usec: i64) -> Self {
        Timestamp(
            sec.saturating_mul(Self::MICROS_PER_SEC)
                .saturating_add(usec),
        )
    }

    pub fn from_secs(sec: i64) -> Self {
        Timestamp(sec.saturating_mul(Self::MICROS_PER_SEC))
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// Seconds elapsed since `earlier`, never negative (captures can step back in time).
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        self.0.saturating_sub(earlier.0).max(0) as f64 / 1e6
    }

    /// Microseconds elapsed since `earlier`: negative when time stepped back, saturating at
    /// the ends of the range (a damaged capture can carry any timestamp).
    pub fn micros_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    pub fn saturating_add_secs(self, secs: u64) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add((secs as i64).saturating_mul(Self::MICROS_PER_SEC)),
        )
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339, UTC, microsecond precision: `2026-11-24T23:48:33.123456Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(Self::MICROS_PER_SEC);
        let micros = self.0.rem_euclid(Self::MICROS_PER_SEC);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Link-layer header types we decode (values are pcap LINKTYPE_* numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    Null,
    Ethernet,
    /// Raw IP (LINKTYPE_RAW 101, and DLT_RAW's 12/14 on some platforms).
    Raw,
    /// OpenBSD loopback: 4-byte address family in network byte order.
    Loop,
    LinuxSll,
    LinuxSll2,
    Ipv4,
    Ipv6,
}

impl LinkType {
    /// Maps a pcap link-type number; `None` for types we cannot decode.
    pub fn from_linktype(value: i32) -> Option<LinkType> {
        Some(match value {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            _ => return None,
        })
    }

    pub fn linktype(self) -> i32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
        }
    }
}

/// One captured packet, borrowed from the source's buffer until the next read.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub ts: Timestamp,
    /// Length on the wire; `data.len()` (the captured length) may be shorter.
    pub wire_len: u32,
    pub data: &'a [u8],
    pub link: LinkType,
    /// 1-based position of the packet in its source.
    pub index: u64,
}

impl<'a> Packet<'a> {
    /// A packet as libpcap handed it over (offline or live), the `index`-th of its source.
    #[cfg(feature = "capture")]
    pub(crate) fn from_libpcap(p: &pcap::Packet<'a>, link: LinkType, index: u64) -> Self {
        Packet {
            ts: Timestamp::from_timeval(p.header.ts.tv_sec, p.header.ts.tv_usec),
            wire_len: p.header.len,
            data: p.data,
            link,
            index,
        }
    }
}

/// Errors a source reports. `Truncated` ends a file early but keeps what was read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{name}: {reason}")]
    Open { name: String, reason: String },
    #[error("{name}: link type {linktype} ({}) is not supported; supported: Ethernet, Linux SLL/SLL2, raw IPv4/IPv6, BSD loopback", linktype_name(*linktype))]
    UnsupportedLink { name: String, linktype: i32 },
    #[error("{name}: capture ends in the middle of a record after packet {after}: {reason}")]
    Truncated {
        name: String,
        after: u64,
        reason: String,
    },
    #[error("{name}: read failed after packet {after}: {reason}")]
    Read {
        name: String,
        after: u64,
        reason: String,
    },
    #[error("{name}: {reason}")]
    Filter { name: String, reason: String },
}

#[cfg(feature = "capture")]
fn linktype_name(value: i32) -> String {
    pcap::Linktype(value)
        .get_name()
        .unwrap_or_else(|_| "unknown".to_string())
}

/// What a read returned: a packet, nothing yet (live timeout), or the end of the source.
pub enum Next<'a> {
    Packet(Packet<'a>),
    Idle,
    End,
}

#[cfg(not(feature = "capture"))]
fn linktype_name(_value: i32) -> String {
    "unknown".to_string()
}

/// Turns libpcap's message for a bad file into one line a user can act on.
#[cfg(feature = "capture")]
pub(crate) fn describe_open_error(err: &pcap::Error) -> String {
    let text = err.to_string();
    if text.contains("unknown file format") || text.contains("bad dump file format") {
        format!("not a pcap or pcapng capture ({text})")
    } else if text.contains("No such file") {
        "no such file".to_string()
    } else if text.contains("Permission denied") {
        "permission denied".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_as_rfc3339_micros() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            Timestamp::from_timeval(1_795_996_113, 123_456).to_string(),
            "2026-11-29T23:48:33.123456Z"
        );
        assert_eq!(
            Timestamp::from_timeval(951_782_400, 1).to_string(),
            "2000-02-29T00:00:00.000001Z"
        );
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn linktypes_round_trip() {
        for lt in [0, 1, 101, 108, 113, 276, 228, 229] {
            assert_eq!(LinkType::from_linktype(lt).unwrap().linktype(), lt);
        }
        assert_eq!(LinkType::from_linktype(12), Some(LinkType::Raw));
        assert_eq!(LinkType::from_linktype(127), None);
    }
}
