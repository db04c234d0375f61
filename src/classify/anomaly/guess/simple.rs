//! The small guessers: SSH banner, DNS message, SMB over NetBIOS, text, and Shannon entropy.
//! (ESPHome and MDT recognisers belong to their classifiers: `esphome::probe`, `mdt::probe`.) Each is a pure function over the first bytes of one direction.

use crate::event::anomaly::{DnsInfo, SmbInfo};

/// `SSH-protoversion-softwareversion SP comments CR LF` (RFC 4253 §4.2), at most 255 bytes.
pub fn ssh_banner(data: &[u8]) -> Option<String> {
    if !data.starts_with(b"SSH-") {
        return None;
    }
    let line = &data[..data.len().min(255)];
    let end = line
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(line.len());
    let banner = &line[..end];
    // `SSH-2.0-x` at least, printable US-ASCII only.
    if banner.len() < 9
        || !banner.iter().all(|&b| (0x20..0x7f).contains(&b))
        || !banner[4..].contains(&b'-')
    {
        return None;
    }
    Some(String::from_utf8_lossy(banner).into_owned())
}

/// A DNS message (RFC 1035 §4.1): sane header counts and a parseable first question.
/// Over TCP, `tcp` strips the two-byte length prefix first.
pub fn dns(data: &[u8], tcp: bool) -> Option<DnsInfo> {
    let data = if tcp {
        let len = usize::from(u16::from_be_bytes([*data.first()?, *data.get(1)?]));
        let msg = &data[2..];
        if len < 12 || msg.len() > len {
            return None;
        }
        msg
    } else {
        data
    };
    let h = data.get(..12)?;
    let be = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let (flags, qd, an, ns, ar) = (be(2), be(4), be(6), be(8), be(10));
    let opcode = (flags >> 11) & 0xf;
    let z = (flags >> 6) & 1;
    if qd != 1 || opcode > 5 || z != 0 || an > 64 || ns > 64 || ar > 64 {
        return None;
    }
    // First question: labels of 1..=63 bytes ending in a zero byte, then QTYPE/QCLASS.
    let mut i = 12;
    let mut name = String::new();
    loop {
        let len = usize::from(*data.get(i)?);
        if len == 0 {
            i += 1;
            break;
        }
        if len > 63 || name.len() > 253 {
            return None;
        }
        let label = data.get(i + 1..i + 1 + len)?;
        if !label.iter().all(|&b| b.is_ascii_graphic()) {
            return None;
        }
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(&String::from_utf8_lossy(label));
        i += 1 + len;
    }
    let qtype = data.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let qclass = data
        .get(i + 2..i + 4)
        .map(|b| u16::from_be_bytes([b[0], b[1]]));
    if qclass.is_some_and(|c| c & 0x7fff != 1 && c != 255) {
        return None;
    }
    Some(DnsInfo {
        id: be(0),
        kind: if flags & 0x8000 != 0 {
            "response"
        } else {
            "query"
        },
        qname: Some(if name.is_empty() {
            ".".to_string()
        } else {
            name
        }),
        qtype,
    })
}

/// SMB behind a NetBIOS session header (type 0x00, 24-bit length), as on TCP 139/445.
pub fn smb(data: &[u8]) -> Option<SmbInfo> {
    if data.len() < 4 + 4 + 2 || data[0] != 0 {
        return None;
    }
    let magic = &data[4..8];
    match magic {
        [0xff, b'S', b'M', b'B'] => Some(SmbInfo {
            version: 1,
            command: u16::from(data[8]),
        }),
        [0xfe, b'S', b'M', b'B'] => {
            let cmd = data.get(16..18)?;
            Some(SmbInfo {
                version: 2,
                command: u16::from_le_bytes([cmd[0], cmd[1]]),
            })
        }
        _ => None,
    }
}

/// Share of bytes that are printable ASCII or common whitespace.
pub fn printable_ratio(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let n = data
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || matches!(b, b'\r' | b'\n' | b'\t'))
        .count();
    n as f64 / data.len() as f64
}

/// Text: at least 4 bytes, 95% of them printable and no NUL.
pub fn is_text(data: &[u8]) -> bool {
    data.len() >= 4 && !data.contains(&0) && printable_ratio(data) >= 0.95
}

/// Shannon entropy in bits per byte (0 for no data, at most 8).
pub fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let n = data.len() as f64;
    let h: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    h.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_banners() {
        assert_eq!(
            ssh_banner(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6\r\n").as_deref(),
            Some("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6")
        );
        assert_eq!(ssh_banner(b"SSH-"), None);
        assert_eq!(ssh_banner(b"SSH-2.0\x01x\r\n"), None);
    }

    #[test]
    fn dns_query_udp_and_tcp() {
        let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7];
        q.extend_from_slice(b"example\x03com\x00\x00\x01\x00\x01");
        let d = dns(&q, false).unwrap();
        assert_eq!(
            (d.id, d.kind, d.qname.as_deref(), d.qtype),
            (0x1234, "query", Some("example.com"), Some(1))
        );
        let mut t = (q.len() as u16).to_be_bytes().to_vec();
        t.extend_from_slice(&q);
        assert_eq!(dns(&t, true), Some(d));
        assert_eq!(dns(b"0 3232 4096 0123456789abcdef\n", false), None);
    }

    #[test]
    fn smb_negotiate() {
        let mut p = vec![
            0, 0, 0, 0x40, 0xfe, b'S', b'M', b'B', 64, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        p.resize(68, 0);
        assert_eq!(
            smb(&p),
            Some(SmbInfo {
                version: 2,
                command: 0
            })
        );
        let p1 = [0, 0, 0, 0x2f, 0xff, b'S', b'M', b'B', 0x72, 0];
        assert_eq!(
            smb(&p1),
            Some(SmbInfo {
                version: 1,
                command: 0x72
            })
        );
        assert_eq!(smb(b"\0\0\0\x10XSMB"), None);
    }

    #[test]
    fn entropy_bounds() {
        assert_eq!(entropy(b""), 0.0);
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert_eq!(entropy(b"abab"), 1.0);
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(entropy(&all), 8.0);
        assert!(is_text(b"whoami\n") && !is_text(b"ab\0c") && !is_text(&all));
    }
}
