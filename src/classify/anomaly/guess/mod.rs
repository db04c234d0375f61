//! Protocol guessers: what an unclaimed flow's first bytes look like, with the evidence.
//!
//! Each guesser is a pure function over `&[u8]` that never panics; [`guess_flow`] combines
//! them over both directions of a flow, strongest evidence first: TLS, SSH, HTTP, DNS, SMB,
//! ESPHome OTA magic (`esphome::probe`), then text, binary (with entropy) or empty.

pub mod http;
pub mod simple;
pub mod tls;

use crate::classify::esphome;
use crate::event::anomaly::{
    Evidence, HttpEvidence, Preview, ProtocolGuess, SshEvidence, TlsEvidence,
};
pub use simple::entropy;

impl Evidence {
    fn named(name: ProtocolGuess) -> Self {
        Evidence {
            protocol_guess: Some(name),
            ..Evidence::default()
        }
    }
}

/// Guesses the protocol of a flow from the first bytes each way: `to_server` (towards the
/// watched port) and `to_client`. `tcp` selects DNS's length-prefixed form.
pub fn guess_flow(to_server: &[u8], to_client: &[u8], tcp: bool) -> Evidence {
    // TLS: a ClientHello from the client, or at least a ServerHello from the service.
    let client_hello = tls::parse_client_hello(to_server).ok();
    let server_hello = tls::parse_server_hello(to_client).ok();
    if client_hello.is_some() || server_hello.is_some() {
        return Evidence {
            tls: Some(TlsEvidence {
                client_hello,
                server_version: server_hello.as_ref().map(|s| s.version),
                cipher_suite: server_hello.map(|s| s.cipher_suite),
            }),
            ..Evidence::named(ProtocolGuess::Tls)
        };
    }
    let (ssh_s, ssh_c) = (simple::ssh_banner(to_client), simple::ssh_banner(to_server));
    if ssh_s.is_some() || ssh_c.is_some() {
        let ssh = match (ssh_s, ssh_c) {
            (Some(banner), client_banner) => SshEvidence {
                banner,
                client_banner,
            },
            (None, Some(banner)) => SshEvidence {
                banner,
                client_banner: None,
            },
            (None, None) => unreachable!("one is set"),
        };
        return Evidence {
            ssh: Some(ssh),
            ..Evidence::named(ProtocolGuess::Ssh)
        };
    }
    let (req, resp) = (
        http::parse_request(to_server),
        http::parse_response(to_client),
    );
    if req.is_some() || resp.is_some() {
        let http = HttpEvidence {
            request: req,
            status: resp.as_ref().map(|r| r.status),
            server: resp.and_then(|r| r.server),
        };
        return Evidence {
            http: Some(http),
            ..Evidence::named(ProtocolGuess::Http)
        };
    }
    if let Some(d) = simple::dns(to_server, tcp).or_else(|| simple::dns(to_client, tcp)) {
        return Evidence {
            dns: Some(d),
            ..Evidence::named(ProtocolGuess::Dns)
        };
    }
    if let Some(s) = simple::smb(to_server).or_else(|| simple::smb(to_client)) {
        return Evidence {
            smb: Some(s),
            ..Evidence::named(ProtocolGuess::Smb)
        };
    }
    if esphome::probe::is_esphome_ota(to_server) {
        return Evidence::named(ProtocolGuess::EsphomeOta);
    }
    match (to_server.is_empty(), to_client.is_empty()) {
        (true, true) => Evidence::named(ProtocolGuess::Empty),
        _ => {
            let text = |b: &[u8]| b.is_empty() || simple::is_text(b);
            if text(to_server) && text(to_client) {
                Evidence::named(ProtocolGuess::Text)
            } else {
                Evidence::named(ProtocolGuess::Binary)
            }
        }
    }
}

pub const PREVIEW_BYTES: usize = 64;

pub fn preview(data: &[u8]) -> Option<Preview> {
    if data.is_empty() {
        return None;
    }
    let d = &data[..data.len().min(PREVIEW_BYTES)];
    Some(Preview {
        hex: crate::hex::lower(d),
        printable: d
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_never_panics() {
        // Every length 0..=65535 of four fillers through every guesser, each direction.
        let mut buf = vec![0u8; 65536];
        let mut x: u32 = 0x3232_3232;
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        let tlsish: Vec<u8> = [22u8, 3, 1, 0xff, 0xff, 1, 0, 0xff, 0xfc]
            .iter()
            .copied()
            .cycle()
            .take(65536)
            .collect();
        let text = b"GET / HTTP/1.1\r\nHost: a\r\n".repeat(65536 / 25 + 1);
        let smbish: Vec<u8> = [0u8, 0, 0, 0x40, 0xfe, b'S', b'M', b'B']
            .iter()
            .copied()
            .cycle()
            .take(65536)
            .collect();
        for (i, filler) in [&buf[..], &text[..65536], &tlsish[..], &smbish[..]]
            .into_iter()
            .enumerate()
        {
            for len in 0..=65535usize {
                let p = &filler[..len];
                match i {
                    // Random bytes and an HTTP head without end: every guesser.
                    0 | 1 => {
                        let _ = tls::parse_client_hello(p);
                        let _ = tls::parse_server_hello(p);
                        let _ = http::parse_request(p);
                        let _ = http::parse_response(p);
                        let _ = simple::ssh_banner(p);
                        let _ = simple::dns(p, len % 2 == 0);
                        let _ = simple::smb(p);
                    }
                    // TLS-like and SMB-like prefixes: the parsers they reach deepest.
                    2 => {
                        let _ = tls::parse_client_hello(p);
                        let _ = tls::parse_server_hello(p);
                    }
                    _ => {
                        let _ = simple::smb(p);
                        let _ = simple::dns(p, true);
                    }
                }
                if len % 251 == 0 {
                    let e = entropy(p);
                    assert!((0.0..=8.0).contains(&e));
                }
                if len % 4096 == 0 {
                    let _ = guess_flow(p, p, true);
                }
            }
        }
    }

    #[test]
    fn flow_guesses() {
        assert_eq!(
            guess_flow(b"", b"", true).protocol_guess,
            Some(ProtocolGuess::Empty)
        );
        assert_eq!(
            guess_flow(b"whoami\n", b"root\n", true).protocol_guess,
            Some(ProtocolGuess::Text)
        );
        assert_eq!(
            guess_flow(&[0x90, 0x01, 0xfe, 0x00, 0x17], b"", false).protocol_guess,
            Some(ProtocolGuess::Binary)
        );
        let s = guess_flow(
            b"SSH-2.0-OpenSSH_9.2p1\r\n",
            b"SSH-2.0-dropbear_2022.83\r\n",
            true,
        );
        assert_eq!(
            s.ssh.unwrap(),
            SshEvidence {
                banner: "SSH-2.0-dropbear_2022.83".into(),
                client_banner: Some("SSH-2.0-OpenSSH_9.2p1".into())
            }
        );
        let h = guess_flow(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n",
            true,
        );
        let http = h.http.unwrap();
        assert_eq!(
            (http.status, http.server.as_deref()),
            (Some(404), Some("nginx"))
        );
        assert_eq!(
            guess_flow(&esphome::parser::MAGIC, b"", true).protocol_guess,
            Some(ProtocolGuess::EsphomeOta)
        );
        let p = preview(b"ab\x00").unwrap();
        assert_eq!((p.hex.as_str(), p.printable.as_str()), ("616200", "ab."));
    }
}
