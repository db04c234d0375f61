//! Outputs: each event is formatted (EVE, ECS or text) and written to every configured sink
//! (standard output, rotating files, Unix sockets, syslog, Redis), several at once.

mod eve;
pub mod filter;
pub mod format;
mod json;
pub mod schema;
pub mod sink;
pub mod text;

pub use format::{Format, Sensor};
pub use sink::{
    Delivery, FileSink, RedisSink, RedisTarget, Rotation, Sent, Sink, Stdout, SyslogFormat,
    SyslogSink, SyslogTarget, UnixSink,
};

use crate::event::stats::OutputDelivery;
use crate::event::Event;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// How long the end of a run waits for a socket, syslog or Redis receiver that is away, to
/// deliver what its output queued.
pub const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// One `-o/--output` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputSpec {
    /// `-` or `stdout`.
    Stdout,
    /// `PATH` or `file:PATH`.
    File(PathBuf),
    /// `unix-stream:PATH`.
    UnixStream(PathBuf),
    /// `unix-dgram:PATH`.
    UnixDgram(PathBuf),
    /// `syslog` (= /dev/log), `syslog:PATH`, `syslog:udp:HOST:PORT`, `syslog:tcp:HOST:PORT`,
    /// `syslog:tls:HOST:PORT`.
    Syslog(SyslogTarget),
    /// `redis://HOST:PORT/KEY?mode=…`.
    Redis(RedisTarget),
}

impl std::str::FromStr for OutputSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let nonempty = |p: &str, what: &str| {
            if p.is_empty() {
                Err(format!(
                    "`{what}` needs a path, e.g. {what}/run/watch3232.sock"
                ))
            } else {
                Ok(PathBuf::from(p))
            }
        };
        Ok(match s {
            "-" | "stdout" => OutputSpec::Stdout,
            "syslog" => OutputSpec::Syslog(SyslogTarget::Unix("/dev/log".into())),
            _ => {
                if let Some(p) = s.strip_prefix("file:") {
                    OutputSpec::File(nonempty(p, "file:")?)
                } else if let Some(p) = s.strip_prefix("unix-stream:") {
                    OutputSpec::UnixStream(nonempty(p, "unix-stream:")?)
                } else if let Some(p) = s.strip_prefix("unix-dgram:") {
                    OutputSpec::UnixDgram(nonempty(p, "unix-dgram:")?)
                } else if let Some(a) = s.strip_prefix("syslog:udp:") {
                    let addr = std::net::ToSocketAddrs::to_socket_addrs(a)
                        .map_err(|e| format!("syslog address `{a}`: {e} (expected HOST:PORT)"))?
                        .next()
                        .ok_or_else(|| format!("syslog address `{a}` resolves to nothing"))?;
                    OutputSpec::Syslog(SyslogTarget::Udp(addr))
                } else if let Some(a) = s.strip_prefix("syslog:tcp:") {
                    OutputSpec::Syslog(SyslogTarget::Tcp(host_port(a)?))
                } else if let Some(a) = s.strip_prefix("syslog:tls:") {
                    OutputSpec::Syslog(SyslogTarget::Tls(host_port(a)?))
                } else if s.starts_with("redis://") || s.starts_with("rediss://") {
                    OutputSpec::Redis(RedisTarget::parse(s)?)
                } else if let Some(p) = s.strip_prefix("syslog:") {
                    OutputSpec::Syslog(SyslogTarget::Unix(nonempty(p, "syslog:")?))
                } else {
                    OutputSpec::File(PathBuf::from(s))
                }
            }
        })
    }
}

/// `HOST:PORT`, checked for its form (resolved at each connection).
fn host_port(a: &str) -> Result<String, String> {
    match a.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(a.to_string()),
        _ => Err(format!("syslog address `{a}`: expected HOST:PORT")),
    }
}

/// Counters of what the outputs did, reported in `stats` events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputCounters {
    /// Events handed to the outputs.
    pub events: u64,
    /// Event copies a socket, syslog or Redis output could not deliver.
    pub dropped: u64,
    /// SIGHUPs handled (files reopened).
    pub reopens: u64,
    /// Files a SIGHUP could not reopen.
    pub reopen_failures: u64,
}

struct Slot {
    format: Format,
    sink: Box<dyn Sink>,
    stdout: bool,
}

/// Every configured sink with its format.
pub struct Output {
    slots: Vec<Slot>,
    sensor: Sensor,
    hup: Arc<AtomicBool>,
    line: Vec<u8>,
    counters: OutputCounters,
    /// `read --output-errors fail`: an event that cannot be delivered ends the run.
    fail_on_drop: bool,
    text_style: text::TextStyle,
}

impl Output {
    pub fn new(sensor: Sensor) -> Self {
        Output {
            slots: Vec::new(),
            sensor,
            hup: Arc::new(AtomicBool::new(false)),
            line: Vec::with_capacity(1024),
            counters: OutputCounters::default(),
            fail_on_drop: false,
            text_style: text::TextStyle::default(),
        }
    }

    /// Makes an undelivered event an error (`read --output-errors fail`) instead of a count.
    pub fn fail_on_drop(&mut self, fail: bool) {
        self.fail_on_drop = fail;
    }

    /// How the `text` view looks on these outputs (colour).
    pub fn set_text_style(&mut self, style: text::TextStyle) {
        self.text_style = style;
    }

    /// Whether every output writes the `text` view (then a read may reorder events by time).
    pub fn all_text(&self) -> bool {
        !self.slots.is_empty() && self.slots.iter().all(|s| s.format == Format::Text)
    }

    /// Adds a sink writing `format`.
    pub fn add(&mut self, format: Format, sink: Box<dyn Sink>, is_stdout: bool) {
        self.slots.push(Slot {
            format,
            sink,
            stdout: is_stdout,
        });
    }

    /// The flag a SIGHUP handler sets; files are reopened before the next write.
    pub fn hup_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.hup)
    }

    pub fn counters(&self) -> OutputCounters {
        OutputCounters {
            dropped: self
                .slots
                .iter()
                .filter_map(|s| s.sink.delivery())
                .map(|d| d.dropped)
                .sum(),
            ..self.counters
        }
    }

    /// What each socket, syslog and Redis output delivered, queued and dropped (files and
    /// standard output are left out: their write errors end the run).
    pub fn deliveries(&self) -> Vec<OutputDelivery> {
        self.slots
            .iter()
            .filter_map(|s| {
                s.sink.delivery().map(|d| OutputDelivery {
                    output: s.sink.describe(),
                    written: d.written,
                    dropped: d.dropped,
                    retried: d.retried,
                    buffered: d.buffered,
                })
            })
            .collect()
    }

    /// End of run: each output delivers what it still queues, waiting for its receiver until
    /// `deadline`; what is left is counted as dropped.
    pub fn drain(&mut self, deadline: Instant) {
        for slot in &mut self.slots {
            slot.sink.drain(deadline);
        }
    }

    /// With [`Output::fail_on_drop`]: the first output that dropped an event, as an error.
    fn check_dropped(&self) -> io::Result<()> {
        if !self.fail_on_drop {
            return Ok(());
        }
        for slot in &self.slots {
            if let Some(d) = slot.sink.delivery().filter(|d| d.dropped > 0) {
                return Err(named(
                    &*slot.sink,
                    io::Error::other(format!(
                        "{} events could not be delivered (the receiver is away; \
                         --output-errors warn counts them instead)",
                        d.dropped
                    )),
                ));
            }
        }
        Ok(())
    }

    /// Writes `event` to every sink. An `Err` names the sink and is fatal.
    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        self.check_hup()?;
        self.counters.events += 1;
        let mut rendered: Option<Format> = None;
        for slot in &mut self.slots {
            if rendered != Some(slot.format) {
                self.line.clear();
                format::render_styled(
                    slot.format,
                    event,
                    &self.sensor,
                    self.text_style,
                    &mut self.line,
                )?;
                self.line.push(b'\n');
                rendered = Some(slot.format);
            }
            slot.sink
                .send(event, &self.line)
                .map_err(|e| named(&*slot.sink, e))?;
        }
        self.check_dropped()
    }

    /// Flushes buffers, reopens after SIGHUP and rotates files that are due.
    pub fn flush(&mut self) -> io::Result<()> {
        self.check_hup()?;
        for slot in &mut self.slots {
            slot.sink.poll().map_err(|e| named(&*slot.sink, e))?;
            slot.sink.flush().map_err(|e| named(&*slot.sink, e))?;
        }
        self.check_dropped()
    }

    fn check_hup(&mut self) -> io::Result<()> {
        if self.hup.load(Ordering::Relaxed) && self.hup.swap(false, Ordering::Relaxed) {
            for slot in &mut self.slots {
                // Not fatal (e.g. a directory the user privileges were dropped to cannot write):
                // the sink goes on with the file it had.
                if let Err(e) = slot.sink.reopen() {
                    tracing::warn!(
                        "cannot reopen {} after SIGHUP: {e}; still writing to the file opened before",
                        slot.sink.describe()
                    );
                    self.counters.reopen_failures += 1;
                }
            }
            self.counters.reopens += 1;
        }
        Ok(())
    }

    /// Whether nothing is left to write to: the only output was standard output and its reader
    /// has gone (`| head`).
    pub fn is_closed(&self) -> bool {
        !self.slots.is_empty() && self.slots.iter().all(|s| s.stdout && s.sink.is_closed())
    }
}

fn named(sink: &dyn Sink, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", sink.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_specs() {
        let p = |s: &str| s.parse::<OutputSpec>();
        assert_eq!(p("-"), Ok(OutputSpec::Stdout));
        assert_eq!(p("stdout"), Ok(OutputSpec::Stdout));
        assert_eq!(p("eve.json"), Ok(OutputSpec::File("eve.json".into())));
        assert_eq!(p("file:stdout"), Ok(OutputSpec::File("stdout".into())));
        assert_eq!(
            p("unix-stream:/run/a.sock"),
            Ok(OutputSpec::UnixStream("/run/a.sock".into()))
        );
        assert_eq!(
            p("unix-dgram:/run/b.sock"),
            Ok(OutputSpec::UnixDgram("/run/b.sock".into()))
        );
        assert_eq!(
            p("syslog"),
            Ok(OutputSpec::Syslog(SyslogTarget::Unix("/dev/log".into())))
        );
        assert_eq!(
            p("syslog:/x/log"),
            Ok(OutputSpec::Syslog(SyslogTarget::Unix("/x/log".into())))
        );
        assert_eq!(
            p("syslog:udp:127.0.0.1:514"),
            Ok(OutputSpec::Syslog(SyslogTarget::Udp(
                ([127, 0, 0, 1], 514).into()
            )))
        );
        assert!(p("syslog:udp:127.0.0.1").is_err());
        assert_eq!(
            p("syslog:tcp:logs.example:6514"),
            Ok(OutputSpec::Syslog(SyslogTarget::Tcp(
                "logs.example:6514".into()
            )))
        );
        assert!(p("syslog:tcp:logs.example").is_err());
        assert_eq!(
            p("redis://127.0.0.1:6379/eve?mode=stream").map(|s| matches!(s, OutputSpec::Redis(_))),
            Ok(true)
        );
        assert!(p("unix-dgram:").is_err());
    }

    #[test]
    fn rotation_numbers_continue_after_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eve.json");
        for name in ["eve.json.1", "eve.json.7", "eve.json.x", "other.json.9"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let rotation = Rotation {
            size: Some(10),
            interval: None,
        };
        let mut sink = FileSink::open(&path, false, rotation).unwrap();
        let event = crate::event::Event::global(
            crate::time::Timestamp(0),
            crate::event::Origin::default(),
            crate::event::stats::StatsKind::Summary,
            crate::event::Severity::Info,
            crate::event::Body::Stats(Box::default()),
        );
        for _ in 0..3 {
            sink.send(&event, b"0123456789\n").unwrap();
        }
        sink.flush().unwrap();
        assert_eq!(sink.rotations, 2);
        assert_eq!(
            std::fs::read(dir.path().join("eve.json.8")).unwrap(),
            b"0123456789\n"
        );
        assert_eq!(
            std::fs::read(dir.path().join("eve.json.9")).unwrap(),
            b"0123456789\n"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"0123456789\n");
    }
}
