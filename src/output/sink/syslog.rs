//! Syslog outputs, one message per event with the formatted event as MSG:
//! - to a local socket (`/dev/log`): RFC 3164-style `<PRI>Mmm dd hh:mm:ss watch3232[PID]: MSG`,
//!   the form syslog(3) sends and rsyslog's imuxsock and journald parse, unless RFC 5424 is
//!   asked for;
//! - over TCP: RFC 5424 with octet-counting framing (RFC 6587 §3.4.1), `LEN SP MSG`, and the
//!   same over TLS (RFC 5425), the server checked against the CAs of a PEM file;
//! - over UDP (RFC 5426): RFC 5424, one datagram each; lossy, nothing tells us what was lost.

use super::reliable::{Link, Reliable};
use super::unix::{connect_datagram, send_datagrams};
use super::SOCKET_WRITE_TIMEOUT;
use crate::event::{Event, Severity};
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The APP-NAME (RFC 5424) or TAG (RFC 3164) of every message.
pub const APP_NAME: &str = "watch3232";
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Where syslog messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyslogTarget {
    /// A local datagram socket such as /dev/log.
    Unix(PathBuf),
    /// A syslog server over UDP (RFC 5426).
    Udp(SocketAddr),
    /// A syslog server over TCP (RFC 6587 octet counting), `HOST:PORT` resolved at each
    /// connection.
    Tcp(String),
    /// The same over TLS (RFC 5425), `HOST:PORT`; HOST is the name the certificate must carry.
    Tls(String),
}

/// The message format (`--syslog-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum SyslogFormat {
    /// `<PRI>Mmm dd hh:mm:ss watch3232[PID]: MSG` (BSD syslog, what syslog(3) writes).
    Rfc3164,
    /// `<PRI>1 TIMESTAMP HOSTNAME watch3232 PID EVENT_TYPE - MSG`.
    Rfc5424,
}

impl SyslogFormat {
    /// The format a target gets unless one is asked for: RFC 3164 locally, RFC 5424 over the
    /// network.
    pub fn default_for(target: &SyslogTarget) -> Self {
        match target {
            SyslogTarget::Unix(_) => SyslogFormat::Rfc3164,
            SyslogTarget::Udp(_) | SyslogTarget::Tcp(_) | SyslogTarget::Tls(_) => {
                SyslogFormat::Rfc5424
            }
        }
    }
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

/// One message per event, with the backlog of [`Reliable`] (UDP never notices a loss).
pub type SyslogSink = Reliable<SyslogLink>;

impl SyslogSink {
    pub fn open(
        target: SyslogTarget,
        format: SyslogFormat,
        facility: u8,
        hostname: Option<&str>,
        backlog: usize,
    ) -> Self {
        Reliable::new(
            SyslogLink::new(target, format, facility, hostname),
            backlog,
            1,
        )
    }
}

pub struct SyslogLink {
    target: SyslogTarget,
    format: SyslogFormat,
    facility: u8,
    hostname: String,
    pid: u32,
    conn: Option<Conn>,
    buf: Vec<u8>,
    /// `syslog:tls:`: who we trust ([`SyslogLink::trust`]).
    tls: Option<Arc<rustls::ClientConfig>>,
}

enum Conn {
    Unix(UnixDatagram),
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

/// A TLS client configuration trusting the CA certificates of the PEM file `ca_file`.
pub fn tls_trusting(ca_file: &Path) -> io::Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let what = |e: &dyn std::fmt::Display| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", ca_file.display()),
        )
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| what(&e))? {
        roots
            .add(cert.map_err(|e| what(&e))?)
            .map_err(|e| what(&e))?;
    }
    if roots.is_empty() {
        return Err(what(&"no PEM certificate in it"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| what(&e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A TCP connection to the first address of `host_port` that answers.
fn connect_tcp(host_port: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::other(format!("`{host_port}` resolves to nothing"));
    for addr in host_port.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                s.set_write_timeout(Some(SOCKET_WRITE_TIMEOUT))?;
                s.set_read_timeout(Some(SOCKET_WRITE_TIMEOUT))?;
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl SyslogLink {
    pub fn new(
        target: SyslogTarget,
        format: SyslogFormat,
        facility: u8,
        hostname: Option<&str>,
    ) -> Self {
        let hostname = hostname
            .filter(|h| !h.is_empty())
            .map(|h| {
                h.chars()
                    .filter(|c| c.is_ascii_graphic())
                    .take(255)
                    .collect()
            })
            .unwrap_or_else(|| "-".to_string());
        SyslogLink {
            target,
            format,
            facility,
            hostname,
            pid: std::process::id(),
            conn: None,
            buf: Vec::new(),
            tls: None,
        }
    }

    /// `syslog:tls:`: the CAs the server's certificate must chain to.
    pub fn trust(&mut self, config: Arc<rustls::ClientConfig>) {
        self.tls = Some(config);
    }

    /// One event's syslog message around `msg` (its trailing newline left out), without the
    /// transport's framing.
    pub fn message(&self, event: &Event, msg: &[u8], out: &mut Vec<u8>) {
        let pri = u16::from(self.facility) * 8 + u16::from(syslog_severity(event.severity));
        let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
        match self.format {
            SyslogFormat::Rfc5424 => {
                let _ = write!(
                    out,
                    "<{pri}>1 {} {} {APP_NAME} {} {} - ",
                    event.timestamp, self.hostname, self.pid, event.event_type
                );
            }
            SyslogFormat::Rfc3164 => {
                // The time of sending, as syslog(3) stamps it (receivers keep the event's own
                // time in MSG); UTC.
                let _ = write!(
                    out,
                    "<{pri}>{} {APP_NAME}[{}]: ",
                    bsd_timestamp(&crate::time::wall_clock().to_string()),
                    self.pid
                );
            }
        }
        out.extend_from_slice(msg);
    }
}

/// `Mmm dd hh:mm:ss` (day padded with a space) from an RFC 3339 UTC time
/// `YYYY-MM-DDThh:mm:ss…`.
fn bsd_timestamp(rfc3339: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let field = |r: std::ops::Range<usize>| rfc3339.get(r).and_then(|s| s.parse::<usize>().ok());
    match (field(5..7), field(8..10), rfc3339.get(11..19)) {
        (Some(m @ 1..=12), Some(d), Some(time)) => format!("{} {d:>2} {time}", MONTHS[m - 1]),
        _ => "Jan  1 00:00:00".to_string(),
    }
}

impl Link for SyslogLink {
    fn connect(&mut self) -> io::Result<()> {
        self.conn = Some(match &self.target {
            SyslogTarget::Unix(path) => Conn::Unix(connect_datagram(path)?),
            SyslogTarget::Udp(addr) => {
                let bind: SocketAddr = if addr.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    ([0u16; 8], 0).into()
                };
                let s = UdpSocket::bind(bind)?;
                s.connect(addr)?;
                Conn::Udp(s)
            }
            SyslogTarget::Tcp(host_port) => Conn::Tcp(connect_tcp(host_port)?),
            SyslogTarget::Tls(host_port) => {
                let config = self.tls.clone().ok_or_else(|| {
                    io::Error::other("syslog over TLS needs --syslog-ca (the CA's PEM file)")
                })?;
                let host = host_port
                    .rsplit_once(':')
                    .map_or(host_port.as_str(), |(h, _)| h);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let name = rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                let tls = rustls::ClientConnection::new(config, name).map_err(io::Error::other)?;
                let mut stream = rustls::StreamOwned::new(tls, connect_tcp(host_port)?);
                // The handshake now, so a certificate the CA does not vouch for fails here.
                while stream.conn.is_handshaking() {
                    stream.conn.complete_io(&mut stream.sock)?;
                }
                Conn::Tls(Box::new(stream))
            }
        });
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    fn frame(&self, event: &Event, line: &[u8], out: &mut Vec<u8>) {
        if let SyslogTarget::Tcp(_) | SyslogTarget::Tls(_) = self.target {
            let mut msg = Vec::with_capacity(line.len() + 80);
            self.message(event, line, &mut msg);
            let _ = write!(out, "{} ", msg.len());
            out.extend_from_slice(&msg);
        } else {
            self.message(event, line, out);
        }
    }

    fn deliver(&mut self, records: &[Vec<u8>]) -> io::Result<()> {
        match &mut self.conn {
            Some(Conn::Unix(d)) => send_datagrams(d, records),
            Some(Conn::Udp(s)) => {
                for r in records {
                    s.send(r)?;
                }
                Ok(())
            }
            Some(Conn::Tcp(s)) => {
                self.buf.clear();
                for r in records {
                    self.buf.extend_from_slice(r);
                }
                s.write_all(&self.buf)
            }
            Some(Conn::Tls(s)) => {
                self.buf.clear();
                for r in records {
                    self.buf.extend_from_slice(r);
                }
                s.write_all(&self.buf)?;
                s.flush()
            }
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    fn disconnect(&mut self) {
        self.conn = None;
    }

    fn describe(&self) -> String {
        match &self.target {
            SyslogTarget::Unix(p) => format!("syslog:{}", p.display()),
            SyslogTarget::Udp(a) => format!("syslog:udp:{a}"),
            SyslogTarget::Tcp(a) => format!("syslog:tcp:{a}"),
            SyslogTarget::Tls(a) => format!("syslog:tls:{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event::global(
            crate::time::Timestamp::from_secs(1_700_000_000),
            crate::event::Origin::default(),
            crate::event::stats::StatsKind::Summary,
            Severity::Info,
            crate::event::Body::Stats(Box::default()),
        )
    }

    #[test]
    fn bsd_timestamps_pad_the_day_with_a_space() {
        assert_eq!(
            bsd_timestamp("2026-11-03T07:08:09.000000Z"),
            "Nov  3 07:08:09"
        );
        assert_eq!(
            bsd_timestamp("2026-01-23T23:59:59.999999Z"),
            "Jan 23 23:59:59"
        );
    }

    #[test]
    fn rfc5424_over_tcp_is_octet_counted() {
        let link = SyslogLink::new(
            SyslogTarget::Tcp("localhost:514".into()),
            SyslogFormat::Rfc5424,
            16,
            Some("sensor 1"),
        );
        let mut out = Vec::new();
        link.frame(&event(), b"{\"a\":1}\n", &mut out);
        let msg = format!(
            "<134>1 2023-11-14T22:13:20.000000Z sensor1 watch3232 {} stats - {{\"a\":1}}",
            std::process::id()
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{} {msg}", msg.len())
        );
    }

    #[test]
    fn rfc3164_locally_has_tag_and_pid() {
        let link = SyslogLink::new(
            SyslogTarget::Unix("/dev/log".into()),
            SyslogFormat::Rfc3164,
            16,
            None,
        );
        let mut out = Vec::new();
        link.frame(&event(), b"{}\n", &mut out);
        let s = String::from_utf8(out).unwrap();
        let tail = format!(" watch3232[{}]: {{}}", std::process::id());
        assert!(s.starts_with("<134>"), "{s}");
        assert!(s.ends_with(&tail), "{s}");
        // `<134>` + `Mmm dd hh:mm:ss` + the tail.
        assert_eq!(s.len(), 5 + 15 + tail.len(), "{s}");
    }
}
