//! The anomaly allowlist (`--allowlist FILE`): hosts, networks and ports known to be fine.
//!
//! One entry per line; `#` starts a comment (kept as the entry's reason):
//!
//! ```text
//! host 192.0.2.7                        # the lab's pentest box
//! net  10.20.0.0/16  scan               # inventory scanner subnet
//! port 3232/tcp  unexpected_tcp_service # our own service on 3232
//! ```
//!
//! `host`/`net` match either end of a flow (the source of a scan); `port` matches the watched
//! (service) port, optionally for one transport. The optional second field lists the findings
//! silenced (comma-separated reasons); without it every finding is.

use crate::event::anomaly::Reason;
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Net { addr: IpAddr, prefix: u8 },
    Port { port: u16, proto: Option<u8> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub target: Target,
    /// Reasons silenced; empty = all.
    pub reasons: Vec<Reason>,
    /// The comment after `#`, if any.
    pub note: Option<String>,
    pub line: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowlist {
    pub entries: Vec<Entry>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct AllowlistError {
    pub line: usize,
    pub what: String,
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl Allowlist {
    pub fn parse(text: &str) -> Result<Allowlist, AllowlistError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |what: String| AllowlistError { line, what };
            let (body, note) = match raw.split_once('#') {
                Some((b, n)) => (b, Some(n.trim().to_string()).filter(|n| !n.is_empty())),
                None => (raw, None),
            };
            let mut words = body.split_whitespace();
            let Some(kind) = words.next() else { continue };
            let value = words
                .next()
                .ok_or_else(|| err(format!("`{kind}` needs a value")))?;
            let target = match kind {
                "host" => {
                    let addr: IpAddr = value
                        .parse()
                        .map_err(|_| err(format!("`{value}` is not an IP address")))?;
                    Target::Net {
                        addr,
                        prefix: if addr.is_ipv4() { 32 } else { 128 },
                    }
                }
                "net" => {
                    let (a, p) = value
                        .split_once('/')
                        .ok_or_else(|| err(format!("`{value}` is not ADDR/PREFIX")))?;
                    let addr: IpAddr = a
                        .parse()
                        .map_err(|_| err(format!("`{a}` is not an IP address")))?;
                    let max = if addr.is_ipv4() { 32 } else { 128 };
                    let prefix: u8 = p
                        .parse()
                        .ok()
                        .filter(|&p| p <= max)
                        .ok_or_else(|| err(format!("bad prefix `/{p}`")))?;
                    Target::Net { addr, prefix }
                }
                "port" => {
                    let (p, proto) = match value.split_once('/') {
                        Some((p, "tcp")) => (p, Some(6)),
                        Some((p, "udp")) => (p, Some(17)),
                        Some((_, other)) => {
                            return Err(err(format!("unknown transport `{other}` (tcp or udp)")))
                        }
                        None => (value, None),
                    };
                    let port = p.parse().map_err(|_| err(format!("`{p}` is not a port")))?;
                    Target::Port { port, proto }
                }
                other => return Err(err(format!("unknown entry `{other}` (host, net or port)"))),
            };
            let reasons = match words.next() {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(|r| {
                        Reason::from_name(r).ok_or_else(|| err(format!("unknown finding `{r}`")))
                    })
                    .collect::<Result<_, _>>()?,
            };
            if let Some(extra) = words.next() {
                return Err(err(format!("unexpected `{extra}` (put notes after `#`)")));
            }
            entries.push(Entry {
                target,
                reasons,
                note,
                line,
            });
        }
        Ok(Allowlist { entries })
    }

    /// The entry silencing `reason` for a flow between `addrs` on the watched `port`/`proto`.
    pub fn matches(
        &self,
        reason: Reason,
        addrs: &[IpAddr],
        port: Option<u16>,
        proto: u8,
    ) -> Option<&Entry> {
        self.entries.iter().find(|e| {
            (e.reasons.is_empty() || e.reasons.contains(&reason))
                && match e.target {
                    Target::Net { addr, prefix } => addrs.iter().any(|&a| in_net(a, addr, prefix)),
                    Target::Port {
                        port: p,
                        proto: want,
                    } => port == Some(p) && want.is_none_or_eq(proto),
                }
        })
    }
}

trait OptEq {
    fn is_none_or_eq(&self, v: u8) -> bool;
}

impl OptEq for Option<u8> {
    fn is_none_or_eq(&self, v: u8) -> bool {
        self.map_or(true, |w| w == v)
    }
}

impl crate::aggregate::Silence for Allowlist {
    fn silences(
        &self,
        reason: Reason,
        addrs: &[IpAddr],
        port: Option<u16>,
        proto: u8,
    ) -> Option<usize> {
        self.matches(reason, addrs, port, proto).map(|e| e.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_match() {
        let a = Allowlist::parse(
            "# known good\nhost 192.0.2.7 # pentest box\nnet 10.20.0.0/16 scan\nport 3232/tcp unexpected_tcp_service,beacon\nnet 2001:db8::/32\n",
        )
        .unwrap();
        assert_eq!(a.entries.len(), 4);
        assert_eq!(a.entries[0].note.as_deref(), Some("pentest box"));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(a
            .matches(Reason::Beacon, &[ip("192.0.2.7")], None, 6)
            .is_some());
        assert!(a
            .matches(Reason::Scan, &[ip("10.20.3.4")], None, 6)
            .is_some());
        assert!(a
            .matches(Reason::Beacon, &[ip("10.20.3.4")], None, 6)
            .is_none());
        assert!(a
            .matches(
                Reason::UnexpectedTcpService,
                &[ip("198.51.100.1")],
                Some(3232),
                6
            )
            .is_some());
        assert!(a
            .matches(
                Reason::UnexpectedTcpService,
                &[ip("198.51.100.1")],
                Some(3232),
                17
            )
            .is_none());
        assert!(a
            .matches(Reason::UnknownProtocol, &[ip("2001:db8::1")], None, 17)
            .is_some());
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            Allowlist::parse("host 1.2.3\n").unwrap_err().to_string(),
            "line 1: `1.2.3` is not an IP address"
        );
        assert_eq!(Allowlist::parse("\nnet 10.0.0.0/33").unwrap_err().line, 2);
        assert!(Allowlist::parse("port 3232/sctp").is_err());
        assert!(Allowlist::parse("host 10.0.0.1 scna").is_err());
        assert!(Allowlist::parse("host 10.0.0.1 scan extra").is_err());
    }
}
