//! Unix socket outputs, like Suricata's `unix_stream` / `unix_dgram` EVE outputs.

use super::reliable::{Link, Reliable};
use super::SOCKET_WRITE_TIMEOUT;
use crate::event::Event;
use std::io::{self, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};

/// A Unix socket: `stream` (one line per event) or `datagram` (one event per datagram, no
/// newline), with the backlog of [`Reliable`].
pub type UnixSink = Reliable<UnixLink>;

impl UnixSink {
    pub fn open(path: &Path, stream: bool, backlog: usize) -> Self {
        Reliable::new(UnixLink::new(path, stream), backlog, 1)
    }
}

pub struct UnixLink {
    path: PathBuf,
    stream: bool,
    conn: Option<Conn>,
    /// One write for a batch of stream records.
    buf: Vec<u8>,
}

enum Conn {
    Stream(UnixStream),
    Datagram(UnixDatagram),
}

impl UnixLink {
    fn new(path: &Path, stream: bool) -> Self {
        UnixLink {
            path: path.to_path_buf(),
            stream,
            conn: None,
            buf: Vec::new(),
        }
    }
}

/// A datagram socket connected to `path` (also the way to /dev/log).
pub(super) fn connect_datagram(path: &Path) -> io::Result<UnixDatagram> {
    let d = UnixDatagram::unbound()?;
    d.connect(path)?;
    d.set_write_timeout(Some(SOCKET_WRITE_TIMEOUT))?;
    Ok(d)
}

/// Sends each record as one datagram, without its trailing newline.
pub(super) fn send_datagrams(d: &UnixDatagram, records: &[Vec<u8>]) -> io::Result<()> {
    for r in records {
        d.send(r.strip_suffix(b"\n").unwrap_or(r))?;
    }
    Ok(())
}

impl Link for UnixLink {
    fn connect(&mut self) -> io::Result<()> {
        self.conn = Some(if self.stream {
            let s = UnixStream::connect(&self.path)?;
            s.set_write_timeout(Some(SOCKET_WRITE_TIMEOUT))?;
            Conn::Stream(s)
        } else {
            Conn::Datagram(connect_datagram(&self.path)?)
        });
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    fn frame(&self, _: &Event, line: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(line);
    }

    fn deliver(&mut self, records: &[Vec<u8>]) -> io::Result<()> {
        match &mut self.conn {
            Some(Conn::Stream(s)) => {
                self.buf.clear();
                for r in records {
                    self.buf.extend_from_slice(r);
                }
                s.write_all(&self.buf)
            }
            Some(Conn::Datagram(d)) => send_datagrams(d, records),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    fn disconnect(&mut self) {
        self.conn = None;
    }

    fn describe(&self) -> String {
        format!(
            "unix-{}:{}",
            if self.stream { "stream" } else { "dgram" },
            self.path.display()
        )
    }
}
