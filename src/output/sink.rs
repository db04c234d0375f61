//! Where formatted lines go: standard output, a rotating file, a Unix socket, syslog.
//!
//! Every sink blocks when its reader is slow (back-pressure: the capture buffer absorbs it and
//! the kernel counts what it drops); nothing is queued in memory beyond one write buffer. A
//! socket whose reader is gone, or stalls longer than [`SOCKET_WRITE_TIMEOUT`], is
//! disconnected; its events are counted as dropped and it is reconnected at most once a second.
//! Files and standard output fail loudly instead.

use crate::event::{Event, Severity};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BUFFER: usize = 256 * 1024;
const RECONNECT_EVERY: Duration = Duration::from_secs(1);
/// How long a socket reader may stall us before its connection is dropped (and events are
/// counted as dropped until it is back): long enough for a busy reader, short enough that the
/// capture buffer survives it.
pub const SOCKET_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Outcome of handing one line to a sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    Written,
    /// The reader is away: the event was counted as dropped.
    Dropped,
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

/// Connects lazily and again after the reader went away; counts what it could not deliver.
struct Reconnecting<C> {
    conn: Option<C>,
    retry_at: Option<Instant>,
    warned: bool,
}

impl<C> Reconnecting<C> {
    fn new() -> Self {
        Reconnecting {
            conn: None,
            retry_at: None,
            warned: false,
        }
    }

    fn get(&mut self, connect: impl FnOnce() -> io::Result<C>, what: &str) -> Option<&mut C> {
        if self.conn.is_none() && self.retry_at.map_or(true, |t| Instant::now() >= t) {
            match connect() {
                Ok(c) => {
                    if self.warned {
                        tracing::warn!("{what}: connected again");
                    }
                    self.conn = Some(c);
                    self.retry_at = None;
                    self.warned = false;
                }
                Err(e) => self.failed(what, &e),
            }
        }
        self.conn.as_mut()
    }

    fn failed(&mut self, what: &str, e: &io::Error) {
        self.conn = None;
        self.retry_at = Some(Instant::now() + RECONNECT_EVERY);
        if !self.warned {
            tracing::warn!("{what}: {e}; counting dropped events until it is back");
            self.warned = true;
        }
    }
}

/// A Unix socket: `stream` (one line per event) or `datagram` (one event per datagram, no
/// newline), like Suricata's `unix_stream` / `unix_dgram` EVE outputs.
pub struct UnixSink {
    path: PathBuf,
    stream: bool,
    s: Reconnecting<UnixStream>,
    d: Reconnecting<UnixDatagram>,
}

impl UnixSink {
    pub fn new(path: &Path, stream: bool) -> Self {
        UnixSink {
            path: path.to_path_buf(),
            stream,
            s: Reconnecting::new(),
            d: Reconnecting::new(),
        }
    }
}

impl Sink for UnixSink {
    fn send(&mut self, _: &Event, line: &[u8]) -> io::Result<Sent> {
        let what = self.describe();
        let path = &self.path;
        if self.stream {
            let connect = || {
                let s = UnixStream::connect(path)?;
                s.set_write_timeout(Some(SOCKET_WRITE_TIMEOUT))?;
                Ok(s)
            };
            let Some(c) = self.s.get(connect, &what) else {
                return Ok(Sent::Dropped);
            };
            match c.write_all(line) {
                Ok(()) => Ok(Sent::Written),
                Err(e) => {
                    self.s.failed(&what, &e);
                    Ok(Sent::Dropped)
                }
            }
        } else {
            let Some(c) = self.d.get(
                || {
                    let d = UnixDatagram::unbound()?;
                    d.connect(path)?;
                    d.set_write_timeout(Some(SOCKET_WRITE_TIMEOUT))?;
                    Ok(d)
                },
                &what,
            ) else {
                return Ok(Sent::Dropped);
            };
            match c.send(line.strip_suffix(b"\n").unwrap_or(line)) {
                Ok(_) => Ok(Sent::Written),
                Err(e) => {
                    self.d.failed(&what, &e);
                    Ok(Sent::Dropped)
                }
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "unix-{}:{}",
            if self.stream { "stream" } else { "dgram" },
            self.path.display()
        )
    }
}

/// Where syslog messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyslogTarget {
    /// A local datagram socket such as /dev/log.
    Unix(PathBuf),
    /// A syslog server over UDP (RFC 5426).
    Udp(SocketAddr),
}

/// RFC 5424 messages, one per event: `<PRI>1 TIMESTAMP HOST watch3232 PID EVENT_TYPE - MSG`,
/// the formatted event as MSG.
pub struct SyslogSink {
    target: SyslogTarget,
    facility: u8,
    hostname: String,
    pid: u32,
    unix: Reconnecting<UnixDatagram>,
    udp: Reconnecting<UdpSocket>,
    buf: Vec<u8>,
}

/// The syslog severity of an event: info → 6 informational, low → 5 notice, medium → 4
/// warning, high → 3 error, critical → 2 critical.
pub fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Info => 6,
        Severity::Low => 5,
        Severity::Medium => 4,
        Severity::High => 3,
        Severity::Critical => 2,
    }
}

/// Facility names of RFC 5424 §6.2.1 that a sensor would use.
pub fn syslog_facility(name: &str) -> Option<u8> {
    Some(match name {
        "user" => 1,
        "daemon" => 3,
        "auth" => 4,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    })
}

impl SyslogSink {
    pub fn new(target: SyslogTarget, facility: u8, hostname: Option<&str>) -> Self {
        let hostname = hostname
            .filter(|h| !h.is_empty())
            .map(|h| {
                h.chars()
                    .filter(|c| c.is_ascii_graphic())
                    .take(255)
                    .collect()
            })
            .unwrap_or_else(|| "-".to_string());
        SyslogSink {
            target,
            facility,
            hostname,
            pid: std::process::id(),
            unix: Reconnecting::new(),
            udp: Reconnecting::new(),
            buf: Vec::with_capacity(1024),
        }
    }

    /// The RFC 5424 frame of one event around `msg`.
    pub fn frame(&self, event: &Event, msg: &[u8], out: &mut Vec<u8>) {
        let pri = u16::from(self.facility) * 8 + u16::from(syslog_severity(event.severity));
        let _ = write!(
            out,
            "<{pri}>1 {} {} watch3232 {} {} - ",
            event.timestamp, self.hostname, self.pid, event.event_type
        );
        out.extend_from_slice(msg.strip_suffix(b"\n").unwrap_or(msg));
    }
}

impl Sink for SyslogSink {
    fn send(&mut self, event: &Event, line: &[u8]) -> io::Result<Sent> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        self.frame(event, line, &mut buf);
        let what = self.describe();
        let result = match &self.target {
            SyslogTarget::Unix(path) => {
                let c = self.unix.get(
                    || {
                        let d = UnixDatagram::unbound()?;
                        d.connect(path)?;
                        d.set_write_timeout(Some(SOCKET_WRITE_TIMEOUT))?;
                        Ok(d)
                    },
                    &what,
                );
                match c.map(|c| c.send(&buf)) {
                    Some(Ok(_)) => Sent::Written,
                    Some(Err(e)) => {
                        self.unix.failed(&what, &e);
                        Sent::Dropped
                    }
                    None => Sent::Dropped,
                }
            }
            SyslogTarget::Udp(addr) => {
                let addr = *addr;
                let c = self.udp.get(
                    || {
                        let bind: SocketAddr = if addr.is_ipv4() {
                            ([0, 0, 0, 0], 0).into()
                        } else {
                            ([0u16; 8], 0).into()
                        };
                        let s = UdpSocket::bind(bind)?;
                        s.connect(addr)?;
                        Ok(s)
                    },
                    &what,
                );
                match c.map(|c| c.send(&buf)) {
                    Some(Ok(_)) => Sent::Written,
                    Some(Err(e)) => {
                        self.udp.failed(&what, &e);
                        Sent::Dropped
                    }
                    None => Sent::Dropped,
                }
            }
        };
        self.buf = buf;
        Ok(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn describe(&self) -> String {
        match &self.target {
            SyslogTarget::Unix(p) => format!("syslog:{}", p.display()),
            SyslogTarget::Udp(a) => format!("syslog:udp:{a}"),
        }
    }
}
