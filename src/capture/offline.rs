//! Offline capture files (pcap and pcapng, any byte order, micro- or nanosecond stamps), read
//! through libpcap; `-` reads a capture from standard input.

use super::{describe_open_error, CaptureError, LinkType, Next, Packet};
use pcap::{Capture, Offline, Precision};

pub struct OfflineSource {
    name: String,
    capture: Capture<Offline>,
    link: LinkType,
    read: u64,
}

impl OfflineSource {
    /// Opens `path` (or standard input for `-`) and checks that its link type is one we decode.
    pub fn open(path: &str) -> Result<Self, CaptureError> {
        let name = if path == "-" {
            "<stdin>".to_string()
        } else {
            path.to_string()
        };
        let opened = if path == "-" {
            open_stdin()
        } else {
            Capture::from_file_with_precision(path, Precision::Micro)
        };
        let capture = opened.map_err(|e| CaptureError::Open {
            name: name.clone(),
            reason: describe_open_error(&e),
        })?;
        let linktype = capture.get_datalink().0;
        let link = LinkType::from_linktype(linktype).ok_or(CaptureError::UnsupportedLink {
            name: name.clone(),
            linktype,
        })?;
        Ok(OfflineSource {
            name,
            capture,
            link,
            read: 0,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The next packet, or `End`. A file cut off mid-record yields `Truncated` after every
    /// complete packet before the cut has been returned.
    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        match self.capture.next_packet() {
            Ok(p) => {
                self.read += 1;
                Ok(Next::Packet(Packet::from_libpcap(&p, self.link, self.read)))
            }
            Err(pcap::Error::NoMorePackets) => Ok(Next::End),
            Err(e) => {
                let reason = e.to_string();
                if reason.contains("truncated") {
                    Err(CaptureError::Truncated {
                        name: self.name.clone(),
                        after: self.read,
                        reason,
                    })
                } else {
                    Err(CaptureError::Read {
                        name: self.name.clone(),
                        after: self.read,
                        reason,
                    })
                }
            }
        }
    }
}

#[cfg(unix)]
fn open_stdin() -> Result<Capture<Offline>, pcap::Error> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: libpcap takes the descriptor over with fdopen(); standard input stays open for the
    // whole process, and nothing else in watch3232 reads from it.
    unsafe { Capture::from_raw_fd_with_precision(std::io::stdin().as_raw_fd(), Precision::Micro) }
}

#[cfg(not(unix))]
fn open_stdin() -> Result<Capture<Offline>, pcap::Error> {
    Err(pcap::Error::PcapError(
        "reading a capture from standard input needs a Unix system".into(),
    ))
}
