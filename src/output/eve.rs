//! The EVE line, written straight into the output buffer: the common fields every event carries
//! (time, ids, addresses, kind) by hand, the details object by `output::json`. serde_json escapes a
//! string byte by byte with a call per run of plain bytes (~130 instructions for a 10-byte key);
//! this writer checks a whole string at once and copies it when nothing needs escaping, which is
//! every key and nearly every value. The output is byte for byte serde_json's (`tests` below, and
//! the golden files).

use crate::event::{Event, FieldSink};
use crate::time::{Timestamp, RFC3339_LEN};
use serde::Serialize;
use std::io;
use std::net::IpAddr;

/// Appends `event` as one EVE object (no newline); `host` is Suricata's sensor-name field.
pub fn write(event: &Event, host: Option<&str>, out: &mut Vec<u8>) -> io::Result<()> {
    let mut fields = JsonFields { out, first: true };
    fields.out.push(b'{');
    event.write_fields(&mut fields)?;
    if let Some(name) = host {
        fields.str("host", name)?;
    }
    fields.out.push(b'}');
    Ok(())
}

/// A JSON object being written: each field is `"key":value`, comma-separated.
struct JsonFields<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl JsonFields<'_> {
    /// `,"key":` — keys are this crate's own names, which need no escape.
    fn key(&mut self, key: &'static str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        static_key(self.out, key);
    }
}

impl FieldSink for JsonFields<'_> {
    type Error = io::Error;

    fn str(&mut self, key: &'static str, value: &str) -> io::Result<()> {
        self.key(key);
        string(self.out, value);
        Ok(())
    }

    fn u64(&mut self, key: &'static str, value: u64) -> io::Result<()> {
        self.key(key);
        crate::decimal::push_u64(self.out, value);
        Ok(())
    }

    fn ip(&mut self, key: &'static str, value: IpAddr) -> io::Result<()> {
        self.key(key);
        self.out.push(b'"');
        match value {
            IpAddr::V4(v4) => crate::decimal::push_ipv4(self.out, v4),
            // Rare, and its text form (zero compression) is std's to decide.
            IpAddr::V6(v6) => {
                use std::io::Write;
                write!(self.out, "{v6}")?;
            }
        }
        self.out.push(b'"');
        Ok(())
    }

    fn timestamp(&mut self, key: &'static str, value: Timestamp) -> io::Result<()> {
        match value.rfc3339_in(&mut [0; RFC3339_LEN]) {
            Some(text) => self.str(key, text),
            None => self.value(key, &value),
        }
    }

    fn value<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> io::Result<()> {
        self.key(key);
        super::json::write(self.out, value).map_err(io::Error::other)
    }
}

/// `"key":` for a key of this crate's own (a field name), which needs no escape.
pub(super) fn static_key(out: &mut Vec<u8>, key: &'static str) {
    debug_assert!(!needs_escape(key.as_bytes()));
    out.reserve(key.len() + 3);
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `s` as a JSON string. Checked whole, eight bytes at a time: when no byte needs an escape it
/// is copied as is; otherwise serde_json writes it, escapes and all.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        // Writing into a Vec cannot fail, and a str always serialises.
        let _ = serde_json::to_writer(&mut *out, s);
        return;
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Whether any byte is a control character, `"` or a backslash (what JSON escapes).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether some byte of `x` is below `n` (n ≤ 0x80): the classic bit trick, exact for "any".
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGHS != 0;
    let word_needs = |chunk: &[u8]| {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        below(x, 0x20) || below(x ^ (ONES * 0x22), 1) || below(x ^ (ONES * 0x5c), 1)
    };
    if bytes.len() < 8 {
        return bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    }
    let mut chunks = bytes.chunks_exact(8);
    if chunks.any(word_needs) {
        return true;
    }
    // The tail: the last eight bytes, overlapping what was checked.
    !chunks.remainder().is_empty() && word_needs(&bytes[bytes.len() - 8..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via_serde<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
        serde_json::to_vec(v).unwrap()
    }

    #[test]
    fn strings_match_serde_json() {
        for s in [
            "",
            "plain",
            "quote\"inside",
            "back\\slash",
            "tab\there",
            "\u{1}\u{1f}\u{7f}",
            "ünïcödé ✓ 😀",
            "/captures/a b/c.pcap",
        ] {
            let mut out = Vec::new();
            string(&mut out, s);
            assert_eq!(out, via_serde(s), "{s:?}");
        }
    }

    #[test]
    fn the_escape_check_finds_every_byte_json_escapes_at_every_position() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    let want = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(needs_escape(&v), want, "byte {b:#x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn numbers_and_addresses_match_serde_json() {
        for n in [0, 1, 9, 10, 65_535, 1 << 51, u64::MAX] {
            let mut out = Vec::new();
            crate::decimal::push_u64(&mut out, n);
            assert_eq!(out, via_serde(&n));
        }
        for ip in [
            "0.0.0.0",
            "10.20.1.219",
            "255.255.255.255",
            "::",
            "fe80::1",
            "2001:db8::ff00:42:8329",
            "::ffff:192.0.2.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut f = JsonFields {
                out: &mut Vec::new(),
                first: true,
            };
            f.ip("a", ip).unwrap();
            assert_eq!(*f.out, [&b"\"a\":"[..], &via_serde(&ip)].concat());
        }
    }

    /// Every branch of the common fields, written both ways: this writer and serde's
    /// (`Serialize for Event`, which the ECS and text-full views use).
    #[test]
    fn events_match_their_serde_form() {
        use crate::event::alert::{AlertDetails, AlertKind};
        use crate::event::stats::StatsKind;
        use crate::event::{
            Body, FlowFields, Origin, OtaProtocol, Parties, Severity, TunnelFields,
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let stats = Event::global(
            Timestamp(1_795_982_400_123_456),
            Origin::interface("eth\"0"),
            StatsKind::Summary,
            Severity::Info,
            Body::Stats(Box::default()),
        );
        let mut alert = Event::global(
            Timestamp(0),
            Origin::file("/a b/\u{1}weird\\.pcap"),
            AlertKind::OtaUnauthenticated,
            Severity::Medium,
            Body::Alert(AlertDetails {
                protocol: OtaProtocol::ArduinoOta,
                detail: "accepted \"x\"".into(),
                session_id: Some(7),
                flow_id: Some(42),
                uploader: ip("10.0.0.1"),
                device: ip("fe80::1"),
                auth_scheme: None,
                failures: None,
                window_s: None,
            }),
        );
        alert.flow_id = Some(1 << 50);
        alert.pcap_cnt = Some(99);
        alert.flow = Some(FlowFields {
            src_ip: ip("10.0.0.1"),
            src_port: Some(50_838),
            dest_ip: ip("2001:db8::1"),
            dest_port: None,
            proto: "UDP",
            community_id: "1:BiHD+InG0cYc282eCgFqLMR/WZE=".into(),
        });
        alert.tunnel = Some(TunnelFields {
            src_ip: ip("192.0.2.1"),
            dest_ip: ip("239.1.1.1"),
            proto: "GRE",
            tunnel_type: "gre",
            gre_key: Some(5),
            vni: None,
            erspan_type: None,
            erspan_session_id: None,
            depth: 1,
        });
        let mut scan = stats.clone();
        scan.parties = Some(Parties {
            src_ip: ip("172.16.0.9"),
            dest_ip: None,
            proto: "TCP",
        });
        let mut scan_one_host = scan.clone();
        scan_one_host.parties.as_mut().unwrap().dest_ip = Some(ip("10.9.9.9"));
        for event in [stats, alert, scan, scan_one_host] {
            for host in [None, Some("sensor \"1\"")] {
                let mut ours = Vec::new();
                write(&event, host, &mut ours).unwrap();
                let mut theirs = serde_json::to_value(&event).unwrap();
                if let Some(h) = host {
                    theirs["host"] = h.into();
                }
                let ours: serde_json::Value = serde_json::from_slice(&ours).unwrap();
                assert_eq!(ours, theirs);
                // Same bytes too, key order included (serde_json keeps insertion order here).
                let mut plain = Vec::new();
                write(&event, None, &mut plain).unwrap();
                assert_eq!(plain, serde_json::to_vec(&event).unwrap());
            }
        }
    }
}
