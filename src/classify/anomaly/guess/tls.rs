//! TLS: record layer, ClientHello (version, SNI, ALPN, JA3, JA4) and ServerHello.
//!
//! JA3: salesforce/ja3 (string `SSLVersion,Ciphers,Extensions,Groups,PointFormats`, GREASE
//! removed, MD5). JA4: FoxIO-LLC/ja4 `technical_details/JA4.md` (`t13d1516h2_<b>_<c>`).
//! Vectors: the unit tests below, and tshark on the real `openssl` capture in `testdata/real/`.

use crate::event::anomaly::{ClientHello, ServerHello};
use md5::{Digest, Md5};
use sha2::Sha256;

/// Why bytes are not a (complete) TLS handshake message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsError {
    /// Not a TLS handshake record (content type, version or length out of range).
    NotTls,
    /// Looks like TLS, but the message is cut off: `needed` bytes in all.
    Truncated { needed: usize },
    /// A length field points past its container.
    BadLength,
    /// A handshake message other than ClientHello/ServerHello.
    OtherHandshake(u8),
}

const HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
/// Largest record body TLSCiphertext allows (2^14 + 2048).
const MAX_RECORD: usize = 16384 + 2048;

/// The GREASE values of RFC 8701: `0x?a?a` with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Whether `data` starts like a TLS handshake record; returns the record's total length.
pub fn record_len(data: &[u8]) -> Result<usize, TlsError> {
    if data.len() < 5 {
        let plausible = data.first().map_or(true, |&b| b == HANDSHAKE)
            && data.get(1).map_or(true, |&b| b == 3)
            && data.get(2).map_or(true, |&b| b <= 4);
        return Err(if plausible {
            TlsError::Truncated { needed: 5 }
        } else {
            TlsError::NotTls
        });
    }
    if data[0] != HANDSHAKE || data[1] != 3 || data[2] > 4 {
        return Err(TlsError::NotTls);
    }
    let len = usize::from(u16::from_be_bytes([data[3], data[4]]));
    if len == 0 || len > MAX_RECORD {
        return Err(TlsError::NotTls);
    }
    Ok(5 + len)
}

/// Concatenates the bodies of consecutive handshake records at the start of `data` until the
/// first handshake message is complete; returns that message (type, length and body).
fn handshake_message(data: &[u8]) -> Result<Vec<u8>, TlsError> {
    let mut msg = Vec::new();
    let mut rest = data;
    loop {
        let total = record_len(rest)?;
        let avail = rest.len().min(total);
        msg.extend_from_slice(&rest[5..avail]);
        let need = match msg.get(..4) {
            Some(h) => 4 + (usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3])),
            None => 4,
        };
        if msg.len() >= need {
            msg.truncate(need);
            return Ok(msg);
        }
        if avail < total || avail == rest.len() {
            // Bytes still to come: the rest of the message plus, perhaps, a record header.
            return Err(TlsError::Truncated {
                needed: data.len() + (need - msg.len()) + 5,
            });
        }
        rest = &rest[total..];
    }
}

/// A bounds-checked reader over a byte slice.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, TlsError> {
        let (&v, rest) = self.b.split_first().ok_or(TlsError::BadLength)?;
        self.b = rest;
        Ok(v)
    }
    fn u16(&mut self) -> Result<u16, TlsError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], TlsError> {
        if self.b.len() < n {
            return Err(TlsError::BadLength);
        }
        let (a, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(a)
    }
    fn vec8(&mut self) -> Result<&'a [u8], TlsError> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Result<&'a [u8], TlsError> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

fn u16s(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))
}

pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0304 => "TLS 1.3",
        0x0303 => "TLS 1.2",
        0x0302 => "TLS 1.1",
        0x0301 => "TLS 1.0",
        0x0300 => "SSL 3.0",
        0x0002 => "SSL 2.0",
        0xfeff => "DTLS 1.0",
        0xfefd => "DTLS 1.2",
        0xfefc => "DTLS 1.3",
        _ => "unknown",
    }
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn join_dec(v: &[u16]) -> String {
    v.iter().map(u16::to_string).collect::<Vec<_>>().join("-")
}

fn hex4_list(v: &[u16]) -> String {
    v.iter()
        .map(|x| format!("{x:04x}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn sha12(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    crate::hex::lower(&d[..6])
}

/// Parses the ClientHello at the start of `data` (one or more TLS records).
pub fn parse_client_hello(data: &[u8]) -> Result<ClientHello, TlsError> {
    let msg = handshake_message(data)?;
    if msg[0] != CLIENT_HELLO {
        return Err(TlsError::OtherHandshake(msg[0]));
    }
    let mut r = Reader { b: &msg[4..] };
    let legacy_version = r.u16()?;
    r.take(32)?; // random
    r.vec8()?; // session id
    let ciphers: Vec<u16> = u16s(r.vec16()?).filter(|&c| !is_grease(c)).collect();
    r.vec8()?; // compression methods
    let mut exts: Vec<u16> = Vec::new();
    let (mut groups, mut formats, mut sigalgs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sni, mut alpn, mut supported) = (None, Vec::new(), Vec::new());
    if !r.b.is_empty() {
        let mut e = Reader { b: r.vec16()? };
        while !e.b.is_empty() {
            let ty = e.u16()?;
            let body = e.vec16()?;
            if is_grease(ty) {
                continue;
            }
            exts.push(ty);
            let mut b = Reader { b: body };
            match ty {
                0x0000 => sni = parse_sni(&mut b),
                0x0010 => {
                    if let Ok(list) = b.vec16() {
                        let mut l = Reader { b: list };
                        while let Ok(p) = l.vec8() {
                            alpn.push(String::from_utf8_lossy(p).into_owned());
                        }
                    }
                }
                0x000a => {
                    groups = b
                        .vec16()
                        .map(|l| u16s(l).filter(|&g| !is_grease(g)).collect())
                        .unwrap_or_default()
                }
                0x000b => {
                    formats = b
                        .vec8()
                        .map(|l| l.iter().map(|&f| u16::from(f)).collect())
                        .unwrap_or_default()
                }
                0x000d => sigalgs = b.vec16().map(|l| u16s(l).collect()).unwrap_or_default(),
                0x002b => {
                    supported = b
                        .vec8()
                        .map(|l| u16s(l).filter(|&v| !is_grease(v)).collect())
                        .unwrap_or_default()
                }
                _ => {}
            }
        }
    }
    let ja3 = format!(
        "{},{},{},{},{}",
        legacy_version,
        join_dec(&ciphers),
        join_dec(&exts),
        join_dec(&groups),
        join_dec(&formats)
    );
    let ja3_hash = crate::hex::lower(&Md5::digest(ja3.as_bytes()));
    let top = supported.iter().copied().max().unwrap_or(legacy_version);
    let ja4 = ja4(
        top,
        sni.is_some(),
        &ciphers,
        &exts,
        alpn.first().map(String::as_bytes),
        &sigalgs,
    );
    Ok(ClientHello {
        version: version_name(top),
        legacy_version,
        sni,
        alpn,
        ja3,
        ja3_hash,
        ja4,
    })
}

fn parse_sni(b: &mut Reader<'_>) -> Option<String> {
    let mut list = Reader { b: b.vec16().ok()? };
    while !list.b.is_empty() {
        let ty = list.u8().ok()?;
        let name = list.vec16().ok()?;
        if ty == 0 {
            return Some(String::from_utf8_lossy(name).into_owned());
        }
    }
    None
}

/// JA4 (TCP) from the parts of a ClientHello; GREASE already removed from `ciphers`/`exts`.
pub fn ja4(
    version: u16,
    sni: bool,
    ciphers: &[u16],
    exts: &[u16],
    alpn: Option<&[u8]>,
    sigalgs: &[u16],
) -> String {
    let alpn_code = match alpn {
        None | Some([]) => "00".to_string(),
        Some(v) => {
            let (f, l) = (v[0], v[v.len() - 1]);
            if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
                format!("{}{}", f as char, l as char)
            } else {
                let hex = crate::hex::lower(v);
                let h = hex.as_bytes();
                format!("{}{}", h[0] as char, h[h.len() - 1] as char)
            }
        }
    };
    let a = format!(
        "t{}{}{:02}{:02}{}",
        ja4_version(version),
        if sni { 'd' } else { 'i' },
        ciphers.len().min(99),
        exts.len().min(99),
        alpn_code
    );
    let mut c_sorted = ciphers.to_vec();
    c_sorted.sort_unstable();
    let b = if c_sorted.is_empty() {
        "000000000000".to_string()
    } else {
        sha12(&hex4_list(&c_sorted))
    };
    let mut e_sorted: Vec<u16> = exts
        .iter()
        .copied()
        .filter(|&e| e != 0x0000 && e != 0x0010)
        .collect();
    e_sorted.sort_unstable();
    let c = if exts.is_empty() {
        "000000000000".to_string()
    } else if sigalgs.is_empty() {
        sha12(&hex4_list(&e_sorted))
    } else {
        sha12(&format!("{}_{}", hex4_list(&e_sorted), hex4_list(sigalgs)))
    };
    format!("{a}_{b}_{c}")
}

/// Parses the ServerHello at the start of `data`.
pub fn parse_server_hello(data: &[u8]) -> Result<ServerHello, TlsError> {
    let msg = handshake_message(data)?;
    if msg[0] != SERVER_HELLO {
        return Err(TlsError::OtherHandshake(msg[0]));
    }
    let mut r = Reader { b: &msg[4..] };
    let legacy = r.u16()?;
    r.take(32)?;
    r.vec8()?;
    let cipher = r.u16()?;
    r.u8()?;
    let mut version = legacy;
    if !r.b.is_empty() {
        let mut e = Reader { b: r.vec16()? };
        while !e.b.is_empty() {
            let ty = e.u16()?;
            let body = e.vec16()?;
            if ty == 0x002b && body.len() == 2 {
                version = u16::from_be_bytes([body[0], body[1]]);
            }
        }
    }
    Ok(ServerHello {
        version: version_name(version),
        cipher_suite: format!("0x{cipher:04x}"),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a ClientHello record (as the test generator does) from its parts.
    pub fn client_hello(
        sni: Option<&str>,
        alpn: &[&str],
        ciphers: &[u16],
        groups: &[u16],
        tls13: bool,
    ) -> Vec<u8> {
        let mut exts = Vec::new();
        let mut ext = |ty: u16, body: Vec<u8>| {
            exts.extend_from_slice(&ty.to_be_bytes());
            exts.extend_from_slice(&(body.len() as u16).to_be_bytes());
            exts.extend_from_slice(&body);
        };
        if let Some(name) = sni {
            let mut b = ((name.len() + 3) as u16).to_be_bytes().to_vec();
            b.push(0);
            b.extend_from_slice(&(name.len() as u16).to_be_bytes());
            b.extend_from_slice(name.as_bytes());
            ext(0, b);
        }
        let mut g = ((groups.len() * 2) as u16).to_be_bytes().to_vec();
        groups
            .iter()
            .for_each(|x| g.extend_from_slice(&x.to_be_bytes()));
        ext(0x000a, g);
        ext(0x000b, vec![1, 0]);
        if !alpn.is_empty() {
            let mut l = Vec::new();
            for p in alpn {
                l.push(p.len() as u8);
                l.extend_from_slice(p.as_bytes());
            }
            let mut b = (l.len() as u16).to_be_bytes().to_vec();
            b.extend_from_slice(&l);
            ext(0x0010, b);
        }
        ext(0x000d, vec![0, 4, 4, 3, 8, 4]);
        if tls13 {
            ext(0x002b, vec![4, 3, 4, 3, 3]);
        }
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0x11; 32]);
        body.push(0);
        body.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
        ciphers
            .iter()
            .for_each(|c| body.extend_from_slice(&c.to_be_bytes()));
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut hs = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
        hs.extend_from_slice(&body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn grease_table() {
        let grease: Vec<u16> = (0..=0xffffu16).filter(|&v| is_grease(v)).collect();
        assert_eq!(grease.len(), 16);
        assert_eq!((grease[0], grease[15]), (0x0a0a, 0xfafa));
    }

    #[test]
    fn ja4_published_vector() {
        let ciphers = [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let exts = [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
            0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ];
        let sig = [
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ];
        assert_eq!(
            ja4(0x0304, true, &ciphers, &exts, Some(b"h2"), &sig),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        assert_eq!(
            ja4(0x0304, true, &ciphers, &exts, Some(b"h2"), &[]),
            "t13d1516h2_8daaf6152771_6d807ffa2a79"
        );
    }

    #[test]
    fn ja3_published_vector_md5() {
        let s = "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0";
        let h: String = Md5::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(h, "ada70206e40642a3e4461f35503241d5");
    }

    #[test]
    fn client_hello_fields_and_fingerprints() {
        let rec = client_hello(
            Some("c2.example.net"),
            &["h2", "http/1.1"],
            &[0x0a0a, 0x1301, 0xc02b],
            &[0x1a1a, 29, 23],
            true,
        );
        let ch = parse_client_hello(&rec).unwrap();
        assert_eq!(ch.version, "TLS 1.3");
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.sni.as_deref(), Some("c2.example.net"));
        assert_eq!(ch.alpn, ["h2", "http/1.1"]);
        assert_eq!(ch.ja3, "771,4865-49195,0-10-11-16-13-43,29-23,0");
        assert!(ch.ja4.starts_with("t13d0206h2_"), "{}", ch.ja4);
        // Split over two records, and truncated.
        let body = &rec[5..];
        let mut split = vec![22, 3, 1, 0, 10];
        split.extend_from_slice(&body[..10]);
        split.extend_from_slice(&[22, 3, 1]);
        split.extend_from_slice(&((body.len() - 10) as u16).to_be_bytes());
        split.extend_from_slice(&body[10..]);
        assert_eq!(parse_client_hello(&split).unwrap(), ch);
        assert!(matches!(
            parse_client_hello(&rec[..40]),
            Err(TlsError::Truncated { .. })
        ));
        assert_eq!(
            parse_client_hello(b"GET / HTTP/1.1\r\n"),
            Err(TlsError::NotTls)
        );
    }

    #[test]
    fn server_hello_version_from_supported_versions() {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0x13, 0x01, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4]);
        let mut rec = vec![
            22,
            3,
            3,
            0,
            (body.len() + 4) as u8,
            2,
            0,
            0,
            body.len() as u8,
        ];
        rec.extend_from_slice(&body);
        assert_eq!(
            parse_server_hello(&rec).unwrap(),
            ServerHello {
                version: "TLS 1.3",
                cipher_suite: "0x1301".into()
            }
        );
        assert_eq!(parse_client_hello(&rec), Err(TlsError::OtherHandshake(2)));
    }
}
