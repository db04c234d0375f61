//! Redis output, like Suricata's EVE `redis` filetype: every event pushed to a list, published
//! on a channel, or appended to a stream, in pipelined batches.
//!
//! `redis://[[USER]:PASSWORD@]HOST[:PORT]/KEY[?mode=list|rpush|channel|stream][&maxlen=N]`, or
//! `rediss://…` for TLS, the server's certificate checked against the system's CAs or those of
//! `&ca=FILE.pem`.
//! - `list` (the default, Suricata's `list`/`lpush`): `LPUSH KEY event…`, one command per
//!   batch; a consumer takes the oldest with `RPOP`/`BRPOP`.
//! - `rpush`: `RPUSH KEY event…` (Logstash's and Filebeat's list end).
//! - `channel`: `PUBLISH KEY event` (only subscribers connected at the time get it).
//! - `stream`: `XADD KEY MAXLEN ~ N * eve event`: field `eve` holds the event (EVE or ECS as
//!   `-F` says); the stream keeps about N entries (`maxlen`, default 100 000 like Suricata's
//!   `stream-maxlen`).

use super::reliable::{Link, Reliable};
use super::SOCKET_WRITE_TIMEOUT;
use crate::event::Event;
use std::io;
use std::time::Duration;

/// Events in one pipelined batch; the rest of a batch goes at the next flush.
pub const REDIS_BATCH: usize = 256;
/// Entries a stream keeps by default (Suricata's `stream-maxlen`).
pub const DEFAULT_STREAM_MAXLEN: u64 = 100_000;
/// The stream entry's field that holds the event.
pub const STREAM_FIELD: &str = "eve";
const DEFAULT_PORT: u16 = 6379;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How events are written to the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisMode {
    Lpush,
    Rpush,
    Publish,
    Stream { maxlen: u64 },
}

/// A parsed `redis://` output.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisTarget {
    pub host: String,
    pub port: u16,
    /// `USER:PASSWORD` or `:PASSWORD` as written in the URL (percent-encoded).
    userinfo: Option<String>,
    pub key: String,
    pub mode: RedisMode,
    /// `rediss://`: TLS, with the CAs of this PEM file (`ca=`) or else the system's.
    pub tls: Option<Option<std::path::PathBuf>>,
}

impl std::fmt::Debug for RedisTarget {
    /// Without the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl RedisTarget {
    /// Parses `redis://…` or `rediss://…` (see the module's documentation).
    pub fn parse(url: &str) -> Result<Self, String> {
        let (rest, tls) = match url.strip_prefix("rediss://") {
            Some(rest) => (rest, true),
            None => (
                url.strip_prefix("redis://")
                    .ok_or_else(|| format!("`{}`: expected redis://HOST:PORT/KEY", redact(url)))?,
                false,
            ),
        };
        let mut ca = None;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (key, query) = path.split_once('?').unwrap_or((path, ""));
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, authority),
        };
        let bad = |why: &str| format!("`{}`: {why}", redact(url));
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| bad("the port is not a number 0-65535"))?,
            ),
            _ => (host_port, DEFAULT_PORT),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if key.is_empty() {
            return Err(bad("no key: redis://HOST:PORT/KEY"));
        }
        let mut mode = "list";
        let mut maxlen = DEFAULT_STREAM_MAXLEN;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("mode", m)) => mode = m,
                Some(("ca", path)) if tls && !path.is_empty() => {
                    ca = Some(std::path::PathBuf::from(path))
                }
                Some(("maxlen", n)) => {
                    maxlen = n
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| bad("maxlen must be a number of entries, at least 1"))?
                }
                _ => {
                    return Err(bad(&format!(
                        "unknown parameter `{pair}` (mode, maxlen; ca with rediss://)"
                    )))
                }
            }
        }
        let mode = match mode {
            "list" | "lpush" => RedisMode::Lpush,
            "rpush" => RedisMode::Rpush,
            "channel" | "publish" => RedisMode::Publish,
            "stream" | "xadd" => RedisMode::Stream { maxlen },
            other => {
                return Err(bad(&format!(
                    "unknown mode `{other}` (list, rpush, channel, stream)"
                )))
            }
        };
        Ok(RedisTarget {
            host: host.to_string(),
            port,
            userinfo,
            key: key.to_string(),
            mode,
            tls: tls.then_some(ca),
        })
    }

    /// The output as the user wrote it, password left out.
    pub fn describe(&self) -> String {
        let mode = match self.mode {
            RedisMode::Lpush => "list".to_string(),
            RedisMode::Rpush => "rpush".to_string(),
            RedisMode::Publish => "channel".to_string(),
            RedisMode::Stream { maxlen } => format!("stream&maxlen={maxlen}"),
        };
        let (scheme, ca) = match &self.tls {
            None => ("redis", String::new()),
            Some(None) => ("rediss", String::new()),
            Some(Some(ca)) => ("rediss", format!("&ca={}", ca.display())),
        };
        format!(
            "{scheme}://{}:{}/{}?mode={mode}{ca}",
            self.host, self.port, self.key
        )
    }

    /// The URL the client connects with: database 0, the user's credentials.
    fn client_url(&self) -> String {
        let auth = self
            .userinfo
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://{auth}{}:{}/0", self.host, self.port)
    }
}

/// `redis://user:secret@host/…` → `redis://user:***@host/…`, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split_once(':').map_or("", |(u, _)| u);
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Pipelined batches with the backlog of [`Reliable`].
pub type RedisSink = Reliable<RedisLink>;

impl RedisSink {
    pub fn open(target: RedisTarget, backlog: usize) -> Self {
        Reliable::new(RedisLink { target, conn: None }, backlog, REDIS_BATCH)
    }
}

pub struct RedisLink {
    target: RedisTarget,
    conn: Option<redis::Connection>,
}

fn io_error(e: redis::RedisError) -> io::Error {
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
        io::Error::new(io::ErrorKind::ConnectionAborted, e.to_string())
    } else {
        io::Error::other(e.to_string())
    }
}

impl Link for RedisLink {
    fn connect(&mut self) -> io::Result<()> {
        let url = self.target.client_url();
        let client = match &self.target.tls {
            Some(Some(ca)) => {
                let root_cert = std::fs::read(ca)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", ca.display())))?;
                let certs = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                };
                redis::Client::build_with_tls(url, certs)
            }
            _ => redis::Client::open(url),
        }
        .map_err(io_error)?;
        let conn = client
            .get_connection_with_timeout(CONNECT_TIMEOUT)
            .map_err(io_error)?;
        conn.set_write_timeout(Some(SOCKET_WRITE_TIMEOUT))
            .map_err(io_error)?;
        conn.set_read_timeout(Some(SOCKET_WRITE_TIMEOUT))
            .map_err(io_error)?;
        self.conn = Some(conn);
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    fn frame(&self, _: &Event, line: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(line));
    }

    fn deliver(&mut self, records: &[Vec<u8>]) -> io::Result<()> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let key = &self.target.key;
        let mut pipe = redis::pipe();
        match self.target.mode {
            RedisMode::Lpush | RedisMode::Rpush => {
                let verb = if self.target.mode == RedisMode::Lpush {
                    "LPUSH"
                } else {
                    "RPUSH"
                };
                let cmd = pipe.cmd(verb).arg(key);
                for r in records {
                    cmd.arg(r.as_slice());
                }
                cmd.ignore();
            }
            RedisMode::Publish => {
                for r in records {
                    pipe.cmd("PUBLISH").arg(key).arg(r.as_slice()).ignore();
                }
            }
            RedisMode::Stream { maxlen } => {
                for r in records {
                    pipe.cmd("XADD")
                        .arg(key)
                        .arg("MAXLEN")
                        .arg("~")
                        .arg(maxlen)
                        .arg("*")
                        .arg(STREAM_FIELD)
                        .arg(r.as_slice())
                        .ignore();
                }
            }
        }
        pipe.query::<()>(conn).map_err(io_error)
    }

    fn disconnect(&mut self) {
        self.conn = None;
    }

    fn describe(&self) -> String {
        self.target.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls() {
        let t = RedisTarget::parse("redis://:s3cret@10.0.0.5:6380/eve?mode=stream&maxlen=5000")
            .unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.key.as_str(), t.mode),
            ("10.0.0.5", 6380, "eve", RedisMode::Stream { maxlen: 5000 })
        );
        assert_eq!(t.client_url(), "redis://:s3cret@10.0.0.5:6380/0");
        assert_eq!(
            t.describe(),
            "redis://10.0.0.5:6380/eve?mode=stream&maxlen=5000"
        );
        let t = RedisTarget::parse("redis://localhost/suricata").unwrap();
        assert_eq!((t.port, t.mode), (6379, RedisMode::Lpush));
        assert_eq!(
            RedisTarget::parse("redis://h/k?mode=channel").unwrap().mode,
            RedisMode::Publish
        );
        assert!(RedisTarget::parse("redis://h:1").is_err());
        assert!(RedisTarget::parse("redis://h/k?mode=set").is_err());
        let e = RedisTarget::parse("rediss://u:pw@h/k?mode=x").unwrap_err();
        assert!(e.contains("rediss://u:***@h/k") && !e.contains("pw"), "{e}");
        let t = RedisTarget::parse("rediss://u:pw@h:6380/k?ca=/etc/ca.pem").unwrap();
        assert_eq!(t.client_url(), "rediss://u:pw@h:6380/0");
        assert_eq!(t.describe(), "rediss://h:6380/k?mode=list&ca=/etc/ca.pem");
        assert!(RedisTarget::parse("redis://h/k?ca=/etc/ca.pem").is_err());
    }
}
