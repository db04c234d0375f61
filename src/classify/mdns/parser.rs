//! A small, bounded DNS message reader for mDNS (RFC 6762 over RFC 1035 §4.1): the header and
//! the resource records an OTA-capable device announces (PTR, SRV, TXT, A, AAAA). Names follow
//! compression pointers (RFC 1035 §4.1.4) at most [`MAX_JUMPS`] times and must point backwards,
//! so a pointer loop ends in an error, never a hang.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const MAX_JUMPS: usize = 16;
/// RFC 1035 §2.3.4: names are at most 255 octets.
pub const MAX_NAME: usize = 255;
/// Records read from one message at most.
pub const MAX_RECORDS: usize = 64;

pub const TYPE_A: u16 = 1;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SRV: u16 = 33;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsError {
    Truncated,
    /// A compression pointer loops, points forward, or jumps too often.
    PointerLoop,
    NameTooLong,
    /// A label type other than 00 (length) or 11 (pointer).
    LabelType,
}

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DnsError::Truncated => "DNS message truncated",
            DnsError::PointerLoop => "DNS name compression loop",
            DnsError::NameTooLong => "DNS name longer than 255 octets",
            DnsError::LabelType => "reserved DNS label type",
        })
    }
}

impl std::error::Error for DnsError {}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rdata {
    Ptr(String),
    Srv {
        port: u16,
        target: String,
    },
    /// `key=value` strings (RFC 6763 §6), lossy UTF-8.
    Txt(Vec<String>),
    Addr(IpAddr),
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub rtype: u16,
    pub rdata: Rdata,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub id: u16,
    pub response: bool,
    pub questions: u16,
    /// Answer, authority and additional records, in order.
    pub records: Vec<Record>,
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, DnsError> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or(DnsError::Truncated)
}

/// Reads the name at `at`; returns it (dotted, lower case) and the offset after it.
pub fn name(msg: &[u8], at: usize) -> Result<(String, usize), DnsError> {
    let mut out = String::new();
    let mut pos = at;
    let mut end = None;
    let mut jumps = 0;
    let mut len = 0;
    loop {
        let &l = msg.get(pos).ok_or(DnsError::Truncated)?;
        match l & 0xC0 {
            0x00 if l == 0 => {
                return Ok((out, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label = msg
                    .get(pos + 1..pos + 1 + usize::from(l))
                    .ok_or(DnsError::Truncated)?;
                len += label.len() + 1;
                if len > MAX_NAME {
                    return Err(DnsError::NameTooLong);
                }
                if !out.is_empty() {
                    out.push('.');
                }
                out.extend(label.iter().map(|&c| {
                    let c = c.to_ascii_lowercase();
                    if c.is_ascii_graphic() || c == b' ' {
                        char::from(c)
                    } else {
                        '?'
                    }
                }));
                pos += 1 + usize::from(l);
            }
            0xC0 => {
                let target = usize::from(u16_at(msg, pos)? & 0x3FFF);
                jumps += 1;
                if jumps > MAX_JUMPS || target >= pos {
                    return Err(DnsError::PointerLoop);
                }
                end.get_or_insert(pos + 2);
                pos = target;
            }
            _ => return Err(DnsError::LabelType),
        }
    }
}

fn rdata(msg: &[u8], rtype: u16, start: usize, len: usize) -> Result<Rdata, DnsError> {
    let data = msg.get(start..start + len).ok_or(DnsError::Truncated)?;
    Ok(match rtype {
        TYPE_PTR => Rdata::Ptr(name(msg, start)?.0),
        TYPE_SRV if len >= 7 => Rdata::Srv {
            port: u16_at(data, 4)?,
            target: name(msg, start + 6)?.0,
        },
        TYPE_TXT => {
            let mut items = Vec::new();
            let mut i = 0;
            while i < data.len() && items.len() < 32 {
                let n = usize::from(data[i]);
                let s = data.get(i + 1..i + 1 + n).ok_or(DnsError::Truncated)?;
                if !s.is_empty() {
                    items.push(String::from_utf8_lossy(s).into_owned());
                }
                i += 1 + n;
            }
            Rdata::Txt(items)
        }
        TYPE_A if len == 4 => Rdata::Addr(IpAddr::V4(Ipv4Addr::new(
            data[0], data[1], data[2], data[3],
        ))),
        TYPE_AAAA if len == 16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(data);
            Rdata::Addr(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => Rdata::Other,
    })
}

pub fn parse(msg: &[u8]) -> Result<Message, DnsError> {
    if msg.len() < 12 {
        return Err(DnsError::Truncated);
    }
    let id = u16_at(msg, 0)?;
    let flags = u16_at(msg, 2)?;
    let qd = u16_at(msg, 4)?;
    let rr = u32::from(u16_at(msg, 6)?) + u32::from(u16_at(msg, 8)?) + u32::from(u16_at(msg, 10)?);
    let mut pos = 12;
    for _ in 0..qd.min(MAX_RECORDS as u16) {
        let (_, next) = name(msg, pos)?;
        pos = next + 4;
    }
    let mut records = Vec::new();
    for _ in 0..rr.min(MAX_RECORDS as u32) {
        let (n, next) = name(msg, pos)?;
        let rtype = u16_at(msg, next)?;
        let rdlen = usize::from(u16_at(msg, next + 8)?);
        let start = next + 10;
        let rdata = rdata(msg, rtype, start, rdlen)?;
        records.push(Record {
            name: n,
            rtype,
            rdata,
        });
        pos = start + rdlen;
    }
    Ok(Message {
        id,
        response: flags & 0x8000 != 0,
        questions: qd,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_and_record_types() {
        // Header: response, 0 questions, 2 answers.
        let mut m = vec![0, 0, 0x84, 0, 0, 0, 0, 2, 0, 0, 0, 0];
        // PTR _arduino._tcp.local -> esp32-x._arduino._tcp.local
        m.extend_from_slice(b"\x08_arduino\x04_tcp\x05local\x00");
        m.extend_from_slice(&[0, 12, 0, 1, 0, 0, 0x11, 0x94, 0, 10]);
        m.extend_from_slice(b"\x07esp32-x\xc0\x0c");
        // A esp32-x.local (name: label + pointer to "local" at 12+9+5=26)
        m.extend_from_slice(b"\x07esp32-x\xc0\x1a");
        m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 192, 0, 2, 50]);
        let msg = parse(&m).unwrap();
        assert!(msg.response);
        assert_eq!(msg.records[0].name, "_arduino._tcp.local");
        assert_eq!(
            msg.records[0].rdata,
            Rdata::Ptr("esp32-x._arduino._tcp.local".into())
        );
        assert_eq!(msg.records[1].name, "esp32-x.local");
        assert_eq!(
            msg.records[1].rdata,
            Rdata::Addr("192.0.2.50".parse().unwrap())
        );
    }

    #[test]
    fn loops_and_truncation_are_errors() {
        let mut m = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(&[0xC0, 12]); // points at itself
        assert_eq!(parse(&m), Err(DnsError::PointerLoop));
        let mut fwd = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        fwd.extend_from_slice(&[0xC0, 40]);
        assert_eq!(parse(&fwd), Err(DnsError::PointerLoop));
        assert_eq!(parse(&[0; 5]), Err(DnsError::Truncated));
        let mut long = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'a'; 63]);
        }
        long.push(0);
        assert_eq!(parse(&long), Err(DnsError::NameTooLong));
        assert_eq!(
            parse(&[0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x80]),
            Err(DnsError::LabelType)
        );
    }
}
