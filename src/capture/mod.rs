//! Packet sources: offline capture files (our own reader, or libpcap) and live interfaces
//! (libpcap). Everything downstream sees one [`Packet`] view: timestamp, link type, lengths
//! and bytes.

mod fanout;
#[cfg(feature = "capture")]
mod live;
mod native;
#[cfg(feature = "capture")]
mod offline;
#[cfg(feature = "capture")]
mod pipe;
pub mod savefile;

pub use fanout::{ip_pair_hash, worker_of};
#[cfg(feature = "capture")]
pub use live::{LiveOptions, LiveSource};
pub use native::{NativeSource, Origin, SkippedPackets};
#[cfg(feature = "capture")]
pub use offline::OfflineSource;
#[cfg(feature = "capture")]
pub use pipe::{may_block, PipeSource, IDLE_WAKE};

use crate::packet::{LinkType, Packet};
use crate::time::Timestamp;

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
    #[inline(always)]
    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        match self {
            FileSource::Native(s) => s.next_packet(),
            FileSource::Libpcap(s) => s.next_packet(),
        }
    }

    /// Packets skipped so far rather than returned (libpcap skips none: it refuses instead).
    pub fn skipped(&self) -> SkippedPackets {
        match self {
            FileSource::Native(s) => s.skipped(),
            FileSource::Libpcap(_) => SkippedPackets::default(),
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

    /// Packets skipped rather than returned (a pipe's: once it has ended).
    pub fn skipped(&self) -> SkippedPackets {
        match self {
            Input::File(s) => s.skipped(),
            Input::Pipe(s) => s.skipped(),
        }
    }

    /// The next packet, `End`, `Idle` (a pipe had nothing for [`IDLE_WAKE`]) or an error.
    #[inline(always)]
    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        match self {
            Input::File(s) => s.next_packet(),
            Input::Pipe(s) => s.next_packet(),
        }
    }
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
    #[error("{name}: {} is not supported; supported: {SUPPORTED_LINKS}", linktype_label(*linktype))]
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

/// The link layers we decode, for error messages.
pub const SUPPORTED_LINKS: &str =
    "Ethernet, Linux SLL/SLL2, raw IPv4/IPv6, BSD loopback, IEEE 802.11 (bare, radiotap, PPI)";

/// LINKTYPE_* names of the link types a capture is likely to have (tcpdump.org's list).
const LINKTYPE_NAMES: [(i32, &str); 40] = [
    (0, "NULL"),
    (1, "ETHERNET"),
    (6, "IEEE802_5"),
    (8, "SLIP"),
    (9, "PPP"),
    (10, "FDDI"),
    (50, "PPP_HDLC"),
    (51, "PPP_ETHER"),
    (101, "RAW"),
    (104, "C_HDLC"),
    (105, "IEEE802_11"),
    (107, "FRELAY"),
    (108, "LOOP"),
    (113, "LINUX_SLL"),
    (119, "IEEE802_11_PRISM"),
    (127, "IEEE802_11_RADIOTAP"),
    (138, "APPLE_IP_OVER_IEEE1394"),
    (140, "MTP2"),
    (143, "DOCSIS"),
    (163, "IEEE802_11_AVS"),
    (187, "BLUETOOTH_HCI_H4"),
    (189, "USB_LINUX"),
    (192, "PPI"),
    (195, "IEEE802_15_4_WITHFCS"),
    (201, "BLUETOOTH_HCI_H4_WITH_PHDR"),
    (215, "IEEE802_15_4_NONASK_PHY"),
    (220, "USB_LINUX_MMAPPED"),
    (227, "CAN_SOCKETCAN"),
    (228, "IPV4"),
    (229, "IPV6"),
    (230, "IEEE802_15_4_NOFCS"),
    (239, "NFLOG"),
    (249, "USBPCAP"),
    (251, "BLUETOOTH_LE_LL"),
    (253, "NETLINK"),
    (254, "BLUETOOTH_LINUX_MONITOR"),
    (256, "BLUETOOTH_LE_LL_WITH_PHDR"),
    (276, "LINUX_SLL2"),
    (279, "ETW"),
    (294, "IEEE802_15_4_TAP"),
];

/// A link type as a person reads it: `LINKTYPE_BLUETOOTH_HCI_H4 (187)`, or `link type 300`
/// (`LINKTYPE_USER5 (152)` for the private range).
pub fn linktype_label(value: i32) -> String {
    if let Some((_, name)) = LINKTYPE_NAMES.iter().find(|(v, _)| *v == value) {
        return format!("LINKTYPE_{name} ({value})");
    }
    if (147..=162).contains(&value) {
        return format!("LINKTYPE_USER{} ({value})", value - 147);
    }
    format!("link type {value}")
}

/// What a read returned: a packet, nothing yet (live timeout), or the end of the source.
pub enum Next<'a> {
    Packet(Packet<'a>),
    Idle,
    End,
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
    use super::linktype_label;

    #[test]
    fn link_types_are_named_for_people() {
        assert_eq!(linktype_label(187), "LINKTYPE_BLUETOOTH_HCI_H4 (187)");
        assert_eq!(linktype_label(127), "LINKTYPE_IEEE802_11_RADIOTAP (127)");
        assert_eq!(linktype_label(150), "LINKTYPE_USER3 (150)");
        assert_eq!(linktype_label(4000), "link type 4000");
    }
}
