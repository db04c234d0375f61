//! Where formatted lines go: standard output, a rotating file ([`FileSink`]), a Unix socket
//! ([`UnixSink`]), syslog ([`SyslogSink`]), Redis ([`RedisSink`]).
//!
//! Every sink blocks when its reader is slow (back-pressure: the capture buffer absorbs it and
//! the kernel counts what it drops). Files and standard output fail loudly. Sockets, syslog and
//! Redis receivers may come and go: a receiver that is gone, or stalls longer than
//! [`SOCKET_WRITE_TIMEOUT`], is disconnected and retried at most once a second, and its events
//! wait meanwhile in a bounded backlog ([`reliable`]); what overflows it is counted as dropped.

mod redis;
pub mod reliable;
mod syslog;
mod unix;

pub use self::redis::{RedisMode, RedisSink, RedisTarget};
pub use reliable::{Delivery, DEFAULT_BACKLOG};
pub use syslog::{
    syslog_facility, syslog_severity, tls_trusting, SyslogFormat, SyslogLink, SyslogSink,
    SyslogTarget,
};
pub use unix::UnixSink;

use crate::event::Event;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BUFFER: usize = 256 * 1024;
/// How long a socket reader may stall us before its connection is dropped (and events wait in
/// the backlog until it is back): long enough for a busy reader, short enough that the capture
/// buffer survives it.
pub const SOCKET_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Outcome of handing one line to a sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    Written,
    /// Queued in the sink's backlog until its receiver takes it (the sink counts it).
    Queued,
    /// Standard output was closed by its reader (`| head`): stop quietly.
    Closed,
}

pub trait Sink: Send {
    /// Writes one line (`line` ends with `\n`). `Err` is fatal for the run.
    fn send(&mut self, event: &Event, line: &[u8]) -> io::Result<Sent>;
    fn flush(&mut self) -> io::Result<()>;
    /// Reopens files (after SIGHUP, e.g. from logrotate); a no-op for other sinks.
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Rotation on a timer even when no event arrives.
    fn poll(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Whether the reader closed this output for good (standard output only).
    fn is_closed(&self) -> bool {
        false
    }
    fn describe(&self) -> String;
    /// What a sink with a backlog delivered, queued and dropped; `None` for sinks whose every
    /// write either succeeds or fails the run (files, standard output).
    fn delivery(&self) -> Option<Delivery> {
        None
    }
    /// End of run: delivers what is still queued, waiting for the receiver until `deadline`;
    /// what is left then is counted as dropped.
    fn drain(&mut self, _deadline: Instant) {}
}

/// Standard output, buffered; a closed pipe ends writing quietly.
pub struct Stdout {
    out: BufWriter<io::Stdout>,
    closed: bool,
}

impl Stdout {
    pub fn new() -> Self {
        Stdout {
            out: BufWriter::with_capacity(BUFFER, io::stdout()),
            closed: false,
        }
    }

    fn check(&mut self, r: io::Result<()>) -> io::Result<Sent> {
        match r {
            Ok(()) => Ok(Sent::Written),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(Sent::Closed)
            }
            Err(e) => Err(e),
        }
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for Stdout {
    fn send(&mut self, _: &Event, line: &[u8]) -> io::Result<Sent> {
        if self.closed {
            return Ok(Sent::Closed);
        }
        let r = self.out.write_all(line);
        self.check(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.out.flush();
        self.check(r).map(|_| ())
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn describe(&self) -> String {
        "standard output".into()
    }
}

/// How a file output rotates.
#[derive(Clone, Debug, Default)]
pub struct Rotation {
    /// Rotate before a line would take the file past this many bytes.
    pub size: Option<u64>,
    /// Rotate when the file has been open this long (wall time).
    pub interval: Option<Duration>,
}

/// A file, optionally rotated by size or age into `PATH.1`, `PATH.2`, … (the highest number
/// is the newest; nothing is ever renamed twice), and reopened on SIGHUP.
pub struct FileSink {
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
    opened: Instant,
    rotation: Rotation,
    /// Rotation needs a regular file (not /dev/null, /dev/full or a FIFO).
    regular: bool,
    next_index: u64,
    pub rotations: u64,
}

impl FileSink {
    /// Opens `path`; `append` keeps what is there (services), otherwise it is truncated.
    pub fn open(path: &Path, append: bool, rotation: Rotation) -> io::Result<Self> {
        let file = open_file(path, append)?;
        let meta = file.metadata()?;
        let regular = meta.is_file();
        let next_index = if regular {
            highest_rotated(path)? + 1
        } else {
            1
        };
        Ok(FileSink {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(BUFFER, file),
            size: if regular { meta.len() } else { 0 },
            opened: Instant::now(),
            rotation,
            regular,
            next_index,
            rotations: 0,
        })
    }

    /// Closes the current file as `PATH.N` and starts a new, empty `PATH`.
    pub fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        let target = rotated_name(&self.path, self.next_index);
        match fs::rename(&self.path, &target) {
            Ok(()) => {
                self.next_index += 1;
                self.rotations += 1;
            }
            // Moved away by logrotate before its SIGHUP arrived: just start a new file.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let file = open_file(&self.path, false)?;
        self.out = BufWriter::with_capacity(BUFFER, file);
        self.size = 0;
        self.opened = Instant::now();
        tracing::debug!(file = %target.display(), "rotated");
        Ok(())
    }

    fn due_by_age(&self) -> bool {
        self.regular
            && self.size > 0
            && self
                .rotation
                .interval
                .is_some_and(|i| self.opened.elapsed() >= i)
    }
}

fn open_file(path: &Path, append: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true);
    if append {
        o.append(true);
    } else {
        o.write(true).truncate(true);
    }
    o.open(path)
}

fn rotated_name(path: &Path, n: u64) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// The highest N of existing `PATH.N` files (0 if none), so a restart never overwrites one.
fn highest_rotated(path: &Path) -> io::Result<u64> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(0);
    };
    let prefix = format!("{name}.");
    let mut highest = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(n) = entry
            .file_name()
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|rest| rest.parse::<u64>().ok())
        {
            highest = highest.max(n);
        }
    }
    Ok(highest)
}

impl Sink for FileSink {
    fn send(&mut self, _: &Event, line: &[u8]) -> io::Result<Sent> {
        if self.regular {
            let too_big = self
                .rotation
                .size
                .is_some_and(|max| self.size > 0 && self.size + line.len() as u64 > max);
            if too_big || self.due_by_age() {
                self.rotate()?;
            }
        }
        self.out.write_all(line)?;
        self.size += line.len() as u64;
        Ok(Sent::Written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.out.flush()?;
        let file = open_file(&self.path, true)?;
        let meta = file.metadata()?;
        self.regular = meta.is_file();
        self.size = meta.len();
        self.opened = Instant::now();
        self.out = BufWriter::with_capacity(BUFFER, file);
        tracing::debug!(file = %self.path.display(), "reopened");
        Ok(())
    }

    fn poll(&mut self) -> io::Result<()> {
        if self.due_by_age() {
            self.rotate()?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}
